// The bridges between threads and the event loop: to_thread, run_in_executor,
// run_coroutine_threadsafe, and pool futures awaited by tasks.
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <lanes/lanes.hpp>
#include <lanes/thread_pool.hpp>
#include <lanes/to_thread.hpp>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <thread>

namespace {

using namespace std::chrono_literals;

/// Waits for a stop request without spinning.
void wait_for_stop(const std::stop_token& stop) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait(lock, stop, [] { return false; });
}

/// A loop running forever on its own thread, stopped and joined at the end.
class LoopThread {
 public:
  LoopThread() : thread_([this] { loop_.run_forever(); }) {}
  ~LoopThread() {
    loop_.call_soon_threadsafe([this] { loop_.stop(); });
    thread_.join();
  }
  lanes::EventLoop& loop() { return loop_; }

 private:
  lanes::EventLoop loop_;
  std::thread thread_;
};

lanes::Task<int> add_on_loop(int a, int b) {
  co_await lanes::sleep(0s);
  co_return a + b;
}

lanes::Task<int> fail_on_loop() {
  co_await lanes::sleep(0s);
  throw std::runtime_error("loop task failed");
}

// Coroutines handed to create_task are plain functions: a capturing lambda's
// captures would die with the lambda object before the task runs.
lanes::Task<void> stoppable_job(std::latch& started, std::atomic<bool>& stopped) {
  co_await lanes::to_thread([&](std::stop_token stop) {
    started.count_down();
    wait_for_stop(stop);
    stopped = true;
  });
}

lanes::Task<void> open_gate(std::latch& gate) {
  gate.count_down();
  co_return;
}

TEST(ToThread, RunsOffTheLoopThreadAndReturnsTheValue) {
  auto main = []() -> lanes::Task<bool> {
    const auto loop_thread = std::this_thread::get_id();
    auto [value, where] = co_await lanes::to_thread(
        [](int x) { return std::pair{x * 2, std::this_thread::get_id()}; }, 21);
    co_return value == 42 && where != loop_thread;
  };
  EXPECT_TRUE(lanes::run(main()));
}

TEST(ToThread, ErrorTravelsToTheAwaitingTask) {
  auto main = []() -> lanes::Task<void> {
    co_await lanes::to_thread([] { throw std::invalid_argument("bad input"); });
  };
  EXPECT_THROW(lanes::run(main()), std::invalid_argument);
}

TEST(ToThread, OutsideALoopThrowsRuntimeError) {
  EXPECT_THROW(lanes::to_thread([] {}), lanes::RuntimeError);
}

TEST(ToThread, CancellingTheTaskStopsAStopTokenJob) {
  std::atomic<bool> stopped{false};
  auto main = [&]() -> lanes::Task<bool> {
    std::latch started(1);
    auto job = lanes::create_task(stoppable_job(started, stopped));
    // The job's thread must have started: a stop reaches only a running callable.
    co_await lanes::to_thread([&] { started.wait(); });
    job.cancel();
    try {
      co_await job;
    } catch (const lanes::CancelledError&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(lanes::run(main()));
  EXPECT_TRUE(stopped.load());  // run() closed the loop, which waited for the job
}

TEST(RunInExecutor, UsesTheGivenPool) {
  lanes::ThreadPoolExecutor pool(lanes::ThreadPoolOptions{2, {}, "picked"});
  auto main = [&]() -> lanes::Task<std::string> {
    auto& loop = lanes::get_running_loop();
    co_return co_await loop.run_in_executor(pool, [] {
      char buf[16] = {};
      pthread_getname_np(pthread_self(), buf, sizeof buf);
      return std::string(buf);
    });
  };
  EXPECT_EQ(lanes::run(main()).rfind("picked_", 0), 0u);
}

TEST(RunInExecutor, NullptrMeansTheDefaultExecutor) {
  auto main = []() -> lanes::Task<int> {
    co_return co_await lanes::get_running_loop().run_in_executor(nullptr, [](int x) { return x + 1; },
                                                                 41);
  };
  EXPECT_EQ(lanes::run(main()), 42);
}

TEST(PoolFuture, AwaitedInALoopWakesIt) {
  lanes::ThreadPoolExecutor pool(1);
  auto main = [&]() -> lanes::Task<int> {
    std::latch gate(1);
    auto f = pool.submit([&] {
      gate.wait();
      return 7;
    });
    // Opens the gate only once the main task is suspended on f: the completion
    // then comes from the pool thread and must wake this loop.
    auto opener = lanes::create_task(open_gate(gate));
    const int v = co_await f;
    co_await opener;
    co_return v;
  };
  EXPECT_EQ(lanes::run(main()), 7);
}

TEST(PoolFuture, ManyAwaitedAtOnce) {
  lanes::ThreadPoolExecutor pool(2);
  auto main = [&]() -> lanes::Task<long> {
    std::vector<lanes::Future<int>> fs;
    for (int i = 0; i < 2000; ++i) fs.push_back(pool.submit([i] { return i; }));
    long total = 0;
    for (auto& f : fs) total += co_await f;
    co_return total;
  };
  EXPECT_EQ(lanes::run(main()), 1999L * 2000 / 2);
}

TEST(RunCoroutineThreadsafe, ResultBlocksUntilTheTaskIsDone) {
  LoopThread lt;
  auto f = lanes::run_coroutine_threadsafe(add_on_loop(40, 2), lt.loop());
  EXPECT_EQ(f.result(), 42);
}

TEST(RunCoroutineThreadsafe, ErrorReachesTheWaitingThread) {
  LoopThread lt;
  auto f = lanes::run_coroutine_threadsafe(fail_on_loop(), lt.loop());
  EXPECT_THROW(f.result(), std::runtime_error);
}

TEST(RunCoroutineThreadsafe, CancellingTheFutureCancelsTheTask) {
  LoopThread lt;
  std::latch started(1);
  std::atomic<bool> saw_cancel{false};
  auto body = [&]() -> lanes::Task<void> {
    started.count_down();
    try {
      co_await lanes::sleep(std::chrono::hours(1));
    } catch (const lanes::CancelledError&) {
      saw_cancel = true;
      throw;
    }
  };
  auto f = lanes::run_coroutine_threadsafe(body(), lt.loop());
  started.wait();
  EXPECT_TRUE(f.cancel());
  EXPECT_THROW(f.result(), lanes::CancelledError);
  // The task's own cancellation travels through the loop: wait for it there.
  auto probe = lanes::run_coroutine_threadsafe(add_on_loop(0, 0), lt.loop());
  probe.result();
  auto again = lanes::run_coroutine_threadsafe(add_on_loop(0, 0), lt.loop());
  again.result();
  EXPECT_TRUE(saw_cancel.load());
}

TEST(RunCoroutineThreadsafe, ManyFromSeveralThreads) {
  LoopThread lt;
  std::vector<std::thread> threads;
  std::atomic<long> total{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) total += lanes::run_coroutine_threadsafe(add_on_loop(t, i), lt.loop()).result();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(total.load(), 4L * (199 * 200 / 2) + 200L * (0 + 1 + 2 + 3));
}

}  // namespace
