// The thread-safe core of every Future: completion, callbacks, blocking waits.
#include "lanes/detail/core/future_state.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <thread>

#include "lanes/loop.hpp"

namespace lanes::detail {

void SpinLock::pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

namespace {

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const timespec* relative) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
            relative, nullptr, 0);
}

void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX,
            nullptr, nullptr, 0);
}

}  // namespace

FutureStateBase::~FutureStateBase() {
  // Callbacks of a future that never completed: heap nodes are freed unrun.
  DoneCallback* cb = callbacks_;
  while (cb && !is_terminal(cb)) {
    DoneCallback* next = cb->next;
    if (cb->discard) cb->discard(cb);
    cb = next;
  }
  if (cb) {
    DoneTerminal* t = untag_terminal(cb);
    t->discard(t);
  }
  if (error_ && !retrieved_.load(std::memory_order_relaxed) &&
      status() == FutureStatus::finished) {
    report_unretrieved(error_);
  }
}

bool FutureStateBase::set_running() noexcept {
  // Lock-free (a thread-pool job starts with it): a CAS from pending, so that a
  // concurrent cancel() (a CAS from pending too, under the lock) and this agree on
  // who won. A CAS, not a store: a waiter sets kWaitersBit without the lock, and a
  // store could erase it, so that publish() would skip the futex wake-up.
  static_assert(static_cast<std::uint32_t>(FutureStatus::pending) == 0);
  std::uint32_t word = word_.load(std::memory_order_relaxed);
  while ((word & kStatusMask) == static_cast<std::uint32_t>(FutureStatus::pending)) {
    if (word_.compare_exchange_weak(word, word | static_cast<std::uint32_t>(FutureStatus::running),
                                    std::memory_order_acq_rel, std::memory_order_relaxed))
      return true;
  }
  return false;
}

bool FutureStateBase::cancel() noexcept {
  lock_.lock();
  std::uint32_t word = word_.load(std::memory_order_relaxed);
  do {
    if ((word & kStatusMask) != static_cast<std::uint32_t>(FutureStatus::pending)) {
      lock_.unlock();
      return false;
    }
  } while (!word_.compare_exchange_weak(word, static_cast<std::uint32_t>(FutureStatus::cancelled),
                                        std::memory_order_acq_rel, std::memory_order_relaxed));
  return after_publish(word);
}

bool FutureStateBase::set_exception(std::exception_ptr error) noexcept {
  return complete(FutureStatus::finished, [&] { error_ = std::move(error); });
}

bool FutureStateBase::publish(FutureStatus final_status) noexcept {
  return after_publish(
      word_.exchange(static_cast<std::uint32_t>(final_status), std::memory_order_acq_rel));
}

bool FutureStateBase::after_publish(std::uint32_t old) noexcept {
  DoneCallback* list = callbacks_;
  callbacks_ = nullptr;
  lock_.unlock();
  if (old & kWaitersBit) wake_waiters();
  // The list is newest first; run the nodes in the order they were added, then
  // the terminal that ends the list.
  DoneCallback* ordered = nullptr;
  while (list && !is_terminal(list)) {
    DoneCallback* next = list->next;
    list->next = ordered;
    ordered = list;
    list = next;
  }
  if (ordered == nullptr && list == nullptr) return true;  // nothing runs: no reference to keep
  // Keep the state alive while callbacks run: one may drop the last handle.
  add_ref();
  while (ordered) {
    DoneCallback* next = ordered->next;
    ordered->invoke(ordered, *this);
    ordered = next;
  }
  if (list) {
    DoneTerminal* t = untag_terminal(list);
    t->invoke(t, *this);
  }
  release();
  return true;
}

void FutureStateBase::wake_waiters() noexcept { futex_wake_all(word_); }

bool FutureStateBase::lock_to_list() noexcept {
  lock_.lock();
  // On a state completed lock-free, announce the callback before listing it (see
  // kCallbacksBit): either the completer's CAS sees the bit and takes the lock, or
  // it published first and this RMW sees the done status. Other states are
  // completed under the lock: a load is enough.
  std::uint32_t word = word_.load(std::memory_order_acquire);
  if (word & kExclusiveBit) word = word_.fetch_or(kCallbacksBit, std::memory_order_acq_rel);
  if ((word & kStatusMask) >= static_cast<std::uint32_t>(FutureStatus::finished)) {
    lock_.unlock();
    return false;
  }
  return true;
}

bool FutureStateBase::add_callback(DoneCallback* cb) noexcept {
  if (!lock_to_list()) return false;
  cb->next = callbacks_;
  callbacks_ = cb;
  lock_.unlock();
  return true;
}

TerminalAdded FutureStateBase::add_terminal(DoneTerminal* t) noexcept {
  if (!lock_to_list()) return TerminalAdded::done;  // a terminal is a listed callback too
  DoneCallback** end = &callbacks_;
  while (*end && !is_terminal(*end)) end = &(*end)->next;
  if (*end) {
    lock_.unlock();
    return TerminalAdded::taken;
  }
  *end = tag_terminal(t);
  lock_.unlock();
  return TerminalAdded::listed;
}

bool FutureStateBase::remove_terminal(DoneTerminal* t) noexcept {
  lock_.lock();
  DoneCallback** end = &callbacks_;
  while (*end && !is_terminal(*end)) end = &(*end)->next;
  const bool listed = *end == tag_terminal(t);
  if (listed) *end = nullptr;
  lock_.unlock();
  return listed;
}

bool FutureStateBase::remove_callback(DoneCallback* cb) noexcept {
  lock_.lock();
  for (DoneCallback** link = &callbacks_; *link && !is_terminal(*link); link = &(*link)->next) {
    if (*link == cb) {
      *link = cb->next;
      lock_.unlock();
      return true;
    }
  }
  lock_.unlock();
  return false;
}

std::size_t FutureStateBase::remove_callbacks_if(bool (*match)(DoneCallback*, const void*),
                                                 const void* context) noexcept {
  DoneCallback* removed = nullptr;
  std::size_t count = 0;
  lock_.lock();
  for (DoneCallback** link = &callbacks_; *link && !is_terminal(*link);) {
    DoneCallback* cb = *link;
    if (match(cb, context)) {
      *link = cb->next;
      cb->next = removed;
      removed = cb;
      ++count;
    } else {
      link = &cb->next;
    }
  }
  lock_.unlock();
  while (removed) {
    DoneCallback* next = removed->next;
    if (removed->discard) removed->discard(removed);
    removed = next;
  }
  return count;
}

void FutureStateBase::wait() const noexcept {
  wait_until(std::chrono::steady_clock::time_point::max());
}

bool FutureStateBase::wait_until(std::chrono::steady_clock::time_point deadline) const noexcept {
  for (;;) {
    std::uint32_t word = word_.load(std::memory_order_acquire);
    if ((word & kStatusMask) >= static_cast<std::uint32_t>(FutureStatus::finished)) return true;
    if (!(word & kWaitersBit)) {
      if (!word_.compare_exchange_weak(word, word | kWaitersBit, std::memory_order_acq_rel))
        continue;
      word |= kWaitersBit;
    }
    if (deadline == std::chrono::steady_clock::time_point::max()) {
      futex_wait(word_, word, nullptr);
    } else {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) return done();
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      futex_wait(word_, word, &ts);
    }
  }
}

}  // namespace lanes::detail
