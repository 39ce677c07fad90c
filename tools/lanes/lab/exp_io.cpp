// tools/lanes/lab/exp_io.cpp — the io experiment: K waits of L ms on real I/O (an HTTP
// request to an in-process loopback server that answers after L ms, then a file write,
// fsync and read), every way the tutorial names, and in Python beside it.
//
// What it shows: waiting costs no CPU, so anything that overlaps the waits — threads,
// even under a GIL (released around I/O), or one thread with an event loop — gains
// about K times; a process pool sized to the cores overlaps only as many waits as it
// has workers.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "lab/experiment.hpp"
#include "lab/ways.hpp"
#include "lab/gil.hpp"
#include "lab/http_server.hpp"
#include "lab/measure.hpp"
#include "lab/progress.hpp"
#include "lab/python_side.hpp"
#include "lanes/loop.hpp"
#include "lanes/net.hpp"
#include "lanes/process_pool.hpp"
#include "lanes/task.hpp"
#include "lanes/thread_pool.hpp"

namespace lanes_cli::lab {

/// One wait, as a process-pool worker runs it: the HTTP request, then the file.
/// Returns 1 (the parent counts them).
int lab_io_wait(int port, int ms, std::string path) {
  http_get_blocking(static_cast<std::uint16_t>(port), ms);
  file_round_trip(path);
  return 1;
}

}  // namespace lanes_cli::lab

LANES_REGISTER(lanes_cli::lab::lab_io_wait);

