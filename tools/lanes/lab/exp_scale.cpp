// tools/lanes/lab/exp_scale.cpp — the scale experiment: N concurrent waiters as OS
// threads against N as coroutines on one event loop: how long it takes to get them all
// waiting, and how many bytes each costs. And a process, to place "threads are
// lighter-weight processes" (tutorial part 001) on the same scale.
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <latch>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "lab/experiment.hpp"
#include "lab/ways.hpp"
#include "lab/measure.hpp"
#include "lab/progress.hpp"
#include "lab/report.hpp"
#include "lanes/future.hpp"
#include "lanes/loop.hpp"
#include "lanes/task.hpp"
#include "lanes/time.hpp"

namespace lanes_cli::lab {

namespace {

// Each row's kind (kinds::threads, ...) is stored in values[keys::kind] so the claims
// can find the rows.

std::string short_count(long n) {
  if (n >= 1000 && n % 1000 == 0) return fmt::format("{}k", n / 1000);
  return std::to_string(n);
}

Run thread_waiters(long n) {
  Run r;
  r.way = fmt::format("threads x{}", short_count(n));
  r.values[keys::kind] = kinds::threads;
  const long room = thread_headroom();
  // Leave the machine a fifth of what is left: other programs need threads too.
  if (n > room * 4 / 5) {
    r.skipped = fmt::format("this system allows about {} more threads (kernel.pid_max, "
                            "threads-max, ulimit -u, vm.max_map_count): {} would not fit",
                            room, n);
    return r;
  }
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  std::latch waiting(n);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  const std::int64_t rss0 = resident_bytes(), ks0 = kernel_stack_bytes();
  Stopwatch sw;
  std::string failure;
  try {
    for (long i = 0; i < n; ++i) {
      threads.emplace_back([&] {
        std::unique_lock lk(m);
        waiting.count_down();
        cv.wait(lk, [&] { return open; });
      });
    }
    waiting.wait();
  } catch (const std::system_error& e) {
    failure = e.what();
  }
  const Span up = sw.stop();
  const std::int64_t rss1 = resident_bytes(), ks1 = kernel_stack_bytes();
  {
    std::lock_guard lk(m);
    open = true;
  }
  cv.notify_all();
  Stopwatch down;
  for (auto& t : threads) t.join();
  const double down_s = down.stop().wall_s;
  const long made = static_cast<long>(threads.size());
  if (!failure.empty()) {
    // The threads that did start never all counted down; report how far it got.
    r.skipped = fmt::format("could start only {} threads: {}", made, failure);
    return r;
  }
  r.values["count"] = static_cast<double>(n);
  r.values[keys::wall_s] = up.wall_s;
  r.values[keys::create_us] = up.wall_s * 1e6 / static_cast<double>(n);
  r.values[keys::bytes_each] = static_cast<double>((rss1 - rss0) + (ks1 - ks0)) / static_cast<double>(n);
  r.values["rss_each"] = static_cast<double>(rss1 - rss0) / static_cast<double>(n);
  r.values["teardown_s"] = down_s;
  r.note = fmt::format("{} resident + {} kernel stack each",
                       format_value(static_cast<double>(rss1 - rss0) / static_cast<double>(n), Format::bytes),
                       format_value(static_cast<double>(ks1 - ks0) / static_cast<double>(n), Format::bytes));
  return r;
}

lanes::Task<void> waiter(lanes::Future<void> gate) { co_await gate; }

struct CoroutineFigures {
  double up_s = 0;
  std::int64_t bytes = 0;
  double down_s = 0;
};

lanes::Task<CoroutineFigures> coroutine_waiters(long n) {
  CoroutineFigures out;
  auto gate = lanes::create_future<void>();
  std::vector<lanes::Future<void>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  // Heap bytes in use, not resident memory: the heap may already hold freed memory
  // that the frames reuse without the resident size growing.
  const std::int64_t heap0 = heap_in_use_bytes(), rss0 = resident_bytes();
  Stopwatch sw;
  for (long i = 0; i < n; ++i) tasks.push_back(lanes::create_task(waiter(gate)));
  // Yield once: every task runs to its co_await on the gate before this one resumes.
  co_await lanes::sleep(std::chrono::seconds(0));
  out.up_s = sw.stop().wall_s;
  out.bytes = heap_in_use_bytes() - heap0;
  if (out.bytes <= 0) out.bytes = resident_bytes() - rss0;
  Stopwatch down;
  gate.set_result();
  for (auto& t : tasks) co_await t;
  out.down_s = down.stop().wall_s;
  co_return out;
}

Run coroutine_row(long n) {
  Run r;
  r.way = fmt::format("coroutines x{}", short_count(n));
  r.values[keys::kind] = kinds::coroutines;
  CoroutineFigures f = lanes::run(coroutine_waiters(n));
  r.values["count"] = static_cast<double>(n);
  r.values[keys::wall_s] = f.up_s;
  r.values[keys::create_us] = f.up_s * 1e6 / static_cast<double>(n);
  r.values[keys::bytes_each] = static_cast<double>(f.bytes) / static_cast<double>(n);
  r.values["rss_each"] = r.values[keys::bytes_each];
  r.values["teardown_s"] = f.down_s;
  r.note = "tasks awaiting one Future, on one thread; heap bytes";
  return r;
}

/// Starts and reaps `n` processes one after another (fork, _exit, waitpid): the cost
/// of a process as the kernel sees it, before any program is loaded.
Run process_row(long n) {
  Run r;
  r.way = fmt::format("processes x{}", short_count(n));
  r.values[keys::kind] = kinds::processes;
  Stopwatch sw;
  for (long i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0) {
      r.skipped = fmt::format("fork failed after {} processes", i);
      return r;
    }
    int status = 0;
    waitpid(pid, &status, 0);
  }
  const Span span = sw.stop();
  r.values["count"] = static_cast<double>(n);
  r.values[keys::wall_s] = span.wall_s;
  r.values[keys::create_us] = span.wall_s * 1e6 / static_cast<double>(n);
  r.note = "fork + exit + wait, one at a time";
  return r;
}

}  // namespace

