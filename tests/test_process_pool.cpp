// Tests for lanes/process_pool.hpp. The workers are re-executions of this test binary:
// lanes' start-up hook serves them before gtest's main ever runs.
#include "lanes/process_pool.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lanes/loop.hpp"
#include "lanes/task.hpp"

namespace {

#if defined(LANES_SANITIZED_THREAD)
constexpr int kScale = 5;  // TSan workers start slowly: fewer tasks
#elif defined(LANES_SANITIZED)
constexpr int kScale = 2;
#else
constexpr int kScale = 1;
#endif

// ---- the functions the workers run -------------------------------------------------------

int square(int x) { return x * x; }
LANES_REGISTER(square);

std::string greet(const std::string& name, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += "hello " + name + ";";
  return out;
}
LANES_REGISTER(greet);

int worker_pid() { return static_cast<int>(::getpid()); }
LANES_REGISTER(worker_pid);

void nothing() {}
LANES_REGISTER(nothing);

int add(int a, int b) { return a + b; }
LANES_REGISTER(add);

struct Stats {
  double mean = 0;
  std::vector<int> values;
  std::map<std::string, int> tags;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(mean, values, tags);
  }
};
Stats summarize(const std::vector<int>& values) {
  Stats s;
  s.values = values;
  s.mean = values.empty() ? 0 : std::accumulate(values.begin(), values.end(), 0.0) /
                                    static_cast<double>(values.size());
  s.tags["n"] = static_cast<int>(values.size());
  return s;
}
LANES_REGISTER(summarize);

int throws_out_of_range(int x) {
  if (x >= 0) throw std::out_of_range("index " + std::to_string(x) + " is past the end");
  return x;
}
LANES_REGISTER(throws_out_of_range);

int crash_segv(int) {
  std::raise(SIGSEGV);
  return 0;
}
LANES_REGISTER(crash_segv);

int crash_abort(int) { std::abort(); }
LANES_REGISTER(crash_abort);

int crash_exit(int code) { std::_Exit(code); }
LANES_REGISTER(crash_exit);

int kill_self(int) {
  ::kill(::getpid(), SIGKILL);
  return 0;
}
LANES_REGISTER(kill_self);

/// Every 10th input crashes its worker; the others return their square.
int crash_every_tenth(int x) {
  if (x % 10 == 9) std::_Exit(7);
  return x * x;
}
LANES_REGISTER(crash_every_tenth);

int sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
LANES_REGISTER(sleep_ms);

/// Sleeps until a file appears (the test's way to hold a task running).
int block_forever(int) {
  for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}
LANES_REGISTER(block_forever);

/// Writes garbage on the worker's own socket before answering: a malformed frame.
int send_garbage(int x) {
  const char junk[16] = {'X', 'Y', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  [[maybe_unused]] auto n = ::send(lanes::detail::current_worker_socket(), junk, sizeof junk,
                                   MSG_NOSIGNAL);
  return x;
}
LANES_REGISTER(send_garbage);

std::vector<char> echo_bytes(const std::vector<char>& in) { return in; }
LANES_REGISTER(echo_bytes);

std::size_t count_bytes(const std::vector<char>& in) { return in.size(); }
LANES_REGISTER(count_bytes);

std::vector<char> make_bytes(std::size_t n) { return std::vector<char>(n, 'q'); }
LANES_REGISTER(make_bytes);

int g_initialized = 0;
void init_worker(int value) { g_initialized = value; }
LANES_REGISTER(init_worker);
int read_initialized() { return g_initialized; }
LANES_REGISTER(read_initialized);

void failing_init() { throw std::runtime_error("no database here"); }
LANES_REGISTER(failing_init);

int not_registered(int x) { return x + 1; }

// ---- helpers --------------------------------------------------------------------------------

[[maybe_unused]] int count_open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;  // the directory's own descriptor
}

/// Children of this process, zombies included, from /proc/*/stat.
[[maybe_unused]] int count_children() {
  const pid_t self = ::getpid();
  int n = 0;
  DIR* d = ::opendir("/proc");
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == self) ++n;
  }
  ::closedir(d);
  return n;
}

class ProcessPoolWorkers : public ::testing::TestWithParam<std::size_t> {};

// ---- basics ---------------------------------------------------------------------------------

TEST_P(ProcessPoolWorkers, SubmitReturnsResults) {
  lanes::ProcessPoolExecutor pool(GetParam());
  std::vector<lanes::Future<int>> futures;
  for (int i = 0; i < 50; ++i) futures.push_back(pool.submit(square, i));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(futures[static_cast<std::size_t>(i)].result(), i * i);
  EXPECT_LE(pool.worker_pids().size(), GetParam());
}

