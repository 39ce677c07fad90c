// Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier: asyncio's
// semantics, FIFO order, and cancellation that never strands the other waiters.
// Tasks are interleaved with sleep(0s) (one yield), never with timed sleeps.
#include <gtest/gtest.h>

#include <lanes/lanes.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

/// Lets every ready task run a few steps.
lanes::Task<void> yield_many(int n = 5) {
  for (int i = 0; i < n; ++i) co_await lanes::sleep(0s);
}

// ---- Lock ------------------------------------------------------------------------

struct Exclusion {
  int inside = 0;
  int max_inside = 0;
  std::vector<int> order;
};

lanes::Task<void> lock_worker(lanes::Lock& lock, Exclusion& ex, int id) {
  auto guard = co_await lock.scoped();
  ex.order.push_back(id);
  ++ex.inside;
  ex.max_inside = std::max(ex.max_inside, ex.inside);
  for (int i = 0; i < 3; ++i) co_await lanes::sleep(0s);  // others run meanwhile
  --ex.inside;
}

lanes::Task<void> lock_group(int n, Exclusion& ex) {
  lanes::Lock lock;
  co_await lock.acquire();  // hold it so that every worker queues up
  std::vector<lanes::Future<void>> workers;
  for (int i = 0; i < n; ++i) workers.push_back(lanes::create_task(lock_worker(lock, ex, i)));
  co_await yield_many();
  EXPECT_TRUE(lock.locked());
  lock.release();
  for (auto& w : workers) co_await w;
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, MutualExclusionAndFifoAmongTasks) {
  for (int n : {1, 2, 5, 16}) {
    Exclusion ex;
    lanes::run(lock_group(n, ex));
    EXPECT_EQ(ex.max_inside, 1) << n << " tasks";
    std::vector<int> expected(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) expected[static_cast<std::size_t>(i)] = i;
    EXPECT_EQ(ex.order, expected) << n << " tasks";
  }
}

lanes::Task<void> record_acquire(lanes::Lock& lock, std::string& order, char name) {
  co_await lock.acquire();
  order += name;
  lock.release();
}

lanes::Task<void> newcomer_queues_behind_woken_waiter(std::string& order) {
  lanes::Lock lock;
  co_await lock.acquire();
  auto a = lanes::create_task(record_acquire(lock, order, 'a'));
  co_await yield_many();
  lock.release();  // 'a' is woken but has not run yet
  EXPECT_FALSE(lock.locked());
  co_await lock.acquire();  // must not overtake 'a'
  order += 'm';
  lock.release();
  co_await a;
}

TEST(Lock, NewcomerDoesNotOvertakeWokenWaiter) {
  std::string order;
  lanes::run(newcomer_queues_behind_woken_waiter(order));
  EXPECT_EQ(order, "am");
}

TEST(Lock, ReleaseUnlockedThrowsRuntimeError) {
  lanes::Lock lock;
  EXPECT_THROW(lock.release(), lanes::RuntimeError);
}

lanes::Task<void> cancelled_lock_waiters(std::string& order) {
  lanes::Lock lock;
  co_await lock.acquire();
  auto a = lanes::create_task(record_acquire(lock, order, 'a'));
  auto b = lanes::create_task(record_acquire(lock, order, 'b'));
  auto c = lanes::create_task(record_acquire(lock, order, 'c'));
  co_await yield_many();
  b.cancel();  // cancelled while still queued
  co_await yield_many();
  EXPECT_TRUE(b.cancelled());
  lock.release();  // wakes 'a' ...
  a.cancel();      // ... which is cancelled before it runs: 'c' must get the lock
  co_await yield_many();
  EXPECT_TRUE(c.done()) << "the lock was not handed on";
  EXPECT_TRUE(a.cancelled());
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, CancelledWaiterDoesNotDeadlockOthers) {
  std::string order;
  lanes::run(cancelled_lock_waiters(order));
  EXPECT_EQ(order, "c");
}

lanes::Task<void> release_to_waiter_then_return(lanes::Lock& lock, std::string& order) {
  co_await lock.acquire();
  lanes::create_task(record_acquire(lock, order, 'w'));
  co_await yield_many();
  lock.release();  // 'w' is woken; the loop stops before it runs
}

