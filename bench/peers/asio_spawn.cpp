// bench/peers/asio_spawn.cpp — bench_core's workloads written with Boost.Asio's C++20
// coroutines (co_spawn, awaitable, steady_timer), on one io_context thread.
//
// Prints one JSON line per workload:
//   {"peer": "asio", "workload": ..., "ns_per_item": ..., "wall_s": ..., "cpu_s": ...,
//    "bytes_per_task": ...}
// ns_per_item is CPU time of the loop's thread per item, as in bench_core. Each
// workload runs --reps times (default 3) in this process and the best run is
// printed; the sleep's bytes come from one extra run on a fresh thread with the
// allocation counter of alloc_counter.hpp on, as in bench_core.
//
//   peer_asio_spawn [--reps N] [--only WORKLOAD]
//
// Boost 1.74 has no parallel_group and no deferred, so "gather" is written the way
// Asio code of that version does it: every co_spawn gets a completion handler that
// stores the result and counts down, and the spawning coroutine waits on a timer that
// the last handler cancels.
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

// Boost 1.74 looks for C++20 coroutines in clang only through <experimental/coroutine>;
// clang 16 with libstdc++ has the standard <coroutine>, which Asio uses once told so.
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#define BOOST_ASIO_HAS_STD_COROUTINE 1
#endif

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "alloc_counter.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

awaitable<void> trivial_void() { co_return; }
awaitable<int> trivial_int(int i) { co_return i; }

// Waits until `remaining` reaches zero; the handlers cancel `done` at that point.
awaitable<void> wait_all(asio::steady_timer& done, const std::size_t& remaining) {
  while (remaining > 0) {
    boost::system::error_code ec;
    co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

awaitable<std::int64_t> spawn_gather_void(std::size_t n) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer done(ex, asio::steady_timer::time_point::max());
  std::size_t remaining = n;
  std::vector<char> finished(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    asio::co_spawn(ex, trivial_void(), [&, i](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
      finished[i] = 1;
      if (--remaining == 0) done.cancel();
    });
  }
  co_await wait_all(done, remaining);
  co_return static_cast<std::int64_t>(std::count(finished.begin(), finished.end(), 1));
}

awaitable<std::int64_t> spawn_gather_int(std::size_t n) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer done(ex, asio::steady_timer::time_point::max());
  std::size_t remaining = n;
  std::vector<int> results(n);
  for (std::size_t i = 0; i < n; ++i) {
    asio::co_spawn(ex, trivial_int(static_cast<int>(i)), [&, i](std::exception_ptr e, int v) {
      if (e) std::rethrow_exception(e);
      results[i] = v;
      if (--remaining == 0) done.cancel();
    });
  }
  co_await wait_all(done, remaining);
  std::int64_t sum = 0;
  for (int v : results) sum += v;
  co_return sum;
}

awaitable<int> chain(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await chain(depth - 1);
}

awaitable<std::int64_t> chains(int depth, int repeats) {
  std::int64_t sum = 0;
  for (int r = 0; r < repeats; ++r) sum += co_await chain(depth);
  co_return sum;
}

awaitable<std::int64_t> sequential_awaits(int n) {
  std::int64_t sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await trivial_int(i);
  co_return sum;
}

awaitable<void> sleeper(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

awaitable<std::int64_t> spawn_sleepers(std::size_t n, std::chrono::milliseconds d) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer done(ex, asio::steady_timer::time_point::max());
  std::size_t remaining = n;
  for (std::size_t i = 0; i < n; ++i) {
    asio::co_spawn(ex, sleeper(d), [&](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
      if (--remaining == 0) done.cancel();
    });
  }
  co_await wait_all(done, remaining);
  co_return static_cast<std::int64_t>(n);
}

