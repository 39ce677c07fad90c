// Queue, PriorityQueue, LifoQueue: asyncio's semantics (Python 3.13, shutdown
// included), back-pressure, cancellation that loses no item, and one queue shared
// by plain threads and tasks. Tasks are interleaved with sleep(0s), threads with
// the queue itself; no timed sleep is used to synchronize.
#include <gtest/gtest.h>

#include <lanes/lanes.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

lanes::Task<void> yield_many(int n = 5) {
  for (int i = 0; i < n; ++i) co_await lanes::sleep(0s);
}

// ---- order -------------------------------------------------------------------------

lanes::Task<void> fifo_order() {
  lanes::Queue<int> q;
  for (int i = 0; i < 10; ++i) co_await q.put(i);
  EXPECT_EQ(q.qsize(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(co_await q.get(), i);
  EXPECT_TRUE(q.empty());
}

TEST(Queue, FifoOrder) { lanes::run(fifo_order()); }

TEST(Queue, PriorityQueueAndLifoQueueOrder) {
  lanes::PriorityQueue<int> pq;
  for (int x : {5, 1, 4, 2, 3, 1}) pq.put_nowait(x);
  std::vector<int> got;
  while (!pq.empty()) got.push_back(pq.get_nowait());
  EXPECT_EQ(got, (std::vector<int>{1, 1, 2, 3, 4, 5}));  // smallest first, as heapq

  lanes::PriorityQueue<int, std::greater<int>> largest_first;
  for (int x : {2, 9, 4}) largest_first.put_nowait(x);
  EXPECT_EQ(largest_first.get_nowait(), 9);

  lanes::LifoQueue<std::string> lifo;
  for (const char* s : {"a", "b", "c"}) lifo.put_nowait(s);
  std::string order;
  while (!lifo.empty()) order += lifo.get_nowait();
  EXPECT_EQ(order, "cba");
}

lanes::Task<void> move_only_items() {
  lanes::Queue<std::unique_ptr<int>> q(1);
  co_await q.put(std::make_unique<int>(7));
  auto p = std::make_unique<int>(8);
  EXPECT_THROW(q.put_nowait(std::move(p)), lanes::QueueFull);
  EXPECT_NE(p, nullptr);  // refused items are left untouched
  if (!p) co_return;
  auto got = co_await q.get();
  EXPECT_EQ(*got, 7);
  q.put_nowait(std::move(p));
  EXPECT_EQ(*q.get_nowait(), 8);
}

TEST(Queue, MoveOnlyItems) { lanes::run(move_only_items()); }

// ---- nowait, back-pressure -------------------------------------------------------

TEST(Queue, PutNowaitFullAndGetNowaitEmpty) {
  lanes::Queue<int> q(2);
  EXPECT_EQ(q.maxsize(), 2u);
  EXPECT_THROW(q.get_nowait(), lanes::QueueEmpty);
  q.put_nowait(1);
  q.put_nowait(2);
  EXPECT_TRUE(q.full());
  EXPECT_THROW(q.put_nowait(3), lanes::QueueFull);
  EXPECT_EQ(q.get_nowait(), 1);
  EXPECT_FALSE(q.full());
  lanes::Queue<int> unbounded;
  for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
  EXPECT_FALSE(unbounded.full());
}

lanes::Task<void> producer(lanes::Queue<int>& q, int n, int& put_count) {
  for (int i = 0; i < n; ++i) {
    co_await q.put(i);
    ++put_count;
  }
}

lanes::Task<void> back_pressure(std::size_t maxsize) {
  lanes::Queue<int> q(maxsize);
  int put_count = 0;
  const int total = static_cast<int>(maxsize) + 3;
  auto p = lanes::create_task(producer(q, total, put_count));
  co_await yield_many();
  EXPECT_EQ(put_count, static_cast<int>(maxsize));  // blocked at maxsize
  EXPECT_TRUE(q.full());
  for (int taken = 1; taken <= 3; ++taken) {
    EXPECT_EQ(co_await q.get(), taken - 1);
    co_await yield_many();
    EXPECT_EQ(put_count, static_cast<int>(maxsize) + taken);  // one slot, one more put
  }
  co_await p;
  EXPECT_EQ(q.qsize(), maxsize);
}

TEST(Queue, MaxsizeBackPressure) {
  for (std::size_t maxsize : {1u, 2u, 5u}) lanes::run(back_pressure(maxsize));
}

// ---- task_done / join ----------------------------------------------------------------

lanes::Task<void> joiner(lanes::Queue<int>& q, bool& joined) {
  co_await q.join();
  joined = true;
}

lanes::Task<void> join_after_task_done() {
  lanes::Queue<int> q;
  bool joined = false;
  co_await q.join();  // nothing pending: returns at once
  for (int i = 0; i < 3; ++i) q.put_nowait(i);
  auto j = lanes::create_task(joiner(q, joined));
  for (int i = 0; i < 3; ++i) {
    co_await q.get();
    co_await yield_many();
    EXPECT_FALSE(joined) << "after get " << i;
    q.task_done();
    co_await yield_many();
    EXPECT_EQ(joined, i == 2) << "after task_done " << i;
  }
  co_await j;
}

TEST(Queue, JoinReturnsAfterEveryTaskDone) { lanes::run(join_after_task_done()); }

TEST(Queue, TaskDoneTooManyTimesThrowsValueError) {
  lanes::Queue<int> q;
  EXPECT_THROW(q.task_done(), lanes::ValueError);
  q.put_nowait(1);
  q.get_nowait();
  q.task_done();
  EXPECT_THROW(q.task_done(), lanes::ValueError);
}

// ---- shutdown --------------------------------------------------------------------

lanes::Task<void> expect_get_shut_down(lanes::Queue<int>& q, int& raised) {
  try {
    co_await q.get();
  } catch (const lanes::QueueShutDown&) {
    ++raised;
  }
}

lanes::Task<void> expect_put_shut_down(lanes::Queue<int>& q, int& raised) {
  try {
    co_await q.put(99);
  } catch (const lanes::QueueShutDown&) {
    ++raised;
  }
}

lanes::Task<void> shutdown_drains_then_raises() {
  lanes::Queue<int> waiting_q;
  int raised = 0;
  auto g1 = lanes::create_task(expect_get_shut_down(waiting_q, raised));
  auto g2 = lanes::create_task(expect_get_shut_down(waiting_q, raised));
  co_await yield_many();
  waiting_q.shutdown();  // wakes the blocked getters
  co_await g1;
  co_await g2;
  EXPECT_EQ(raised, 2);

  lanes::Queue<int> q(2);
  q.put_nowait(1);
  q.put_nowait(2);
  auto blocked_put = lanes::create_task(expect_put_shut_down(q, raised));
  co_await yield_many();
  q.shutdown();
  co_await blocked_put;
  EXPECT_EQ(raised, 3);
  EXPECT_TRUE(q.is_shutdown());
  EXPECT_THROW(q.put_nowait(3), lanes::QueueShutDown);
  co_await expect_put_shut_down(q, raised);
  EXPECT_EQ(raised, 4);
  EXPECT_EQ(co_await q.get(), 1);  // drained first ...
  EXPECT_EQ(q.get_nowait(), 2);
  EXPECT_THROW(q.get_nowait(), lanes::QueueShutDown);  // ... then raises
  co_await expect_get_shut_down(q, raised);
  EXPECT_EQ(raised, 5);
}

TEST(Queue, ShutdownRaisesOnPutAndOnGetOnceDrained) { lanes::run(shutdown_drains_then_raises()); }

lanes::Task<void> shutdown_immediate() {
  lanes::Queue<int> q;
  bool joined = false;
  for (int i = 0; i < 3; ++i) q.put_nowait(i);
  EXPECT_EQ(q.get_nowait(), 0);  // taken, not task_done: join still waits for it
  auto j = lanes::create_task(joiner(q, joined));
  co_await yield_many();
  q.shutdown(true);
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_THROW(q.get_nowait(), lanes::QueueShutDown);
  co_await yield_many();
  EXPECT_FALSE(joined);  // the item taken before is still unfinished
  q.task_done();
  co_await j;
  EXPECT_TRUE(joined);
}

TEST(Queue, ShutdownImmediateDropsItemsAndReleasesJoin) { lanes::run(shutdown_immediate()); }

// ---- cancellation ----------------------------------------------------------------

lanes::Task<int> get_one(lanes::Queue<int>& q) { co_return co_await q.get(); }

lanes::Task<void> cancelled_get_loses_nothing() {
  lanes::Queue<int> q;
  auto a = lanes::create_task(get_one(q));
  auto b = lanes::create_task(get_one(q));
  auto c = lanes::create_task(get_one(q));
  co_await yield_many();
  c.cancel();  // cancelled while waiting, never woken
  q.put_nowait(1);  // wakes 'a' ...
  a.cancel();       // ... cancelled before it runs: 1 must reach 'b'
  co_await yield_many();
  EXPECT_TRUE(b.done()) << "the wake-up was not passed on";
  if (b.done()) {
    EXPECT_EQ(b.result(), 1);
  }
  EXPECT_TRUE(a.cancelled());
  EXPECT_TRUE(c.cancelled());
  EXPECT_TRUE(q.empty());
  // A lone cancelled getter leaves the item in the queue.
  auto d = lanes::create_task(get_one(q));
  co_await yield_many();
  q.put_nowait(2);
  d.cancel();
  co_await yield_many();
  EXPECT_TRUE(d.cancelled());
  EXPECT_EQ(q.get_nowait(), 2);
}

TEST(Queue, CancelledGetLosesNoItem) { lanes::run(cancelled_get_loses_nothing()); }

lanes::Task<void> get_then_wait_event(lanes::Queue<int>& q, lanes::Event& ev, bool& cancelled,
                                      bool& resumed_early) {
  try {
    co_await q.get();
  } catch (const lanes::CancelledError&) {
    cancelled = true;
  }
  co_await ev.wait();
  resumed_early = !ev.is_set();
}

lanes::Task<void> cancel_with_cross_thread_wake_in_flight() {
  lanes::Queue<int> q;
  lanes::Event ev;
  bool cancelled = false;
  bool resumed_early = false;
  auto g = lanes::create_task(get_then_wait_event(q, ev, cancelled, resumed_early));
  co_await yield_many();
  // A plain thread puts: its wake-up for 'g' is posted to this loop, which cannot
  // run it before this step ends. The cancel lands in between.
  std::thread([&q] { q.put_nowait(5); }).join();
  g.cancel();
  co_await yield_many();
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(q.qsize(), 1u);  // the item stayed in the queue
  EXPECT_FALSE(g.done());    // the posted wake-up did not resume ev.wait() by mistake
  ev.set();
  co_await g;
  EXPECT_FALSE(resumed_early);
  EXPECT_EQ(q.get_nowait(), 5);
}

TEST(Queue, CancelWithCrossThreadWakeInFlightLosesNothing) {
  lanes::run(cancel_with_cross_thread_wake_in_flight());
}

// ---- threads ---------------------------------------------------------------------

struct Shared {
  explicit Shared(std::size_t maxsize, int producers) : q(maxsize), producers_left(producers) {}
  lanes::Queue<int> q;
  // Invariant: the number of producers that have not finished; the one that
  // brings it to 0 shuts the queue down so that the consumers stop.
  std::atomic<int> producers_left;
  void producer_done() {
    if (producers_left.fetch_sub(1, std::memory_order_acq_rel) == 1) q.shutdown();
  }
};

lanes::Task<void> coroutine_producer(Shared& s, int first, int count) {
  for (int i = 0; i < count; ++i) co_await s.q.put(first + i);
  s.producer_done();
}

lanes::Task<void> coroutine_consumer(Shared& s, std::vector<int>& got) {
  for (;;) {
    try {
      got.push_back(co_await s.q.get());
    } catch (const lanes::QueueShutDown&) {
      co_return;
    }
  }
}

lanes::Task<void> coroutine_side(Shared& s, int first, int count, std::vector<int>& got) {
  auto p = lanes::create_task(coroutine_producer(s, first, count));
  auto c = lanes::create_task(coroutine_consumer(s, got));
  co_await p;
  co_await c;
}

/// Each item must come out exactly once, and each consumer must see the items of
/// one producer in the order they were put.
void check_exactly_once(const std::vector<std::vector<int>>& per_consumer, int producers,
                        int per_producer) {
  std::vector<int> all;
  for (const auto& got : per_consumer) {
    std::vector<int> last(static_cast<std::size_t>(producers), -1);
    for (int x : got) {
      auto& prev = last[static_cast<std::size_t>(x / per_producer)];
      EXPECT_LT(prev, x) << "FIFO per producer";
      prev = x;
    }
    all.insert(all.end(), got.begin(), got.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<std::size_t>(producers * per_producer));
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<int>(i));
}

TEST(Queue, SharedByThreadsAndCoroutinesLosesAndDuplicatesNothing) {
#if defined(LANES_SANITIZED)
  constexpr int kPerProducer = 2'000;
#else
  constexpr int kPerProducer = 20'000;
#endif
  for (int threads : {2, 4, 8}) {
    const int thread_producers = threads / 2;
    const int producers = thread_producers + 1;  // + one coroutine
    Shared s(4, producers);
    std::vector<std::vector<int>> got(static_cast<std::size_t>(threads - thread_producers + 1));
    std::vector<std::thread> pool;
    for (int t = 0; t < thread_producers; ++t) {
      pool.emplace_back([&s, t] {
        for (int i = 0; i < kPerProducer; ++i) s.q.put_blocking(t * kPerProducer + i);
        s.producer_done();
      });
    }
    for (int t = thread_producers; t < threads; ++t) {
      pool.emplace_back([&s, &mine = got[static_cast<std::size_t>(t - thread_producers)]] {
        for (;;) {
          try {
            mine.push_back(s.q.get_blocking());
          } catch (const lanes::QueueShutDown&) {
            return;
          }
        }
      });
    }
    lanes::run(coroutine_side(s, thread_producers * kPerProducer, kPerProducer, got.back()));
    for (auto& th : pool) th.join();
    check_exactly_once(got, producers, kPerProducer);
    EXPECT_TRUE(s.q.empty()) << threads << " threads";
  }
}

TEST(Queue, ThreadJoinBlockingReturnsAfterTaskDone) {
  for (int threads : {1, 3}) {
    lanes::Queue<int> q;
    for (int i = 0; i < 100; ++i) q.put_nowait(i);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&q] {
        for (;;) {
          try {
            q.get_nowait();
          } catch (const lanes::QueueEmpty&) {
            return;
          }
          q.task_done();
        }
      });
    }
    q.join_blocking();
    EXPECT_TRUE(q.empty());
    EXPECT_THROW(q.task_done(), lanes::ValueError);  // every item was accounted for
    for (auto& th : pool) th.join();
  }
}

