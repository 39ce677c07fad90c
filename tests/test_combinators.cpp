// gather, gather_settled, wait, as_completed, wait_for, timeout, shield.
#include <gtest/gtest.h>

#include <lanes/combinators.hpp>
#include <lanes/loop.hpp>
#include <lanes/time.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;

namespace {

lanes::Task<int> value_after_yields(int yields, int value) {
  for (int i = 0; i < yields; ++i) co_await lanes::sleep(0s);
  co_return value;
}

lanes::Task<int> fail_after_yields(int yields, std::string message) {
  for (int i = 0; i < yields; ++i) co_await lanes::sleep(0s);
  throw std::runtime_error(message);
}

lanes::Task<void> nothing_after_yields(int yields) {
  for (int i = 0; i < yields; ++i) co_await lanes::sleep(0s);
}

lanes::Task<void> sleep_forever() { co_await lanes::sleep(1h); }

lanes::Task<void> complete_later(lanes::Future<int> f, int yields, int value) {
  for (int i = 0; i < yields; ++i) co_await lanes::sleep(0s);
  f.set_result(value);
}

// Builds the list outside the coroutine: g++ 12 cannot put an initializer_list's
// array in a coroutine frame ("array used as initializer").
template <class T, class... More>
std::vector<lanes::Future<T>> list(lanes::Future<T> first, More... more) {
  return {first, more...};
}

template <class T>
bool same(const lanes::Future<T>& a, const lanes::Future<T>& b) {
  return a.raw_state() == b.raw_state();
}

// ---- gather -------------------------------------------------------------------

TEST(Gather, TupleOfMixedTasksAndFutures) {
  auto body = []() -> lanes::Task<void> {
    auto promised = lanes::create_future<int>();
    auto setter = lanes::create_task(complete_later(promised, 3, 20));
    auto scheduled = lanes::create_task(value_after_yields(1, 30));
    auto [a, b, c, d] = co_await lanes::gather(value_after_yields(2, 10), promised,
                                                nothing_after_yields(1), scheduled);
    static_assert(std::is_same_v<decltype(c), lanes::Unit>);
    EXPECT_EQ(a, 10);
    EXPECT_EQ(b, 20);
    EXPECT_EQ(d, 30);
    co_await setter;
  };
  lanes::run(body());
}

TEST(Gather, VectorOfTenThousandFuturesKeepsOrder) {
  auto body = []() -> lanes::Task<void> {
    constexpr int n = 10'000;
    std::vector<lanes::Future<int>> futures;
    for (int i = 0; i < n; ++i) {
      // Later elements finish first: the result order is the input order anyway.
      futures.push_back(lanes::create_task(value_after_yields((n - i) % 7, i)));
    }
    std::vector<int> values = co_await lanes::gather(std::move(futures));
    EXPECT_EQ(values.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) EXPECT_EQ(values[i], i);

    std::vector<lanes::Task<int>> tasks;
    for (int i = 0; i < 100; ++i) tasks.push_back(value_after_yields(i % 3, i));
    std::vector<int> from_tasks = co_await lanes::gather(std::move(tasks));
    for (int i = 0; i < 100; ++i) EXPECT_EQ(from_tasks[i], i);

    EXPECT_TRUE((co_await lanes::gather(std::vector<lanes::Future<int>>{})).empty());
  };
  lanes::run(body());
}

TEST(Gather, PropagatesTheFirstExceptionAndLeavesTheOthersRunning) {
  auto body = []() -> lanes::Task<void> {
    auto slow = lanes::create_task(value_after_yields(6, 3));
    std::string caught;
    try {
      co_await lanes::gather(fail_after_yields(1, "first"), value_after_yields(2, 1), slow);
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    EXPECT_EQ(caught, "first");
    EXPECT_FALSE(slow.done());  // not cancelled: gather's children keep running
    EXPECT_EQ(co_await slow, 3);

    std::vector<lanes::Future<int>> futures;
    futures.push_back(lanes::create_task(value_after_yields(1, 0)));
    futures.push_back(lanes::create_task(fail_after_yields(2, "from the vector")));
    futures.push_back(lanes::create_task(value_after_yields(4, 0)));
    caught.clear();
    try {
      co_await lanes::gather(futures);
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    EXPECT_EQ(caught, "from the vector");
    EXPECT_EQ(co_await futures[2], 0);

    // A failure late in the list wakes gather at once, while earlier ones still run.
    auto earlier = lanes::create_task(value_after_yields(20, 1));
    caught.clear();
    try {
      co_await lanes::gather(earlier, fail_after_yields(1, "late in the list"));
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    EXPECT_EQ(caught, "late in the list");
    EXPECT_FALSE(earlier.done());
    co_await earlier;

    // Futures failed before gather starts: no suspension needed.
    auto ok = lanes::create_future<int>();
    ok.set_result(1);
    auto bad = lanes::create_future<int>();
    bad.set_exception(std::make_exception_ptr(std::runtime_error("already failed")));
    caught.clear();
    try {
      co_await lanes::gather(ok, bad);
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    EXPECT_EQ(caught, "already failed");
  };
  lanes::run(body());
}

TEST(GatherSettled, ReturnsEveryOutcome) {
  auto body = []() -> lanes::Task<void> {
    auto cancelled = lanes::create_task(value_after_yields(5, 0));
    cancelled.cancel();
    auto [ok, failed, none, gone] = co_await lanes::gather_settled(
        value_after_yields(1, 7), fail_after_yields(2, "bad"), nothing_after_yields(3), cancelled);
    EXPECT_TRUE(ok.has_value());
    EXPECT_EQ(ok.value(), 7);
    EXPECT_FALSE(failed.has_value());
    EXPECT_THROW(failed.value(), std::runtime_error);
    EXPECT_NE(failed.exception(), nullptr);
    EXPECT_TRUE(none.has_value());
    EXPECT_TRUE(gone.cancelled());
    EXPECT_THROW(gone.value(), lanes::CancelledError);

    std::vector<lanes::Task<int>> tasks;
    for (int i = 0; i < 10; ++i)
      tasks.push_back(i % 2 ? fail_after_yields(i, "odd") : value_after_yields(i, i));
    auto outcomes = co_await lanes::gather_settled(std::move(tasks));
    EXPECT_EQ(outcomes.size(), 10u);
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(outcomes[i].has_value(), i % 2 == 0) << i;
      if (i % 2 == 0) {
        EXPECT_EQ(outcomes[i].value(), i);
      }
    }
  };
  lanes::run(body());
}

TEST(Gather, CancellingTheGatheringTaskCancelsTheChildren) {
  auto body = []() -> lanes::Task<void> {
    auto a = lanes::create_task(sleep_forever());
    auto b = lanes::create_task(sleep_forever());
    auto gathering = lanes::create_task(lanes::gather(a, b));
    auto settled = lanes::create_task(lanes::gather_settled(sleep_forever()));
    co_await lanes::sleep(0s);
    EXPECT_FALSE(gathering.done());
    EXPECT_TRUE(gathering.cancel());
    EXPECT_TRUE(settled.cancel());
    bool raised = false;
    try {
      co_await gathering;
    } catch (const lanes::CancelledError&) {
      raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.cancelled());
    try {
      co_await settled;
    } catch (const lanes::CancelledError&) {
    }
    EXPECT_TRUE(settled.cancelled());
  };
  lanes::run(body());
}

class GatherAcrossThreads : public ::testing::TestWithParam<int> {};

TEST_P(GatherAcrossThreads, FuturesCompletedOnOtherThreads) {
  const int threads = GetParam();
  auto body = [threads]() -> lanes::Task<void> {
    constexpr int n = 2'000;
    std::vector<lanes::Future<int>> futures;
    for (int i = 0; i < n; ++i) futures.push_back(lanes::create_future<int>());
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&futures, t, threads] {
        for (int i = t; i < n; i += threads) futures[i].set_result(i);
      });
    }
    std::vector<int> values = co_await lanes::gather(futures);
    auto settled = co_await lanes::gather_settled(futures);
    for (auto& w : workers) w.join();
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(values[i], i);
      EXPECT_EQ(settled[i].value(), i);
    }
  };
  lanes::run(body());
}