lanes::Task<void> acquire_in_new_loop(lanes::Lock& lock, std::string& order) {
  auto t = lanes::create_task(record_acquire(lock, order, 'n'));
  co_await yield_many();
  EXPECT_TRUE(t.done());
}

TEST(Lock, UsableAfterLoopClosedWithWokenWaiter) {
  lanes::Lock lock;
  std::string order;
  {
    lanes::EventLoop loop;
    loop.run_until_complete(release_to_waiter_then_return(lock, order));
    loop.close();  // destroys the woken, never-run waiter
  }
  EXPECT_EQ(order, "");
  EXPECT_FALSE(lock.locked());
  lanes::run(acquire_in_new_loop(lock, order));
  EXPECT_EQ(order, "n");
}

// ---- Event -----------------------------------------------------------------------

lanes::Task<void> event_waiter(lanes::Event& ev, int& woken) {
  EXPECT_TRUE(co_await ev.wait());
  ++woken;
}

lanes::Task<void> event_wakes_all(int n) {
  lanes::Event ev;
  int woken = 0;
  std::vector<lanes::Future<void>> waiters;
  for (int i = 0; i < n; ++i) waiters.push_back(lanes::create_task(event_waiter(ev, woken)));
  co_await yield_many();
  EXPECT_EQ(woken, 0);
  EXPECT_FALSE(ev.is_set());
  ev.set();
  EXPECT_TRUE(ev.is_set());
  for (auto& w : waiters) co_await w;
  EXPECT_EQ(woken, n);
  co_await ev.wait();  // set: returns at once
  ev.clear();
  EXPECT_FALSE(ev.is_set());
  auto late = lanes::create_task(event_waiter(ev, woken));
  co_await yield_many();
  EXPECT_EQ(woken, n);  // cleared: waits for the next set()
  ev.set();
  co_await late;
  EXPECT_EQ(woken, n + 1);
}

TEST(Event, SetWakesAllWaiters) {
  for (int n : {1, 3, 50}) lanes::run(event_wakes_all(n));
}

// ---- Condition -------------------------------------------------------------------

lanes::Task<void> cond_waiter(lanes::Condition& cond, int& woken) {
  auto guard = co_await cond.scoped();
  co_await cond.wait();
  EXPECT_TRUE(cond.locked());  // wait() returns with the lock held
  ++woken;
}

lanes::Task<void> condition_notify() {
  lanes::Condition cond;
  int woken = 0;
  std::vector<lanes::Future<void>> waiters;
  for (int i = 0; i < 4; ++i) waiters.push_back(lanes::create_task(cond_waiter(cond, woken)));
  co_await yield_many();
  EXPECT_FALSE(cond.locked());  // every waiter released the lock while it waits
  {
    auto guard = co_await cond.scoped();
    cond.notify();
  }
  co_await yield_many();
  EXPECT_EQ(woken, 1);
  {
    auto guard = co_await cond.scoped();
    cond.notify(2);
  }
  co_await yield_many();
  EXPECT_EQ(woken, 3);
  {
    auto guard = co_await cond.scoped();
    cond.notify_all();
  }
  for (auto& w : waiters) co_await w;
  EXPECT_EQ(woken, 4);
}

TEST(Condition, NotifyAndNotifyAll) { lanes::run(condition_notify()); }

TEST(Condition, WaitAndNotifyWithoutLockThrowRuntimeError) {
  lanes::Condition cond;
  EXPECT_THROW(cond.notify(), lanes::RuntimeError);
  EXPECT_THROW(cond.notify_all(), lanes::RuntimeError);
  EXPECT_THROW(lanes::run(cond.wait()), lanes::RuntimeError);
}

lanes::Task<int> wait_for_value(lanes::Condition& cond, int& value) {
  auto guard = co_await cond.scoped();
  const bool ok = co_await cond.wait_for([&] { return value >= 3; });
  EXPECT_TRUE(ok);
  co_return value;
}

lanes::Task<void> condition_wait_for() {
  lanes::Lock lock;
  lanes::Condition cond(lock);
  int value = 0;
  auto waiter = lanes::create_task(wait_for_value(cond, value));
  for (int i = 1; i <= 5; ++i) {
    co_await yield_many();
    EXPECT_EQ(waiter.done(), i > 3) << "step " << i;
    auto guard = co_await cond.scoped();
    value = i;
    cond.notify_all();
  }
  EXPECT_EQ(co_await waiter, 3);
}

