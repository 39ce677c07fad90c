// MultiWait, the engine of gather and wait: a future's callback list ending in one
// tagged terminal (the block), the same future in several waits at once (a heap node
// for all but one), the first failure rethrown, waiters that leave before futures
// completed on pool threads, and cross-thread completion racing timeouts.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <latch>
#include <lanes/combinators.hpp>
#include <lanes/loop.hpp>
#include <lanes/thread_pool.hpp>
#include <lanes/time.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "pool_test_support.hpp"

using namespace std::chrono_literals;

namespace {

// Builds the list outside the coroutine: g++ 12 cannot put an initializer_list's
// array in a coroutine frame.
template <class T, class... More>
std::vector<lanes::Future<T>> list(lanes::Future<T> first, More... more) {
  return {first, more...};
}

lanes::Task<lanes::WaitResult<int>> wait_first(std::vector<lanes::Future<int>> fs,
                                               std::chrono::hours timeout) {
  co_return co_await lanes::wait(std::move(fs), lanes::FIRST_COMPLETED, timeout);
}

// Builds an expected vector outside a coroutine (the same g++ 12 limit).
template <class... Ints>
std::vector<int> ints(Ints... values) {
  return {values...};
}

std::string error_text(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  }
}

// ---- the terminal on a bare state (no loop) ------------------------------------------

struct CountingTerminal : lanes::detail::DoneTerminal {
  std::vector<int>* order;
  int runs = 0;
  int discards = 0;
  explicit CountingTerminal(std::vector<int>* o) : order(o) {
    invoke = [](lanes::detail::DoneTerminal* self, lanes::detail::FutureStateBase&) noexcept {
      auto* t = static_cast<CountingTerminal*>(self);
      ++t->runs;
      if (t->order) t->order->push_back(0);
    };
    discard = [](lanes::detail::DoneTerminal* self) noexcept {
      ++static_cast<CountingTerminal*>(self)->discards;
    };
  }
};

std::vector<int>* g_order = nullptr;
void record_one(lanes::Future<int>) { g_order->push_back(1); }
void record_two(lanes::Future<int>) { g_order->push_back(2); }

TEST(MultiWaitTerminal, RunsOnceAfterTheNodesWhateverTheirOrder) {
  std::vector<int> order;
  g_order = &order;
  auto f = lanes::create_future<int>();
  CountingTerminal t(&order);
  CountingTerminal other(&order);
  f.add_done_callback(&record_one);  // before the terminal
  EXPECT_EQ(f.raw_state()->add_terminal(&t), lanes::detail::TerminalAdded::listed);
  EXPECT_EQ(f.raw_state()->add_terminal(&other), lanes::detail::TerminalAdded::taken);
  EXPECT_EQ(f.raw_state()->add_terminal(&t), lanes::detail::TerminalAdded::taken);
  f.add_done_callback(&record_two);  // after it: still goes before it
  f.set_result(7);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 0}));
  EXPECT_EQ(t.runs, 1);
  EXPECT_EQ(other.runs, 0);
  EXPECT_EQ(f.raw_state()->add_terminal(&other), lanes::detail::TerminalAdded::done);
  EXPECT_FALSE(f.raw_state()->remove_terminal(&t));  // it ran
  g_order = nullptr;
}

TEST(MultiWaitTerminal, RemovalOfNodesKeepsItAndDestructionDiscardsIt) {
  std::vector<int> order;
  g_order = &order;
  CountingTerminal t(nullptr);
  {
    auto f = lanes::create_future<int>();
    f.add_done_callback(&record_one);
    ASSERT_EQ(f.raw_state()->add_terminal(&t), lanes::detail::TerminalAdded::listed);
    f.add_done_callback(&record_two);
    f.add_done_callback(&record_one);
    EXPECT_EQ(f.remove_done_callback(&record_one), 2u);
    EXPECT_EQ(f.remove_done_callback(&record_two), 1u);
    CountingTerminal other(nullptr);
    EXPECT_FALSE(f.raw_state()->remove_terminal(&other));  // not this state's terminal
  }  // destroyed undone, the terminal still listed
  EXPECT_EQ(t.discards, 1);
  EXPECT_EQ(t.runs, 0);
  {
    auto f = lanes::create_future<int>();
    ASSERT_EQ(f.raw_state()->add_terminal(&t), lanes::detail::TerminalAdded::listed);
    f.add_done_callback(&record_two);
    EXPECT_TRUE(f.raw_state()->remove_terminal(&t));
    EXPECT_FALSE(f.raw_state()->remove_terminal(&t));
  }  // the node is freed, the terminal is gone
  EXPECT_EQ(t.discards, 1);
  EXPECT_TRUE(order.empty());
  g_order = nullptr;
}

// ---- the same future in several waits --------------------------------------------

