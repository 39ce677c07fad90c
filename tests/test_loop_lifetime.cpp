// The loop's lifetime at the edges: what run()'s clean-up and close() do to tasks,
// callbacks and threads still waiting; run_until_complete's own callback; deep
// chains destroyed in constant stack; lambdas kept alive by create_task; the
// "never awaited" report.
#include <gtest/gtest.h>

#include <lanes/lanes.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

lanes::Task<void> sleep_long() { co_await lanes::sleep(1h); }

// ---- run()'s clean-up -----------------------------------------------------------

TEST(LoopLifetime, RunCoroutineThreadsafeEndsCancelledWhenMainReturnsFirst) {
  for (int round = 0; round < 3; ++round) {
    lanes::Future<int> submitted;
    std::thread other;
    lanes::run([&]() -> lanes::Task<void> {
      auto& loop = lanes::get_running_loop();
      auto done = lanes::create_future<void>();
      other = std::thread([&loop, &submitted, done]() mutable {
        submitted = lanes::run_coroutine_threadsafe(
            []() -> lanes::Task<int> {
              co_await lanes::sleep(1h);
              co_return 1;
            }(),
            loop);
        loop.call_soon_threadsafe([done]() mutable { done.set_result(); });
      });
      co_await done;  // the task was posted before this ran: it is scheduled now
      co_await lanes::sleep(0s);
    }());
    other.join();
    // Main returned with the task pending: run() cancelled it, and the thread's
    // future followed (never pending forever).
    ASSERT_TRUE(submitted.done());
    EXPECT_TRUE(submitted.cancelled());
  }
}

TEST(LoopLifetime, RunCoroutineThreadsafeToALoopClosedBeforeItStartedEndsCancelled) {
  lanes::Future<int> submitted;
  {
    lanes::EventLoop loop;
    submitted = lanes::run_coroutine_threadsafe(
        []() -> lanes::Task<int> { co_return 1; }(), loop);
  }
  ASSERT_TRUE(submitted.done());
  EXPECT_TRUE(submitted.cancelled());
}

TEST(LoopLifetime, TaskCancelledByRunsCleanupRunsItsDoneCallbacksOnce) {
  int calls = 0;
  bool saw_cancelled = false;
  lanes::run([&]() -> lanes::Task<void> {
    auto pending = lanes::create_task(sleep_long());
    pending.add_done_callback([&](lanes::Future<void> f) {
      ++calls;
      saw_cancelled = f.cancelled();
    });
    co_await lanes::sleep(0s);
  }());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(saw_cancelled);
}

// ---- run_until_complete removes its callback ------------------------------------

TEST(LoopLifetime, RunUntilCompleteThatThrowsLeavesNoCallbackBehind) {
  lanes::EventLoop loop;
  auto first = lanes::create_future<int>();
  loop.call_soon([&] { loop.stop(); });
  EXPECT_THROW(loop.run_until_complete(first), lanes::RuntimeError);
  // Completed during a second run: the first run's callback must not stop it.
  int value = loop.run_until_complete([&]() -> lanes::Task<int> {
    first.set_result(1);
    for (int i = 0; i < 5; ++i) co_await lanes::sleep(0s);
    co_return 5;
  }());
  EXPECT_EQ(value, 5);
}

TEST(LoopLifetime, FutureCompletedAfterItsLoopIsGoneTouchesNothing) {
  // Under ASan, a callback left by run_until_complete would be a use after free.
  auto outlives = lanes::create_future<int>();
  {
    lanes::EventLoop loop;
    loop.call_soon([&] { loop.stop(); });
    EXPECT_THROW(loop.run_until_complete(outlives), lanes::RuntimeError);
  }
  std::thread([&] { outlives.set_result(3); }).join();
  EXPECT_EQ(outlives.result(), 3);
}

TEST(LoopLifetime, EventLoopMisuseInsideARunningLoopIsARuntimeError) {
  bool run_refused = false, loop_refused = false;
  lanes::run([&]() -> lanes::Task<void> {
    try {
      lanes::run([]() -> lanes::Task<void> { co_return; }());
    } catch (const lanes::RuntimeError&) {
      run_refused = true;
    }
    auto later = lanes::create_future<int>();
    {
      lanes::EventLoop inner;
      try {
        inner.run_until_complete(later);
      } catch (const lanes::RuntimeError&) {
        loop_refused = true;
      }
    }
    later.set_result(1);  // the inner loop is gone: nothing of it may run
    co_await later;
  }());
  EXPECT_TRUE(run_refused);
  EXPECT_TRUE(loop_refused);
}

// ---- deep chains are destroyed in constant stack --------------------------------