TEST(Condition, WaitForPredicate) { lanes::run(condition_wait_for()); }

lanes::Task<void> cond_cancelled_waiter(lanes::Condition& cond, bool& held_after_cancel) {
  auto guard = co_await cond.scoped();
  try {
    co_await cond.wait();
  } catch (const lanes::CancelledError&) {
    held_after_cancel = cond.locked();
    throw;
  }
}

lanes::Task<void> condition_cancel() {
  lanes::Condition cond;
  bool held = false;
  int woken = 0;
  auto victim = lanes::create_task(cond_cancelled_waiter(cond, held));
  auto other = lanes::create_task(cond_waiter(cond, woken));
  co_await yield_many();
  {
    auto guard = co_await cond.scoped();
    cond.notify(1);  // goes to the victim ...
    victim.cancel();  // ... which is cancelled before it runs: 'other' gets it
  }
  co_await yield_many();
  EXPECT_TRUE(other.done()) << "the notification was lost";
  EXPECT_EQ(woken, 1);
  EXPECT_TRUE(victim.cancelled());
  EXPECT_TRUE(held);  // re-acquired before CancelledError came out
  EXPECT_FALSE(cond.locked());
}

TEST(Condition, CancelledWaiterReacquiresAndPassesNotificationOn) {
  lanes::run(condition_cancel());
}

// ---- Semaphore -------------------------------------------------------------------

lanes::Task<void> sem_worker(lanes::Semaphore& sem, Exclusion& ex, int id) {
  auto guard = co_await sem.scoped();
  ex.order.push_back(id);
  ++ex.inside;
  ex.max_inside = std::max(ex.max_inside, ex.inside);
  for (int i = 0; i < 3; ++i) co_await lanes::sleep(0s);
  --ex.inside;
}

lanes::Task<void> semaphore_group(long slots, int n, Exclusion& ex) {
  lanes::Semaphore sem(slots);
  std::vector<lanes::Future<void>> workers;
  for (int i = 0; i < n; ++i) workers.push_back(lanes::create_task(sem_worker(sem, ex, i)));
  for (auto& w : workers) co_await w;
  EXPECT_EQ(sem.value(), slots);
  EXPECT_FALSE(sem.locked());
}

TEST(Semaphore, LimitsConcurrency) {
  for (long slots : {1L, 2L, 3L, 8L}) {
    Exclusion ex;
    lanes::run(semaphore_group(slots, 12, ex));
    EXPECT_EQ(ex.max_inside, slots) << slots << " slots";
    EXPECT_TRUE(std::is_sorted(ex.order.begin(), ex.order.end())) << "FIFO, " << slots;
  }
}

TEST(Semaphore, NegativeInitialValueThrowsValueError) {
  EXPECT_THROW(lanes::Semaphore(-1), lanes::ValueError);
  EXPECT_THROW(lanes::BoundedSemaphore(-2), lanes::ValueError);
  lanes::Semaphore zero(0);
  EXPECT_TRUE(zero.locked());
}

lanes::Task<void> sem_acquire_once(lanes::Semaphore& sem, int& got) {
  co_await sem.acquire();
  ++got;
}

lanes::Task<void> semaphore_cancel() {
  lanes::Semaphore sem(0);
  int got = 0;
  auto a = lanes::create_task(sem_acquire_once(sem, got));
  auto b = lanes::create_task(sem_acquire_once(sem, got));
  co_await yield_many();
  sem.release();  // the slot goes to 'a' ...
  a.cancel();     // ... cancelled before it runs: the slot must reach 'b'
  co_await yield_many();
  EXPECT_TRUE(b.done()) << "the slot was lost";
  EXPECT_TRUE(a.cancelled());
  EXPECT_EQ(got, 1);
  EXPECT_EQ(sem.value(), 0);
}

TEST(Semaphore, CancelledWokenWaiterPassesSlotOn) { lanes::run(semaphore_cancel()); }

