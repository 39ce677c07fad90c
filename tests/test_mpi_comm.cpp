// MPICommExecutor inside a program that runs MPI itself (ctest: mpirun -n 3 and -n 5).
// Every rank constructs the executor; the root gets the pool and runs the tests, the
// others serve inside the constructor and come back when the root shuts it down. Two
// executors in a row with different roots, then on a split communicator.
#include <gtest/gtest.h>
#include <lanes/mpi.hpp>

#include <chrono>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

namespace {
using namespace std::chrono_literals;
constexpr auto kWait = 120s;
MPI_Comm g_comm = MPI_COMM_NULL;  // the communicator of the executor under test
int g_root = 0;

int rank_in(MPI_Comm c) {
  int r = -1;
  MPI_Comm_rank(c, &r);
  return r;
}
}  // namespace

int world_rank_of_worker(int) { return rank_in(MPI_COMM_WORLD); }
LANES_REGISTER(world_rank_of_worker);
long long triangle(int n) { return static_cast<long long>(n) * (n + 1) / 2; }
LANES_REGISTER(triangle);

lanes::MPIPoolExecutor* g_pool = nullptr;

TEST(MPIComm, SubmitAndMapAtTheRoot) {
  ASSERT_NE(g_pool, nullptr);
  int size = 0;
  MPI_Comm_size(g_comm, &size);
  EXPECT_EQ(g_pool->max_workers(), static_cast<std::size_t>(size - 1));
  std::vector<lanes::Future<int>> fs;
  for (int i = 0; i < 30; ++i) fs.push_back(g_pool->submit(world_rank_of_worker, i));
  const int me = rank_in(MPI_COMM_WORLD);
  for (auto& f : fs) EXPECT_NE(f.result(kWait), me);  // never the root itself
  std::vector<int> in(1000);
  std::iota(in.begin(), in.end(), 0);
  int i = 0;
  for (long long v : g_pool->map(triangle, in, kWait)) {
    EXPECT_EQ(v, triangle(i));
    ++i;
  }
  EXPECT_EQ(i, 1000);
}

TEST(MPIComm, BadArgumentsAreRefused) {
  EXPECT_THROW(lanes::MPICommExecutor(MPI_COMM_NULL, 0), lanes::ValueError);
  EXPECT_THROW(lanes::MPICommExecutor(MPI_COMM_SELF, 0), lanes::ValueError);  // one rank
}

/// Runs the tests at the root of an executor on `comm`; returns their status there, 0 elsewhere.
int run_with(MPI_Comm comm, int root, int& argc, char** argv) {
  lanes::MPICommExecutor mpi(comm, root);
  if (lanes::MPIPoolExecutor* pool = mpi.executor()) {
    g_pool = pool;
    g_comm = comm;
    g_root = root;
    const int status = RUN_ALL_TESTS();
    g_pool = nullptr;
    return status;
  }
  (void)argc;
  (void)argv;
  return 0;
}

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  ::testing::InitGoogleTest(&argc, argv);
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int status = run_with(MPI_COMM_WORLD, 0, argc, argv);
  status |= run_with(MPI_COMM_WORLD, size - 1, argc, argv);  // another root
  // The upper half of the ranks, by themselves (only when there are at least 2 of them).
  MPI_Comm half;
  const int me = rank_in(MPI_COMM_WORLD);
  MPI_Comm_split(MPI_COMM_WORLD, me >= size / 2 ? 1 : 0, me, &half);
  int half_size = 0;
  MPI_Comm_size(half, &half_size);
  if (me >= size / 2 && half_size >= 2) status |= run_with(half, 0, argc, argv);
  MPI_Comm_free(&half);
  // The program's own collectives still work after the executors.
  int total = 0;
  MPI_Allreduce(&status, &total, 1, MPI_INT, MPI_BOR, MPI_COMM_WORLD);
  MPI_Finalize();
  return total;
}
