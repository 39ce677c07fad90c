// bench/bench_core.cpp — the coroutine core: spawning, awaiting, sleeping.
//
// The same workloads are written against Boost.Asio (peers/asio_spawn.cpp), Python
// asyncio (peers/asyncio_spawn.py), Go (peers/sleep_go.go) and plain threads
// (peers/thread_sleep.cpp); bench/run.sh runs them all in one go and writes
// docs/benchmarks.md. Every figure that run.sh reads is a counter:
//   ns_per_item     CPU nanoseconds of the loop's thread per task / per await (lower
//                   is better). CPU time, not wall time: these workloads never wait,
//                   and on a shared machine other processes inflate wall time only.
//   wall_s          (sleep) seconds from the first create_task to the last wake-up
//   bytes_per_task  (sleep) peak bytes live on the loop thread / number of tasks,
//                   counted by the replaced operator new of alloc_counter.hpp
//   cold_process_*  (sleep) the same run as the first thing a new process does
//                   (bench_core --cold-sleep-child N): wall time, and bytes per task
//                   both counted and by the resident set's peak (VmHWM)
//
//   bench_core --benchmark_format=json --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "alloc_counter.hpp"
#include "lanes/combinators.hpp"
#include "lanes/loop.hpp"
#include "lanes/time.hpp"


namespace {

using namespace std::chrono_literals;

// ---- the coroutines being measured ------------------------------------------------

lanes::Task<void> trivial_void() { co_return; }
lanes::Task<int> trivial_int(int i) { co_return i; }

// lanes::gather of every future; returns the number of results (void) or their sum,
// so the compiler cannot drop the work.
template <class T>
lanes::Task<std::int64_t> gather_all(std::vector<lanes::Future<T>> futures) {
  auto results = co_await lanes::gather(std::move(futures));
  if constexpr (std::is_void_v<T>) {
    co_return static_cast<std::int64_t>(results.size());
  } else {
    std::int64_t sum = 0;
    for (const auto& v : results) sum += v;
    co_return sum;
  }
}

// create_task of n trivial tasks, then gather of all of them.
template <class T>
lanes::Task<std::int64_t> spawn_gather(std::size_t n) {
  std::vector<lanes::Future<T>> futures;
  futures.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (std::is_void_v<T>) {
      futures.push_back(lanes::create_task(trivial_void()));
    } else {
      futures.push_back(lanes::create_task(trivial_int(static_cast<int>(i))));
    }
  }
  co_return co_await gather_all(std::move(futures));
}

// A Task awaiting a Task `depth` deep: each level is a coroutine frame, a symmetric
// transfer down and one back up.
lanes::Task<int> chain(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await chain(depth - 1);
}

lanes::Task<std::int64_t> chains(int depth, int repeats) {
  std::int64_t sum = 0;
  for (int r = 0; r < repeats; ++r) sum += co_await chain(depth);
  co_return sum;
}

// n awaits in a row of a Task that completes at once.
lanes::Task<std::int64_t> sequential_awaits(int n) {
  std::int64_t sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await trivial_int(i);
  co_return sum;
}

lanes::Task<void> sleeper(std::chrono::milliseconds d) { co_await lanes::sleep(d); }

lanes::Task<std::int64_t> spawn_sleepers(std::size_t n, std::chrono::milliseconds d) {
  std::vector<lanes::Future<void>> futures;
  futures.reserve(n);
  for (std::size_t i = 0; i < n; ++i) futures.push_back(lanes::create_task(sleeper(d)));
  co_return co_await gather_all(std::move(futures));
}

// Reports CPU nanoseconds per item from the benchmark's CPU time (the rate counters
// use CPU time because these benchmarks do not call UseRealTime).
void set_per_item(benchmark::State& state, double items) {
  state.SetItemsProcessed(static_cast<std::int64_t>(items) * state.iterations());
  // (items·1e-9 · iterations / seconds)^-1 = nanoseconds per item.
  state.counters["ns_per_item"] = benchmark::Counter(
      items * 1e-9, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// ---- benchmarks -------------------------------------------------------------------

template <class T>
void BM_spawn_gather(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    auto sum = lanes::run(spawn_gather<T>(n));
    benchmark::DoNotOptimize(sum);
  }
  set_per_item(state, static_cast<double>(n));
}
BENCHMARK(BM_spawn_gather<void>)
    ->Name("BM_spawn_gather/void")
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_spawn_gather<int>)
    ->Name("BM_spawn_gather/int")
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

