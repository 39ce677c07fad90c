// Tests for lanes/process_pool.hpp. The workers are re-executions of this test binary:
// lanes' start-up hook serves them before gtest's main ever runs.
#include "lanes/process_pool.hpp"

#include <dirent.h>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lanes/combinators.hpp"
#include "lanes/detail/process/process_registry.hpp"
#include "lanes/detail/process/wire_frame.hpp"
#include "lanes/loop.hpp"
#include "lanes/task.hpp"
#include "pool_test_support.hpp"
#include "process_test_jobs.hpp"

namespace {

using lanes_test::expect_contains;
using lanes_test::kScale;
using lanes_test::wait_until;
using lanes_test::what_of;

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

void print_line(const std::string& text) { std::printf("%s\n", text.c_str()); }
LANES_REGISTER(print_line);

int not_registered(int x) { return x + 1; }

// ---- helpers --------------------------------------------------------------------------------

int count_open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;  // the directory's own descriptor
}

/// Children of this process, zombies included, from /proc/*/stat.
int count_children() {
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

class ProcessPoolWorkers : public lanes_test::WorkerCountTest {};

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

TEST_P(ProcessPoolWorkers, ManyThreadsSubmitAtOnce) {
  lanes::ProcessPoolExecutor pool(GetParam());
  constexpr int kThreads = 4;
  const int per_thread = 200 / kScale;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<lanes::Future<int>> fs;
      for (int i = 0; i < per_thread; ++i) fs.push_back(pool.submit(add, t, i));
      for (int i = 0; i < per_thread; ++i)
        if (fs[static_cast<std::size_t>(i)].result() != t + i) ++wrong;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_P(ProcessPoolWorkers, MapOfNothingIsEmpty) {
  lanes::ProcessPoolExecutor pool(GetParam());
  auto results = pool.map(square, std::vector<int>{});
  EXPECT_EQ(results.size(), 0u);
  EXPECT_EQ(results.begin(), results.end());
}

INSTANTIATE_TEST_SUITE_P(Counts, ProcessPoolWorkers, ::testing::Values(1, 2, 4),
                         lanes_test::worker_count_name);

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

int throws_at_two(int x) {
  if (x == 2) throw std::out_of_range("two");
  return x;
}
LANES_REGISTER(throws_at_two);

TEST(ProcessPool, MapFailureFailsItsWholeChunk) {
  // Python's process pool: a call that raises fails its chunk, results before it too.
  lanes::ProcessPoolExecutor pool(2);
  auto results = pool.map(throws_at_two, std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}, std::nullopt, 4);
  for (std::size_t i = 0; i < 4; ++i)
    expect_contains(what_of<lanes::RemoteError>([&] { (void)results.at(i); }), {"two"});
  for (std::size_t i = 4; i < 8; ++i) EXPECT_EQ(results.at(i), static_cast<int>(i));
}

TEST(ProcessPool, MapTimeoutThrowsWhileIterating) {
  lanes::ProcessPoolExecutor pool(1);
  EXPECT_EQ(pool.submit(square, 2).result(), 4);  // the worker is up
  auto results = pool.map(sleep_ms, std::vector<int>{0, 60000}, std::chrono::seconds(2), 1);
  EXPECT_EQ(results.at(0), 0);
  EXPECT_THROW(results.at(1), lanes::TimeoutError);
}  // destroying the results cancels the running chunk: its worker is killed

TEST(ProcessPool, AwaitedInAnEventLoop) {
  lanes::ProcessPoolExecutor pool(2);
  auto main_task = [&]() -> lanes::Task<int> {
    int total = 0;
    for (int i = 1; i <= 5; ++i) total += co_await pool.submit(square, i);
    co_return total;
  };
  EXPECT_EQ(lanes::run(main_task()), 1 + 4 + 9 + 16 + 25);
}

TEST(ProcessPool, GatherInAnEventLoop) {
  lanes::ProcessPoolExecutor pool(2);
  auto main_task = [&]() -> lanes::Task<int> {
    std::vector<lanes::Future<int>> fs;
    for (int i = 0; i < 8; ++i) fs.push_back(pool.submit(square, i));
    const std::vector<int> all = co_await lanes::gather(fs);
    co_return std::accumulate(all.begin(), all.end(), 0);
  };
  EXPECT_EQ(lanes::run(main_task()), 0 + 1 + 4 + 9 + 16 + 25 + 36 + 49);
}

TEST(ProcessPool, WaitAndAsCompletedFromAPlainThread) {
  lanes::ProcessPoolExecutor pool(2);
  std::vector<lanes::Future<int>> fs;
  for (int i = 0; i < 6; ++i) fs.push_back(pool.submit(square, i));
  auto done = lanes::wait(fs).result();
  EXPECT_EQ(done.done.size(), 6u);
  EXPECT_TRUE(done.pending.empty());
  std::vector<lanes::Future<int>> more{pool.submit(sleep_ms, 150), pool.submit(square, 3)};
  int seen = 0;
  int first = -1;
  for (auto f : lanes::as_completed(more)) {
    if (first < 0) first = f.result();
    ++seen;
  }
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(first, 9);  // the quick one first
}

TEST(ProcessPool, WaitForCancelsTheRunningTaskAndKillsItsWorker) {
  lanes::ProcessPoolExecutor pool(1);
  lanes::Future<int> slow = pool.submit(block_forever, 0);
  auto main_task = [&]() -> lanes::Task<bool> {
    try {
      co_await lanes::wait_for(slow, std::chrono::milliseconds(100));
    } catch (const lanes::TimeoutError&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(lanes::run(main_task()));
  EXPECT_TRUE(slow.cancelled());
  EXPECT_EQ(pool.submit(square, 12).result(), 144);
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
  expect_contains(what_of<lanes::UnregisteredFunctionError>([&] { pool.submit(not_registered, 1); }),
                  {"not_registered", "LANES_REGISTER"});
  std::vector<int> xs{1, 2};
  EXPECT_THROW(pool.map(not_registered, xs), lanes::UnregisteredFunctionError);
}

#if defined(LANES_TEST_PLUGIN)
// tests/plugins/registered_plugin.cpp, built as a loadable module: it registers
// lanes_plugin_triple, which a worker (a fresh exec of this program) never has.
using PluginFunction = int (*)(int);

TEST(ProcessPoolRegistry, AFunctionOfADlopenedLibraryIsRefusedWithTheReason) {
  void* library = ::dlopen(LANES_TEST_PLUGIN, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(library, nullptr) << ::dlerror();
  auto fn = reinterpret_cast<PluginFunction>(::dlsym(library, "lanes_plugin_triple"));
  ASSERT_NE(fn, nullptr) << ::dlerror();
  EXPECT_EQ(fn(2), 6);
  {
    lanes::ProcessPoolExecutor pool(1);
    const std::string what =
        what_of<lanes::UnregisteredFunctionError>([&] { pool.submit(fn, 2).result(); });
    expect_contains(what, {"lanes_plugin_triple", "dlopen", LANES_TEST_PLUGIN});
    EXPECT_EQ(what.find("add LANES_REGISTER"), std::string::npos) << what;
    EXPECT_EQ(pool.submit(square, 3).result(), 9);  // the pool goes on
  }
  ASSERT_EQ(::dlclose(library), 0) << ::dlerror();
}

TEST(ProcessPoolRegistry, UnloadingAndLoadingALibraryAgainKeepsTheRegistrySound) {
  for (int round = 0; round < 3; ++round) {
    void* library = ::dlopen(LANES_TEST_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library, nullptr) << ::dlerror();
    const auto* entry = lanes::detail::find_remote("lanes_plugin_triple");
    ASSERT_NE(entry, nullptr) << "round " << round;
    auto fn = reinterpret_cast<lanes::detail::AnyFunction>(::dlsym(library, "lanes_plugin_triple"));
    EXPECT_EQ(lanes::detail::find_remote(fn), entry);
    EXPECT_NE(lanes::detail::library_of(entry).find("lanes_test_plugin"), std::string::npos);
    ASSERT_EQ(::dlclose(library), 0) << ::dlerror();
    // Really unloaded (so a stale pointer would point at nothing), and forgotten.
    EXPECT_EQ(::dlopen(LANES_TEST_PLUGIN, RTLD_NOW | RTLD_NOLOAD), nullptr);
    EXPECT_EQ(lanes::detail::find_remote("lanes_plugin_triple"), nullptr) << "round " << round;
  }
  // The program's own entries are untouched.
  EXPECT_NE(lanes::detail::find_remote("square"), nullptr);
  EXPECT_TRUE(lanes::detail::library_of(lanes::detail::find_remote("square")).empty());
}
#endif

TEST(ProcessPool, SubmitAfterShutdownThrows) {
  lanes::ProcessPoolExecutor pool(1);
  EXPECT_EQ(pool.submit(square, 3).result(), 9);
  pool.shutdown();
  EXPECT_THROW(pool.submit(square, 3), lanes::RuntimeError);
  pool.shutdown();  // idempotent
}

// ---- crashes ---------------------------------------------------------------------------------

/// Waits (bounded) until a job has been handed to a worker.
void wait_running(lanes::Future<int>& f) {
  wait_until([&] { return f.running() || f.done(); });
  ASSERT_TRUE(f.running()) << "the task never started";
}

lanes::WorkerCrashedError expect_crash(lanes::Future<int> f) {
  try {
    f.result();
  } catch (const lanes::WorkerCrashedError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected WorkerCrashedError, got " << e.what();
    throw;
  }
  ADD_FAILURE() << "expected WorkerCrashedError, got a value";
  throw std::logic_error("no crash");
}

constexpr bool sanitized() { return lanes_test::kSanitized; }

TEST(ProcessPoolCrash, SegfaultNamesTheSignal) {
  lanes::ProcessPoolExecutor pool(1);
  auto e = expect_crash(pool.submit(crash_segv, 0));
  // A sanitizer's SEGV handler reports and then aborts.
  if (sanitized()) {
    EXPECT_TRUE(e.signal() == SIGSEGV || e.signal() == SIGABRT || e.exit_code() > 0) << e.what();
  } else {
    EXPECT_EQ(e.signal(), SIGSEGV) << e.what();
  }
  if (e.signal() == SIGSEGV) {
    EXPECT_NE(std::string(e.what()).find("SIGSEGV"), std::string::npos) << e.what();
  }
  EXPECT_NE(std::string(e.what()).find("crash_segv"), std::string::npos) << e.what();
  EXPECT_EQ(pool.submit(square, 4).result(), 16);  // replaced, goes on
}

TEST(ProcessPoolCrash, AbortNamesSigabrt) {
  lanes::ProcessPoolExecutor pool(1);
  auto e = expect_crash(pool.submit(crash_abort, 0));
  EXPECT_EQ(e.signal(), SIGABRT) << e.what();
  EXPECT_NE(std::string(e.what()).find("SIGABRT"), std::string::npos) << e.what();
  EXPECT_EQ(pool.submit(square, 5).result(), 25);
}

TEST(ProcessPoolCrash, ExitNamesTheStatus) {
  lanes::ProcessPoolExecutor pool(1);
  auto e = expect_crash(pool.submit(crash_exit, 3));
  EXPECT_EQ(e.signal(), 0);
  EXPECT_EQ(e.exit_code(), 3);
  EXPECT_NE(std::string(e.what()).find("exited with status 3"), std::string::npos) << e.what();
  EXPECT_EQ(pool.submit(square, 6).result(), 36);
}

TEST(ProcessPoolCrash, SigkillOfItselfNamesSigkill) {
  lanes::ProcessPoolExecutor pool(1);
  auto e = expect_crash(pool.submit(kill_self, 0));
  EXPECT_EQ(e.signal(), SIGKILL) << e.what();
  EXPECT_EQ(pool.submit(square, 7).result(), 49);
}

TEST(ProcessPoolCrash, SigkillFromOutsideFailsOnlyThatTask) {
  lanes::ProcessPoolExecutor pool(2);
  const std::string marker = marker_path();
  auto victim = pool.submit(mark_then_block, marker);
  wait_marked(marker);
  auto other = pool.submit(sleep_ms, 1);
  // The victim's worker: the one whose pid is not the other's (ask for both pids first).
  std::vector<pid_t> pids = pool.worker_pids();
  ASSERT_FALSE(pids.empty());
  const int other_pid = pool.submit(worker_pid).result();
  for (pid_t p : pids) {
    if (p != other_pid) ::kill(p, SIGKILL);
  }
  auto e = expect_crash(victim);
  EXPECT_EQ(e.signal(), SIGKILL) << e.what();
  EXPECT_EQ(other.result(), 1);
  EXPECT_EQ(pool.submit(square, 8).result(), 64);
}

class ProcessPoolIdleKill : public lanes_test::WorkerCountTest {};

// A task sent to a worker that was killed while idle, before the pool noticed, never
// reached that worker: it must run on a replacement, not fail with WorkerCrashedError.
TEST_P(ProcessPoolIdleKill, TasksSubmittedRightAfterIdleWorkersDiedAllRun) {
  for (int round = 0; round < 5; ++round) {
    lanes::ProcessPoolExecutor pool(workers());
    // Start every worker and let it go idle.
    std::vector<lanes::Future<int>> warm;
    for (std::size_t i = 0; i < 4 * workers(); ++i) warm.push_back(pool.submit(sleep_ms, 1));
    for (auto& f : warm) ASSERT_EQ(f.result(), 1);
    const std::vector<pid_t> pids = pool.worker_pids();
    ASSERT_FALSE(pids.empty());
    for (pid_t p : pids) ASSERT_EQ(::kill(p, SIGKILL), 0);
    std::vector<lanes::Future<int>> futures;
    for (int i = 0; i < 20; ++i) futures.push_back(pool.submit(square, i));
    for (int i = 0; i < 20; ++i) {
      try {
        EXPECT_EQ(futures[i].result(), i * i) << "round " << round;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "round " << round << ", task " << i << ": " << e.what();
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Workers, ProcessPoolIdleKill, ::testing::Values(1, 2),
                         lanes_test::worker_count_name);

TEST(ProcessPoolCrash, EveryTenthOfAThousandCrashesTheRestSucceed) {
  lanes::ProcessPoolExecutor pool(2);
  const int n = 1000;
  std::vector<lanes::Future<int>> futures;
  for (int i = 0; i < n; ++i) futures.push_back(pool.submit(crash_every_tenth, i));
  int ok = 0;
  int crashed = 0;
  for (int i = 0; i < n; ++i) {
    auto& f = futures[static_cast<std::size_t>(i)];
    if (i % 10 == 9) {
      EXPECT_EQ(expect_crash(f).exit_code(), 7);
      ++crashed;
    } else {
      EXPECT_EQ(f.result(), i * i);
      ++ok;
    }
  }
  EXPECT_EQ(ok, n / 10 * 9);
  EXPECT_EQ(crashed, n / 10);
}

// ---- timeouts and cancellation ------------------------------------------------------------------

TEST(ProcessPoolStop, TimeoutKillsAndReplacesTheWorker) {
  lanes::ProcessPoolExecutor pool(1);
  const int before = pool.submit(worker_pid).result();
  auto f = pool.submit_with_timeout(std::chrono::milliseconds(100), block_forever, 0);
  expect_contains(what_of<lanes::TimeoutError>([&] { f.result(); }), {"block_forever"});
  const int after = pool.submit(worker_pid).result();
  EXPECT_NE(before, after);
  // Gone, and reaped (no zombie keeps the pid). The supervisor reaps it on its own
  // thread, which may come after the new worker's first answer: wait, bounded.
  EXPECT_TRUE(wait_until([&] { return ::kill(before, 0) == -1; }));
}

TEST(ProcessPoolStop, PoolWideTaskTimeout) {
  lanes::ProcessPoolOptions options;
  options.max_workers = 1;
  options.task_timeout = std::chrono::milliseconds(100);
  lanes::ProcessPoolExecutor pool(options);
  EXPECT_THROW(pool.submit(block_forever, 0).result(), lanes::TimeoutError);
  EXPECT_EQ(pool.submit(square, 9).result(), 81);
}

TEST(ProcessPoolStop, CancelOfARunningTaskKillsItsWorker) {
  lanes::ProcessPoolExecutor pool(1);
  auto f = pool.submit(block_forever, 0);
  wait_running(f);
  const std::vector<pid_t> pids = pool.worker_pids();
  ASSERT_EQ(pids.size(), 1u);
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(f.cancelled());
  EXPECT_THROW(f.result(), lanes::CancelledError);
  EXPECT_EQ(pool.submit(square, 10).result(), 100);  // a new worker
  pool.shutdown();
  EXPECT_TRUE(wait_until([&] { return ::kill(pids[0], 0) == -1; }));
}

TEST(ProcessPoolStop, CancelOfAQueuedTaskDropsIt) {
  lanes::ProcessPoolExecutor pool(1);
  auto running = pool.submit(block_forever, 0);
  auto queued = pool.submit(square, 3);  // behind the one that never ends
  EXPECT_TRUE(queued.cancel());
  EXPECT_THROW(queued.result(), lanes::CancelledError);
  EXPECT_TRUE(running.cancel());
  EXPECT_EQ(pool.submit(square, 4).result(), 16);
}

TEST(ProcessPoolStop, ShutdownCancelFuturesCancelsTheQueue) {
  lanes::ProcessPoolExecutor pool(1);
  auto first = pool.submit(block_forever, 0);
  wait_running(first);
  std::vector<lanes::Future<int>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(pool.submit(square, i));
  pool.shutdown(false, true);  // the queue is cancelled before this returns
  for (auto& f : queued) EXPECT_TRUE(f.cancelled());
  EXPECT_THROW(pool.submit(square, 1), lanes::RuntimeError);
  EXPECT_TRUE(first.cancel());  // its worker is killed, so the pool can finish
  pool.shutdown(true);
}

// ---- the wire ---------------------------------------------------------------------------------

TEST(ProcessPoolWire, MalformedFrameFailsTheTaskAndReplacesTheWorker) {
  lanes::ProcessPoolExecutor pool(1);
  expect_contains(what_of<lanes::WireFormatError>([&] { pool.submit(send_garbage, 1).result(); }),
                  {"magic"});
  EXPECT_EQ(pool.submit(square, 11).result(), 121);
}

TEST(ProcessPoolWire, FrameSizeCheckRefusesWhatWouldWrapAt4GiB) {
  const auto* entry = lanes::detail::find_remote(reinterpret_cast<lanes::detail::AnyFunction>(&count_bytes));
  ASSERT_NE(entry, nullptr);
  const std::size_t limit = lanes::detail::kMaxFramePayload;
  EXPECT_NO_THROW(lanes::detail::check_frame_size(*entry, 64u << 20, false, "test"));
  for (bool batch : {false, true}) {
    // Sizes whose low 32 bits are small: a length that wrapped would pass as tiny.
    for (std::size_t bytes : {limit + 1, (std::size_t{1} << 32) + 7, (std::size_t{1} << 33)}) {
      const std::string what = what_of<lanes::WireFormatError>([&] {
        lanes::detail::check_frame_size(*entry, bytes, batch, "ProcessPoolExecutor::submit");
      });
      expect_contains(what, {std::to_string(bytes), "nothing was sent"});
    }
  }
}

/// MemAvailable from /proc/meminfo, in bytes (0 if unknown).
std::size_t memory_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::size_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

TEST(ProcessPoolWire, ArgumentOverTheFrameLimitFailsAtSubmitBeforeAnythingIsSent) {
  // Really encodes 1 GiB + 1 byte (about 3 GiB of memory for a second): only in
  // optimised unsanitized builds with room to spare.
  if (sanitized() || memory_available() < (std::size_t{8} << 30))
    GTEST_SKIP() << "needs an unsanitized build and 8 GiB of available memory";
  lanes::ProcessPoolExecutor pool(1);
  {
    std::vector<char> huge((std::size_t{1} << 30) + 1, 'x');
    EXPECT_THROW(pool.submit(count_bytes, huge), lanes::WireFormatError);
  }
  EXPECT_TRUE(pool.worker_pids().empty()) << "a worker was started for a refused task";
  EXPECT_EQ(pool.submit(count_bytes, std::vector<char>(10)).result(), 10u);
}

TEST(ProcessPoolWire, SixtyFourMebibytesBothWays) {
  lanes::ProcessPoolExecutor pool(2);
  const std::size_t size = (64u << 20) / static_cast<std::size_t>(kScale);
  std::vector<char> big(size);
  for (std::size_t i = 0; i < size; ++i) big[i] = static_cast<char>(i * 31);
  auto echoed = pool.submit(echo_bytes, big);
  auto counted = pool.submit(count_bytes, big);
  auto made = pool.submit(make_bytes, size);
  EXPECT_EQ(counted.result(), size);
  EXPECT_TRUE(echoed.result() == big);
  const auto m = made.result();
  EXPECT_EQ(m.size(), size);
  EXPECT_EQ(m.front(), 'q');
  EXPECT_EQ(m.back(), 'q');
}

// ---- life cycle ---------------------------------------------------------------------------------

TEST(ProcessPoolLife, DescriptorsAndChildrenBackToBaselineAfterShutdown) {
  const int fds = count_open_fds();
  const int children = count_children();
  {
    lanes::ProcessPoolExecutor pool(2);
    std::vector<lanes::Future<int>> fs;
    for (int i = 0; i < 20; ++i) fs.push_back(pool.submit(square, i));
    for (auto& f : fs) f.result();
    expect_crash(pool.submit(crash_exit, 1));
    EXPECT_GT(count_children(), children);
    pool.shutdown();
    EXPECT_EQ(count_open_fds(), fds);
    EXPECT_EQ(count_children(), children);
  }
  EXPECT_EQ(count_open_fds(), fds);
  EXPECT_EQ(count_children(), children);
}

TEST(ProcessPoolLife, MaxTasksPerChildRecyclesWorkers) {
  lanes::ProcessPoolOptions options;
  options.max_workers = 1;
  options.max_tasks_per_child = 3;
  lanes::ProcessPoolExecutor pool(options);
  std::map<int, int> uses;
  for (int i = 0; i < 9; ++i) ++uses[pool.submit(worker_pid).result()];
  EXPECT_EQ(uses.size(), 3u);
  for (const auto& [pid, n] : uses) EXPECT_EQ(n, 3) << "worker " << pid;
}

TEST(ProcessPoolLife, InitializerRunsInEveryWorker) {
  lanes::ProcessPoolOptions options;
  options.max_workers = 2;
  options.initializer = lanes::remote_call(init_worker, 42);
  lanes::ProcessPoolExecutor pool(options);
  std::vector<lanes::Future<int>> fs;
  for (int i = 0; i < 10; ++i) fs.push_back(pool.submit(read_initialized));
  for (auto& f : fs) EXPECT_EQ(f.result(), 42);
  EXPECT_EQ(g_initialized, 0);  // not in this process
}

TEST(ProcessPoolLife, FailingInitializerBreaksThePool) {
  lanes::ProcessPoolOptions options;
  options.max_workers = 1;
  options.initializer = lanes::remote_call(failing_init);
  lanes::ProcessPoolExecutor pool(options);
  auto f = pool.submit(square, 2);
  expect_contains(what_of<lanes::BrokenProcessPool>([&] { f.result(); }), {"no database here"});
  EXPECT_THROW(pool.submit(square, 2), lanes::BrokenProcessPool);
}

TEST(ProcessPoolLife, WorkerStdoutPassesThrough) {
  std::FILE* capture = std::tmpfile();
  ASSERT_NE(capture, nullptr);
  std::fflush(stdout);
  const int saved = ::dup(1);
  ::dup2(::fileno(capture), 1);  // workers inherit this stdout
  {
    lanes::ProcessPoolExecutor pool(1);
    pool.submit(print_line, std::string("printed by a worker")).result();
  }
  std::fflush(stdout);
  ::dup2(saved, 1);
  ::close(saved);
  std::rewind(capture);
  char buf[256] = {};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, capture);
  std::fclose(capture);
  EXPECT_NE(std::string(buf, n).find("printed by a worker"), std::string::npos) << buf;
}

/// True once `pid` has exited (gone, or a zombie nobody reaps in a container).
bool process_ended(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

TEST(ProcessPoolLife, WorkersDieWithTheirParent) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    // A parent that dies without shutting its pool down.
    ::close(fds[0]);
    lanes::ProcessPoolExecutor pool(1);
    auto f = pool.submit(block_forever, 0);
    int pid = 0;
    while (pid == 0) {
      const auto pids = pool.worker_pids();
      if (!pids.empty() && f.running()) pid = pids.front();
      std::this_thread::yield();
    }
    [[maybe_unused]] auto w = ::write(fds[1], &pid, sizeof pid);
    ::_exit(0);
  }
  ::close(fds[1]);
  int worker = 0;
  ASSERT_EQ(::read(fds[0], &worker, sizeof worker), static_cast<ssize_t>(sizeof worker));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(parent, &status, 0);
  EXPECT_TRUE(wait_until([&] { return process_ended(worker); }))
      << "worker " << worker << " outlived its parent";
}

TEST(ProcessPoolLife, ZeroWorkersIsAValueError) {
  EXPECT_THROW(lanes::ProcessPoolExecutor(0), lanes::ValueError);
}

}  // namespace

// ---- an idle pool uses no CPU ----------------------------------------------------------

namespace {

/// CPU seconds (user + system) process `pid` has used so far, from /proc/<pid>/stat.
double process_cpu_s(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after its ')'.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

class ProcessPoolIdleCpu : public lanes_test::WorkerCountTest {};

// The worker's bounded spin after an answer ends, and the supervisor sleeps in its
// reactor: over a 3 s window an idle pool (supervisor thread and workers) uses no
// measurable CPU. A spinning thread or worker would use about the whole window.
TEST_P(ProcessPoolIdleCpu, IdlePoolUsesNoMeasurableCpu) {
  lanes::ProcessPoolExecutor pool(GetParam());
  std::vector<lanes::Future<int>> futures;
  for (int i = 0; i < 200; ++i) futures.push_back(pool.submit(square, i));
  for (auto& f : futures) f.result();
  const std::vector<pid_t> pids = pool.worker_pids();
  ASSERT_FALSE(pids.empty());
  auto total = [&] {
    double s = process_cpu_s(::getpid());
    for (pid_t pid : pids) s += process_cpu_s(pid);
    return s;
  };
  const double before = total();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the window measured, no sync
  const double used = total() - before;
  EXPECT_LT(used, 0.05) << "an idle pool of " << GetParam() << " workers used " << used
                        << " s of CPU in 3 s";
  EXPECT_EQ(pool.worker_pids(), pids);  // the same workers: none was replaced meanwhile
}

INSTANTIATE_TEST_SUITE_P(Workers, ProcessPoolIdleCpu, ::testing::Values(1, 3),
                         lanes_test::worker_count_name);
