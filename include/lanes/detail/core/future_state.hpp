// lanes/detail/core/future_state.hpp — the shared state behind lanes::Future<T>.
//
// One state serves every world: a loop task, a thread-pool job, a process-pool job
// or a future completed by hand. It is reference counted, completed exactly once,
// and safe to complete, cancel, observe and wait on from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "lanes/errors.hpp"

namespace lanes::detail {

/// A test-and-test-and-set lock for critical sections of a few instructions.
class SpinLock {
 public:
  void lock() noexcept {
    for (;;) {
      // Invariant: locked_ is true exactly while one thread is inside the section;
      // acquire on success pairs with the release in unlock().
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      while (locked_.load(std::memory_order_relaxed)) pause();
    }
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  static void pause() noexcept;
  std::atomic<bool> locked_{false};
};

class FutureStateBase;
class TaskCoreBase;

/// Reports an error that no one retrieved before its future was destroyed: to the
/// loop running on this thread, or to stderr when none runs.
void report_unretrieved(const std::exception_ptr& error) noexcept;

/// An intrusive node in a future's list of done callbacks. Awaiters embed one, so
/// awaiting a future allocates nothing.
struct DoneCallback {
  void (*invoke)(DoneCallback* self, FutureStateBase& state) noexcept = nullptr;
  /// Frees a heap node still listed when its state is destroyed undone; null for
  /// nodes that live elsewhere (an awaiter in a coroutine frame).
  void (*discard)(DoneCallback* self) noexcept = nullptr;
  DoneCallback* next = nullptr;
};

/// The one waiter a future's callback list may end in, without a node of its own: a
/// MultiWait (gather, wait) is listed on each of its futures as a tagged pointer to
/// this, so that waiting on a future costs no memory per future but its slot.
struct DoneTerminal {
  /// Runs once when the state is done, after the nodes listed before it.
  void (*invoke)(DoneTerminal* self, FutureStateBase& state) noexcept = nullptr;
  /// Runs instead when the state is destroyed undone with the terminal still listed.
  void (*discard)(DoneTerminal* self) noexcept = nullptr;
};
static_assert(alignof(DoneTerminal) >= 2, "the list tags a terminal's address with its low bit");

/// What add_terminal() did.
enum class TerminalAdded : std::uint8_t {
  listed,  // it will run once the state is done
  done,    // not listed: the state is done already, the caller acts at once
  taken,   // not listed: another terminal holds the state's one slot
};

/// The states a future goes through: pending → (running →) finished | cancelled.
enum class FutureStatus : std::uint32_t { pending = 0, running = 1, finished = 2, cancelled = 3 };

class FutureStateBase {
 public:
  FutureStateBase() = default;
  FutureStateBase(const FutureStateBase&) = delete;
  FutureStateBase& operator=(const FutureStateBase&) = delete;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    // Invariant: refs_ counts the Future handles plus the producer's own reference;
    // acq_rel makes every write of every owner visible to the one that destroys.
    // Only an owner adds a reference, so an owner that reads 1 is the last one and
    // destroys without the read-modify-write (the acquire load pairs with the other
    // owners' acq_rel decrements as the RMW would): a job's future dropped after
    // the job finished costs no atomic RMW.
    if (refs_.load(std::memory_order_acquire) == 1 ||
        refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
      destroy();
  }

  FutureStatus status() const noexcept {
    return static_cast<FutureStatus>(word_.load(std::memory_order_acquire) & kStatusMask);
  }
  bool done() const noexcept { return status() >= FutureStatus::finished; }
  bool cancelled() const noexcept { return status() == FutureStatus::cancelled; }

  /// pending → running, for executors that start a job; false if it was cancelled.
  bool set_running() noexcept;

  /// Requests cancellation. A plain future that is pending is cancelled at once;
  /// tasks and executor jobs override this with their own rules.
  virtual bool cancel() noexcept;
  /// The task behind this future, if create_task made it; else null.
  virtual TaskCoreBase* task() noexcept { return nullptr; }

