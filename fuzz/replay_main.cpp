// Runs the wire fuzzer's entry point on files, without libFuzzer: every build replays
// the corpus this way (g++ has no libFuzzer). With --write-seeds DIR it writes the seed
// corpus: valid frames and values made by the real encoder.
#include <dirent.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_wire.hpp"
#include "lanes/codec.hpp"
#include "lanes/detail/process/wire_frame.hpp"

namespace {

using namespace lanes::detail;

std::string frame(FrameKind kind, std::uint64_t id, const std::string& payload) {
  ByteBuffer out;
  const std::size_t start = begin_frame(out, kind, id);
  out.append(payload.data(), payload.size());
  end_frame(out, start);
  return std::string(out.view());
}

int write_seeds(const std::string& dir) {
  lanes_fuzz::Value v{true, "name", {1, 2, 3}, {{"a", 1.5}, {"b", std::nullopt}},
                      std::string("alt"), {4, 5}, {6, 7}, {42, "rec", {0.5, 0.25}},
                      {{"x", "y"}, {}}, {'c', 99L}};
  const std::string value = lanes::encode(v);
  ByteBuffer call;
  WireWriter w(call);
  write_call_prefix(w, CallMode::single, "fuzzed_function", 0x1234);
  call.append(value.data(), value.size());
  ByteBuffer batch;
  WireWriter wb(batch);
  write_call_prefix(wb, CallMode::batch, "fuzzed_function", 0x1234);
  wb.pod(std::uint32_t{2});
  batch.append(value.data(), value.size());
  batch.append(value.data(), value.size());
  ByteBuffer error;
  WireWriter we(error);
  write_error(we, ErrorKind::exception, "std::runtime_error", "it failed");
  const std::string result = std::string(8, '\0') + value;
  const std::vector<std::pair<std::string, std::string>> seeds{
      {"value", value},
      {"call_single", frame(FrameKind::call, 1, std::string(call.view()))},
      {"call_batch", frame(FrameKind::call, 2, std::string(batch.view()))},
      {"result", frame(FrameKind::result, 3, result)},
      {"error", frame(FrameKind::error, 4, std::string(error.view()))},
      {"two_frames", frame(FrameKind::result, 5, result) + frame(FrameKind::error, 6,
                                                                std::string(error.view()))},
  };
  for (const auto& [name, bytes] : seeds) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
  }
  std::printf("wrote %zu seeds to %s\n", seeds.size(), dir.c_str());
  return 0;
}

bool replay_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  lanes_fuzz::one_input(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--write-seeds") == 0) return write_seeds(argv[2]);
  std::size_t n = 0;
  for (int i = 1; i < argc; ++i) {
    if (DIR* d = ::opendir(argv[i])) {
      while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        if (replay_file(std::string(argv[i]) + "/" + e->d_name)) ++n;
      }
      ::closedir(d);
    } else if (replay_file(argv[i])) {
      ++n;
    } else {
      std::fprintf(stderr, "fuzz replay: cannot read %s\n", argv[i]);
      return 2;
    }
  }
  std::printf("fuzz replay: %zu inputs decoded or refused cleanly\n", n);
  return n > 0 ? 0 : 1;
}