// The same inside one loop that lives on: a long-running program's steady state, where
// the frames and task states of the previous burst are still in the loop thread's
// frame cache (lanes::run trims that cache when its loop closes). One untimed burst
// first fills it.
template <class T>
lanes::Task<void> spawn_gather_repeated(benchmark::State& state, std::size_t n) {
  auto warm_up = co_await spawn_gather<T>(n);
  benchmark::DoNotOptimize(warm_up);
  for (auto _ : state) {
    auto sum = co_await spawn_gather<T>(n);
    benchmark::DoNotOptimize(sum);
  }
}

template <class T>
void BM_spawn_gather_warm(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  lanes::run(spawn_gather_repeated<T>(state, n));
  set_per_item(state, static_cast<double>(n));
}
BENCHMARK(BM_spawn_gather_warm<void>)
    ->Name("BM_spawn_gather_warm/void")
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_spawn_gather_warm<int>)
    ->Name("BM_spawn_gather_warm/int")
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

// Args: depth, repeats. 1000 x 1000 is the workload every peer runs (Python's
// recursion limit forbids deeper); 1'000'000 x 1 shows that depth costs no stack.
void BM_await_chain(benchmark::State& state) {
  const auto depth = static_cast<int>(state.range(0));
  const auto repeats = static_cast<int>(state.range(1));
  for (auto _ : state) {
    auto sum = lanes::run(chains(depth, repeats));
    benchmark::DoNotOptimize(sum);
  }
  set_per_item(state, static_cast<double>(depth) * repeats);
}
BENCHMARK(BM_await_chain)
    ->Args({1000, 1000})
    ->Args({1'000'000, 1})
    ->Unit(benchmark::kMillisecond);

void BM_await_seq(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto sum = lanes::run(sequential_awaits(n));
    benchmark::DoNotOptimize(sum);
  }
  set_per_item(state, n);
}
BENCHMARK(BM_await_seq)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// 100k tasks each sleeping 100 ms; wall time from the first create_task to the end of
// lanes::run. The timed runs are on the benchmark's thread, as the peers' are (best of
// the repetitions, with warm caches). The bytes come from one more run, made once, on
// a fresh thread with the allocation counter on: its frame cache starts empty, so
// every byte that run holds is counted; its wall time is reported as cold_wall_s.
// Then the same run is made kColdProcesses times as the first thing a new process does
// (this binary again, with kColdChildFlag): cold_process_wall_s is the median of their
// wall times, cold_process_rss_per_task the median growth of the resident set's peak
// (VmHWM) over the resident set before the run, divided by the tasks.
struct SleepMemory {
  double bytes_per_task = 0;
  double allocs_per_task = 0;
  double cold_wall_s = 0;
  double cold_process_wall_s = 0;
  double cold_process_rss_per_task = 0;
  double cold_process_bytes_per_task = 0;
  // The allocations each task makes, by requested size (rounded up to 16 bytes):
  // what bytes_per_task is made of.
  std::vector<std::pair<std::size_t, double>> sizes_per_task;
};

constexpr const char* kColdChildFlag = "--cold-sleep-child";
constexpr int kColdProcesses = 5;

struct ColdRun {
  double wall_s = 0;
  double counted_per_task = 0;
  double rss_per_task = 0;
  double allocs_per_task = 0;
  bench_alloc::ThreadCounters counted{};
};