  /// What a loop does to a task (TaskCoreBase has no vtable of its own: a task
  /// state is dispatched through this one).
  enum class TaskAct : std::uint8_t { step, abandon };

  /// Completes with an error; false if already done.
  bool set_exception(std::exception_ptr error) noexcept;

  /// Adds a callback run once when the state is done. Returns false, without
  /// adding it, if the state is already done: the caller then acts at once.
  bool add_callback(DoneCallback* cb) noexcept;
  /// Removes a callback that has not run; false if it ran or is running.
  bool remove_callback(DoneCallback* cb) noexcept;
  /// Removes every node not yet run for which match(cb, context) is true and
  /// discards it (its `discard` runs, outside the lock); the terminal stays.
  /// Returns how many.
  std::size_t remove_callbacks_if(bool (*match)(DoneCallback* cb, const void* context),
                                  const void* context) noexcept;

  /// Lists `t` as the state's terminal: the end of the callback list, run after every
  /// node. A state has one terminal slot (nodes added later go before it).
  TerminalAdded add_terminal(DoneTerminal* t) noexcept;
  /// Removes `t` if it is this state's terminal and has not run; false if it ran, is
  /// running, or is not listed here.
  bool remove_terminal(DoneTerminal* t) noexcept;

  /// Blocks the calling thread until done, or until the deadline; true if done.
  bool wait_until(std::chrono::steady_clock::time_point deadline) const noexcept;
  void wait() const noexcept;

  /// The stored error (null if none) and marks it retrieved.
  std::exception_ptr take_error() noexcept {
    retrieved_.store(true, std::memory_order_relaxed);
    return error_;
  }
  void mark_retrieved() noexcept { retrieved_.store(true, std::memory_order_relaxed); }
  /// True if it finished with an error (not cancelled). Does not mark the error
  /// retrieved: wait(FIRST_EXCEPTION) looks without taking. error_ is written
  /// before the status is published, so reading it after done() is race-free.
  bool has_error() const noexcept { return status() == FutureStatus::finished && error_; }

 protected:
  virtual ~FutureStateBase();
  virtual void destroy() noexcept { delete this; }
  /// Sets the reference count of a state not yet shared with any other thread
  /// (an executor that hands out the producer's and a Future's reference at once).
  void init_refs(std::uint32_t n) noexcept { refs_.store(n, std::memory_order_relaxed); }
  /// Before the state is shared: it will be completed by complete_exclusive(), so
  /// add_callback() must announce its nodes (other states skip that RMW).
  void init_exclusive_completion() noexcept {
    word_.store(kExclusiveBit, std::memory_order_relaxed);
  }

  /// Runs `store` under the lock if the state is not done yet, then publishes
  /// `final_status` and runs the callbacks. False if it was already done.
  template <class Store>
  bool complete(FutureStatus final_status, Store&& store) noexcept {
    lock_.lock();
    if (done()) {
      lock_.unlock();
      return false;
    }
    store();
    return publish(final_status);
  }
  /// complete() for the one thread that may complete this state now (an executor
  /// running its job: cancel() cannot complete a running state), on a state made
  /// with init_exclusive_completion(). Without a callback ever added, one CAS
  /// publishes, without the lock.
  template <class Store>
  bool complete_exclusive(FutureStatus final_status, Store&& store) noexcept {
    std::uint32_t word = word_.load(std::memory_order_relaxed);
    if ((word & kStatusMask) >= static_cast<std::uint32_t>(FutureStatus::finished)) return false;
    store();  // no other completer: the CAS below publishes it
    while ((word & kCallbacksBit) == 0) {
      if (word_.compare_exchange_weak(word, static_cast<std::uint32_t>(final_status),
                                      std::memory_order_acq_rel, std::memory_order_relaxed)) {
        if (word & kWaitersBit) wake_waiters();
        return true;
      }
    }
    lock_.lock();  // a callback may be listed: the locked path runs it
    return publish(final_status);
  }
  /// Runs a step of the task, or destroys its coroutine unrun; only TaskState has
  /// a task to act on.
  virtual void act_as_task(TaskAct) noexcept {}
  friend class TaskCoreBase;