INSTANTIATE_TEST_SUITE_P(Workers, GatherAcrossThreads, ::testing::Values(1, 2, 4));

// ---- shield ---------------------------------------------------------------------

TEST(Shield, InnerKeepsRunningWhenTheOuterAwaitIsCancelled) {
  auto body = []() -> lanes::Task<void> {
    auto gate = lanes::create_future<int>();
    auto inner = lanes::create_task([](lanes::Future<int> g) -> lanes::Task<int> {
      co_return co_await g + 1;
    }(gate));
    bool outer_saw_cancel = false;
    auto outer = lanes::create_task([](lanes::Future<int> in, bool* saw) -> lanes::Task<int> {
      try {
        co_return co_await lanes::shield(in);
      } catch (const lanes::CancelledError&) {
        *saw = true;
        throw;
      }
    }(inner, &outer_saw_cancel));
    co_await lanes::sleep(0s);
    EXPECT_TRUE(outer.cancel());
    try {
      co_await outer;
    } catch (const lanes::CancelledError&) {
    }
    EXPECT_TRUE(outer.cancelled());
    EXPECT_TRUE(outer_saw_cancel);
    EXPECT_FALSE(inner.done());
    EXPECT_FALSE(gate.done());
    gate.set_result(41);
    EXPECT_EQ(co_await inner, 42);
    // Not cancelled: shield also passes a value through.
    EXPECT_EQ(co_await lanes::shield(value_after_yields(2, 5)), 5);
  };
  lanes::run(body());
}