namespace lanes_cli::lab {

namespace {

struct Plan {
  std::uint16_t port;
  int k;
  int ms;
  std::string dir;
  std::string path(int i, const char* who) const { return fmt::format("{}/{}-{}.dat", dir, who, i); }
};

void one_wait(const Plan& p, int i, const char* who) {
  http_get_blocking(p.port, p.ms);
  file_round_trip(p.path(i, who));
}

template <class F>
Run timed(Context& ctx, std::string way, std::string note, F&& fn) {
  ctx.progress.step(way);
  Run run;
  run.way = std::move(way);
  run.note = std::move(note);
  Span span = measure(fn);
  run.values[keys::wall_s] = span.wall_s;
  run.values[keys::cpu_s] = span.cpu_s;
  return run;
}

void threads_each(int k, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(k));
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(k));
  for (int i = 0; i < k; ++i) {
    threads.emplace_back([&, i] {
      try {
        body(i);
      } catch (...) {
        errors[static_cast<std::size_t>(i)] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

lanes::Task<void> wait_on_loop(const Plan& p, int i) {
  auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", p.port);
  writer.write(wait_request(p.ms));
  co_await writer.drain();
  std::string response = co_await reader.read(-1);
  writer.close();
  if (!is_ok_response(response))
    throw std::runtime_error("the lab's HTTP server gave an unexpected answer");
  // Files have no readiness to wait for: asyncio and lanes both hand them to a thread.
  co_await lanes::to_thread(&file_round_trip, p.path(i, "loop"));
}

lanes::Task<void> all_on_loop(const Plan& p) {
  std::vector<lanes::Future<void>> tasks;
  for (int i = 0; i < p.k; ++i) tasks.push_back(lanes::create_task(wait_on_loop(p, i)));
  for (auto& t : tasks) co_await t;
}

std::string scratch_dir() {
  // A disk-backed directory if there is one: /tmp is often memory (fsync costs nothing).
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp && *tmp ? tmp : (access("/var/tmp", W_OK) == 0 ? "/var/tmp" : "/tmp");
  std::string templ = base + "/lanes-io-XXXXXX";
  if (!mkdtemp(templ.data()))
    throw std::runtime_error(fmt::format("cannot make a scratch directory in {}", base));
  return templ;
}

}  // namespace

ExperimentResult run_io(Context& ctx) {
  const Sizes& s = ctx.sizes;
  ExperimentResult result;
  result.name = "io";
  result.title = "I/O-bound work: waiting on the network and the disk";
  result.columns = timing_columns();
  result.charts = {{keys::speedup, "speed-up against sequential (higher is better)", Format::ratio}};
  const bool python = ctx.python != nullptr;
  ctx.progress.plan(8 + (python ? 5 : 0));
  ctx.progress.step("starting the HTTP server");

  LoopbackHttpServer server;
  Plan p{server.port(), s.io_waits, s.wait_ms, scratch_dir()};
  struct DirRemover {
    std::string dir;
    ~DirRemover() { rmdir(dir.c_str()); }
  } remover{p.dir};
  result.workload = fmt::format("{} waits: HTTP GET to a loopback server that answers after {} "
                                "ms, then write 4 KiB + fsync + read back in {}",
                                p.k, p.ms, p.dir.substr(0, p.dir.rfind('/')));
  const int workers = ctx.cores;

  result.runs.push_back(timed(ctx, ways::sequential, "one after another", [&] {
    for (int i = 0; i < p.k; ++i) one_wait(p, i, "seq");
  }));
  result.runs.push_back(timed(ctx, ways::threads, fmt::format("{} std::threads", p.k), [&] {
    threads_each(p.k, [&](int i) { one_wait(p, i, "thr"); });
  }));
  result.runs.push_back(timed(ctx, ways::thread_pool, fmt::format("ThreadPoolExecutor, {} workers", p.k),
                              [&] {
                                lanes::ThreadPoolExecutor pool(static_cast<std::size_t>(p.k));
                                std::vector<lanes::Future<void>> fs;
                                for (int i = 0; i < p.k; ++i)
                                  fs.push_back(pool.submit([&p, i] { one_wait(p, i, "tp"); }));
                                for (auto& f : fs) f.result();
                              }));
  result.runs.push_back(timed(
      ctx, ways::process_pool, fmt::format("ProcessPoolExecutor, {} workers (one per core)", workers), [&] {
        lanes::ProcessPoolExecutor pool(static_cast<std::size_t>(workers));
        std::vector<lanes::Future<int>> fs;
        for (int i = 0; i < p.k; ++i)
          fs.push_back(pool.submit(&lab_io_wait, static_cast<int>(p.port), p.ms, p.path(i, "pp")));
        for (auto& f : fs) f.result();
      }));
  result.runs.push_back(timed(ctx, ways::event_loop, "tasks on one thread; files via to_thread",
                              [&] { lanes::run(all_on_loop(p)); }));
  EmulatedGil gil;
  Run gil_run = timed(ctx, ways::threads_gil, "", [&] {
    threads_each(p.k, [&](int i) {
      EmulatedGil::Held held(gil);  // "Python code" runs holding the GIL...
      {
        EmulatedGil::Released io(gil);  // ...and drops it around blocking I/O
        http_get_blocking(p.port, p.ms);
      }
      {
        EmulatedGil::Released io(gil);
        file_round_trip(p.path(i, "gil"));
      }
    });
  });
  gil_run.note = "released around I/O, as CPython does";
  result.runs.push_back(gil_run);
  // The baseline once more, last (see exp_cpu.cpp): the faster is kept, and how far the
  // two were apart is this run's noise, which the claims allow for.
  {
    Run again = timed(ctx, ways::sequential, "", [&] {
      for (int i = 0; i < p.k; ++i) one_wait(p, i, "seq2");
    });
    Run& first = result.runs.front();
    const double a = first.values[keys::wall_s], b = again.values[keys::wall_s];
    first.values[keys::spread] = std::abs(a - b) / std::max(1e-9, std::min(a, b));
    if (b < a) {
      first.values[keys::wall_s] = b;
      first.values[keys::cpu_s] = again.values[keys::cpu_s];
    }
  }

  if (python) {
    std::vector<std::string> args = {"--port",    std::to_string(p.port), "--waits",
                                     std::to_string(p.k), "--wait-ms", std::to_string(p.ms),
                                     "--dir",     p.dir,                  "--workers",
                                     std::to_string(workers)};
    auto out = ctx.python->run("lab_io.py", args, [&](std::string_view label) {
      ctx.progress.step(fmt::format("Python {}", label));
    });
    for (auto& r : out.runs) result.runs.push_back(std::move(r));
    for (auto& note : out.notes) result.notes.push_back(note);
  }
  result.notes.push_back(fmt::format("the loopback server answered {} requests; it runs on its "
                                     "own lanes event loop thread",
                                     server.served()));
  derive_speedups(result);
  return result;
}

}  // namespace lanes_cli::lab
