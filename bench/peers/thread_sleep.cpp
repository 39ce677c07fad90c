// bench/peers/thread_sleep.cpp — the sleep workload with one OS thread per sleeper
// (std::thread + sleep_for), the way a program without an event loop does it.
//
// 10,000 threads, not 100,000: every thread maps a stack and a guard page, and
// vm.max_map_count (65530 by default) stops a process near 32k threads.
// Prints one JSON line, as the other peers do:
//   {"peer": "threads", "workload": "sleep_10000", "wall_s": ..., "bytes_per_task": ...}
// wall_s is the best of --reps runs; bytes_per_task is the growth of the resident set
// (VmRSS) while every thread sleeps, divided by the threads, in a first run made
// before the timed ones. Each thread also reserves
// a virtual stack (8 MiB by default) and a kernel stack that VmRSS does not show.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

long rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6) * 1024;
  }
  return 0;
}

// Starts n sleeping threads; `asleep` is called once all have started.
template <class F>
double run_once(int n, std::chrono::milliseconds d, F asleep) {
  std::atomic<int> started{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&] {
      started.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(d);
    });
  }
  while (started.load(std::memory_order_relaxed) < n) std::this_thread::yield();
  asleep();
  for (auto& t : threads) t.join();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 3;
  int n = 10'000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--n") == 0 && i + 1 < argc) {
      n = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--reps N] [--n THREADS]\n", argv[0]);
      return 2;
    }
  }
  const auto d = std::chrono::milliseconds(100);
  // Bytes first: later runs reuse the stacks glibc keeps cached from earlier threads.
  const long before = rss_bytes();
  long asleep = before;
  run_once(n, d, [&] { asleep = rss_bytes(); });
  double best = 1e300;
  for (int r = 0; r < reps; ++r) best = std::min(best, run_once(n, d, [] {}));
  const double bytes = static_cast<double>(std::max(0L, asleep - before)) / n;
  std::printf(
      "{\"peer\": \"threads\", \"workload\": \"sleep_%d\", \"ns_per_item\": %.3f, "
      "\"wall_s\": %.6f, \"bytes_per_task\": %.1f}\n",
      n, best * 1e9 / n, best, bytes);
  return 0;
}
