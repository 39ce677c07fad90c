// Monte Carlo π on MPI ranks: examples/pi_processes.cpp with the executor changed.
//     mpirun -n 4 build/rel/examples/mpi_pi
// (with --oversubscribe for more ranks than cores, --allow-run-as-root as root). Rank 0
// runs main; the pool's constructor turns ranks 1..N-1 into workers: they never get past
// that line. Started without mpirun (one rank), it says so and exits with status 1.
#include <lanes/mpi.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <tuple>
#include <vector>

// Darts from one seed (a xorshift generator: each call is independent of the others).
long hits(std::uint64_t seed, long darts) {
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  long inside = 0;
  for (long i = 0; i < darts; ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    const double x = static_cast<double>(s >> 11) * 0x1.0p-53;
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    const double y = static_cast<double>(s >> 11) * 0x1.0p-53;
    inside += x * x + y * y <= 1.0;
  }
  return inside;
}
LANES_REGISTER(hits);

int main() try {
  lanes::MPIPoolExecutor pool;  // ranks 1..N-1 serve from here; rank 0 goes on
  constexpr int kJobs = 64;
  constexpr long kDarts = 1'000'000;
  std::vector<std::tuple<std::uint64_t, long>> jobs;
  for (int i = 0; i < kJobs; ++i) jobs.emplace_back(i, kDarts);
  const auto t0 = std::chrono::steady_clock::now();
  long inside = 0;
  for (long h : pool.map(hits, jobs)) inside += h;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("pi ~ %.6f from %ld darts on %zu workers in %.3f s\n",
              4.0 * static_cast<double>(inside) / (kJobs * kDarts), kJobs * kDarts,
              pool.max_workers(), s);
  return 0;
} catch (const lanes::Error& e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
