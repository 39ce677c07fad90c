// tools/lanes/lab/exp_hybrid.cpp — the hybrid experiment (tutorial part 004, exercise 2: "spawning
// several processes that also spawn several threads"): K fib tasks split over P
// processes x T threads, with and without an emulated GIL in each process.
//
// What it shows: without a GIL the speed-up is bounded by the cores, however the work
// is split; with a GIL per process (CPython's situation) only the processes add
// parallelism, the threads inside each take turns.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "lab/experiment.hpp"
#include "lab/ways.hpp"
#include "lab/gil.hpp"
#include "lab/measure.hpp"
#include "lab/progress.hpp"
#include "lab/workloads.hpp"
#include "lanes/process_pool.hpp"

namespace lanes_cli::lab {

/// `tasks` fib(n) over `threads` std::threads in this process, each thread holding
/// this process's own emulated GIL while it computes if `gil`. Returns the sum.
std::int64_t lab_hybrid_worker(int n, int tasks, int threads, bool gil) {
  EmulatedGil lock;
  std::vector<std::int64_t> sums(static_cast<std::size_t>(threads), 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    // Thread t takes tasks t, t + threads, t + 2 * threads...
    pool.emplace_back([&, t] {
      auto& sum = sums[static_cast<std::size_t>(t)];
      if (gil) {
        EmulatedGil::Held held(lock);
        for (int i = t; i < tasks; i += threads) sum += fib_under_gil(n, lock);
      } else {
        for (int i = t; i < tasks; i += threads) sum += fib(n);
      }
    });
  }
  for (auto& th : pool) th.join();
  std::int64_t total = 0;
  for (auto v : sums) total += v;
  return total;
}

}  // namespace lanes_cli::lab

LANES_REGISTER(lanes_cli::lab::lab_hybrid_worker);

namespace lanes_cli::lab {

namespace {

struct Shape {
  int processes;
  int threads;
  bool gil;
};

std::string name_of(const Shape& s) {
  return fmt::format("{} process{} x {} thread{}{}", s.processes, s.processes == 1 ? "" : "es",
                     s.threads, s.threads == 1 ? "" : "s", s.gil ? " + GIL each" : "");
}

/// Runs K tasks in the given shape: in this process when processes == 1, else in a
/// ProcessPoolExecutor with one task per worker, each worker's share of the K tasks.
std::int64_t run_shape(const Shape& s, int n, int k) {
  if (s.processes == 1) return lab_hybrid_worker(n, k, s.threads, s.gil);
  lanes::ProcessPoolExecutor pool(static_cast<std::size_t>(s.processes));
  std::vector<lanes::Future<std::int64_t>> parts;
  for (int p = 0; p < s.processes; ++p) {
    const int share = k / s.processes + (p < k % s.processes ? 1 : 0);
    if (share > 0) parts.push_back(pool.submit(&lab_hybrid_worker, n, share, s.threads, s.gil));
  }
  std::int64_t total = 0;
  for (auto& f : parts) total += f.result();
  return total;
}

}  // namespace

ExperimentResult run_hybrid(Context& ctx) {
  const Sizes& sz = ctx.sizes;
  ExperimentResult result;
  result.name = "hybrid";
  result.title = "Processes that each run threads (concurrency and parallelism together)";
  result.columns = timing_columns();
  result.charts = {{keys::speedup, "speed-up against sequential (higher is better)", Format::ratio}};
  const int P = sz.processes > 0 ? sz.processes : std::max(2, ctx.cores);
  const int T = std::max(1, sz.threads_per_process);
  std::vector<Shape> shapes;
  for (Shape s : {Shape{1, 1, false}, Shape{1, T, false}, Shape{P, 1, false}, Shape{P, T, false},
                  Shape{1, T, true}, Shape{P, T, true}}) {
    // With one thread per process some shapes coincide: run each once.
    bool seen = false;
    for (const auto& t : shapes) seen |= t.processes == s.processes && t.threads == s.threads && t.gil == s.gil;
    if (!seen) shapes.push_back(s);
  }
  ctx.progress.plan(static_cast<int>(shapes.size()) + 2);
  ctx.progress.step("calibrating");
  const int n = sz.fib_n > 0 ? sz.fib_n : calibrate_fib(sz.task_ms);
  const int k = std::max(sz.cpu_tasks, P * T);
  const std::int64_t expected = static_cast<std::int64_t>(k) * fib(n);
  result.workload = fmt::format("fib({}) x {} tasks over P = {} processes (a ProcessPoolExecutor) "
                                "x T = {} std::threads each; {} cores; the fastest of {} run{}",
                                n, k, P, T, ctx.cores, sz.repeat, sz.repeat == 1 ? "" : "s");

  for (const auto& shape : shapes) {
    Run r;
    r.way = shape.processes == 1 && shape.threads == 1 && !shape.gil ? ways::sequential : name_of(shape);
    ctx.progress.step(r.way);
    Span span = fastest_of(sz.repeat, [&] {
      const std::int64_t total = run_shape(shape, n, k);
      if (total != expected)
        throw std::runtime_error(fmt::format("hybrid, {}: wrong total {} (expected {})", r.way,
                                             total, expected));
    });
    r.values[keys::wall_s] = span.wall_s;
    r.values[keys::cpu_s] = span.cpu_s;
    r.values[keys::processes] = shape.processes;
    r.values[keys::threads] = shape.threads;
    r.values[keys::gil] = shape.gil ? 1 : 0;
    r.note = shape.processes == 1 && shape.threads == 1 && !shape.gil ? "1 process x 1 thread" : "";
    result.runs.push_back(std::move(r));
  }
  // The baseline once more, last (see exp_cpu.cpp): the faster of the two is kept.
  {
    ctx.progress.step("sequential");
    Span again = fastest_of(sz.repeat, [&] { (void)run_shape(shapes.front(), n, k); });
    Run& first = result.runs.front();
    const double a = first.values[keys::wall_s];
    first.values[keys::spread] = std::abs(a - again.wall_s) / std::max(1e-9, std::min(a, again.wall_s));
    if (again.wall_s < first.values[keys::wall_s]) {
      first.values[keys::wall_s] = again.wall_s;
      first.values[keys::cpu_s] = again.cpu_s;
    }
  }
  derive_speedups(result);
  return result;
}

}  // namespace lanes_cli::lab
