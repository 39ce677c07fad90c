// tools/lanes/lab/gil.hpp — an emulated Global Interpreter Lock, to show in C++ what
// CPython's GIL does to threads.
//
// Like CPython's (Python/ceval_gil.c, described in the tutorial): one lock a thread must
// hold to compute. A thread that wants it waits one switch interval (5 ms, CPython's
// sys.getswitchinterval()); if it still has not got it, it asks the holder to drop it.
// The holder notices at its next checkpoint (CPython: between bytecodes), lets go, and
// waits until another thread has taken it (forced switching, so it cannot grab it back
// at once). Around blocking I/O a thread releases it, as CPython does.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace lanes_cli::lab {

class EmulatedGil {
 public:
  explicit EmulatedGil(std::chrono::microseconds switch_interval = std::chrono::milliseconds(5))
      : interval_(switch_interval) {}
  EmulatedGil(const EmulatedGil&) = delete;
  EmulatedGil& operator=(const EmulatedGil&) = delete;

  /// Blocks until this thread holds the GIL. Never throws except std::system_error
  /// from the standard mutex.
  void acquire();
  /// Gives the GIL up and wakes one waiter. The caller must hold it.
  void release();

  /// Called by the holder at its switch points: cheap (one relaxed load) unless a
  /// waiter has asked for the GIL, in which case the holder hands it over and waits
  /// for its next turn.
  void checkpoint() {
    if (drop_request_.load(std::memory_order_relaxed)) hand_over();
  }

  /// How many times the GIL changed hands (CPython's switch number).
  std::uint64_t switches() const;

  /// RAII: holds the GIL for a scope (a thread running "Python code").
  class Held {
   public:
    explicit Held(EmulatedGil& gil) : gil_(gil) { gil_.acquire(); }
    ~Held() { gil_.release(); }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

   private:
    EmulatedGil& gil_;
  };

  /// RAII: drops the GIL for a scope (blocking I/O, as CPython's
  /// Py_BEGIN_ALLOW_THREADS / Py_END_ALLOW_THREADS).
  class Released {
   public:
    explicit Released(EmulatedGil& gil) : gil_(gil) { gil_.release(); }
    ~Released() { gil_.acquire(); }
    Released(const Released&) = delete;
    Released& operator=(const Released&) = delete;

   private:
    EmulatedGil& gil_;
  };

 private:
  void hand_over();
  void acquire_locked(std::unique_lock<std::mutex>& lk);

  const std::chrono::microseconds interval_;
  mutable std::mutex mutex_;
  std::condition_variable gil_free_;   // signalled when held_ becomes false
  std::condition_variable switched_;   // signalled when switch_number_ changes
  bool held_ = false;                  // guarded by mutex_: the GIL itself
  int waiters_ = 0;                    // guarded by mutex_: threads inside acquire()
  std::uint64_t switch_number_ = 0;    // guarded by mutex_
  // Invariant: true only between a waiter having waited a whole interval for the GIL
  // and the next acquisition. Written under mutex_; the holder reads it without the
  // mutex as a hint (a late or early read only moves a switch by one checkpoint).
  std::atomic<bool> drop_request_{false};
};

}  // namespace lanes_cli::lab