// Seconds of one run: wall, and CPU of this thread (user + system). The per-item
// figures use CPU time, as bench_core does: the workloads never wait, and other
// processes of a shared machine inflate wall time only.
struct Times {
  double wall = 1e300;
  double cpu = 1e300;
  void keep_best(const Times& t) {
    wall = std::min(wall, t.wall);
    cpu = std::min(cpu, t.cpu);
  }
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Runs `make()` to completion on a new io_context (one thread, this one); the times
// include the io_context's creation, as lanes::run's include the loop's.
Times run_once(const std::function<awaitable<std::int64_t>()>& make, std::int64_t expect) {
  const auto t0 = Clock::now();
  const double c0 = thread_cpu_seconds();
  std::int64_t got = -1;
  {
    asio::io_context ctx(1);
    asio::co_spawn(ctx, make(), [&](std::exception_ptr e, std::int64_t v) {
      if (e) std::rethrow_exception(e);
      got = v;
    });
    ctx.run();
  }
  const double c1 = thread_cpu_seconds();
  const auto t1 = Clock::now();
  if (expect >= 0 && got != expect) {
    std::fprintf(stderr, "asio_spawn: wrong result %lld (expected %lld)\n",
                 static_cast<long long>(got), static_cast<long long>(expect));
    std::exit(1);
  }
  return {std::chrono::duration<double>(t1 - t0).count(), c1 - c0};
}

// The spawn workloads again, `reps` times inside one io_context after one untimed
// burst (bench_core's BM_spawn_gather_warm): the best burst's times.
Times run_in_one_context(const std::function<awaitable<std::int64_t>()>& make,
                         std::int64_t expect, int reps) {
  Times best;
  asio::io_context ctx(1);
  asio::co_spawn(
      ctx,
      [&]() -> awaitable<void> {
        for (int r = -1; r < reps; ++r) {
          const auto t0 = Clock::now();
          const double c0 = thread_cpu_seconds();
          const std::int64_t got = co_await make();
          const double c1 = thread_cpu_seconds();
          const auto t1 = Clock::now();
          if (got != expect) throw std::runtime_error("asio_spawn: wrong result");
          if (r >= 0) best.keep_best({std::chrono::duration<double>(t1 - t0).count(), c1 - c0});
        }
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  ctx.run();
  return best;
}

struct Workload {
  std::string name;
  double items;
  std::int64_t expect;  // the coroutine's result, checked; -1: not checked
  std::function<awaitable<std::int64_t>()> make;
  bool count_bytes = false;
  bool warm = false;  // timed inside one io_context (run_in_one_context)
};

void emit(const std::string& name, double items, const Times& best, double bytes_per_task) {
  std::printf(
      "{\"peer\": \"asio\", \"workload\": \"%s\", \"ns_per_item\": %.3f, \"wall_s\": %.6f, "
      "\"cpu_s\": %.6f",
      name.c_str(), best.cpu * 1e9 / items, best.wall, best.cpu);
  if (bytes_per_task >= 0) std::printf(", \"bytes_per_task\": %.1f", bytes_per_task);
  std::printf("}\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 3;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--reps N] [--only WORKLOAD]\n", argv[0]);
      return 2;
    }
  }

  constexpr std::size_t kSpawn = 1'000'000;
  constexpr std::size_t kSleepers = 100'000;
  const std::int64_t spawn_int_sum = static_cast<std::int64_t>(kSpawn) * (kSpawn - 1) / 2;
  const std::int64_t seq_sum = 1'000'000LL * 999'999 / 2;
  std::vector<Workload> workloads = {
      {"spawn_gather_void", kSpawn, kSpawn, [] { return spawn_gather_void(kSpawn); }},
      {"spawn_gather_int", kSpawn, spawn_int_sum, [] { return spawn_gather_int(kSpawn); }},
      {"spawn_gather_void_warm", kSpawn, kSpawn, [] { return spawn_gather_void(kSpawn); },
       false, true},
      {"spawn_gather_int_warm", kSpawn, spawn_int_sum, [] { return spawn_gather_int(kSpawn); },
       false, true},
      {"await_chain_1000x1000", 1e6, 1'000'000, [] { return chains(1000, 1000); }},
      {"await_chain_1000000x1", 1e6, 1'000'000, [] { return chains(1'000'000, 1); }},
      {"await_seq_1000000", 1e6, seq_sum, [] { return sequential_awaits(1'000'000); }},
      {"sleep_100000", kSleepers, kSleepers, [] { return spawn_sleepers(kSleepers, 100ms); },
       true},
  };

  for (const auto& w : workloads) {
    if (!only.empty() && w.name != only) continue;
    Times best;
    if (w.warm) {
      best = run_in_one_context(w.make, w.expect, reps);
    } else {
      for (int r = 0; r < reps; ++r) best.keep_best(run_once(w.make, w.expect));
    }
    double bytes = -1;
    if (w.count_bytes) {
      std::thread worker([&] {
        bench_alloc::AllocWindow window;
        run_once(w.make, w.expect);
        bytes = static_cast<double>(window.close().peak) / w.items;
      });
      worker.join();
    }
    emit(w.name, w.items, best, bytes);
  }
  return 0;
}
