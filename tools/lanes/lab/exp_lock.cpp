// tools/lanes/lab/exp_lock.cpp — the lock experiment: T threads increment one counter
// with a read-modify-write that is not atomic (a relaxed atomic load, then a relaxed
// atomic store: no undefined behaviour, just the race of the tutorial), against the same
// under a lock; then the same race between event-loop tasks that await between the
// read and the write, against the same under lanes::Lock.
#include <algorithm>
#include <atomic>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "lab/experiment.hpp"
#include "lab/ways.hpp"
#include "lab/gil.hpp"
#include "lab/measure.hpp"
#include "lab/progress.hpp"
#include "lanes/loop.hpp"
#include "lanes/sync.hpp"
#include "lanes/task.hpp"
#include "lanes/time.hpp"

namespace lanes_cli::lab {

namespace {

/// Increments per thread so that each thread's loop lasts about `target_ms` on this
/// machine, and between `at_least` and 20 times that. The unprotected threads must run long
/// enough to overlap (on a busy machine a short loop ends within one time slice, before
/// the next thread starts); the GIL row must span many 5 ms switch intervals, since a
/// switch between the read and the write is what loses updates there.
long increments_for(long at_least, double target_ms, bool with_gil) {
  EmulatedGil gil;
  std::atomic<long> counter{0};
  constexpr long kProbe = 200'000;
  EmulatedGil::Held held(gil);
  double best_ms = 1e300;
  for (int round = 0; round < 3; ++round) {  // the fastest of three, as calibrate_fib
    Stopwatch sw;
    for (long i = 0; i < kProbe; ++i) {
      long v = counter.load(std::memory_order_relaxed);
      if (with_gil) gil.checkpoint();
      counter.store(v + 1, std::memory_order_relaxed);
      if (with_gil) gil.checkpoint();
    }
    best_ms = std::min(best_ms, sw.stop().wall_s * 1e3);
  }
  best_ms = std::max(best_ms, 1e-3);
  const long wanted = static_cast<long>(static_cast<double>(kProbe) * target_ms / best_ms);
  // The probe runs alone; contended, each increment costs more (a cache line moving
  // between cores, or a sanitizer's bookkeeping): never more than 20 times at_least.
  return std::clamp(wanted, at_least, 20 * at_least);
}

Run counted(std::string way, std::string note, long expected, long final_value, Span span) {
  Run r;
  r.way = std::move(way);
  r.note = std::move(note);
  r.values["expected"] = static_cast<double>(expected);
  r.values["final"] = static_cast<double>(final_value);
  r.values[keys::lost] = static_cast<double>(expected - final_value);
  r.values["lost_pct"] = expected ? 100.0 * static_cast<double>(expected - final_value) /
                                        static_cast<double>(expected)
                                  : 0.0;
  r.values[keys::wall_s] = span.wall_s;
  r.values[keys::cpu_s] = span.cpu_s;
  return r;
}

/// Starts `threads` threads running body() together (a latch holds them at the line).
template <class Body>
Span run_threads(int threads, Body body) {
  std::latch start(threads + 1);
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      start.arrive_and_wait();
      body();
    });
  }
  Stopwatch sw;
  start.arrive_and_wait();
  for (auto& t : pool) t.join();
  return sw.stop();
}

lanes::Task<void> racing_task(long& counter, long n) {
  for (long i = 0; i < n; ++i) {
    long v = counter;
    co_await lanes::sleep(std::chrono::seconds(0));  // another task runs here
    counter = v + 1;
  }
}

lanes::Task<void> locked_task(long& counter, long n, lanes::Lock& lock) {
  for (long i = 0; i < n; ++i) {
    auto guard = co_await lock.scoped();
    long v = counter;
    co_await lanes::sleep(std::chrono::seconds(0));  // others run, but cannot get the lock
    counter = v + 1;
  }
}