TEST(Queue, GetBlockingTimeoutThrowsTimeoutError) {
  lanes::Queue<int> q(1);
  EXPECT_THROW(q.get_blocking(1ms), lanes::TimeoutError);
  q.put_blocking(1, 1ms);
  EXPECT_THROW(q.put_blocking(2, 1ms), lanes::TimeoutError);
  EXPECT_EQ(q.get_blocking(1s), 1);
  EXPECT_TRUE(q.empty());  // the timed-out put added nothing
  q.put_nowait(3);
  EXPECT_THROW(q.join_blocking(1ms), lanes::TimeoutError);
}

lanes::Task<void> blocking_calls_on_loop_thread() {
  lanes::Queue<int> q;
  q.put_nowait(1);
  EXPECT_THROW(q.get_blocking(), lanes::InvalidStateError);
  EXPECT_THROW(q.get_blocking(1s), lanes::InvalidStateError);
  EXPECT_THROW(q.put_blocking(2), lanes::InvalidStateError);
  EXPECT_THROW(q.join_blocking(), lanes::InvalidStateError);
  try {
    q.get_blocking();
  } catch (const lanes::InvalidStateError& e) {
    EXPECT_NE(std::string(e.what()).find("co_await"), std::string::npos) << e.what();
  }
  EXPECT_EQ(q.qsize(), 1u);
  co_return;
}

TEST(Queue, BlockingGetOnLoopThreadThrowsInvalidStateError) {
  lanes::run(blocking_calls_on_loop_thread());
}

}  // namespace
