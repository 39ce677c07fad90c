// The wire codec (lanes/codec.hpp) against cereal's binary archive on the same objects,
// each encoded into a fresh buffer (lanes: the ByteBuffer submit() uses; cereal: an
// ostringstream) and decoded into a fresh value, as a process pool does for every task:
//   orders     a batch of 20,000 structs (numbers, strings, a vector, a map, an optional):
//              allocation-heavy, so both sides spend most of decoding in malloc
//   task_args  one task's arguments, (int, string, double): the common small message
//   matrix     a struct with 65,536 doubles: a bulk copy
// The rule: lanes keeps its own codec while it is at least 3x faster than
// cereal (encode + decode, geometric mean over the objects). Prints JSON lines
// (bench/procpool.sh renders them); each figure is the best of --reps runs.
#include <lanes/codec.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#if __has_include(<cereal/archives/binary.hpp>)
#include <cereal/archives/binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/vector.hpp>
#define LANES_BENCH_HAVE_CEREAL 1
#endif

namespace {

struct Order {
  std::int64_t id = 0;
  std::string symbol;
  double price = 0;
  std::int32_t quantity = 0;
  std::vector<double> fills;
  std::map<std::string, std::int32_t> tags;
  std::optional<std::string> note;

  // One function serves both libraries: lanes' archive and cereal's are both
  // called as ar(fields...).
  template <class Ar>
  void serialize(Ar& ar) {
    ar(id, symbol, price, quantity, fills, tags, note);
  }
  bool operator==(const Order&) const = default;
};

std::vector<Order> make_orders(std::size_t n) {
  std::vector<Order> orders(n);
  for (std::size_t i = 0; i < n; ++i) {
    Order& o = orders[i];
    o.id = static_cast<std::int64_t>(i) * 7919;
    o.symbol = "SYM" + std::to_string(i % 500);
    o.price = 100.0 + static_cast<double>(i % 1000) / 8;
    o.quantity = static_cast<std::int32_t>(i % 300);
    o.fills.assign(i % 8, o.price);
    o.tags = {{"venue", static_cast<std::int32_t>(i % 5)}, {"desk", 3}};
    if (i % 3 == 0) o.note = "priority client order";
  }
  return orders;
}

using Clock = std::chrono::steady_clock;

template <class F>
double best_ns_per_object(int reps, std::size_t objects, F&& run) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    run();
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    best = std::min(best, ns / static_cast<double>(objects));
  }
  return best;
}

struct Matrix {
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
  std::vector<double> data;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(rows, cols, data);
  }
  bool operator==(const Matrix&) const = default;
};

using TaskArgs = std::tuple<int, std::string, double>;

void report(const char* object, const char* lib, double encode_ns, double decode_ns,
            std::size_t bytes) {
  std::printf("{\"workload\": \"codec\", \"object\": \"%s\", \"lib\": \"%s\", "
              "\"encode_ns\": %.1f, \"decode_ns\": %.1f, \"bytes\": %zu}\n",
              object, lib, encode_ns, decode_ns, bytes);
}

/// Encodes `value` `rounds` times and decodes it as many times, with both codecs;
/// times are per message.
template <class T>
bool compare(const char* object, const T& value, int rounds, int reps) {
  // Encoding as submit() does it: into a fresh ByteBuffer (lanes::encode would copy
  // the bytes once more into a std::string).
  std::string bytes;
  const double enc = best_ns_per_object(reps, static_cast<std::size_t>(rounds), [&] {
    for (int r = 0; r < rounds; ++r) {
      lanes::detail::ByteBuffer buffer;
      lanes::detail::WireWriter w(buffer);
      lanes::detail::wire_encode(w, value);
      if (r == 0) bytes.assign(buffer.data(), buffer.size());
    }
  });
  bool same = true;
  const double dec = best_ns_per_object(reps, static_cast<std::size_t>(rounds), [&] {
    for (int r = 0; r < rounds; ++r) {
      T back = lanes::decode<T>(bytes);
      if (r == 0) same = same && back == value;
    }
  });
  report(object, "lanes", enc, dec, bytes.size());
#ifdef LANES_BENCH_HAVE_CEREAL
  std::string cbytes;
  const double cenc = best_ns_per_object(reps, static_cast<std::size_t>(rounds), [&] {
    for (int r = 0; r < rounds; ++r) {
      std::ostringstream os;
      {
        cereal::BinaryOutputArchive ar(os);
        ar(value);
      }
      cbytes = std::move(os).str();
    }
  });
  const double cdec = best_ns_per_object(reps, static_cast<std::size_t>(rounds), [&] {
    for (int r = 0; r < rounds; ++r) {
      std::istringstream is(cbytes);
      cereal::BinaryInputArchive ar(is);
      T back;
      ar(back);
      if (r == 0) same = same && back == value;
    }
  });
  report(object, "cereal", cenc, cdec, cbytes.size());
#else
  std::printf("{\"workload\": \"codec\", \"object\": \"%s\", \"lib\": \"cereal\", "
              "\"error\": \"cereal headers not found (libcereal-dev)\"}\n",
              object);
#endif
  return same;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = std::atoi(argv[++i]);
  bool ok = compare("orders", make_orders(20000), 10, reps);
  ok = compare("task_args", TaskArgs{42, "a task argument", 2.5}, 200000, reps) && ok;
  Matrix m{256, 256, std::vector<double>(256 * 256, 1.25)};
  ok = compare("matrix", m, 500, reps) && ok;
  return ok ? 0 : 1;
}