// ---- wait_for and timeouts --------------------------------------------------------

TEST(WaitFor, ReturnsTheValueWhenInTime) {
  auto body = []() -> lanes::Task<void> {
    EXPECT_EQ(co_await lanes::wait_for(value_after_yields(3, 9), 1h), 9);
    auto f = lanes::create_task(value_after_yields(2, 4));
    EXPECT_EQ(co_await lanes::wait_for(f, 1h), 4);
    co_await lanes::wait_for(nothing_after_yields(1), 1h);
    EXPECT_EQ(lanes::detail::current_task()->cancelling(), 0u);
  };
  lanes::run(body());
}

// The inner work logs its cleanup, which itself suspends: TimeoutError must come after.
lanes::Task<int> slow_with_cleanup(std::vector<std::string>* log) {
  bool cancelled = false;
  try {
    co_await lanes::sleep(1h);
  } catch (const lanes::CancelledError&) {
    cancelled = true;
  }
  if (cancelled) {
    log->push_back("inner cancelled");
    co_await lanes::sleep(0s);
    co_await lanes::sleep(0s);
    log->push_back("inner cleanup done");
    throw lanes::CancelledError();
  }
  co_return 1;
}

TEST(WaitFor, OnTimeoutCancelsTheInnerWaitsForItThenThrowsTimeoutError) {
  auto body = []() -> lanes::Task<void> {
    std::vector<std::string> log;
    try {
      co_await lanes::wait_for(slow_with_cleanup(&log), 2ms);
    } catch (const lanes::TimeoutError&) {
      log.push_back("timeout");
    }
    EXPECT_EQ(log, (std::vector<std::string>{"inner cancelled", "inner cleanup done", "timeout"}));

    log.clear();
    auto f = lanes::create_task(slow_with_cleanup(&log));
    try {
      co_await lanes::wait_for(f, 2ms);
    } catch (const lanes::TimeoutError&) {
      log.push_back("timeout");
      EXPECT_TRUE(f.cancelled());  // already ended when the error arrives
    }
    EXPECT_EQ(log, (std::vector<std::string>{"inner cancelled", "inner cleanup done", "timeout"}));
    EXPECT_EQ(lanes::detail::current_task()->cancelling(), 0u);
  };
  lanes::run(body());
}