// A field of /proc/self/status in bytes (VmRSS, VmHWM), or -1.
long proc_status_bytes(const char* field) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  long kib = -1;
  const std::size_t len = std::strlen(field);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, field, len) == 0 && line[len] == ':') {
      kib = std::strtol(line + len + 1, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kib < 0 ? -1 : kib * 1024;
}

// One counted run of n sleepers on the calling thread.
ColdRun counted_sleep_run(std::size_t n) {
  ColdRun r;
  const long rss_before = proc_status_bytes("VmRSS");
  bench_alloc::AllocWindow window;
  const auto t0 = std::chrono::steady_clock::now();
  lanes::run(spawn_sleepers(n, 100ms));
  const auto t1 = std::chrono::steady_clock::now();
  r.counted = window.close();
  const long hwm = proc_status_bytes("VmHWM");
  const auto tasks = static_cast<double>(n);
  r.wall_s = std::chrono::duration<double>(t1 - t0).count();
  r.counted_per_task = static_cast<double>(r.counted.peak) / tasks;
  r.allocs_per_task = static_cast<double>(r.counted.allocations) / tasks;
  if (rss_before >= 0 && hwm >= 0) r.rss_per_task = static_cast<double>(hwm - rss_before) / tasks;
  return r;
}

// The child: the run is the first thing this process does. Prints one line.
int cold_sleep_child(std::size_t n) {
  const ColdRun r = counted_sleep_run(n);
  std::printf("%.6f %.3f %.3f\n", r.wall_s, r.counted_per_task, r.rss_per_task);
  return 0;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs this binary with kColdChildFlag kColdProcesses times; false if one failed.
bool measure_cold_processes(std::size_t n, SleepMemory& m) {
  std::vector<double> walls, rss, counted;
  for (int i = 0; i < kColdProcesses; ++i) {
    const std::string cmd = "/proc/" + std::to_string(::getpid()) + "/exe " + kColdChildFlag +
                            " " + std::to_string(n);
    std::FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return false;
    double w = 0, c = 0, r = 0;
    const int got = std::fscanf(p, "%lf %lf %lf", &w, &c, &r);
    if (::pclose(p) != 0 || got != 3) return false;
    walls.push_back(w);
    counted.push_back(c);
    rss.push_back(r);
  }
  m.cold_process_wall_s = median(walls);
  m.cold_process_rss_per_task = median(rss);
  m.cold_process_bytes_per_task = median(counted);
  return true;
}

SleepMemory measure_sleep_memory(std::size_t n) {
  SleepMemory m;
  std::thread worker([&] {
    const ColdRun r = counted_sleep_run(n);
    m.cold_wall_s = r.wall_s;
    m.bytes_per_task = r.counted_per_task;
    m.allocs_per_task = r.allocs_per_task;
    for (std::size_t b = 0; b < bench_alloc::ThreadCounters::kBuckets; ++b) {
      const double per_task = static_cast<double>(r.counted.by_size[b]) / static_cast<double>(n);
      if (per_task >= 0.5) {
        m.sizes_per_task.emplace_back(b * bench_alloc::ThreadCounters::kGranule, per_task);
      }
    }
  });
  worker.join();
  if (!measure_cold_processes(n, m)) m.cold_process_wall_s = -1;
  return m;
}

void BM_sleep_100k(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  static const SleepMemory memory = measure_sleep_memory(n);
  if (memory.cold_process_wall_s < 0) {
    state.SkipWithError("the fresh-process run (bench_core --cold-sleep-child) failed");
    return;
  }
  double wall_s = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto done = lanes::run(spawn_sleepers(n, 100ms));
    const auto t1 = std::chrono::steady_clock::now();
    if (done != static_cast<std::int64_t>(n)) state.SkipWithError("not every sleeper finished");
    wall_s = std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(wall_s);
  }
  state.counters["wall_s"] = wall_s;
  state.counters["cold_wall_s"] = memory.cold_wall_s;
  state.counters["cold_process_wall_s"] = memory.cold_process_wall_s;
  state.counters["cold_process_rss_per_task"] = memory.cold_process_rss_per_task;
  state.counters["cold_process_bytes_per_task"] = memory.cold_process_bytes_per_task;
  state.counters["bytes_per_task"] = memory.bytes_per_task;
  state.counters["allocs_per_task"] = memory.allocs_per_task;
  // e.g. alloc_160B_per_task = 1: one allocation of 145..160 bytes per sleeping task
  // (alloc_1040B_per_task counts the ones above 1 KiB).
  for (const auto& [size, per_task] : memory.sizes_per_task) {
    state.counters["alloc_" + std::to_string(size) + "B_per_task"] = per_task;
  }
}
BENCHMARK(BM_sleep_100k)
    ->Arg(100'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();

}  // namespace

int main(int argc, char** argv) {
  // The fresh-process sleep run (see measure_cold_processes): nothing else before it.
  if (argc == 3 && std::strcmp(argv[1], kColdChildFlag) == 0) {
    return cold_sleep_child(static_cast<std::size_t>(std::strtoull(argv[2], nullptr, 10)));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
