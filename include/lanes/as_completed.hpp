// lanes/as_completed.hpp — lanes::AsCompletedStream<T>, what as_completed() returns:
// the futures handed back one at a time in the order they complete.
//
// One heap block holds a callback node per future and the completion order. Each
// completion (on any thread) appends its index under a spin lock and wakes the task
// waiting in next(), if any. The lock guards a few instructions: an append and a swap.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <iterator>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "lanes/detail/core/future_state.hpp"
#include "lanes/detail/core/task_core.hpp"
#include "lanes/detail/core/timer_heap.hpp"
#include "lanes/errors.hpp"
#include "lanes/future.hpp"
#include "lanes/loop.hpp"

namespace lanes {
namespace detail {

class CompletionQueue {
 public:
  static constexpr std::size_t npos = ~std::size_t{0};

  /// One allocation: header, `size` nodes and `size` order slots. Throws std::bad_alloc.
  static CompletionQueue* create(std::size_t size) {
    void* raw = ::operator new(nodes_offset() + size * (sizeof(Node) + sizeof(std::size_t)));
    return ::new (raw) CompletionQueue(size);
  }
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;

  /// Lists node i on `state`; a future already done is queued at once.
  void attach(std::size_t i, FutureStateBase* state) noexcept {
    Node* n = ::new (static_cast<void*>(nodes() + i)) Node{};
    n->invoke = &CompletionQueue::on_done;
    n->discard = &CompletionQueue::on_discard;
    n->owner = this;
    n->state = state;
    attached_ = i + 1;
    refs_.fetch_add(1, std::memory_order_relaxed);
    if (state->add_callback(n)) return;
    refs_.fetch_sub(1, std::memory_order_relaxed);
    lock_.lock();
    order()[produced_++] = i;
    lock_.unlock();
  }

  /// Pops the next completed index into `index`; false if none is queued.
  bool pop(std::size_t& index) noexcept {
    lock_.lock();
    const bool ok = consumed_ < produced_;
    if (ok) index = order()[consumed_++];
    lock_.unlock();
    return ok;
  }
  /// Pops like pop(), or, if nothing is queued, registers `task` to be woken by the
  /// next completion. Returns true if it popped.
  bool pop_or_wait(std::size_t& index, TaskCoreBase* task) noexcept {
    lock_.lock();
    const bool ok = consumed_ < produced_;
    if (ok) {
      index = order()[consumed_++];
    } else {
      waiter_ = task;
    }
    lock_.unlock();
    return ok;
  }
  /// Pops like pop(), or, if nothing is queued, blocks the calling thread until a
  /// completion or the deadline; false at the deadline with nothing queued. On a
  /// pool worker it runs the pool's jobs meanwhile. Throws InvalidStateError on a
  /// thread that runs an event loop.
  bool pop_blocking(std::size_t& index, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      if (pop(index)) return true;
      if (on_running_loop_thread())
        throw InvalidStateError(
            "as_completed: blocking for the next future would block the event loop's own "
            "thread: co_await next() instead");
      // A one-shot state to sleep on: completed by the next completion.
      auto* signal = new FutureState<void>();
      signal->add_ref();  // the queue's, dropped by whoever takes it back
      lock_.lock();
      const bool ok = consumed_ < produced_;
      if (ok) {
        index = order()[consumed_++];
      } else {
        signal_ = signal;
      }
      lock_.unlock();
      if (ok) {
        signal->release();
        signal->release();
        return true;
      }
      const bool woken = block_until(*signal, deadline);
      lock_.lock();
      const bool unused = signal_ == signal;
      if (unused) signal_ = nullptr;
      lock_.unlock();
      if (unused) signal->release();
      signal->release();
      if (!woken) return pop(index);
    }
  }

  /// Unregisters `task`; false if a completion already took it to wake it.
  bool stop_waiting(TaskCoreBase* task) noexcept {
    lock_.lock();
    const bool ok = waiter_ == task;
    if (ok) waiter_ = nullptr;
    lock_.unlock();
    return ok;
  }

