// The types and frames the wire fuzzer feeds the decoder (shared by the libFuzzer
// target, the corpus replay and the seed writer).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace lanes_fuzz {

struct Record {
  std::int64_t id = 0;
  std::string name;
  std::vector<double> samples;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(id, name, samples);
  }
};

/// Something of every kind the codec supports, nested.
using Value = std::tuple<bool, std::string, std::vector<int>,
                         std::map<std::string, std::optional<double>>,
                         std::variant<int, std::string, std::vector<std::uint8_t>>, std::set<int>,
                         std::array<short, 2>, Record, std::vector<std::vector<std::string>>,
                         std::pair<char, long>>;

/// The fuzzer's entry point (also called by the replay driver).
int one_input(const std::uint8_t* data, std::size_t size);

}  // namespace lanes_fuzz
