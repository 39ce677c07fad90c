// tools/lanes/lab/exp_memory.cpp — the memory experiment (tutorial parts 001, 002): a global
// changed by a thread is seen by its process; changed in a child process, it is not.
#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "lab/experiment.hpp"
#include "lab/ways.hpp"
#include "lab/measure.hpp"
#include "lab/progress.hpp"
#include "lanes/process_pool.hpp"

namespace lanes_cli::lab {

namespace {
// The global both sides change. Atomic only so the thread's write is ordered before
// the parent's read by the join without any sanitizer doubt; relaxed is enough.
std::atomic<int> g_value{0};
}  // namespace

/// Run in a worker process: sets the worker's copy of the global, returns what the
/// worker then reads.
int lab_set_global(int value) {
  g_value.store(value, std::memory_order_relaxed);
  return g_value.load(std::memory_order_relaxed);
}

}  // namespace lanes_cli::lab

LANES_REGISTER(lanes_cli::lab::lab_set_global);

namespace lanes_cli::lab {

ExperimentResult run_memory(Context& ctx) {
  ExperimentResult result;
  result.name = "memory";
  result.title = "Shared or separate memory: a global changed in a thread, then in a child process";
  result.workload = "the global starts at 0; the other side sets it to 42; what does this process read?";
  result.columns = {{"child_saw", "other side read", Format::count},
                    {"parent_value", "we read after", Format::count},
                    {"parent_sees", "change visible", Format::yes_no},
                    {"wall_s", "round trip", Format::seconds}};
  result.charts = {{"parent_value", "value of the global this process reads afterwards", Format::count}};
  ctx.progress.plan(2);

  ctx.progress.step("thread");
  {
    g_value.store(0, std::memory_order_relaxed);
    int seen = 0;
    Span span = measure([&] {
      std::thread t([&] {
        g_value.store(42, std::memory_order_relaxed);
        seen = g_value.load(std::memory_order_relaxed);
      });
      t.join();
    });
    const int after = g_value.load(std::memory_order_relaxed);
    Run r;
    r.way = ways::thread;
    r.note = "std::thread sets it, joins";
    r.values[keys::child_saw] = seen;
    r.values["parent_value"] = after;
    r.values[keys::parent_sees] = after == 42 ? 1 : 0;
    r.values[keys::wall_s] = span.wall_s;
    result.runs.push_back(r);
  }
  ctx.progress.step("child process");
  {
    g_value.store(0, std::memory_order_relaxed);
    int seen = 0;
    Span span = measure([&] {
      lanes::ProcessPoolExecutor pool(1);
      seen = pool.submit(&lab_set_global, 42).result();
    });
    const int after = g_value.load(std::memory_order_relaxed);
    Run r;
    r.way = ways::child_process;
    r.note = "a ProcessPoolExecutor worker sets it";
    r.values[keys::child_saw] = seen;
    r.values["parent_value"] = after;
    r.values[keys::parent_sees] = after == 42 ? 1 : 0;
    r.values[keys::wall_s] = span.wall_s;
    result.runs.push_back(r);
  }
  g_value.store(0, std::memory_order_relaxed);
  return result;
}

}  // namespace lanes_cli::lab