lanes::Task<void> give_slot_then_return(lanes::Semaphore& sem, int& got) {
  co_await sem.acquire();
  lanes::create_task(sem_acquire_once(sem, got));
  co_await yield_many();
  sem.release();  // the slot goes to the waiter; the loop stops before it runs
}

TEST(Semaphore, SlotReturnsWhenLoopClosedWithWokenWaiter) {
  lanes::Semaphore sem(1);
  int got = 0;
  {
    lanes::EventLoop loop;
    loop.run_until_complete(give_slot_then_return(sem, got));
    loop.close();
  }
  EXPECT_EQ(got, 0);
  EXPECT_EQ(sem.value(), 1);
  EXPECT_FALSE(sem.locked());
}

lanes::Task<void> bounded_over_release() {
  lanes::BoundedSemaphore sem(2);
  co_await sem.acquire();
  sem.release();
  EXPECT_THROW(sem.release(), lanes::ValueError);
  EXPECT_EQ(sem.value(), 2);
}

TEST(BoundedSemaphore, ReleaseAboveInitialValueThrowsValueError) {
  lanes::run(bounded_over_release());
  lanes::Semaphore unbounded(1);
  unbounded.release();  // a plain Semaphore may grow
  EXPECT_EQ(unbounded.value(), 2);
}

// ---- Barrier ---------------------------------------------------------------------

lanes::Task<std::size_t> barrier_party(lanes::Barrier& barrier, int& passed) {
  const std::size_t index = co_await barrier.wait();
  ++passed;
  co_return index;
}

lanes::Task<void> barrier_rounds(std::size_t parties) {
  lanes::Barrier barrier(parties);
  for (int round = 0; round < 3; ++round) {
    int passed = 0;
    std::vector<lanes::Future<std::size_t>> tasks;
    for (std::size_t i = 0; i + 1 < parties; ++i)
      tasks.push_back(lanes::create_task(barrier_party(barrier, passed)));
    co_await yield_many();
    EXPECT_EQ(passed, 0);  // one party short: no one passes
    EXPECT_EQ(barrier.n_waiting(), parties - 1);
    tasks.push_back(lanes::create_task(barrier_party(barrier, passed)));
    std::vector<std::size_t> indices;
    for (auto& t : tasks) indices.push_back(co_await t);
    EXPECT_EQ(passed, static_cast<int>(parties));
    for (std::size_t i = 0; i < parties; ++i) EXPECT_EQ(indices[i], i) << "arrival order";
    EXPECT_EQ(barrier.n_waiting(), 0u);
  }
}

TEST(Barrier, ReleasesGroupAndReturnsArrivalIndices) {
  for (std::size_t parties : {1u, 2u, 3u, 7u}) lanes::run(barrier_rounds(parties));
  EXPECT_THROW(lanes::Barrier(0), lanes::ValueError);
}

lanes::Task<void> expect_broken(lanes::Barrier& barrier, int& broken) {
  try {
    co_await barrier.wait();
  } catch (const lanes::BrokenBarrierError&) {
    ++broken;
  }
}

lanes::Task<void> barrier_abort_and_reset() {
  lanes::Barrier barrier(3);
  int broken = 0;
  auto a = lanes::create_task(expect_broken(barrier, broken));
  auto b = lanes::create_task(expect_broken(barrier, broken));
  co_await yield_many();
  co_await barrier.abort();
  co_await a;
  co_await b;
  EXPECT_EQ(broken, 2);
  EXPECT_TRUE(barrier.broken());
  co_await expect_broken(barrier, broken);  // broken until reset
  EXPECT_EQ(broken, 3);

  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  auto c = lanes::create_task(expect_broken(barrier, broken));
  co_await yield_many();
  barrier.reset();  // with a waiter inside: it gets BrokenBarrierError
  co_await c;
  EXPECT_EQ(broken, 4);

  int passed = 0;
  auto x = lanes::create_task(barrier_party(barrier, passed));
  auto y = lanes::create_task(barrier_party(barrier, passed));
  auto z = lanes::create_task(barrier_party(barrier, passed));
  co_await x;
  co_await y;
  co_await z;
  EXPECT_EQ(passed, 3);  // usable again
}

TEST(Barrier, AbortAndResetBreakWaiters) { lanes::run(barrier_abort_and_reset()); }

}  // namespace