lanes::Task<void> run_tasks(long& counter, int tasks, long n, bool with_lock) {
  lanes::Lock lock;
  std::vector<lanes::Future<void>> all;
  for (int t = 0; t < tasks; ++t)
    all.push_back(lanes::create_task(with_lock ? locked_task(counter, n, lock)
                                               : racing_task(counter, n)));
  for (auto& f : all) co_await f;
}

}  // namespace

ExperimentResult run_lock(Context& ctx) {
  const Sizes& s = ctx.sizes;
  const int T = s.lock_threads;
  const long M = s.increments;
  ExperimentResult result;
  result.name = "lock";
  result.title = "Lost updates: a shared counter without and with a lock";
  result.workload = fmt::format("{} threads increment one counter ({} times each under the "
                                "lock; unprotected, as many as fill {} ms); {} event-loop tasks x "
                                "{} increments",
                                T, M, s.quick ? 10 : 25, T, s.task_increments);
  result.columns = {{"expected", "expected", Format::count},
                    {"final", "final", Format::count},
                    {keys::lost, "lost updates", Format::count},
                    {"lost_pct", "lost", Format::percent},
                    {keys::wall_s, "wall", Format::seconds}};
  result.charts = {{"lost_pct", "updates lost, % of all (lower is better)", Format::percent}};
  ctx.progress.plan(5);

  {
    ctx.progress.step("threads, unprotected");
    std::atomic<long> counter{0};
    const long n = increments_for(M, s.quick ? 10 : 25, false);
    Span span = run_threads(T, [&] {
      for (long i = 0; i < n; ++i) {
        long v = counter.load(std::memory_order_relaxed);
        counter.store(v + 1, std::memory_order_relaxed);
      }
    });
    result.runs.push_back(counted(ways::unprotected,
                                  fmt::format("load, then store: not one step; {} per thread", n),
                                  T * n, counter.load(), span));
  }
  {
    ctx.progress.step("threads, std::mutex");
    std::mutex mutex;
    long counter = 0;
    Span span = run_threads(T, [&] {
      for (long i = 0; i < M; ++i) {
        std::lock_guard lk(mutex);
        long v = counter;
        counter = v + 1;
      }
    });
    result.runs.push_back(counted(ways::mutex, "the same under a lock", T * M, counter, span));
  }
  {
    ctx.progress.step("threads, emulated GIL");
    EmulatedGil gil;
    std::atomic<long> counter{0};
    const long n = increments_for(M, s.quick ? 25 : 60, true);
    Span span = run_threads(T, [&] {
      EmulatedGil::Held held(gil);
      for (long i = 0; i < n; ++i) {
        long v = counter.load(std::memory_order_relaxed);
        gil.checkpoint();  // a switch point between the read and the write...
        counter.store(v + 1, std::memory_order_relaxed);
        gil.checkpoint();  // ...and one after, as between any two bytecodes
      }
    });
    result.runs.push_back(counted(ways::unprotected_gil,
                                  fmt::format("{} increments per thread; {} GIL hand-overs", n,
                                              gil.switches()),
                                  T * n, counter.load(), span));
  }
  {
    ctx.progress.step("tasks, unprotected");
    long counter = 0;
    Span span = measure([&] { lanes::run(run_tasks(counter, T, s.task_increments, false)); });
    result.runs.push_back(counted(ways::tasks_unprotected, "one thread; await between read and write",
                                  T * s.task_increments, counter, span));
  }
  {
    ctx.progress.step("tasks, lanes::Lock");
    long counter = 0;
    Span span = measure([&] { lanes::run(run_tasks(counter, T, s.task_increments, true)); });
    result.runs.push_back(counted(ways::tasks_lock, "the same under an asyncio-style Lock",
                                  T * s.task_increments, counter, span));
  }
  for (auto& r : result.runs) {
    auto wall = r.get(keys::wall_s);
    auto cpu = r.get(keys::cpu_s);
    if (wall && cpu && *wall > 0) r.values[keys::cores_busy] = *cpu / *wall;
  }
  return result;
}

}  // namespace lanes_cli::lab
