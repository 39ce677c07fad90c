// Cancellation at the edges: it cannot be swallowed by catch (const std::exception&),
// it reaches a task waiting on a running thread job, a task cannot await itself,
// and the asyncio names around it (current_task, cancelling/uncancel,
// remove_done_callback).
#include <gtest/gtest.h>

#include <lanes/lanes.hpp>

#include <chrono>
#include <exception>
#include <future>
#include <string>
#include <type_traits>

using namespace std::chrono_literals;

namespace {

lanes::Task<void> sleep_long() { co_await lanes::sleep(1h); }

static_assert(!std::is_base_of_v<std::exception, lanes::CancelledError>,
              "CancelledError must not be caught by catch (const std::exception&)");
static_assert(!std::is_base_of_v<std::exception, lanes::KeyboardInterrupt>,
              "KeyboardInterrupt must not be caught by catch (const std::exception&)");
static_assert(std::is_base_of_v<lanes::BaseException, lanes::CancelledError>);
static_assert(std::is_base_of_v<lanes::BaseException, lanes::KeyboardInterrupt>);

// ---- not swallowed by a generic catch --------------------------------------------

lanes::Task<int> swallows_errors(int& caught) {
  try {
    co_await lanes::sleep(1h);
  } catch (const std::exception&) {
    ++caught;  // "everything but cancellation"
  }
  co_return 1;
}

TEST(Cancellation, GenericStdExceptionCatchDoesNotSwallowIt) {
  int caught = 0;
  bool timed_out = false;
  lanes::run([&]() -> lanes::Task<void> {
    try {
      (void)co_await lanes::wait_for(swallows_errors(caught), 10ms);
    } catch (const lanes::TimeoutError&) {
      timed_out = true;
    }
  }());
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(caught, 0);
}

TEST(Cancellation, CatchAllAndCatchByTypeStillSeeIt) {
  int by_type = 0;
  int by_all = 0;
  lanes::run([&]() -> lanes::Task<void> {
    auto a = lanes::create_task(sleep_long());
    auto b = lanes::create_task(sleep_long());
    co_await lanes::sleep(0s);
    a.cancel();
    b.cancel();
    try {
      co_await a;
    } catch (const lanes::CancelledError& e) {
      ++by_type;
      EXPECT_NE(std::string(e.what()), "");
    }
    try {
      co_await b;
    } catch (...) {
      ++by_all;
    }
  }());
  EXPECT_EQ(by_type, 1);
  EXPECT_EQ(by_all, 1);
}

TEST(Cancellation, DescribeExceptionStillNamesIt) {
  const std::string cancelled =
      lanes::describe_exception(std::make_exception_ptr(lanes::CancelledError("gone")));
  EXPECT_EQ(cancelled, "lanes::CancelledError: gone");
  const std::string interrupt =
      lanes::describe_exception(std::make_exception_ptr(lanes::KeyboardInterrupt()));
  EXPECT_NE(interrupt.find("lanes::KeyboardInterrupt: interrupted by SIGINT"), std::string::npos)
      << interrupt;
}

// ---- a running thread job does not hold the awaiting task -----------------------

TEST(Cancellation, WaitForAroundRunningThreadJobReturnsAtTheDeadline) {
  for (int round = 0; round < 3; ++round) {
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    bool timed_out = false;
    lanes::run([&]() -> lanes::Task<void> {
      try {
        // No stop token: the job cannot be cancelled once it runs.
        (void)co_await lanes::wait_for(lanes::to_thread([gate] {
                                         gate.wait();
                                         return 7;
                                       }),
                                       20ms);
      } catch (const lanes::TimeoutError&) {
        timed_out = true;
      }
      release.set_value();  // the job goes on in its thread and ends now
    }());
    EXPECT_TRUE(timed_out);
  }
}

TEST(Cancellation, TimeoutScopeAroundRunningThreadJobReturnsAtTheDeadline) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  bool timed_out = false;
  lanes::run([&]() -> lanes::Task<void> {
    try {
      co_await lanes::timeout(20ms, [&]() -> lanes::Task<void> {
        co_await lanes::to_thread([gate] { gate.wait(); });
      }());
    } catch (const lanes::TimeoutError&) {
      timed_out = true;
    }
    release.set_value();
  }());
  EXPECT_TRUE(timed_out);
}

// ---- a task cannot await itself ---------------------------------------------------

lanes::Task<void> await_own(lanes::Future<void>* self, std::string* error) {
  co_await lanes::sleep(0s);  // *self is set once create_task returned
  try {
    co_await *self;
  } catch (const lanes::RuntimeError& e) {
    *error = e.what();
  }
}

