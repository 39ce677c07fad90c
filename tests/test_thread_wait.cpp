// The plain-thread forms of wait and as_completed (detail/threads/thread_wait.hpp and the
// blocking members of WaitOp and AsCompletedStream): futures from a thread pool,
// from a loop on another thread, and made by hand.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <lanes/lanes.hpp>
#include <lanes/thread_pool.hpp>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pool_test_support.hpp"

namespace {

using namespace std::chrono_literals;

class ThreadWait : public lanes_test::WorkerCountTest {};

TEST_P(ThreadWait, AllCompletedWaitsForEveryFuture) {
  lanes::ThreadPoolExecutor pool(workers());
  std::vector<lanes::Future<int>> fs;
  for (int i = 0; i < 100; ++i) fs.push_back(pool.submit([i] { return i; }));
  auto r = lanes::wait(fs).result();
  EXPECT_EQ(r.done.size(), 100u);
  EXPECT_TRUE(r.pending.empty());
  for (auto& f : r.done) EXPECT_TRUE(f.done());
}

TEST_P(ThreadWait, FirstCompletedReturnsWhileOthersBlock) {
  lanes::ThreadPoolExecutor pool(workers() + 1);
  std::latch gate(1);
  std::vector<lanes::Future<int>> fs;
  fs.push_back(pool.submit([&] {
    gate.wait();
    return 1;
  }));
  auto hand = lanes::create_future<int>();
  fs.push_back(hand);
  fs.push_back(pool.submit([] { return 3; }));
  auto r = lanes::wait(fs, lanes::FIRST_COMPLETED).result();
  ASSERT_FALSE(r.done.empty());
  EXPECT_EQ(r.done.size() + r.pending.size(), 3u);
  EXPECT_EQ(r.done.front().result(), 3);  // the only one that can finish
  gate.count_down();
  hand.set_result(2);
  EXPECT_EQ(fs[0].result(), 1);  // the job is done with `gate` before it goes
}

TEST_P(ThreadWait, FirstExceptionStopsAtAFailure) {
  lanes::ThreadPoolExecutor pool(workers() + 1);
  std::latch gate(1);
  std::vector<lanes::Future<void>> fs;
  fs.push_back(pool.submit([&] { gate.wait(); }));
  fs.push_back(pool.submit([] { throw std::runtime_error("fails"); }));
  auto r = lanes::wait(fs, lanes::FIRST_EXCEPTION).result();
  ASSERT_EQ(r.done.size(), 1u);
  EXPECT_THROW(r.done.front().result(), std::runtime_error);
  EXPECT_EQ(r.pending.size(), 1u);
  gate.count_down();
  fs[0].result();  // the job is done with `gate` before it goes
}

TEST(ThreadWaitPlain, FirstExceptionDoesNotCountACancellation) {
  auto a = lanes::create_future<int>();
  auto b = lanes::create_future<int>();
  a.cancel();
  auto r = lanes::wait(std::vector{a, b}, lanes::FIRST_EXCEPTION, 1ms).result();
  EXPECT_EQ(r.done.size(), 1u);
  EXPECT_EQ(r.pending.size(), 1u);  // it timed out: the cancellation did not end it
}

TEST(ThreadWaitPlain, TimeoutReturnsThePending) {
  auto never = lanes::create_future<int>();
  auto r = lanes::wait(std::vector{never}, lanes::ALL_COMPLETED, 1ms).result();
  EXPECT_TRUE(r.done.empty());
  ASSERT_EQ(r.pending.size(), 1u);
  EXPECT_FALSE(r.pending.front().done());
}

TEST(ThreadWaitPlain, EmptyListReturnsAtOnce) {
  auto r = lanes::wait(std::vector<lanes::Future<int>>{}).result();
  EXPECT_TRUE(r.done.empty());
  EXPECT_TRUE(r.pending.empty());
}

TEST(ThreadWaitPlain, OnALoopThreadItRefusesToBlock) {
  auto never = lanes::create_future<int>();
  auto main = [&]() -> lanes::Task<bool> {
    try {
      lanes::wait(std::vector{never}).result();
    } catch (const lanes::InvalidStateError&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(lanes::run(main()));
  never.cancel();
}

TEST(ThreadWaitPlain, FuturesOfALoopOnAnotherThread) {
  lanes::EventLoop loop;
  std::thread runner([&] { loop.run_forever(); });
  auto work = [](int x) -> lanes::Task<int> {
    co_await lanes::sleep(1ms);
    co_return x;
  };
  std::vector<lanes::Future<int>> fs;
  for (int i = 0; i < 10; ++i) fs.push_back(lanes::run_coroutine_threadsafe(work(i), loop));
  auto r = lanes::wait(fs).result();
  EXPECT_EQ(r.done.size(), 10u);
  loop.call_soon_threadsafe([&] { loop.stop(); });
  runner.join();
}

TEST_P(ThreadWait, AsCompletedYieldsEachFutureOnce) {
  lanes::ThreadPoolExecutor pool(workers());
  std::vector<lanes::Future<int>> fs;
  for (int i = 0; i < 200; ++i) fs.push_back(pool.submit([i] { return i; }));
  std::multiset<int> seen;
  for (auto& f : lanes::as_completed(fs)) {
    ASSERT_TRUE(f.done());
    seen.insert(f.result());
  }
  EXPECT_EQ(seen.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(seen.count(i), 1u);
}

TEST_P(ThreadWait, AsCompletedFollowsCompletionOrder) {
  lanes::ThreadPoolExecutor pool(workers());
  auto first = lanes::create_future<int>();
  auto second = lanes::create_future<int>();
  auto ac = lanes::as_completed(std::vector{first, second});
  // Completed from a pool thread, second before first.
  pool.submit([&] { second.set_result(2); }).result();
  EXPECT_EQ(ac.next_blocking().result(), 2);
  pool.submit([&] { first.set_result(1); }).result();
  EXPECT_EQ(ac.next_blocking().result(), 1);
  EXPECT_FALSE(ac.has_next());
  EXPECT_THROW(ac.next_blocking(), lanes::InvalidStateError);
}

TEST(ThreadWaitPlain, AsCompletedTimeoutThrows) {
  auto done = lanes::create_future<int>();
  done.set_result(1);
  auto never = lanes::create_future<int>();
  auto ac = lanes::as_completed(std::vector{done, never}, 1ms);
  EXPECT_EQ(ac.next_blocking().result(), 1);
  EXPECT_THROW(ac.next_blocking(), lanes::TimeoutError);
}

TEST_P(ThreadWait, PoolWorkerHelpsWhileItWaits) {
  // Every worker waits on children it submitted: only helping lets them run.
  lanes::ThreadPoolExecutor pool(workers());
  std::vector<lanes::Future<int>> parents;
  for (std::size_t p = 0; p < workers(); ++p) {
    parents.push_back(pool.submit([&pool] {
      std::vector<lanes::Future<int>> kids;
      for (int i = 0; i < 20; ++i) kids.push_back(pool.submit([i] { return i; }));
      auto r = lanes::wait(kids).result();
      int total = 0;
      for (auto& k : lanes::as_completed(r.done)) total += k.result();
      return total;
    }));
  }
  for (auto& p : parents) EXPECT_EQ(p.result(), 190);
}

INSTANTIATE_TEST_SUITE_P(Workers, ThreadWait, ::testing::Values(1, 2, 4),
                         lanes_test::worker_count_name);

}  // namespace
