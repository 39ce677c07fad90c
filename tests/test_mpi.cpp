// MPIPoolExecutor under `mpirun -n N` (ctest runs it with N = 3 and N = 5): rank 0 runs
// the tests, the other ranks serve inside lanes::mpi_init. Every wait is bounded.
//
// Also the program the rank-death test starts (test_mpi_abort.cpp): with
// --lanes-test-die=<how> rank 0 submits a call that kills its worker rank.
#include <gtest/gtest.h>
#include <lanes/combinators.hpp>
#include <lanes/mpi.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
constexpr auto kWait = 120s;  // no single result should take near this long

int world_rank() {
  int r = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int n = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

}  // namespace

int square(int x) { return x * x; }
LANES_REGISTER(square);
int my_rank(int) { return world_rank(); }
LANES_REGISTER(my_rank);
int add(int a, int b) { return a + b; }
LANES_REGISTER(add);
int sleep_then(int ms, int value) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return value;
}
LANES_REGISTER(sleep_then);
int throws_out_of_range(int x) {
  if (x == 7) throw std::out_of_range("seven is out of range here");
  return x;
}
LANES_REGISTER(throws_out_of_range);
std::string reverse_bytes(const std::string& s) { return std::string(s.rbegin(), s.rend()); }
LANES_REGISTER(reverse_bytes);
int g_initialized = 0;  // set by the initializer in each worker rank
void init_worker(int v) { g_initialized = v; }
LANES_REGISTER(init_worker);
int read_initialized(int) { return g_initialized; }
LANES_REGISTER(read_initialized);
void failing_init(int) { throw std::runtime_error("the initializer refuses"); }
LANES_REGISTER(failing_init);
int die(int how) {
  if (how == 0) std::abort();
  if (how == 1) std::raise(SIGKILL);
  std::exit(5);
}
LANES_REGISTER(die);
int not_registered(int x) { return x; }
double cpu_seconds(int) {  // this process's CPU time so far
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
LANES_REGISTER(cpu_seconds);

TEST(MPIPool, SubmitReturnsResultsFromOtherRanks) {
  lanes::MPIPoolExecutor pool;
  EXPECT_EQ(pool.max_workers(), static_cast<std::size_t>(world_size() - 1));
  EXPECT_EQ(pool.submit(square, 12).result(kWait), 144);
  EXPECT_EQ(pool.submit(add, 2, 40).result(kWait), 42);
  std::vector<lanes::Future<int>> ranks;
  for (int i = 0; i < 40; ++i) ranks.push_back(pool.submit(sleep_then, 5, 0));
  for (auto& f : ranks) EXPECT_EQ(f.result(kWait), 0);
  const int r = pool.submit(my_rank, 0).result(kWait);
  EXPECT_GE(r, 1);
  EXPECT_LT(r, world_size());
}

TEST(MPIPool, SeveralWorkerCounts) {
  for (std::size_t workers = 1; workers < static_cast<std::size_t>(world_size()); ++workers) {
    lanes::MPIPoolExecutor pool(workers);
    EXPECT_EQ(pool.max_workers(), workers);
    std::vector<int> in(500);
    std::iota(in.begin(), in.end(), 0);
    std::vector<int> got;
    for (int v : pool.map(square, in, kWait)) got.push_back(v);
    ASSERT_EQ(got.size(), in.size());
    for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(got[i], in[i] * in[i]);
    std::vector<lanes::Future<int>> fs;
    for (int i = 0; i < 50; ++i) fs.push_back(pool.submit(my_rank, i));
    for (auto& f : fs) EXPECT_LE(f.result(kWait), static_cast<int>(workers));  // ranks 1..workers
  }
}

TEST(MPIPool, MapKeepsInputOrderWhateverTheChunkSize) {
  lanes::MPIPoolExecutor pool;
  // Early inputs sleep longest, so they finish last: order must come from the map.
  std::vector<std::tuple<int, int>> in;
  for (int i = 0; i < 60; ++i) in.emplace_back((60 - i) / 6, i);
  for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{100}}) {
    std::vector<int> got;
    for (int v : pool.map(sleep_then, in, kWait, chunk)) got.push_back(v);
    ASSERT_EQ(got.size(), in.size()) << "chunksize " << chunk;
    for (int i = 0; i < 60; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i) << "chunksize " << chunk;
  }
}