ExperimentResult run_scale(Context& ctx) {
  const Sizes& s = ctx.sizes;
  ExperimentResult result;
  result.name = "scale";
  result.title = "Many concurrent waiters: OS threads against coroutines";
  std::string counts;
  for (long n : s.waiters) counts += (counts.empty() ? "" : " and ") + short_count(n);
  result.workload = fmt::format("{} waiters blocked on one gate, then released; a thread costs "
                                "its resident stack plus a kernel stack",
                                counts);
  result.columns = {{"count", "waiters", Format::count},
                    {"wall_s", "all waiting after", Format::seconds},
                    {"create_us", "per waiter", Format::micros},
                    {"bytes_each", "bytes each", Format::bytes},
                    {"teardown_s", "release + join", Format::seconds}};
  result.charts = {
      {keys::create_us, "time to start one waiter (log scale, lower is better)", Format::micros,
       true},
      {keys::bytes_each, "memory per waiter (log scale, lower is better)", Format::bytes, true}};
  ctx.progress.plan(static_cast<int>(s.waiters.size()) * 2 + 1);
  for (long n : s.waiters) {
    ctx.progress.step(fmt::format("{} threads", short_count(n)));
    result.runs.push_back(thread_waiters(n));
    ctx.progress.step(fmt::format("{} coroutines", short_count(n)));
    result.runs.push_back(coroutine_row(n));
  }
  ctx.progress.step("processes");
  result.runs.push_back(process_row(s.quick ? 20 : 200));
  result.notes.push_back("bytes each: for threads, the growth of this process's resident "
                         "memory plus the kernel's thread stacks while they wait; for "
                         "coroutines, the growth of the heap in use (frame, task state, "
                         "future); divided by the number of waiters");
  return result;
}

}  // namespace lanes_cli::lab