  /// Takes back the nodes still listed (owner only).
  void detach_all() noexcept {
    for (std::size_t i = 0; i < attached_; ++i) {
      Node& n = nodes()[i];
      if (!n.state->done() && n.state->remove_callback(&n))
        refs_.fetch_sub(1, std::memory_order_relaxed);
    }
    attached_ = 0;
  }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      this->~CompletionQueue();
      ::operator delete(static_cast<void*>(this));
    }
  }

 private:
  struct Node : DoneCallback {
    CompletionQueue* owner;
    FutureStateBase* state;
  };
  explicit CompletionQueue(std::size_t size) noexcept : size_(size) {}
  ~CompletionQueue() = default;

  static constexpr std::size_t nodes_offset() noexcept {
    return (sizeof(CompletionQueue) + alignof(Node) - 1) / alignof(Node) * alignof(Node);
  }
  Node* nodes() noexcept {
    return std::launder(
        reinterpret_cast<Node*>(reinterpret_cast<unsigned char*>(this) + nodes_offset()));
  }
  std::size_t* order() noexcept { return reinterpret_cast<std::size_t*>(nodes() + size_); }

  static void on_done(DoneCallback* cb, FutureStateBase&) noexcept {
    auto* n = static_cast<Node*>(cb);
    CompletionQueue* self = n->owner;
    self->lock_.lock();
    self->order()[self->produced_++] = static_cast<std::size_t>(n - self->nodes());
    TaskCoreBase* waiter = std::exchange(self->waiter_, nullptr);
    FutureState<void>* signal = std::exchange(self->signal_, nullptr);
    self->lock_.unlock();
    if (waiter) waiter->wake_from_any_thread();
    if (signal) {
      signal->set_value();
      signal->release();
    }
    self->release();
  }
  static void on_discard(DoneCallback* cb) noexcept {
    static_cast<Node*>(cb)->owner->release();
  }

  // Invariant: 1 for the owning AsCompletedStream, plus 1 per node listed on a future
  // whose callback has not returned yet; the block is freed at 0.
  std::atomic<std::size_t> refs_{1};
  SpinLock lock_;
  std::size_t produced_ = 0;         // guarded by lock_: completions queued
  std::size_t consumed_ = 0;         // guarded by lock_: completions handed out
  TaskCoreBase* waiter_ = nullptr;   // guarded by lock_: the task in next(), if any
  FutureState<void>* signal_ = nullptr;  // guarded by lock_: a thread in pop_blocking()
  std::size_t size_;
  std::size_t attached_ = 0;         // owner only
};

}  // namespace detail

/// The futures of as_completed(), handed back in completion order: by co_await
/// next() in a task (on that task's loop thread), or on a plain thread by
/// next_blocking() or a range-for. Move-only. The futures may complete anywhere.
template <class T>
class AsCompletedStream {
 public:
  using Clock = std::chrono::steady_clock;

  AsCompletedStream(std::vector<Future<T>> futures, Clock::time_point deadline)
      : futures_(std::move(futures)), deadline_(deadline) {
    for (std::size_t i = 0; i < futures_.size(); ++i)
      if (!futures_[i].valid())
        throw InvalidStateError("as_completed: future #" + std::to_string(i) + " is empty");
    queue_ = detail::CompletionQueue::create(futures_.size());
    for (std::size_t i = 0; i < futures_.size(); ++i) queue_->attach(i, futures_[i].raw_state());
  }
  AsCompletedStream(AsCompletedStream&& other) noexcept
      : futures_(std::move(other.futures_)), queue_(std::exchange(other.queue_, nullptr)),
        deadline_(other.deadline_), taken_(std::exchange(other.taken_, 0)),
        current_(std::move(other.current_)), iterating_(other.iterating_) {}
  AsCompletedStream& operator=(AsCompletedStream&&) = delete;
  ~AsCompletedStream() {
    if (queue_) {
      queue_->detach_all();
      queue_->release();
    }
  }

  /// How many futures next() has still to hand back.
  std::size_t remaining() const noexcept { return futures_.size() - taken_; }
  bool has_next() const noexcept { return remaining() > 0; }

