// Process pool benchmarks (bench/procpool.sh runs them beside bench/peers/procpool_python.py):
//   floor       two processes bouncing 40 bytes over a socketpair: what the machine
//               allows a round trip right now (no pool, no threads)
//   round_trip  submit(tiny).result() one after the other: the latency of one task;
//               also from a thread the program started, from inside an event loop
//               (co_await), and cold (the first calls of a fresh pool, worker start
//               excluded)
//   map         map(square, N ints) at several chunk sizes and with the automatic one
//   fib         CPU-bound fib jobs: sequential against a pool of one worker per core
// Prints one JSON object per line. Wall time throughout (the work happens in workers);
// each figure is the best of --reps runs.
#include <lanes/loop.hpp>
#include <lanes/process_pool.hpp>
#include <lanes/task.hpp>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <tuple>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

int tiny(int x) { return x; }
LANES_REGISTER(tiny);

int square(int x) { return x * x; }
LANES_REGISTER(square);

long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

std::int64_t cpu_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// fib(n), and which worker computed it with how much CPU time.
std::tuple<long, int, std::int64_t> fib_timed(int n) {
  const std::int64_t t0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
  const long r = fib(n);
  return {r, static_cast<int>(::getpid()), cpu_ns(CLOCK_THREAD_CPUTIME_ID) - t0};
}
LANES_REGISTER(fib_timed);

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

template <class F>
double best_of(int reps, F&& run) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) best = std::min(best, run());
  return best;
}

/// Runs `one` n times, appending each call's wall time (seconds) to `each`; returns
/// the total.
template <class F>
double timed_each(int n, std::vector<double>& each, F&& one) {
  const auto start = Clock::now();
  auto t0 = start;
  for (int k = 0; k < n; ++k) {
    one();
    const auto t1 = Clock::now();
    each.push_back(std::chrono::duration<double>(t1 - t0).count());
    t0 = t1;
  }
  return std::chrono::duration<double>(t0 - start).count();
}

/// The q-quantile (0..1) of every timed call of every run, in microseconds.
double quantile_us(std::vector<double> each, double q) {
  if (each.empty()) return 0;
  auto at = each.begin() + static_cast<std::ptrdiff_t>(static_cast<double>(each.size() - 1) * q);
  std::nth_element(each.begin(), at, each.end());
  return *at * 1e6;
}

/// The median of every timed call of every run, in microseconds.
double median_us(std::vector<double>& each) {
  if (each.empty()) return 0;
  auto mid = each.begin() + static_cast<std::ptrdiff_t>(each.size() / 2);
  std::nth_element(each.begin(), mid, each.end());
  return *mid * 1e6;
}

void floor_round_trip(int reps) {
  // Forked before the pool or any thread exists.
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return;
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(sv[0]);
    char buf[64];
    while (::read(sv[1], buf, sizeof buf) > 0)
      if (::write(sv[1], buf, 24) != 24) break;
    ::_exit(0);
  }
  ::close(sv[1]);
  char buf[64] = {};
  auto bounce = [&] {
    if (::write(sv[0], buf, 40) != 40 || ::read(sv[0], buf, sizeof buf) <= 0) std::abort();
  };
  for (int i = 0; i < 500; ++i) bounce();
  const int n = 5000;
  std::vector<double> each;
  const double s = best_of(reps, [&] { return timed_each(n, each, bounce); });
  ::close(sv[0]);
  ::waitpid(child, nullptr, 0);
  std::printf("{\"workload\": \"floor\", \"tasks\": %d, \"us_per_task\": %.3f, \"median_us\": %.3f}\n",
              n, s / n * 1e6, median_us(each));
}

void print_round_trip(const char* workload, std::size_t workers, int n, double s,
                      std::vector<double>& each) {
  const double p99 = quantile_us(each, 0.99);
  std::printf("{\"workload\": \"%s\", \"workers\": %zu, \"tasks\": %d, \"us_per_task\": %.3f, "
              "\"median_us\": %.3f, \"p99_us\": %.3f}\n",
              workload, workers, n, s / n * 1e6, median_us(each), p99);
}

void round_trip(int reps, std::size_t workers, bool variants) {
  lanes::ProcessPoolExecutor pool(workers);
  for (int i = 0; i < 200; ++i) pool.submit(tiny, i).result();  // workers up and warm
  const int n = 5000;
  std::vector<double> each;
  int i = 0;
  auto one = [&] {
    if (pool.submit(tiny, i).result() != i) std::abort();
    ++i;
  };
  const double s = best_of(reps, [&] { return timed_each(n, each, one); });
  print_round_trip("round_trip", workers, n, s, each);
  if (!variants) return;

  // The same from a thread this program started (not the one that made the pool).
  std::vector<double> each_thread;
  double s_thread = 0;
  std::thread([&] { s_thread = best_of(reps, [&] { return timed_each(n, each_thread, one); }); }).join();
  print_round_trip("round_trip_thread", workers, n, s_thread, each_thread);

  // From a task on an event loop: co_await completes through the loop's wake-up.
  std::vector<double> each_loop;
  double s_loop = 1e300;
  for (int r = 0; r < reps; ++r) {
    auto task = [&]() -> lanes::Task<double> {
      const auto start = Clock::now();
      auto t0 = start;
      for (int k = 0; k < n; ++k) {
        if (co_await pool.submit(tiny, k) != k) std::abort();
        const auto t1 = Clock::now();
        each_loop.push_back(std::chrono::duration<double>(t1 - t0).count());
        t0 = t1;
      }
      co_return std::chrono::duration<double>(t0 - start).count();
    };
    s_loop = std::min(s_loop, lanes::run(task()));
  }
  print_round_trip("round_trip_loop", workers, n, s_loop, each_loop);
}