TEST(MPIPool, AsCompletedAndWait) {
  lanes::MPIPoolExecutor pool;
  std::vector<lanes::Future<int>> fs;
  for (int i = 0; i < 8; ++i) fs.push_back(pool.submit(square, i));
  auto done = lanes::wait(fs, kWait).result();
  EXPECT_EQ(done.done.size(), 8u);
  EXPECT_TRUE(done.pending.empty());
  std::vector<lanes::Future<int>> more{pool.submit(sleep_then, 400, 1), pool.submit(square, 3)};
  std::vector<int> order;
  for (auto f : lanes::as_completed(more, kWait)) order.push_back(f.result());
  EXPECT_EQ(order, (std::vector<int>{9, 1}));  // the quick one first: out of order
}

TEST(MPIPool, RemoteExceptionCarriesTypeAndMessage) {
  lanes::MPIPoolExecutor pool;
  try {
    pool.submit(throws_out_of_range, 7).result(kWait);
    FAIL() << "no exception";
  } catch (const lanes::RemoteError& e) {
    EXPECT_EQ(e.type_name(), "std::out_of_range");
    EXPECT_EQ(e.message(), "seven is out of range here");
  }
  EXPECT_EQ(pool.submit(throws_out_of_range, 6).result(kWait), 6);  // the rank is fine
  std::vector<int> in(20);
  std::iota(in.begin(), in.end(), 0);
  std::vector<int> got;
  EXPECT_THROW(
      {
        for (int v : pool.map(throws_out_of_range, in, kWait, 3)) got.push_back(v);
      },
      lanes::RemoteError);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4, 5}));  // the chunk before 7's
}

TEST(MPIPool, UnregisteredFunctionIsRefusedAtSubmit) {
  lanes::MPIPoolExecutor pool;
  EXPECT_THROW(pool.submit(not_registered, 1), lanes::UnregisteredFunctionError);
}

TEST(MPIPool, ShutdownWithPendingWork) {
  {
    lanes::MPIPoolExecutor pool;
    std::vector<lanes::Future<int>> fs;
    for (int i = 0; i < 40; ++i) fs.push_back(pool.submit(sleep_then, 20, i));
    pool.shutdown(true, true);  // queued ones are cancelled, the ones sent finish
    std::size_t cancelled = 0;
    for (std::size_t i = 0; i < fs.size(); ++i) {
      ASSERT_TRUE(fs[i].done());
      if (fs[i].cancelled())
        ++cancelled;
      else
        EXPECT_EQ(fs[i].result(), static_cast<int>(i));
    }
    EXPECT_GT(cancelled, 0u);
    EXPECT_THROW(pool.submit(square, 1), lanes::RuntimeError);
  }
  {
    lanes::MPIPoolExecutor pool;
    std::vector<lanes::Future<int>> fs;
    for (int i = 0; i < 30; ++i) fs.push_back(pool.submit(sleep_then, 5, i));
    pool.shutdown(false);  // returns at once; the work still completes
    for (std::size_t i = 0; i < fs.size(); ++i) EXPECT_EQ(fs[i].result(kWait), static_cast<int>(i));
  }
  // The ranks serve the next pool; a second pool at the same time is refused.
  lanes::MPIPoolExecutor pool;
  EXPECT_THROW(lanes::MPIPoolExecutor second, lanes::RuntimeError);
  EXPECT_EQ(pool.submit(square, 5).result(kWait), 25);
}

TEST(MPIPool, HundredThousandSmallTasks) {
  lanes::MPIPoolExecutor pool;
  constexpr int n = 100'000;
  std::vector<lanes::Future<int>> fs;
  fs.reserve(n);
  for (int i = 0; i < n; ++i) fs.push_back(pool.submit(square, i % 1000));
  long long sum = 0;
  for (auto& f : fs) sum += f.result(kWait);
  long long want = 0;
  for (int i = 0; i < n; ++i) want += static_cast<long long>(i % 1000) * (i % 1000);
  EXPECT_EQ(sum, want);
  std::vector<int> in(n);
  std::iota(in.begin(), in.end(), 0);
  long long msum = 0;
  int i = 0;
  for (int v : pool.map(add, [&] {
         std::vector<std::tuple<int, int>> t;
         for (int x : in) t.emplace_back(x, 1);
         return t;
       }(), kWait)) {
    EXPECT_EQ(v, i + 1);
    msum += v;
    ++i;
  }
  EXPECT_EQ(i, n);
  EXPECT_EQ(msum, static_cast<long long>(n) * (n + 1) / 2);
}

