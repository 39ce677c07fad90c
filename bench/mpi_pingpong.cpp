// bench/mpi_pingpong.cpp — the floor for MPIPoolExecutor's round trip: raw MPI between
// rank 0 and rank 1 (MPI_Send / MPI_Recv of `bytes` bytes, there and back), in the same
// job shape (-n 3 or -n 5) as the pool. The other ranks wait without polling (an
// MPI_Ibarrier tested every millisecond), as idle pool workers do. One JSON line.
#include <mpi.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int bytes = 64;  // about a small call frame
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--bytes")) bytes = std::atoi(argv[i + 1]);
  std::vector<char> buf(static_cast<std::size_t>(bytes));
  constexpr int kWarm = 1000, kIters = 20000;
  if (rank <= 1 && size >= 2) {
    const int peer = 1 - rank;
    std::vector<double> us;
    us.reserve(kIters);
    for (int i = 0; i < kWarm + kIters; ++i) {
      timespec a{}, b{};
      clock_gettime(CLOCK_MONOTONIC, &a);
      if (rank == 0) {
        MPI_Send(buf.data(), bytes, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
        MPI_Recv(buf.data(), bytes, MPI_BYTE, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else {
        MPI_Recv(buf.data(), bytes, MPI_BYTE, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(buf.data(), bytes, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
      }
      clock_gettime(CLOCK_MONOTONIC, &b);
      if (i >= kWarm) us.push_back((b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3);
    }
    if (rank == 0) {
      std::sort(us.begin(), us.end());
      std::printf("{\"peer\": \"mpi-pingpong\", \"ranks\": %d, \"workload\": \"round_trip\", "
                  "\"bytes\": %d, \"median_us\": %.2f, \"p25_us\": %.2f, \"p75_us\": %.2f}\n",
                  size, bytes, us[us.size() / 2], us[us.size() / 4], us[us.size() * 3 / 4]);
    }
  }
  MPI_Request barrier;
  MPI_Ibarrier(MPI_COMM_WORLD, &barrier);
  for (int done = 0;;) {
    MPI_Test(&barrier, &done, MPI_STATUS_IGNORE);
    if (done) break;
    timespec ms{0, 1'000'000};
    nanosleep(&ms, nullptr);
  }
  MPI_Finalize();
  return 0;
}