  /// Called with the lock held; releases it.
  bool publish(FutureStatus final_status) noexcept;
  /// The rest of publish() once the status word went from `old` to done: called
  /// with the lock held; releases it, wakes the waiters, runs the callbacks.
  bool after_publish(std::uint32_t old) noexcept;

  std::exception_ptr error_;

 private:
  // Declared here, between the two words and the small fields, so that the small
  // fields end the object and a derived state's value (FutureState<void>'s flag, a
  // small T) fills its tail padding: a task state is 8 bytes smaller.
  DoneCallback* callbacks_ = nullptr;  // guarded by lock_; newest first

  static constexpr std::uint32_t kStatusMask = 0x3;
  static constexpr std::uint32_t kWaitersBit = 0x4;
  static constexpr std::uint32_t kCallbacksBit = 0x8;
  static constexpr std::uint32_t kExclusiveBit = 0x10;

  void wake_waiters() noexcept;
  /// Takes the lock to list a callback, announcing it first on an exclusively
  /// completed state; false, with the lock released, if the state is done.
  bool lock_to_list() noexcept;

  // The callback list ends in nullptr or in one tagged DoneTerminal* (low bit set):
  // callbacks_ itself when no node is listed, else the `next` of the oldest node.
  static bool is_terminal(const DoneCallback* p) noexcept {
    return reinterpret_cast<std::uintptr_t>(p) & 1;
  }
  static DoneCallback* tag_terminal(DoneTerminal* t) noexcept {
    return reinterpret_cast<DoneCallback*>(reinterpret_cast<std::uintptr_t>(t) | 1);
  }
  static DoneTerminal* untag_terminal(DoneCallback* p) noexcept {
    return reinterpret_cast<DoneTerminal*>(reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{1});
  }

  // Invariant: the low two bits hold the FutureStatus. pending → running is a CAS
  // without the lock (set_running); every other change is made under lock_: by a
  // CAS from pending (cancel: so exactly one of cancel and set_running wins) or an
  // exchange to a done status (publish). kWaitersBit is set by a thread about to
  // block so the completer knows to wake it. On a state with kExclusiveBit (set
  // before it is shared, kept until it is done), kCallbacksBit is set (under lock_,
  // by an RMW that also reads the status) before add_callback lists a node (or
  // add_terminal a terminal), so that complete_exclusive's CAS, which expects it
  // clear, never publishes past a listed callback.
  mutable std::atomic<std::uint32_t> word_{0};
  std::atomic<std::uint32_t> refs_{1};
  // Invariant: set once a consumer has seen the error, so destruction does not
  // report it as never retrieved.
  std::atomic<bool> retrieved_{false};
  SpinLock lock_;
};

/// Tag type standing for "no value" in Future<void>.
struct Unit {};

template <class T>
using StoredType = std::conditional_t<std::is_void_v<T>, Unit, T>;

template <class T>
class FutureState : public FutureStateBase {
 public:
  using Stored = StoredType<T>;

  template <class... Args>
  bool set_value(Args&&... args) noexcept(std::is_nothrow_constructible_v<Stored, Args...>) {
    return complete(FutureStatus::finished, [&] { value_.emplace(std::forward<Args>(args)...); });
  }

  /// The value of a finished state; rethrows its error; throws CancelledError if
  /// it was cancelled. Copies copyable values so that result() can be asked again;
  /// moves a move-only value out (a second call then throws InvalidStateError).
  Stored get() {
    switch (status()) {
      case FutureStatus::cancelled:
        mark_retrieved();
        throw CancelledError("the future was cancelled");
      case FutureStatus::finished:
        break;
      default:
        throw InvalidStateError("the future is not done yet: co_await it or call result()");
    }
    if (auto error = take_error()) std::rethrow_exception(error);
    if constexpr (std::is_copy_constructible_v<Stored>) {
      return *value_;
    } else {
      if (!value_) throw InvalidStateError("the move-only result of this future was already taken");
      Stored out = std::move(*value_);
      value_.reset();
      return out;
    }
  }

 protected:
  std::optional<Stored> value_;
};

}  // namespace lanes::detail