TEST(MultiWait, SameFuturesInThreeGathersAtOnceAndTwiceInOne) {
  auto body = []() -> lanes::Task<void> {
    std::vector<lanes::Future<int>> fs;
    for (int i = 0; i < 4; ++i) fs.push_back(lanes::create_future<int>());
    auto first = lanes::create_task(lanes::gather(fs));
    auto second = lanes::create_task(lanes::gather(fs));
    auto twice = lanes::create_task(lanes::gather(fs[0], fs[1], fs[0], fs[1], fs[0]));
    auto settled = lanes::create_task(lanes::gather_settled(list(fs[2], fs[2])));
    co_await lanes::sleep(0s);  // every gather is listed now
    for (int i = 0; i < 4; ++i) fs[i].set_result(i * 10);
    EXPECT_EQ(co_await first, ints(0, 10, 20, 30));
    EXPECT_EQ(co_await second, ints(0, 10, 20, 30));
    EXPECT_EQ(co_await twice, std::make_tuple(0, 10, 0, 10, 0));
    auto outcomes = co_await settled;
    EXPECT_EQ(outcomes[0].value(), 20);
    EXPECT_EQ(outcomes[1].value(), 20);
  };
  lanes::run(body());
}

TEST(MultiWait, GatherNextToAPlainAwaitAndDoneCallbacks) {
  auto body = []() -> lanes::Task<void> {
    auto f = lanes::create_future<int>();
    auto g = lanes::create_future<int>();
    int calls = 0;
    f.add_done_callback([&calls](lanes::Future<int> done) { calls += done.result(); });
    auto gathering = lanes::create_task(lanes::gather(list(f, g)));
    auto awaiting = lanes::create_task([](lanes::Future<int> x) -> lanes::Task<int> {
      co_return co_await x + 1;
    }(f));
    auto waiting = lanes::create_task(wait_first(list(f, g), 1h));
    co_await lanes::sleep(0s);
    f.add_done_callback([&calls](lanes::Future<int> done) { calls += 10 * done.result(); });
    f.set_result(2);
    auto [done, pending] = co_await waiting;
    EXPECT_EQ(done.size(), 1u);
    EXPECT_EQ(pending.size(), 1u);
    EXPECT_EQ(co_await awaiting, 3);
    EXPECT_FALSE(gathering.done());
    g.set_result(5);
    EXPECT_EQ(co_await gathering, ints(2, 5));
    EXPECT_EQ(calls, 22);
  };
  lanes::run(body());
}

// ---- the first failure -------------------------------------------------------------

TEST(MultiWait, GatherRethrowsTheFirstFailureSeenWhereverItsSlotIs) {
  auto body = []() -> lanes::Task<void> {
    auto a = lanes::create_future<int>();
    auto b = lanes::create_future<int>();
    auto c = lanes::create_future<int>();
    auto one = lanes::create_task(lanes::gather(list(a, b, c)));
    // `one` holds the terminals: every slot of these two is a node.
    auto dup = lanes::create_task(lanes::gather(list(c, b, a, b)));
    auto tuple = lanes::create_task(lanes::gather(a, b, c));
    co_await lanes::sleep(0s);
    b.set_exception(std::make_exception_ptr(std::runtime_error("b")));
    a.set_exception(std::make_exception_ptr(std::runtime_error("a")));
    c.set_result(3);
    try {
      (void)co_await one;
      ADD_FAILURE() << "gather did not throw";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "b");
    }
    try {
      (void)co_await dup;
      ADD_FAILURE() << "gather did not throw";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "b");
    }
    try {
      (void)co_await tuple;
      ADD_FAILURE() << "gather did not throw";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "b");
    }
    EXPECT_THROW(a.result(), std::runtime_error);  // retrieved: nothing reported
  };
  lanes::run(body());
}

TEST(MultiWait, GatherRethrowsTheCancellationOfTheFirstChildToFail) {
  auto body = []() -> lanes::Task<void> {
    auto a = lanes::create_future<int>();
    auto c = lanes::create_future<int>();
    auto cancelled_first = lanes::create_task(lanes::gather(list(a, c, c)));
    co_await lanes::sleep(0s);
    c.cancel();
    a.set_exception(std::make_exception_ptr(std::runtime_error("later")));
    EXPECT_THROW((void)co_await cancelled_first, lanes::CancelledError);
    EXPECT_THROW(a.result(), std::runtime_error);
    auto d = lanes::create_future<int>();
    auto e = lanes::create_future<int>();
    auto failed_first = lanes::create_task(lanes::gather(list(e, d, d)));
    co_await lanes::sleep(0s);
    d.set_exception(std::make_exception_ptr(std::runtime_error("first")));
    e.cancel();
    try {
      (void)co_await failed_first;
      ADD_FAILURE() << "gather did not throw";
    } catch (const std::runtime_error& err) {
      EXPECT_STREQ(err.what(), "first");
    }
  };
  lanes::run(body());
}

// ---- waiters leaving before pool futures complete ------------------------------------

class MultiWaitPool : public lanes_test::WorkerCountTest {};

