// bench/mpi_pool_bench.cpp — MPIPoolExecutor and ProcessPoolExecutor on the same
// workloads, one JSON line per result (bench/mpi.sh runs it, bench/mpi_report.py renders):
//   mpirun -n N mpi_pool_bench --pool mpi        rank 0 drives N-1 worker ranks
//   mpi_pool_bench --pool processes --workers W  lanes' process pool, W workers, no MPI
// Workloads (the same in bench/peers/mpi4py_pool.py):
//   round_trip   submit(square, i).result(), one at a time: median and quartiles, µs
//   map          map(square, 0..n) by chunk size (0 = automatic): tasks per second
//   dispatch     100k separate submit() futures, then all results: tasks per second,
//                i.e. how many calls rank 0 can hand out and take back (one frame each)
//   idle_cpu     CPU seconds the root and the workers use over 2 s with nothing to do
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "lanes/mpi.hpp"

int square(int x) { return x * x; }
LANES_REGISTER(square);

double process_cpu_seconds(int) {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
/// (pid, CPU seconds so far) of the worker that runs it.
std::pair<long, double> worker_cpu_seconds(int) { return {static_cast<long>(::getpid()), process_cpu_seconds(0)}; }
LANES_REGISTER(worker_cpu_seconds);

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

template <class Pool>
void run(Pool& pool, const char* peer, std::size_t workers, int reps) {
  const std::size_t ranks = workers + 1;
  // round trip
  for (int i = 0; i < 200; ++i) pool.submit(square, i).result();
  std::vector<double> us;
  for (int i = 0; i < 3000; ++i) {
    const auto t = Clock::now();
    pool.submit(square, i).result();
    us.push_back(since(t) * 1e6);
  }
  std::sort(us.begin(), us.end());
  std::printf("{\"peer\": \"%s\", \"ranks\": %zu, \"workload\": \"round_trip\", \"median_us\": %.2f, "
              "\"p25_us\": %.2f, \"p75_us\": %.2f}\n",
              peer, ranks, us[us.size() / 2], us[us.size() / 4], us[us.size() * 3 / 4]);
  // map by chunk size
  for (std::size_t chunk : {std::size_t{1}, std::size_t{10}, std::size_t{100}, std::size_t{1000},
                            std::size_t{0}}) {
    const int n = chunk == 1 ? 50'000 : chunk == 10 ? 500'000 : 4'000'000;
    std::vector<int> in(static_cast<std::size_t>(n));
    std::iota(in.begin(), in.end(), 0);
    double best = 0;
    for (int r = 0; r < reps; ++r) {
      const auto t = Clock::now();
      long long sum = 0;
      for (int v : pool.map(square, in, std::nullopt, chunk)) sum += v;
      const double s = since(t);
      if (sum < 0) std::abort();
      best = std::max(best, n / s);
    }
    std::printf("{\"peer\": \"%s\", \"ranks\": %zu, \"workload\": \"map\", \"chunksize\": %zu, "
                "\"tasks_per_s\": %.0f}\n",
                peer, ranks, chunk, best);
  }
  // dispatch: separate futures
  {
    constexpr int n = 100'000;
    double best = 0;
    for (int r = 0; r < reps; ++r) {
      std::vector<lanes::Future<int>> fs;
      fs.reserve(n);
      const auto t = Clock::now();
      for (int i = 0; i < n; ++i) fs.push_back(pool.submit(square, i & 1023));
      for (auto& f : fs) f.result();
      best = std::max(best, n / since(t));
    }
    std::printf("{\"peer\": \"%s\", \"ranks\": %zu, \"workload\": \"dispatch\", \"tasks_per_s\": %.0f}\n",
                peer, ranks, best);
  }
  // idle CPU: the root process, and every worker (asked before and after)
  {
    // Each worker's CPU time, asked of every worker (several calls each, kept per pid);
    // the idle cost is the growth, summed over the workers seen both times.
    auto worker_cpu = [&] {
      std::map<long, double> seen;
      std::vector<lanes::Future<std::pair<long, double>>> fs;
      for (std::size_t i = 0; i < workers * 16; ++i) fs.push_back(pool.submit(worker_cpu_seconds, 0));
      for (auto& f : fs) {
        auto [pid, cpu] = f.result();
        seen[pid] = std::max(seen[pid], cpu);
      }
      return seen;
    };
    const auto w0 = worker_cpu();
    const double r0 = process_cpu_seconds(0);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const double r1 = process_cpu_seconds(0);
    const auto w1 = worker_cpu();
    double grown = 0;
    std::size_t both = 0;
    for (const auto& [pid, cpu] : w1) {
      auto it = w0.find(pid);
      if (it == w0.end()) continue;
      grown += cpu - it->second;
      ++both;
    }
    std::printf("{\"peer\": \"%s\", \"ranks\": %zu, \"workload\": \"idle_cpu\", \"seconds\": 2, "
                "\"root_cpu_s\": %.4f, \"workers_cpu_s\": %.4f, \"workers_seen\": %zu}\n",
                peer, ranks, r1 - r0, grown, both);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string pool = "mpi";
  std::size_t workers = 2;
  int reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--pool")) pool = argv[i + 1];
    else if (!std::strcmp(argv[i], "--workers")) workers = std::strtoul(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
  }
  if (pool == "mpi") {
    lanes::mpi_init(argc, argv);  // ranks other than 0 serve from here
    lanes::MPIPoolExecutor p;
    run(p, "lanes-mpi", p.max_workers(), reps);
  } else {
    lanes::ProcessPoolExecutor p(workers);
    run(p, "lanes-processes", workers, reps);
  }
  std::fflush(stdout);
  return 0;
}
