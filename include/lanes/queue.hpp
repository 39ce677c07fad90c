// lanes/queue.hpp — Queue, PriorityQueue, LifoQueue (asyncio's queues, Python 3.13
// semantics, including shutdown()).
//
// Unlike asyncio's, a lanes queue is also a thread-safe queue: tasks of any event
// loop co_await put()/get()/join(), and plain threads call put_blocking()/
// get_blocking()/join_blocking(), on the same queue at the same time. The
// *_nowait methods, task_done(), qsize() and shutdown() work from anywhere.
//
//   lanes::Queue<int> q(16);             // at most 16 items: put() waits for room
//   co_await q.put(1);                   // in a task
//   int x = co_await q.get();
//   q.put_blocking(2);                   // on a plain thread
//
// Every waiter is served in FIFO order. A task cancelled while it waits in get()
// or put() loses nothing: items are taken only once the waiter runs.
#pragma once

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "lanes/detail/sync/queue_core.hpp"
#include "lanes/errors.hpp"
#include "lanes/task.hpp"

namespace lanes {

namespace detail {

/// First in, first out (asyncio.Queue).
template <class T>
class FifoStore {
 public:
  template <class U>
  void push(U&& item) {
    items_.emplace_back(std::forward<U>(item));
  }
  T pop() {
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }
  void clear() noexcept { items_.clear(); }

 private:
  std::deque<T> items_;
};

/// Last in, first out (asyncio.LifoQueue).
template <class T>
class LifoStore {
 public:
  template <class U>
  void push(U&& item) {
    items_.emplace_back(std::forward<U>(item));
  }
  T pop() {
    T item = std::move(items_.back());
    items_.pop_back();
    return item;
  }
  void clear() noexcept { items_.clear(); }

 private:
  std::vector<T> items_;
};

/// Smallest first by `Compare` (asyncio.PriorityQueue, which pops heapq's minimum).
template <class T, class Compare>
class HeapStore {
 public:
  explicit HeapStore(Compare compare = Compare()) : after_{std::move(compare)} {}
  template <class U>
  void push(U&& item) {
    items_.emplace_back(std::forward<U>(item));
    std::push_heap(items_.begin(), items_.end(), after_);
  }
  T pop() {
    std::pop_heap(items_.begin(), items_.end(), after_);
    T item = std::move(items_.back());
    items_.pop_back();
    return item;
  }
  void clear() noexcept { items_.clear(); }

 private:
  // std::*_heap keep the greatest element first; comparing the other way round
  // keeps the smallest first.
  struct After {
    Compare less;
    bool operator()(const T& a, const T& b) const { return less(b, a); }
  };
  std::vector<T> items_;
  After after_;
};

}  // namespace detail

/// The queue behind Queue, PriorityQueue and LifoQueue; `Store` decides the order.
/// Thread-safe. Not copyable or movable (waiters point into it).
template <class T, class Store>
class BasicQueue : public detail::QueueCore {
 public:
  using value_type = T;

  /// A queue holding at most `maxsize` items; 0 means unbounded.
  explicit BasicQueue(std::size_t maxsize = 0) : QueueCore(maxsize) {}