TEST_P(MultiWaitPool, WaitersLeaveThenPoolThreadsCompleteTheFutures) {
  lanes::ThreadPoolExecutor pool(workers());
  std::latch gate{1};
  auto body = [&]() -> lanes::Task<void> {
    std::vector<lanes::Future<int>> blocked;
    // More jobs than workers: some run (blocked on the gate), the others are queued.
    for (std::size_t i = 0; i < 2 * workers() + 1; ++i)
      blocked.push_back(pool.submit([&gate, i] {
        gate.wait();
        return static_cast<int>(i);
      }));
    auto ready = lanes::create_future<int>();
    ready.set_result(-1);
    auto all = blocked;
    all.push_back(ready);
    all.push_back(blocked[0]);  // twice in one wait: a node for the second
    auto first = co_await lanes::wait(all, lanes::FIRST_COMPLETED);
    EXPECT_EQ(first.done.size(), 1u);
    auto timed = co_await lanes::wait(all, lanes::ALL_COMPLETED, 1ms);
    EXPECT_EQ(timed.pending.size(), blocked.size() + 1);
    EXPECT_THROW((void)co_await lanes::wait_for(lanes::gather(blocked), 1ms), lanes::TimeoutError);
    // The waiters left; open the gate: the pool threads complete what is listed.
    gate.count_down();
    auto outcomes = co_await lanes::gather_settled(blocked);
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i].has_value()) {
        EXPECT_EQ(outcomes[i].value(), static_cast<int>(i));
      } else {
        EXPECT_TRUE(outcomes[i].cancelled());  // queued, cancelled by wait_for
      }
    }
  };
  lanes::run(body());
  pool.shutdown();
}

TEST_P(MultiWaitPool, FutureDestroyedUndoneAfterItsWaitersLeft) {
  lanes::ThreadPoolExecutor pool(workers());
  std::latch gate{1};
  auto body = [&]() -> lanes::Task<void> {
    {
      auto never = lanes::create_future<int>();
      auto timed = co_await lanes::wait(list(never, never), lanes::ALL_COMPLETED, 1ms);
      EXPECT_EQ(timed.pending.size(), 2u);
      auto other = lanes::create_task(wait_first(list(never), 1h));
      co_await lanes::sleep(0s);
      other.cancel();  // wait detaches at once
      EXPECT_THROW(co_await other, lanes::CancelledError);
    }  // `never` is destroyed undone
    auto job = pool.submit([&gate] {
      gate.wait();
      return 1;
    });
    auto timed = co_await lanes::wait(list(job, job), 1ms);
    EXPECT_EQ(timed.pending.size(), 2u);
    gate.count_down();
    EXPECT_EQ(co_await job, 1);
  };
  lanes::run(body());
  pool.shutdown();
}

// ---- completions on pool threads racing waits with timeouts --------------------------

lanes::Task<void> race_rounds(lanes::ThreadPoolExecutor& pool, int rounds) {
  constexpr int kJobs = 8;
  for (int round = 0; round < rounds; ++round) {
    std::vector<lanes::Future<int>> fs;
    for (int i = 0; i < kJobs; ++i) {
      fs.push_back(pool.submit([i]() -> int {
        if (i % 4 == 3) throw std::runtime_error("job " + std::to_string(i));
        return i;
      }));
    }
    auto again = fs[static_cast<std::size_t>(round % kJobs)];
    fs.push_back(again);  // one future twice
    auto gathering = lanes::create_task(lanes::gather(fs));
    auto timed_gather = lanes::create_task(lanes::wait_for(lanes::gather(fs), 20us));
    auto first = co_await lanes::wait(fs, lanes::FIRST_COMPLETED, 50us);
    EXPECT_EQ(first.done.size() + first.pending.size(), fs.size());
    auto timed = co_await lanes::wait(fs, lanes::ALL_COMPLETED, 10us);
    EXPECT_EQ(timed.done.size() + timed.pending.size(), fs.size());
    try {
      (void)co_await timed_gather;
    } catch (const lanes::TimeoutError&) {
    } catch (const lanes::CancelledError&) {  // a queued job the timeout cancelled
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("job ", 0), 0u) << e.what();
    }
    try {
      (void)co_await gathering;
    } catch (const lanes::CancelledError&) {
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("job ", 0), 0u) << e.what();
    }
    auto outcomes = co_await lanes::gather_settled(fs);
    for (int i = 0; i < kJobs; ++i) {
      const auto& o = outcomes[static_cast<std::size_t>(i)];
      if (o.has_value()) {
        EXPECT_EQ(o.value(), i);
      } else if (!o.cancelled()) {
        EXPECT_EQ(error_text(o.exception()), "job " + std::to_string(i));
      }
    }
  }
}

TEST_P(MultiWaitPool, CompletionsOnPoolThreadsRaceWaitsWithTimeouts) {
  lanes::ThreadPoolExecutor pool(workers());
  lanes::run(race_rounds(pool, 300 / lanes_test::kScale));
  pool.shutdown();
}

INSTANTIATE_TEST_SUITE_P(Workers, MultiWaitPool, ::testing::Values(1, 2, 4),
                         lanes_test::worker_count_name);

}  // namespace