TEST(Cancellation, AwaitingItsOwnFutureIsARuntimeError) {
  std::string error;
  lanes::run([&]() -> lanes::Task<void> {
    lanes::Future<void> self;
    self = lanes::create_task(await_own(&self, &error));
    co_await self;
  }());
  EXPECT_NE(error.find("a task cannot await itself"), std::string::npos) << error;
}

lanes::Task<void> await_other(lanes::Future<void>* other, std::string* error) {
  co_await lanes::sleep(0s);
  try {
    co_await *other;
  } catch (const lanes::RuntimeError& e) {
    *error = e.what();
  }
}

TEST(Cancellation, AwaitingThroughACycleOfTasksIsARuntimeError) {
  std::string error_a, error_b, error_c;
  lanes::run([&]() -> lanes::Task<void> {
    lanes::Future<void> a, b, c;
    a = lanes::create_task(await_other(&b, &error_a));
    b = lanes::create_task(await_other(&c, &error_b));
    c = lanes::create_task(await_other(&a, &error_c));
    co_await lanes::gather(a, b, c);
  }());
  // a awaits b, b awaits c; c closing the cycle is refused.
  EXPECT_EQ(error_a, "");
  EXPECT_EQ(error_b, "");
  EXPECT_NE(error_c.find("a task cannot await itself"), std::string::npos) << error_c;
}

lanes::Task<void> gather_other(lanes::Future<void>* other) {
  co_await lanes::sleep(0s);
  co_await lanes::gather(*other);
}

TEST(Cancellation, CancellingTasksThatWaitOnEachOtherEndsWithoutOverflow) {
  // A cycle the await check cannot see (through gather): cancelling must still end.
  bool a_cancelled = false;
  lanes::run([&]() -> lanes::Task<void> {
    lanes::Future<void> a, b;
    a = lanes::create_task(gather_other(&b));
    b = lanes::create_task(gather_other(&a));
    co_await lanes::sleep(0s);
    co_await lanes::sleep(0s);
    a.cancel();
    try {
      co_await a;
    } catch (const lanes::CancelledError&) {
      a_cancelled = true;
    }
    b.cancel();
    co_await lanes::gather_settled(b);
  }());
  EXPECT_TRUE(a_cancelled);
}

// ---- current_task, cancelling/uncancel, remove_done_callback --------------------

TEST(Cancellation, CurrentTaskIsEmptyOutsideATask) {
  EXPECT_FALSE(lanes::current_task());
  lanes::TaskHandle none = lanes::current_task();
  EXPECT_THROW(none.cancel(), lanes::InvalidStateError);
}

TEST(Cancellation, CurrentTaskCanCancelItselfAndCountsRequests) {
  std::uint32_t seen = 0, after_uncancel = 9;
  bool cancelled = false;
  lanes::run([&]() -> lanes::Task<void> {
    auto child = lanes::create_task([&]() -> lanes::Task<void> {
      lanes::TaskHandle me = lanes::current_task();
      EXPECT_TRUE(me);
      EXPECT_FALSE(me.done());
      EXPECT_TRUE(me.cancel());
      EXPECT_TRUE(me.cancel());
      seen = me.cancelling();
      after_uncancel = me.uncancel();
      co_await lanes::sleep(1h);  // the pending request is thrown here
    });
    try {
      co_await child;
    } catch (const lanes::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(child.cancelled());
  }());
  EXPECT_EQ(seen, 2u);
  EXPECT_EQ(after_uncancel, 1u);
  EXPECT_TRUE(cancelled);
}

TEST(Cancellation, FutureOfATaskExposesCancellingAndUncancel) {
  lanes::run([]() -> lanes::Task<void> {
    auto t = lanes::create_task(sleep_long());
    co_await lanes::sleep(0s);
    EXPECT_EQ(t.cancelling(), 0u);
    t.cancel();
    EXPECT_EQ(t.cancelling(), 1u);
    co_await lanes::gather_settled(t);
    EXPECT_TRUE(t.cancelled());
    auto plain = lanes::create_future<int>();
    EXPECT_THROW((void)plain.cancelling(), lanes::InvalidStateError);
    plain.cancel();
  }());
}

int g_calls = 0;
void count_call(lanes::Future<int>) { ++g_calls; }
void other_call(lanes::Future<int>) { g_calls += 100; }

TEST(Cancellation, RemoveDoneCallbackRemovesEveryEqualCallbackAndCounts) {
  g_calls = 0;
  auto f = lanes::create_future<int>();
  f.add_done_callback(&count_call);
  f.add_done_callback(&other_call);
  f.add_done_callback(&count_call);
  EXPECT_EQ(f.remove_done_callback(&count_call), 2u);
  EXPECT_EQ(f.remove_done_callback(&count_call), 0u);
  f.set_result(1);
  EXPECT_EQ(g_calls, 100);
  EXPECT_EQ(f.remove_done_callback(&other_call), 0u);  // ran already
}

}  // namespace