  /// `co_await q.put(item)` adds the item, first waiting while the queue is full.
  /// Throws QueueShutDown if the queue is (or gets) shut down; CancelledError if
  /// the task is cancelled while it waits (the item is then not added);
  /// RuntimeError outside a lanes task.
  Task<void> put(T item) {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(this->mutex_);
        if (this->shutdown_) throw QueueShutDown();
        if (!this->full_locked()) {
          store_.push(std::move(item));
          this->pushed_locked();
          co_return;
        }
      }
      co_await SideAwaiter(*this, Side::put);
    }
  }

  /// `co_await q.get()` removes and returns the next item, first waiting while
  /// the queue is empty. Throws QueueShutDown if the queue is shut down and empty;
  /// CancelledError if the task is cancelled while it waits (no item is taken);
  /// RuntimeError outside a lanes task.
  Task<T> get() {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(this->mutex_);
        if (this->size_ > 0) co_return pop_locked();
        if (this->shutdown_) throw QueueShutDown();
      }
      co_await SideAwaiter(*this, Side::get);
    }
  }

  /// Adds the item without waiting. Throws QueueFull if the queue holds maxsize
  /// items and QueueShutDown if it was shut down; the item is then left untouched.
  template <class U = T>
    requires std::constructible_from<T, U&&>
  void put_nowait(U&& item) {
    std::lock_guard<std::mutex> lock(this->mutex_);
    if (this->shutdown_) throw QueueShutDown();
    if (this->full_locked()) throw QueueFull();
    store_.push(std::forward<U>(item));
    this->pushed_locked();
  }

  /// Removes and returns the next item without waiting. Throws QueueEmpty if the
  /// queue is empty, or QueueShutDown if it is empty and shut down.
  T get_nowait() {
    std::lock_guard<std::mutex> lock(this->mutex_);
    if (this->size_ == 0) {
      if (this->shutdown_) throw QueueShutDown();
      throw QueueEmpty();
    }
    return pop_locked();
  }

  /// put() for a plain thread: blocks while the queue is full. Throws
  /// QueueShutDown as put() does, and InvalidStateError on a thread that runs an
  /// event loop (co_await put() there). The item is left untouched on error.
  template <class U = T>
    requires std::constructible_from<T, U&&>
  void put_blocking(U&& item) {
    refuse_on_loop_thread("put_blocking()", "co_await queue.put(item)");
    put_until(std::forward<U>(item), nullptr);
  }
  /// As put_blocking(item), but throws TimeoutError if no room came within `timeout`.
  template <class U = T, class Rep, class Period>
    requires std::constructible_from<T, U&&>
  void put_blocking(U&& item, std::chrono::duration<Rep, Period> timeout) {
    refuse_on_loop_thread("put_blocking(timeout)", "co_await queue.put(item)");
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
    put_until(std::forward<U>(item), &deadline);
  }

  /// get() for a plain thread: blocks while the queue is empty. Throws
  /// QueueShutDown as get() does, and InvalidStateError on a thread that runs an
  /// event loop (co_await get() there).
  T get_blocking() {
    refuse_on_loop_thread("get_blocking()", "co_await queue.get()");
    return get_until(nullptr);
  }
  /// As get_blocking(), but throws TimeoutError if no item came within `timeout`.
  template <class Rep, class Period>
  T get_blocking(std::chrono::duration<Rep, Period> timeout) {
    refuse_on_loop_thread("get_blocking(timeout)", "co_await queue.get()");
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
    return get_until(&deadline);
  }

 protected:
  template <class... StoreArgs>
  BasicQueue(std::size_t maxsize, StoreArgs&&... args)
      : QueueCore(maxsize), store_(std::forward<StoreArgs>(args)...) {}

 private:
  T pop_locked() {
    T item = store_.pop();
    this->popped_locked();
    return item;
  }

  template <class U>
  void put_until(U&& item, const Clock::time_point* deadline) {
    std::unique_lock<std::mutex> lock(this->mutex_);
    for (;;) {
      if (this->shutdown_) throw QueueShutDown();
      if (!this->full_locked()) break;
      if (!this->wait_thread(lock, Side::put, deadline)) throw_timeout("put_blocking(timeout)");
    }
    store_.push(std::forward<U>(item));
    this->pushed_locked();
  }

  T get_until(const Clock::time_point* deadline) {
    std::unique_lock<std::mutex> lock(this->mutex_);
    for (;;) {
      if (this->size_ > 0) return pop_locked();
      if (this->shutdown_) throw QueueShutDown();
      if (!this->wait_thread(lock, Side::get, deadline)) throw_timeout("get_blocking(timeout)");
    }
  }

  void drop_all_locked() noexcept override { store_.clear(); }

  Store store_;  // guarded by mutex_
};

/// A first-in first-out queue (asyncio.Queue / queue.Queue). See BasicQueue.
template <class T>
class Queue : public BasicQueue<T, detail::FifoStore<T>> {
 public:
  /// At most `maxsize` items; 0 means unbounded.
  explicit Queue(std::size_t maxsize = 0) : BasicQueue<T, detail::FifoStore<T>>(maxsize) {}
};

/// A last-in first-out queue (asyncio.LifoQueue). See BasicQueue.
template <class T>
class LifoQueue : public BasicQueue<T, detail::LifoStore<T>> {
 public:
  /// At most `maxsize` items; 0 means unbounded.
  explicit LifoQueue(std::size_t maxsize = 0) : BasicQueue<T, detail::LifoStore<T>>(maxsize) {}
};

/// A queue that returns the smallest item by `Compare` first (asyncio.PriorityQueue;
/// like Python's, the order among equal items is unspecified). See BasicQueue.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public BasicQueue<T, detail::HeapStore<T, Compare>> {
 public:
  /// At most `maxsize` items; 0 means unbounded.
  explicit PriorityQueue(std::size_t maxsize = 0, Compare compare = Compare())
      : BasicQueue<T, detail::HeapStore<T, Compare>>(maxsize, std::move(compare)) {}
};

}  // namespace lanes
