// tools/lanes/lab/exp_cpu.cpp — the cpu experiment: fib(N) x K, the tutorial's exercise 3
// ("Which is faster? Why?"), run every way the tutorial names, and in Python beside it.
//
// What it shows: without a GIL, C++ threads use every core; an event loop gives
// concurrency without parallelism (one core); under an emulated GIL threads take
// turns and gain nothing, as CPython's do; processes sidestep the GIL.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "lab/experiment.hpp"
#include "lab/ways.hpp"
#include "lab/gil.hpp"
#include "lab/measure.hpp"
#include "lab/progress.hpp"
#include "lab/python_side.hpp"
#include "lab/workloads.hpp"
#include "lanes/future.hpp"
#include "lanes/loop.hpp"
#include "lanes/process_pool.hpp"
#include "lanes/task.hpp"
#include "lanes/thread_pool.hpp"

namespace lanes_cli::lab {

/// fib as a process-pool worker runs it.
std::int64_t lab_fib(int n) { return fib(n); }

}  // namespace lanes_cli::lab

LANES_REGISTER(lanes_cli::lab::lab_fib);

namespace lanes_cli::lab {

namespace {

struct Plan {
  int n;                  // fib(n) per task
  int k;                  // tasks
  int workers;            // pool size: one per core
  std::int64_t expected;  // the right total, checked after every way
};

void check(std::int64_t got, const Plan& plan, std::string_view way) {
  if (got != plan.expected)
    throw std::runtime_error(fmt::format("cpu experiment, {}: wrong total {} (expected {})", way,
                                         got, plan.expected));
}

template <class F>
Run timed(Context& ctx, std::string way, std::string note, const Plan& plan, F&& fn) {
  ctx.progress.step(way);
  Run run;
  run.way = std::move(way);
  run.note = std::move(note);
  Span span = fastest_of(ctx.sizes.repeat, [&] { check(fn(), plan, run.way); });
  run.values[keys::wall_s] = span.wall_s;
  run.values[keys::cpu_s] = span.cpu_s;
  return run;
}

std::int64_t sequential(const Plan& p) {
  std::int64_t sum = 0;
  for (int i = 0; i < p.k; ++i) sum += fib(p.n);
  return sum;
}

/// One std::thread per task; with `one_core`, every thread is pinned to the same core
/// (time slicing: concurrency without parallelism).
std::int64_t thread_per_task(const Plan& p, bool one_core) {
  int core = -1;
  if (one_core) {
    cpu_set_t mine;
    CPU_ZERO(&mine);
    sched_getaffinity(0, sizeof mine, &mine);
    for (int c = 0; c < CPU_SETSIZE && core < 0; ++c)
      if (CPU_ISSET(c, &mine)) core = c;
  }
  std::vector<std::int64_t> out(static_cast<std::size_t>(p.k));
  std::vector<std::thread> threads;
  threads.reserve(out.size());
  for (auto& slot : out) {
    threads.emplace_back([&slot, n = p.n, core] {
      if (core >= 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(core, &one);
        pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      }
      slot = fib(n);
    });
  }
  for (auto& t : threads) t.join();
  std::int64_t sum = 0;
  for (auto v : out) sum += v;
  return sum;
}

/// One std::thread per task, each holding the emulated GIL while it computes.
std::int64_t threads_under_gil(const Plan& p, std::uint64_t& switches) {
  EmulatedGil gil;
  std::vector<std::int64_t> out(static_cast<std::size_t>(p.k));
  std::vector<std::thread> threads;
  threads.reserve(out.size());
  for (auto& slot : out) {
    threads.emplace_back([&slot, &gil, n = p.n] {
      EmulatedGil::Held held(gil);
      slot = fib_under_gil(n, gil);
    });
  }
  for (auto& t : threads) t.join();
  switches = gil.switches();
  std::int64_t sum = 0;
  for (auto v : out) sum += v;
  return sum;
}

lanes::Task<std::int64_t> fib_task(int n) { co_return fib(n); }

/// K tasks on one event loop: each runs to completion before the next starts, since
/// none of them ever waits.
lanes::Task<std::int64_t> all_on_one_loop(int n, int k) {
  std::vector<lanes::Future<std::int64_t>> futures;
  futures.reserve(static_cast<std::size_t>(k));
  for (int i = 0; i < k; ++i) futures.push_back(lanes::create_task(fib_task(n)));
  std::int64_t sum = 0;
  for (auto& f : futures) sum += co_await f;
  co_return sum;
}

}  // namespace

ExperimentResult run_cpu(Context& ctx) {
  const Sizes& s = ctx.sizes;
  ExperimentResult result;
  result.name = "cpu";
  result.title = "CPU-bound work: threads, processes, an event loop, and a GIL";
  result.columns = timing_columns();
  result.charts = {{keys::speedup, "speed-up against sequential (higher is better)", Format::ratio}};

  const bool python = ctx.python != nullptr;
  ctx.progress.plan(9 + (python ? 6 : 0));
  ctx.progress.step("calibrating");
  Plan plan{};
  plan.n = s.fib_n > 0 ? s.fib_n : calibrate_fib(s.task_ms);
  plan.k = s.cpu_tasks;
  plan.workers = ctx.cores;
  plan.expected = static_cast<std::int64_t>(plan.k) * fib(plan.n);
  result.workload = fmt::format("fib({}) x {} tasks, {} cores; the fastest of {} run{} of each way",
                                plan.n, plan.k, ctx.cores, s.repeat, s.repeat == 1 ? "" : "s");

  result.runs.push_back(timed(ctx, ways::sequential, "one after another", plan,
                              [&] { return sequential(plan); }));
  result.runs.push_back(timed(ctx, ways::threads, fmt::format("{} std::threads", plan.k), plan,
                              [&] { return thread_per_task(plan, false); }));
  result.runs.push_back(timed(ctx, ways::threads_one_core, "all pinned to one core", plan,
                              [&] { return thread_per_task(plan, true); }));
  result.runs.push_back(timed(ctx, ways::thread_pool,
                              fmt::format("ThreadPoolExecutor, {} workers", plan.workers), plan, [&] {
                                lanes::ThreadPoolExecutor pool(static_cast<std::size_t>(plan.workers));
                                std::vector<lanes::Future<std::int64_t>> fs;
                                for (int i = 0; i < plan.k; ++i) fs.push_back(pool.submit(&fib, plan.n));
                                std::int64_t sum = 0;
                                for (auto& f : fs) sum += f.result();
                                return sum;
                              }));
  result.runs.push_back(timed(ctx, ways::process_pool,
                              fmt::format("ProcessPoolExecutor, {} workers", plan.workers), plan, [&] {
                                lanes::ProcessPoolExecutor pool(static_cast<std::size_t>(plan.workers));
                                std::vector<lanes::Future<std::int64_t>> fs;
                                for (int i = 0; i < plan.k; ++i)
                                  fs.push_back(pool.submit(&lab_fib, plan.n));
                                std::int64_t sum = 0;
                                for (auto& f : fs) sum += f.result();
                                return sum;
                              }));
  result.runs.push_back(timed(ctx, ways::event_loop, "tasks on one thread", plan, [&] {
    return lanes::run(all_on_one_loop(plan.n, plan.k));
  }));
  std::uint64_t switches = 0;
  Run gil = timed(ctx, ways::threads_gil, "", plan,
                  [&] { return threads_under_gil(plan, switches); });
  gil.note = fmt::format("{} GIL hand-overs", switches);
  gil.values[keys::gil_switches] = static_cast<double>(switches);
  result.runs.push_back(gil);

  // The baseline once more, last: a burst of other work on the machine during the first
  // measurement would otherwise inflate every speed-up. The faster of the two is kept.
  {
    Run again = timed(ctx, ways::sequential, "", plan, [&] { return sequential(plan); });
    Run& first = result.runs.front();
    const double a = first.values[keys::wall_s], b = again.values[keys::wall_s];
    first.values[keys::spread] = std::abs(a - b) / std::max(1e-9, std::min(a, b));
    if (again.values[keys::wall_s] < first.values[keys::wall_s]) {
      first.values[keys::wall_s] = again.values[keys::wall_s];
      first.values[keys::cpu_s] = again.values[keys::cpu_s];
    }
  }

  if (python) {
    std::vector<std::string> args = {"--tasks",   std::to_string(plan.k),
                                     "--workers", std::to_string(plan.workers),
                                     "--task-ms", fmt::format("{:.0f}", s.task_ms),
                                     "--repeat",  std::to_string(std::min(s.repeat, 2))};
    auto out = ctx.python->run("lab_cpu.py", args, [&](std::string_view label) {
      ctx.progress.step(fmt::format("Python {}", label));
    });
    for (auto& r : out.runs) result.runs.push_back(std::move(r));
    if (auto it = out.info.find("fib_n"); it != out.info.end())
      result.workload += fmt::format("; Python: fib({}) x {} (its own calibration)", it->second,
                                     plan.k);
    for (auto& note : out.notes) result.notes.push_back(note);
  }
  derive_speedups(result);
  // The same work should cost the same CPU time however it is spread. When the threads
  // needed much more, the cores slowed each other down while both were busy.
  const Run* seq = result.find(langs::cpp, ways::sequential);
  for (auto& r : result.runs) {
    if (r.lang != langs::cpp || r.way != ways::threads || !seq) continue;
    const double inflation = r.values[keys::cpu_s] / std::max(1e-9, seq->get(keys::cpu_s).value_or(0));
    r.values[keys::cpu_inflation] = inflation;
    if (inflation > 1.3)
      result.notes.push_back(fmt::format(
          "the threads needed {:.1f}x the CPU time of the sequential run for the same work: "
          "these cores slow each other down when both are busy (hyper-threads of one physical "
          "core, or a virtual machine whose host is busy), which caps parallel speed-ups here",
          inflation));
  }
  return result;
}

}  // namespace lanes_cli::lab