lanes::Task<int> nested(int depth, lanes::Future<int>& parked, int& live) {
  struct Count {
    int& n;
    explicit Count(int& c) : n(c) { ++n; }
    ~Count() { --n; }
  } count(live);
  if (depth == 0) co_return co_await parked;
  co_return co_await nested(depth - 1, parked, live);
}

TEST(LoopLifetime, DestroyingALoopWithAHundredThousandNestedAwaitsUsesConstantStack) {
  constexpr int kDepth = 100'000;
  auto parked = lanes::create_future<int>();
  int live = 0;
  {
    lanes::EventLoop loop;
    auto task = loop.create_task(nested(kDepth, parked, live));
    loop.run_until_complete([]() -> lanes::Task<void> {
      co_await lanes::sleep(0s);
      co_await lanes::sleep(0s);
    }());
    EXPECT_EQ(live, kDepth + 1);
    EXPECT_FALSE(task.done());
  }  // close(): every frame freed, innermost first
  EXPECT_EQ(live, 0);
  parked.cancel();
}

// ---- create_task(callable, args...) keeps the callable alive ---------------------

TEST(LoopLifetime, CreateTaskWithACallableKeepsItsCapturesAlive) {
  std::string seen;
  lanes::run([&]() -> lanes::Task<void> {
    lanes::Future<std::size_t> f;
    {
      auto text = std::make_shared<std::string>("captured by value");
      f = lanes::create_task(
          [text, &seen](int times) -> lanes::Task<std::size_t> {
            co_await lanes::sleep(0s);  // the statement that made it is long over
            for (int i = 0; i < times; ++i) seen += *text;
            co_return text->size();
          },
          2);
    }
    EXPECT_EQ(co_await f, std::string("captured by value").size());
  }());
  EXPECT_EQ(seen, "captured by valuecaptured by value");
}

// ---- close() with steps and callbacks still queued --------------------------------

lanes::Task<void> yield_forever() {
  for (;;) co_await lanes::sleep(0s);
}
lanes::Task<int> returns(int v) { co_return v; }

// The ready queue links a queued task through the task itself: close() must drain
// it safely whether the task never started, is between steps, or was dropped by
// every handle, with callbacks interleaved.
TEST(LoopLifetime, CloseWithTaskStepsAndCallbacksStillQueued) {
  for (const int n : {1, 100, 5000}) {
    lanes::EventLoop loop;
    std::vector<lanes::Future<void>> kept;
    int callbacks_ran = 0;
    loop.run_until_complete([&]() -> lanes::Task<void> {
      for (int i = 0; i < n; ++i) {
        kept.push_back(lanes::create_task(yield_forever()));
        loop.call_soon([&] { ++callbacks_ran; });
      }
      co_await lanes::sleep(0s);  // every task has started and queued its next step
      for (int i = 0; i < n; ++i) {
        (void)lanes::create_task(returns(i));  // never started, no handle left
        loop.call_soon([&] { ++callbacks_ran; });
        kept.push_back(lanes::create_task(yield_forever()));
      }
    }());
    EXPECT_EQ(callbacks_ran, n);
    loop.close();
    EXPECT_EQ(callbacks_ran, n);  // the queued ones are cancelled, not run
    for (auto& f : kept) EXPECT_TRUE(f.cancelled());
    EXPECT_EQ(loop.live_tasks(), 0u);
  }
}

// ---- "never awaited" is reported by default -------------------------------------

lanes::Task<int> never_run() { co_return 1; }

TEST(LoopLifetime, TaskDestroyedWithoutBeingAwaitedIsReportedByDefault) {
  testing::internal::CaptureStderr();
  { auto dropped = never_run(); }
  const std::string err = testing::internal::GetCapturedStderr();
  if (std::getenv("LANES_NO_UNAWAITED_WARNING") == nullptr) {
    EXPECT_NE(err.find("destroyed without ever being awaited"), std::string::npos) << err;
  } else {
    EXPECT_EQ(err, "");
  }
}

TEST(LoopLifetime, NeverAwaitedGoesToTheLoopsExceptionHandler) {
  std::string message;
  lanes::run([&]() -> lanes::Task<void> {
    lanes::get_running_loop().set_exception_handler(
        [&](lanes::EventLoop&, const lanes::ExceptionContext& c) { message = c.message; });
    { auto dropped = never_run(); }
    co_return;
  }());
  if (std::getenv("LANES_NO_UNAWAITED_WARNING") == nullptr) {
    EXPECT_NE(message.find("destroyed without ever being awaited"), std::string::npos);
  }
}

}  // namespace