TEST_P(ProcessPoolWorkers, MapKeepsInputOrder) {
  lanes::ProcessPoolExecutor pool(GetParam());
  std::vector<int> inputs(2000 / kScale);
  std::iota(inputs.begin(), inputs.end(), 0);
  std::vector<int> got;
  for (int r : pool.map(square, inputs)) got.push_back(r);
  ASSERT_EQ(got.size(), inputs.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], inputs[i] * inputs[i]);
}

INSTANTIATE_TEST_SUITE_P(Counts, ProcessPoolWorkers, ::testing::Values(1, 2, 4));

TEST(ProcessPool, RunsInOtherProcesses) {
  lanes::ProcessPoolExecutor pool(2);
  const int pid = pool.submit(worker_pid).result();
  EXPECT_NE(pid, static_cast<int>(::getpid()));
  const auto pids = pool.worker_pids();
  EXPECT_NE(std::find(pids.begin(), pids.end(), pid), pids.end());
}

TEST(ProcessPool, StringsStructsAndVoid) {
  lanes::ProcessPoolExecutor pool(2);
  EXPECT_EQ(pool.submit(greet, "ann", 2).result(), "hello ann;hello ann;");
  const Stats s = pool.submit(summarize, std::vector<int>{1, 2, 3, 6}).result();
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_EQ(s.values, (std::vector<int>{1, 2, 3, 6}));
  EXPECT_EQ(s.tags.at("n"), 4);
  lanes::Future<void> v = pool.submit(nothing);
  v.result();
  EXPECT_TRUE(v.done());
}

TEST(ProcessPool, MapWithSeveralParametersTakesTuples) {
  lanes::ProcessPoolExecutor pool(2);
  std::vector<std::tuple<int, int>> pairs{{1, 2}, {3, 4}, {5, 6}};
  std::vector<int> got;
  for (int r : pool.map(add, pairs)) got.push_back(r);
  EXPECT_EQ(got, (std::vector<int>{3, 7, 11}));
}

TEST(ProcessPool, MapWithExplicitChunkSize) {
  lanes::ProcessPoolExecutor pool(2);
  std::vector<int> inputs(101);
  std::iota(inputs.begin(), inputs.end(), 0);
  auto results = pool.map(square, inputs, std::nullopt, 7);
  EXPECT_EQ(results.size(), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) EXPECT_EQ(results.at(i), inputs[i] * inputs[i]);
}

TEST(ProcessPool, AwaitedInAnEventLoop) {
  lanes::ProcessPoolExecutor pool(2);
  auto main_task = [&]() -> lanes::Task<int> {
    int total = 0;
    for (int i = 1; i <= 5; ++i) total += co_await pool.submit(square, i);
    co_return total;
  };
  EXPECT_EQ(lanes::run(main_task()), 1 + 4 + 9 + 16 + 25);
}

// ---- errors ---------------------------------------------------------------------------------

TEST(ProcessPool, RemoteExceptionCarriesTypeAndMessage) {
  lanes::ProcessPoolExecutor pool(1);
  auto f = pool.submit(throws_out_of_range, 5);
  try {
    f.result();
    FAIL() << "no error";
  } catch (const lanes::RemoteError& e) {
    EXPECT_EQ(e.type_name(), "std::out_of_range");
    EXPECT_EQ(e.message(), "index 5 is past the end");
    EXPECT_NE(std::string(e.what()).find("throws_out_of_range"), std::string::npos) << e.what();
  }
  EXPECT_EQ(pool.submit(throws_out_of_range, -3).result(), -3);  // the worker lives on
}

TEST(ProcessPool, UnregisteredFunctionIsNamed) {
  lanes::ProcessPoolExecutor pool(1);
  try {
    pool.submit(not_registered, 1);
    FAIL() << "an unregistered function was accepted";
  } catch (const lanes::UnregisteredFunctionError& e) {
    EXPECT_NE(std::string(e.what()).find("not_registered"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("LANES_REGISTER"), std::string::npos) << e.what();
  }
  std::vector<int> xs{1, 2};
  EXPECT_THROW(pool.map(not_registered, xs), lanes::UnregisteredFunctionError);
}

TEST(ProcessPool, SubmitAfterShutdownThrows) {
  lanes::ProcessPoolExecutor pool(1);
  EXPECT_EQ(pool.submit(square, 3).result(), 9);
  pool.shutdown();
  EXPECT_THROW(pool.submit(square, 3), lanes::RuntimeError);
  pool.shutdown();  // idempotent
}

}  // namespace