TEST(MPIPool, HundredMegabyteArgumentAndResult) {
  lanes::MPIPoolExecutor pool;
  std::string big(100u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 20));
  std::string back = pool.submit(reverse_bytes, big).result(kWait);
  ASSERT_EQ(back.size(), big.size());
  EXPECT_TRUE(std::equal(big.begin(), big.end(), back.rbegin()));
}

TEST(MPIPool, MapOfMixedSizesKeepsEveryByte) {
  // Frames of several map units, some of 64 KiB or more (sent where they lie), some small
  // (gathered): the worker must reassemble them in order.
  lanes::MPIPoolExecutor pool;
  std::vector<std::string> in;
  for (int i = 0; i < 3000; ++i)
    in.push_back(std::string(i % 7 == 0 ? 70'000 + i : 1 + i % 13, static_cast<char>('a' + i % 26)));
  for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{5}}) {
    std::size_t i = 0;
    for (const std::string& v : pool.map(reverse_bytes, in, kWait, chunk)) {
      ASSERT_EQ(v, std::string(in[i].rbegin(), in[i].rend())) << "item " << i << ", chunksize " << chunk;
      ++i;
    }
    EXPECT_EQ(i, in.size());
  }
}

TEST(MPIPool, InitializerRunsOnEveryRank) {
  lanes::MPIPoolOptions o;
  o.initializer = lanes::remote_call(init_worker, 77);
  lanes::MPIPoolExecutor pool(o);
  std::vector<lanes::Future<int>> fs;
  for (int i = 0; i < 20; ++i) fs.push_back(pool.submit(read_initialized, i));
  for (auto& f : fs) EXPECT_EQ(f.result(kWait), 77);
}

TEST(MPIPool, FailingInitializerBreaksThePool) {
  lanes::MPIPoolOptions o;
  o.initializer = lanes::remote_call(failing_init, 1);
  lanes::MPIPoolExecutor pool(o);
  try {
    auto f = pool.submit(square, 2);  // queued until the initializers answer, then failed
    EXPECT_THROW(f.result(kWait), lanes::BrokenExecutor);
  } catch (const lanes::BrokenExecutor&) {
    // or refused at once, if the initializers had already failed
  }
  EXPECT_THROW(pool.submit(square, 3), lanes::BrokenExecutor);
}

TEST(MPIPool, TaskTimeoutFailsTheFutureAndTheRankGoesOn) {
  lanes::MPIPoolExecutor pool(1);
  auto slow = pool.submit_with_timeout(50ms, sleep_then, 1500, 1);
  EXPECT_THROW(slow.result(kWait), lanes::TimeoutError);
  EXPECT_EQ(pool.submit(square, 4).result(kWait), 16);  // after the slow call finished
}

TEST(MPIPool, BadOptionsAreRefused) {
  EXPECT_THROW(lanes::MPIPoolExecutor(std::size_t{0}), lanes::ValueError);
  lanes::MPIPoolOptions o;
  o.in_flight_per_worker = 0;
  EXPECT_THROW(lanes::MPIPoolExecutor{o}, lanes::ValueError);
}

TEST(MPIPool, AnIdlePoolUsesAlmostNoCpu) {
  lanes::MPIPoolExecutor pool(1);  // rank 1 only, so that every call below reaches it
  const double worker_before = pool.submit(cpu_seconds, 0).result(kWait);
  const double root_before = cpu_seconds(0);
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(1s);  // measuring the idle pool over a second, not syncing
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double root = cpu_seconds(0) - root_before;
  const double worker = pool.submit(cpu_seconds, 0).result(kWait) - worker_before;
  // Generous bounds (a shared machine): a polling loop that never slept would use ~100%.
  EXPECT_LT(root, 0.25 * wall) << "rank 0 used " << root << " s of CPU in " << wall << " s idle";
  EXPECT_LT(worker, 0.25 * wall) << "rank 1 used " << worker << " s of CPU in " << wall << " s idle";
}

int main(int argc, char** argv) {
  lanes::mpi_init(argc, argv);  // ranks other than 0 serve here and exit
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--lanes-test-die=", 17) == 0) {
      lanes::MPIPoolExecutor pool;
      std::vector<lanes::Future<int>> fs;
      for (int k = 0; k < 4; ++k) fs.push_back(pool.submit(sleep_then, 100, k));
      auto f = pool.submit(die, std::atoi(argv[i] + 17));
      f.result();  // never returns: mpirun ends the job
      return 0;
    }
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