TEST(WaitFor, OnAFutureThatCannotBeCancelledThrowsTimeoutErrorAtTheDeadline) {
  auto body = []() -> lanes::Task<void> {
    // A job already running elsewhere refuses cancel(), as a started pool job does.
    // As asyncio does with a wrapped concurrent future, the waiter stops waiting at
    // the deadline; the job goes on and ends later.
    auto running = lanes::create_future<int>();
    EXPECT_TRUE(running.raw_state()->set_running());
    EXPECT_FALSE(running.cancel());
    bool timed_out = false;
    try {
      co_await lanes::wait_for(running, 1ms);
    } catch (const lanes::TimeoutError&) {
      timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_FALSE(running.done());
    running.set_result(1);
    EXPECT_EQ(co_await running, 1);
  };
  lanes::run(body());
}

TEST(WaitFor, TakesALeafAwaiterSuchAsSleep) {
  auto body = []() -> lanes::Task<void> {
    bool timed_out = false;
    try {
      co_await lanes::wait_for(lanes::sleep(1h), 1ms);
    } catch (const lanes::TimeoutError&) {
      timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    co_await lanes::wait_for(lanes::sleep(0s), 1h);
    co_await lanes::timeout(1h, lanes::sleep(1ms));
    timed_out = false;
    try {
      co_await lanes::timeout(1ms, lanes::sleep(1h));
    } catch (const lanes::TimeoutError&) {
      timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(lanes::detail::current_task()->cancelling(), 0u);
  };
  lanes::run(body());
}

TEST(WaitFor, InnerThatSwallowsTheCancellationGivesItsValue) {
  auto body = []() -> lanes::Task<void> {
    auto stubborn = []() -> lanes::Task<int> {
      try {
        co_await lanes::sleep(1h);
      } catch (const lanes::CancelledError&) {
        co_return 7;  // Python 3.12 returns this value from wait_for
      }
      co_return 0;
    };
    EXPECT_EQ(co_await lanes::wait_for(stubborn(), 1ms), 7);
    EXPECT_EQ(lanes::detail::current_task()->cancelling(), 0u);
  };
  lanes::run(body());
}

TEST(WaitFor, CancellingTheOuterTaskCancelsTheInnerAndIsNoTimeout) {
  auto body = []() -> lanes::Task<void> {
    std::vector<std::string> log;
    auto outer = lanes::create_task(lanes::wait_for(slow_with_cleanup(&log), 1h));
    co_await lanes::sleep(0s);
    EXPECT_TRUE(outer.cancel());
    bool cancelled = false;
    try {
      co_await outer;
    } catch (const lanes::CancelledError&) {
      cancelled = true;
    } catch (const lanes::TimeoutError&) {
      ADD_FAILURE() << "an outside cancellation became a TimeoutError";
    }
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(log, (std::vector<std::string>{"inner cancelled", "inner cleanup done"}));
  };
  lanes::run(body());
}

TEST(Timeout, ExpressionFormThrowsTimeoutErrorOrGivesTheValue) {
  auto body = []() -> lanes::Task<void> {
    bool timed_out = false;
    try {
      co_await lanes::timeout(1ms, []() -> lanes::Task<void> { co_await lanes::sleep(1h); });
    } catch (const lanes::TimeoutError&) {
      timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    int base = 40;
    int v = co_await lanes::timeout(1h, [&]() -> lanes::Task<int> {
      co_await lanes::sleep(0s);
      co_return base + 2;
    });
    EXPECT_EQ(v, 42);
    auto at = std::chrono::steady_clock::now() + 1ms;
    timed_out = false;
    try {
      co_await lanes::timeout_at(at, sleep_forever());
    } catch (const lanes::TimeoutError&) {
      timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(lanes::detail::current_task()->cancelling(), 0u);
  };
  lanes::run(body());
}

TEST(Timeout, ScopeObjectConvertsItsOwnCancellationOnly) {
  auto body = []() -> lanes::Task<void> {
    bool timed_out = false;
    try {
      lanes::Timeout scope(1ms);
      try {
        co_await lanes::sleep(1h);
      } catch (const lanes::CancelledError&) {
        EXPECT_TRUE(scope.expired());
        scope.check();
        throw;
      }
    } catch (const lanes::TimeoutError&) {
      timed_out = true;
    }
    EXPECT_TRUE(timed_out);

    {
      lanes::Timeout scope(1h);
      scope.reschedule(std::chrono::steady_clock::time_point::max());
      co_await lanes::sleep(1ms);
      EXPECT_FALSE(scope.expired());
    }

    // A cancellation from outside stays a CancelledError.
    auto victim = lanes::create_task([]() -> lanes::Task<bool> {
      lanes::Timeout scope(1h);
      try {
        co_await lanes::sleep(1h);
      } catch (const lanes::CancelledError&) {
        scope.check();  // not ours: returns
        co_return true;
      }
      co_return false;
    }());
    co_await lanes::sleep(0s);
    victim.cancel();
    EXPECT_TRUE(co_await victim);
    EXPECT_EQ(lanes::detail::current_task()->cancelling(), 0u);
  };
  lanes::run(body());
}

// ---- wait ------------------------------------------------------------------------

TEST(Wait, FirstCompletedReturnsAsSoonAsOneIsDone) {
  auto body = []() -> lanes::Task<void> {
    auto a = lanes::create_future<int>();
    auto b = lanes::create_future<int>();
    auto setter = lanes::create_task(complete_later(a, 2, 1));
    auto [done, pending] = co_await lanes::wait(list(a, b), lanes::FIRST_COMPLETED);
    EXPECT_EQ(done.size(), 1u);
    EXPECT_EQ(pending.size(), 1u);
    EXPECT_TRUE(same(done[0], a));
    EXPECT_TRUE(same(pending[0], b));
    EXPECT_FALSE(b.done());  // nothing is cancelled
    co_await setter;
  };
  lanes::run(body());
}

TEST(Wait, FirstExceptionIgnoresCancellationAndValues) {
  auto body = []() -> lanes::Task<void> {
    auto value = lanes::create_future<int>();
    auto cancelled = lanes::create_future<int>();
    auto failing = lanes::create_future<int>();
    auto never = lanes::create_future<int>();
    auto script = lanes::create_task([](lanes::Future<int> v, lanes::Future<int> c,
                                        lanes::Future<int> f) -> lanes::Task<void> {
      co_await lanes::sleep(0s);
      v.set_result(1);
      co_await lanes::sleep(0s);
      c.cancel();
      co_await lanes::sleep(0s);
      f.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
    }(value, cancelled, failing));
    auto result = co_await lanes::wait(list(value, cancelled, failing, never),
                                       lanes::FIRST_EXCEPTION);
    EXPECT_EQ(result.done.size(), 3u);
    EXPECT_EQ(result.pending.size(), 1u);
    EXPECT_TRUE(same(result.pending[0], never));
    EXPECT_THROW(failing.result(), std::runtime_error);  // still there to retrieve
    co_await script;
  };
  lanes::run(body());
}

TEST(Wait, AllCompletedWaitsForEveryFuture) {
  auto body = []() -> lanes::Task<void> {
    std::vector<lanes::Future<int>> futures;
    for (int i = 0; i < 5; ++i) futures.push_back(lanes::create_task(value_after_yields(5 - i, i)));
    futures.push_back(lanes::create_task(fail_after_yields(2, "counted as done")));
    auto [done, pending] = co_await lanes::wait(futures);
    EXPECT_EQ(done.size(), 6u);
    EXPECT_TRUE(pending.empty());
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(same(done[i], futures[i]));
    EXPECT_THROW(futures[5].result(), std::runtime_error);
    auto empty = co_await lanes::wait(std::vector<lanes::Future<int>>{}, lanes::FIRST_COMPLETED);
    EXPECT_TRUE(empty.done.empty() && empty.pending.empty());
  };
  lanes::run(body());
}

TEST(Wait, TimeoutReturnsWhatIsDoneAndCancelsNothing) {
  auto body = []() -> lanes::Task<void> {
    auto quick = lanes::create_task(value_after_yields(1, 1));
    auto never = lanes::create_future<int>();
    auto [done, pending] = co_await lanes::wait(list(quick, never), lanes::ALL_COMPLETED, 2ms);
    EXPECT_EQ(done.size(), 1u);
    EXPECT_EQ(pending.size(), 1u);
    EXPECT_TRUE(same(pending[0], never));
    EXPECT_FALSE(never.done());
    auto again = co_await lanes::wait(list(never), 0s);
    EXPECT_EQ(again.pending.size(), 1u);
  };
  lanes::run(body());
}

TEST(Wait, CancellingTheWaitingTaskLeavesTheFuturesAlone) {
  auto body = []() -> lanes::Task<void> {
    auto never = lanes::create_future<int>();
    auto waiter = lanes::create_task(
        [](lanes::Future<int> f) -> lanes::Task<void> {
          co_await lanes::wait(list(f), lanes::FIRST_COMPLETED, 1h);
        }(never));
    co_await lanes::sleep(0s);
    EXPECT_TRUE(waiter.cancel());
    try {
      co_await waiter;
    } catch (const lanes::CancelledError&) {
    }
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_FALSE(never.done());
    never.set_result(3);  // no stale callback may run into the finished waiter
    EXPECT_EQ(co_await never, 3);
  };
  lanes::run(body());
}

// ---- as_completed ------------------------------------------------------------------

TEST(AsCompleted, YieldsInCompletionOrder) {
  auto body = []() -> lanes::Task<void> {
    auto a = lanes::create_future<int>();
    auto b = lanes::create_future<int>();
    auto c = lanes::create_future<int>();
    auto done_first = lanes::create_future<int>();
    done_first.set_result(0);
    auto s1 = lanes::create_task(complete_later(c, 1, 3));
    auto s2 = lanes::create_task(complete_later(a, 2, 1));
    auto s3 = lanes::create_task(complete_later(b, 3, 2));
    auto stream = lanes::as_completed(list(a, b, c, done_first));
    std::vector<int> order;
    while (stream.has_next()) {
      lanes::Future<int> f = co_await stream.next();
      EXPECT_TRUE(f.done());
      order.push_back(co_await f);
    }
    EXPECT_EQ(order, (std::vector<int>{0, 3, 1, 2}));
    EXPECT_THROW((void)stream.next(), lanes::InvalidStateError);
    co_await s1;
    co_await s2;
    co_await s3;
  };
  lanes::run(body());
}

TEST(AsCompleted, TimeoutErrorOnceTheDeadlinePasses) {
  auto body = []() -> lanes::Task<void> {
    auto quick = lanes::create_task(value_after_yields(1, 5));
    auto never = lanes::create_future<int>();
    auto stream = lanes::as_completed(list(never, quick), 2ms);
    EXPECT_EQ(co_await co_await stream.next(), 5);
    bool timed_out = false;
    try {
      co_await stream.next();
    } catch (const lanes::TimeoutError&) {
      timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_FALSE(never.done());
    EXPECT_EQ(stream.remaining(), 1u);
  };
  lanes::run(body());
}

class AsCompletedAcrossThreads : public ::testing::TestWithParam<int> {};

TEST_P(AsCompletedAcrossThreads, EveryFutureOnceWhateverThreadCompletesIt) {
  const int threads = GetParam();
  auto body = [threads]() -> lanes::Task<void> {
    constexpr int n = 1'000;
    std::vector<lanes::Future<int>> futures;
    for (int i = 0; i < n; ++i) futures.push_back(lanes::create_future<int>());
    auto stream = lanes::as_completed(futures);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&futures, t, threads] {
        for (int i = t; i < n; i += threads) futures[i].set_result(i);
      });
    }
    std::vector<int> seen(n, 0);
    while (stream.has_next()) ++seen[co_await co_await stream.next()];
    auto first = co_await lanes::wait(futures, lanes::FIRST_COMPLETED);
    EXPECT_FALSE(first.done.empty());
    for (auto& w : workers) w.join();
    for (int i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1) << i;
  };
  lanes::run(body());
}

INSTANTIATE_TEST_SUITE_P(Workers, AsCompletedAcrossThreads, ::testing::Values(1, 2, 4));

}  // namespace
