// lanes' side of the file benchmark (bench/files.sh): TASKS concurrent tasks on one
// loop doing either 4 KiB reads at random aligned offsets of an existing file, or
// 1 MiB writes that together fill an allocated file front to back. The loop's backend comes
// from LANES_BACKEND (io_uring: operations in the ring; epoll: the default executor's
// threads, as aiofiles does).
//
//   file_lanes randread PATH SECONDS TASKS
//   file_lanes seqwrite PATH MIB TASKS
// Prints one line: backend=... ops=... bytes=... seconds=... iops=... mib_per_s=...
#include <lanes/lanes.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Totals {
  std::uint64_t ops = 0;
  std::uint64_t bytes = 0;
};

lanes::Task<void> reader(lanes::AsyncFile f, std::uint64_t pages, Clock::time_point end, unsigned seed,
                         Totals& t) {
  std::mt19937_64 rng(seed);
  while (Clock::now() < end) {
    const std::uint64_t page = rng() % pages;
    std::string got = co_await f.read_at(page * 4096, 4096);
    ++t.ops;
    t.bytes += got.size();
  }
}

lanes::Task<void> writer(lanes::AsyncFile f, const std::string& block, std::uint64_t blocks,
                         std::uint64_t& next, Totals& t) {
  // Each task takes the next 1 MiB block of the file: together they write it in order.
  for (;;) {
    const std::uint64_t b = next++;
    if (b >= blocks) break;
    t.bytes += co_await f.write_at(b * block.size(), block);
    ++t.ops;
  }
}

lanes::Task<int> run(std::string mode, std::string path, double amount, int tasks) {
  Totals t;
  const auto start = Clock::now();
  if (mode == "randread") {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || st.st_size < 4096) {
      std::fprintf(stderr, "file_lanes: %s is missing or smaller than 4 KiB\n", path.c_str());
      co_return 2;
    }
    lanes::AsyncFile f = co_await lanes::open_file(path, "rb");
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(amount));
    std::vector<lanes::Task<void>> work;
    for (int i = 0; i < tasks; ++i)
      work.push_back(reader(f, static_cast<std::uint64_t>(st.st_size) / 4096, end, 1234u + i, t));
    co_await lanes::gather(std::move(work));
    co_await f.close();
  } else if (mode == "seqwrite") {
    const std::string block(1 << 20, 'w');
    // Into the file as it is (bench/files.sh allocates it first, as fio lays out its
    // file): writes that extend a file are serialised by the kernel on every side.
    lanes::AsyncFile f = co_await lanes::open_file(path, "r+b");
    std::uint64_t next = 0;
    const auto blocks = static_cast<std::uint64_t>(amount);
    std::vector<lanes::Task<void>> work;
    for (int i = 0; i < tasks; ++i) work.push_back(writer(f, block, blocks, next, t));
    co_await lanes::gather(std::move(work));
    co_await f.close();
  } else {
    std::fprintf(stderr, "file_lanes: mode must be randread or seqwrite\n");
    co_return 2;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const char* backend = lanes::backend_name(lanes::get_running_loop().reactor().backend()).data();
  std::printf("backend=%s ops=%llu bytes=%llu seconds=%.3f iops=%.0f mib_per_s=%.1f\n", backend,
              static_cast<unsigned long long>(t.ops), static_cast<unsigned long long>(t.bytes), secs,
              t.ops / secs, t.bytes / secs / (1 << 20));
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: file_lanes randread PATH SECONDS TASKS | seqwrite PATH MIB TASKS\n");
    return 2;
  }
  try {
    return lanes::run(run(argv[1], argv[2], std::atof(argv[3]), std::atoi(argv[4])));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "file_lanes: %s\n", e.what());
    return 1;
  }
}