/// The first calls of fresh pools, the workers started beforehand (one call each) and
/// then left idle for 50 ms: what a program that calls now and then sees.
void round_trip_cold(int reps, std::size_t workers) {
  std::vector<double> each;
  const int n = 20;
  double total = 0;
  for (int r = 0; r < 5 * reps; ++r) {
    lanes::ProcessPoolExecutor pool(workers);
    std::vector<lanes::Future<int>> warm;
    for (std::size_t w = 0; w < workers; ++w) warm.push_back(pool.submit(tiny, 0));
    for (auto& f : warm) f.result();
    for (int k = 0; k < n; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(k == 0 ? 50 : 2));
      const auto t0 = Clock::now();
      if (pool.submit(tiny, k).result() != k) std::abort();
      each.push_back(seconds_since(t0));
      total += each.back();
    }
  }
  print_round_trip("round_trip_cold", workers, static_cast<int>(each.size()), total, each);
}

void map_throughput(int reps, std::size_t workers) {
  lanes::ProcessPoolExecutor pool(workers);
  for (int i = 0; i < 100; ++i) pool.submit(square, i).result();
  struct Case {
    std::size_t chunksize;  // 0: automatic
    int items;
  };
  const Case cases[] = {{1, 20000}, {10, 200000}, {100, 1000000}, {1000, 1000000},
                        {10000, 1000000}, {0, 1000000}};
  for (const Case& c : cases) {
    std::vector<int> inputs(static_cast<std::size_t>(c.items));
    std::iota(inputs.begin(), inputs.end(), 0);
    long long check = 0;
    const double s = best_of(reps, [&] {
      const auto t0 = Clock::now();
      long long sum = 0;
      for (int r : pool.map(square, inputs, std::nullopt, c.chunksize)) sum += r;
      check = sum;
      return seconds_since(t0);
    });
    if (check == 0) std::abort();
    std::printf("{\"workload\": \"map\", \"workers\": %zu, \"chunksize\": \"%s\", \"items\": %d, "
                "\"items_per_s\": %.0f}\n",
                workers, c.chunksize ? std::to_string(c.chunksize).c_str() : "auto", c.items,
                c.items / s);
  }
}

/// Wall-time speed-up, and the speed-up the CPU times allow: sequential CPU time over
/// the CPU time of the busiest worker (what the wall time would be on free cores,
/// dispatch gaps aside). On a shared machine the first falls with the load, the second
/// shows how evenly and cheaply the pool split the work.
void fib_speedup(int reps, std::size_t workers) {
  const int n = 36;  // ~30-60 ms per job (g++ -O3 makes fib fast)
  const int jobs = 16;
  long expect = 0;
  double seq_cpu = 1e300;
  const double sequential = best_of(reps, [&] {
    const auto t0 = Clock::now();
    const std::int64_t c0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
    long sum = 0;
    for (int i = 0; i < jobs; ++i) sum += fib(n);
    expect = sum;
    seq_cpu = std::min(seq_cpu, static_cast<double>(cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / 1e9);
    return seconds_since(t0);
  });
  lanes::ProcessPoolExecutor pool(workers);
  for (int r : pool.map(square, std::vector<int>(64, 1))) (void)r;  // workers up
  double busiest = 1e300;
  std::string split;  // jobs per worker in the run with the least busy worker
  const double parallel = best_of(reps, [&] {
    const auto t0 = Clock::now();
    long sum = 0;
    std::map<int, std::int64_t> per_worker;
    std::map<int, int> jobs_of;
    for (const auto& [r, pid, ns] : pool.map(fib_timed, std::vector<int>(jobs, n), std::nullopt, 1)) {
      sum += r;
      per_worker[pid] += ns;
      ++jobs_of[pid];
    }
    if (sum != expect) std::abort();
    std::int64_t most = 0;
    for (const auto& [pid, ns] : per_worker) most = std::max(most, ns);
    if (static_cast<double>(most) / 1e9 < busiest) {
      busiest = static_cast<double>(most) / 1e9;
      split.clear();
      for (const auto& [pid, count] : jobs_of) {
        if (!split.empty()) split += '/';
        split += std::to_string(count);
      }
    }
    return seconds_since(t0);
  });
  std::printf("{\"workload\": \"fib\", \"workers\": %zu, \"n\": %d, \"jobs\": %d, "
              "\"sequential_s\": %.4f, \"pool_s\": %.4f, \"speedup\": %.3f, "
              "\"sequential_cpu_s\": %.4f, \"busiest_worker_cpu_s\": %.4f, \"cpu_speedup\": %.3f, "
              "\"split\": \"%s\"}\n",
              workers, n, jobs, sequential, parallel, sequential / parallel, seq_cpu, busiest,
              seq_cpu / busiest, split.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 3;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
  }
  const std::size_t workers = std::max(1u, std::thread::hardware_concurrency());
  if (only.empty() || only == "round_trip") floor_round_trip(reps);
  // --only main: the round trip from main() alone (for perf stat / strace of it).
  if (only.empty() || only == "round_trip" || only == "main")
    round_trip(reps, workers, only != "main");
  if (only.empty() || only == "round_trip" || only == "cold") round_trip_cold(reps, workers);
  if (only.empty() || only == "map") map_throughput(reps, workers);
  if (only.empty() || only == "fib") fib_speedup(reps, workers);
  return 0;
}
