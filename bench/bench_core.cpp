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
//
//   bench_core --benchmark_format=json --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <chrono>
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
struct SleepMemory {
  double bytes_per_task = 0;
  double allocs_per_task = 0;
  double cold_wall_s = 0;
  // The allocations each task makes, by requested size (rounded up to 16 bytes):
  // what bytes_per_task is made of.
  std::vector<std::pair<std::size_t, double>> sizes_per_task;
};

SleepMemory measure_sleep_memory(std::size_t n) {
  SleepMemory m;
  std::thread worker([&] {
    bench_alloc::AllocWindow window;
    const auto t0 = std::chrono::steady_clock::now();
    lanes::run(spawn_sleepers(n, 100ms));
    const auto t1 = std::chrono::steady_clock::now();
    const auto counted = window.close();
    m.cold_wall_s = std::chrono::duration<double>(t1 - t0).count();
    m.bytes_per_task = static_cast<double>(counted.peak) / static_cast<double>(n);
    m.allocs_per_task = static_cast<double>(counted.allocations) / static_cast<double>(n);
    for (std::size_t b = 0; b < bench_alloc::ThreadCounters::kBuckets; ++b) {
      const double per_task = static_cast<double>(counted.by_size[b]) / static_cast<double>(n);
      if (per_task >= 0.5) {
        m.sizes_per_task.emplace_back(b * bench_alloc::ThreadCounters::kGranule, per_task);
      }
    }
  });
  worker.join();
  return m;
}

void BM_sleep_100k(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  static const SleepMemory memory = measure_sleep_memory(n);
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

BENCHMARK_MAIN();
