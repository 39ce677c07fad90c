// Future<T>: one thread-safe handle, awaited in a loop or blocked on from a thread.
#include <gtest/gtest.h>

#include <lanes/lanes.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

TEST(Future, SetResultThenResult) {
  auto f = lanes::create_future<int>();
  EXPECT_FALSE(f.done());
  f.set_result(5);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.result(), 5);
  EXPECT_EQ(f.result(), 5);  // copyable results can be asked again
}

TEST(Future, SecondCompletionThrowsInvalidState) {
  auto f = lanes::create_future<int>();
  f.set_result(1);
  EXPECT_THROW(f.set_result(2), lanes::InvalidStateError);
  EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))),
               lanes::InvalidStateError);
  EXPECT_EQ(f.result(), 1);
}

TEST(Future, ExceptionTravelsThroughResult) {
  auto f = lanes::create_future<int>();
  f.set_exception(std::make_exception_ptr(std::runtime_error("bad input")));
  EXPECT_THROW(f.result(), std::runtime_error);
  EXPECT_TRUE(f.exception() != nullptr);
}

TEST(Future, ExceptionOfUnfinishedFutureThrowsInvalidState) {
  auto f = lanes::create_future<int>();
  EXPECT_THROW(f.exception(), lanes::InvalidStateError);
}

TEST(Future, CancelPendingFuture) {
  auto f = lanes::create_future<int>();
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(f.cancelled());
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.cancel());
  EXPECT_THROW(f.result(), lanes::CancelledError);
  EXPECT_THROW(f.exception(), lanes::CancelledError);
}

TEST(Future, CancelDoneFutureReturnsFalse) {
  auto f = lanes::create_future<void>();
  f.set_result();
  EXPECT_FALSE(f.cancel());
  EXPECT_FALSE(f.cancelled());
}

TEST(Future, EmptyHandleThrowsInvalidState) {
  lanes::Future<int> f;
  EXPECT_FALSE(f.valid());
  EXPECT_THROW(f.done(), lanes::InvalidStateError);
  EXPECT_THROW(f.result(), lanes::InvalidStateError);
}

TEST(Future, ResultBlocksUntilAnotherThreadCompletes) {
  auto f = lanes::create_future<std::string>();
  std::thread producer([f]() mutable { f.set_result("from a thread"); });
  EXPECT_EQ(f.result(), "from a thread");
  producer.join();
}

TEST(Future, ResultWithTimeoutThrowsTimeoutError) {
  auto f = lanes::create_future<int>();
  EXPECT_THROW(f.result(10ms), lanes::TimeoutError);
  f.set_result(3);
  EXPECT_EQ(f.result(10ms), 3);
}

TEST(Future, DoneCallbackOnPlainThreadRunsOnCompletion) {
  auto f = lanes::create_future<int>();
  int seen = 0;
  f.add_done_callback([&](lanes::Future<int> done) { seen = done.result(); });
  EXPECT_EQ(seen, 0);
  f.set_result(9);
  EXPECT_EQ(seen, 9);
  int late = 0;
  f.add_done_callback([&](lanes::Future<int> done) { late = done.result(); });
  EXPECT_EQ(late, 9);  // already done: runs at once
}

TEST(Future, DoneCallbacksRunInTheOrderAdded) {
  auto f = lanes::create_future<void>();
  std::string order;
  f.add_done_callback([&](lanes::Future<void>) { order += 'a'; });
  f.add_done_callback([&](lanes::Future<void>) { order += 'b'; });
  f.add_done_callback([&](lanes::Future<void>) { order += 'c'; });
  f.set_result();
  EXPECT_EQ(order, "abc");
}

TEST(Future, DoneCallbackAddedInLoopRunsOnTheLoopThread) {
  auto body = []() -> lanes::Task<bool> {
    auto f = lanes::create_future<int>();
    auto loop_thread = std::this_thread::get_id();
    auto ran_on = lanes::create_future<std::thread::id>();
    f.add_done_callback([ran_on](lanes::Future<int>) mutable {
      ran_on.set_result(std::this_thread::get_id());
    });
    std::thread producer([f]() mutable { f.set_result(1); });
    auto id = co_await ran_on;
    producer.join();
    co_return id == loop_thread;
  };
  EXPECT_TRUE(lanes::run(body()));
}

TEST(Future, CompletedOnAnotherThreadWakesTheAwaitingCoroutine) {
  for (int round = 0; round < 50; ++round) {
    auto body = []() -> lanes::Task<int> {
      auto f = lanes::create_future<int>();
      std::thread producer([f]() mutable { f.set_result(41); });
      int v = co_await f;
      producer.join();
      co_return v + 1;
    };
    ASSERT_EQ(lanes::run(body()), 42);
  }
}

TEST(Future, BlockingResultOnTheLoopThreadThrowsInvalidState) {
  auto body = []() -> lanes::Task<std::string> {
    auto f = lanes::create_future<int>();
    try {
      f.result();
    } catch (const lanes::InvalidStateError& e) {
      co_return e.what();
    }
    co_return "no error";
  };
  EXPECT_NE(lanes::run(body()).find("co_await"), std::string::npos);
}

TEST(Future, ResultOfDoneFutureOnTheLoopThreadIsAllowed) {
  auto body = []() -> lanes::Task<int> {
    auto f = lanes::create_future<int>();
    f.set_result(4);
    co_return f.result();
  };
  EXPECT_EQ(lanes::run(body()), 4);
}

lanes::Task<int> throws_later() {
  co_await lanes::sleep(0s);
  throw std::runtime_error("nobody looks at me");
}

TEST(Future, ExceptionNeverRetrievedIsReportedExactlyOnce) {
  int reports = 0;
  auto body = [&]() -> lanes::Task<void> {
    lanes::get_running_loop().set_exception_handler(
        [&](lanes::EventLoop&, const lanes::ExceptionContext& c) {
          if (c.message.find("never retrieved") != std::string::npos && c.exception) ++reports;
        });
    {
      auto dropped = lanes::create_task(throws_later());
    }
    for (int i = 0; i < 5; ++i) co_await lanes::sleep(0s);
  };
  lanes::run(body());
  EXPECT_EQ(reports, 1);
}

TEST(Future, RetrievedExceptionIsNotReported) {
  int reports = 0;
  auto body = [&]() -> lanes::Task<void> {
    lanes::get_running_loop().set_exception_handler(
        [&](lanes::EventLoop&, const lanes::ExceptionContext&) { ++reports; });
    auto f = lanes::create_task(throws_later());
    try {
      co_await f;
    } catch (const std::runtime_error&) {
    }
  };
  lanes::run(body());
  EXPECT_EQ(reports, 0);
}

TEST(Future, CancellingTheAwaiterCancelsTheAwaitedFuture) {
  auto body = []() -> lanes::Task<bool> {
    auto inner = lanes::create_future<int>();
    auto waiter = lanes::create_task([](lanes::Future<int> f) -> lanes::Task<int> {
      co_return co_await f;
    }(inner));
    co_await lanes::sleep(0s);  // let the waiter start waiting
    waiter.cancel();
    try {
      co_await waiter;
    } catch (const lanes::CancelledError&) {
    }
    co_return inner.cancelled() && waiter.cancelled();
  };
  EXPECT_TRUE(lanes::run(body()));
}

TEST(Future, AwaitingACancelledFutureThrowsCancelledError) {
  auto body = []() -> lanes::Task<bool> {
    auto f = lanes::create_future<int>();
    f.cancel();
    try {
      co_await f;
    } catch (const lanes::CancelledError&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(lanes::run(body()));
}

}  // namespace