  class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] Next : detail::CancelHook, detail::TimerNode {
   public:
    explicit Next(AsCompletedStream& owner) noexcept : owner_(owner) {}
    Next(const Next&) = delete;
    Next& operator=(const Next&) = delete;
    ~Next() {
      if (queued()) task_->loop().remove_timer(*this);
      if (suspended_) owner_.queue_->stop_waiting(task_);
    }

    bool await_ready() noexcept { return owner_.queue_->pop(index_); }
    bool await_suspend(std::coroutine_handle<> h) {
      task_ = &detail::require_current_task();
      if (owner_.deadline_ <= Clock::now()) return false;  // await_resume: TimeoutError
      on_cancel = &Next::cancel_thunk;
      task_->suspend(h, this);
      if (owner_.queue_->pop_or_wait(index_, task_)) {
        task_->suspend(h, nullptr);
        return false;
      }
      if (owner_.deadline_ != Clock::time_point::max()) {
        when = owner_.deadline_;
        fire = &Next::fire_thunk;
        task_->loop().add_timer(*this);
      }
      suspended_ = true;
      return true;
    }
    Future<T> await_resume() {
      if (queued()) task_->loop().remove_timer(*this);
      if (suspended_) {
        suspended_ = false;
        task_->throw_if_cancelled();
      }
      if (cancelled_) throw CancelledError();
      if (index_ == npos && !owner_.queue_->pop(index_))
        throw TimeoutError("as_completed: the deadline passed before the next future completed");
      ++owner_.taken_;
      return owner_.futures_[index_];
    }

   private:
    static constexpr std::size_t npos = detail::CompletionQueue::npos;
    static void fire_thunk(detail::TimerNode* self) noexcept {
      auto* n = static_cast<Next*>(self);
      if (n->owner_.queue_->stop_waiting(n->task_)) n->task_->wake();
    }
    static bool cancel_thunk(detail::CancelHook* self) noexcept {
      auto* n = static_cast<Next*>(self);
      if (n->owner_.queue_->stop_waiting(n->task_)) {
        if (n->queued()) n->task_->loop().remove_timer(*n);
        return false;  // the core wakes the task with CancelledError
      }
      n->cancelled_ = true;  // a completion is waking us: it brings the error
      return true;
    }

    AsCompletedStream& owner_;
    detail::TaskCoreBase* task_ = nullptr;
    std::size_t index_ = npos;
    bool suspended_ = false;
    bool cancelled_ = false;
  };

  /// Awaits the next future to complete and returns it (done: co_await it or call
  /// result() to get its value or error). The futures are not cancelled by anything
  /// here. Awaiting throws TimeoutError if the deadline given to as_completed passes
  /// first, CancelledError if the awaiting task is cancelled; next() throws
  /// InvalidStateError if every future was already handed back.
  Next next() {
    if (!queue_) throw InvalidStateError("as_completed: this object was moved from");
    if (!has_next())
      throw InvalidStateError("as_completed: every future was already handed back by next()");
    return Next(*this);
  }

  /// The plain-thread form of next() (one step of concurrent.futures.as_completed):
  /// blocks the calling thread until the next future completes and returns it. On a
  /// thread-pool worker it runs the pool's jobs while it waits. Throws TimeoutError
  /// once the deadline given to as_completed has passed, InvalidStateError if every
  /// future was handed back already, or on a thread that runs an event loop.
  Future<T> next_blocking() {
    if (!queue_) throw InvalidStateError("as_completed: this object was moved from");
    if (!has_next())
      throw InvalidStateError("as_completed: every future was already handed back");
    std::size_t index = detail::CompletionQueue::npos;
    if (!queue_->pop_blocking(index, deadline_)) {
      throw TimeoutError("as_completed: " + std::to_string(remaining()) + " (of " +
                         std::to_string(futures_.size()) +
                         ") futures unfinished when the deadline passed");
    }
    ++taken_;
    return futures_[index];
  }

  /// Plain-thread iteration, Python's `for f in as_completed(fs)`:
  ///     for (lanes::Future<int>& f : lanes::as_completed(futures)) use(f.result());
  /// begin() and ++ block as next_blocking() does, and throw what it throws.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Future<T>;
    using difference_type = std::ptrdiff_t;
    using reference = Future<T>&;
    using pointer = Future<T>*;

    iterator() = default;
    reference operator*() const { return owner_->current_; }
    pointer operator->() const { return &owner_->current_; }
    iterator& operator++() {
      owner_->step();
      return *this;
    }
    void operator++(int) { owner_->step(); }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.at_end() == b.at_end();
    }

   private:
    friend class AsCompletedStream;
    explicit iterator(AsCompletedStream* owner) noexcept : owner_(owner) {}
    bool at_end() const noexcept { return owner_ == nullptr || !owner_->current_.valid(); }
    AsCompletedStream* owner_ = nullptr;
  };
  iterator begin() {
    if (!iterating_) {
      iterating_ = true;
      step();
    }
    return iterator(this);
  }
  iterator end() noexcept { return iterator(); }

 private:
  void step() { current_ = has_next() ? next_blocking() : Future<T>(); }

  std::vector<Future<T>> futures_;
  detail::CompletionQueue* queue_ = nullptr;
  Clock::time_point deadline_;
  std::size_t taken_ = 0;
  Future<T> current_;       // the iteration's current future; empty at the end
  bool iterating_ = false;  // begin() was called
};

}  // namespace lanes
