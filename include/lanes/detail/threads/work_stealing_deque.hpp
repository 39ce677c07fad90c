// lanes/detail/threads/work_stealing_deque.hpp — the Chase-Lev deque of a pool worker.
//
// Each worker of a ThreadPoolExecutor owns one. The owner pushes and pops at the
// bottom (LIFO: the job it just made is hot in its cache, and fork-join recursion
// stays depth-first); other threads steal at the top (the oldest, usually the
// biggest piece of work). Push and pop are a few plain loads and stores (a push
// reads the thieves' top_ only when the ring looks full); only the
// race for the last element and a steal use a CAS on `top_`. The ring grows by
// doubling; outgrown rings are kept until the deque dies, because a thief may still
// be reading one (it then reads the same pointer the new ring holds at that index,
// and its CAS on `top_` decides whether the read counts).
//
// The memory orders follow Lê, Pop, Cohen and Zappa Nardelli, "Correct and
// Efficient Work-Stealing for Weak Memory Models" (PPoPP 2013), with every store of
// `bottom_` made a release so that a thief's acquire load of `bottom_` always
// synchronizes with the push that published the slot it reads (C++20 release
// sequences no longer include later plain stores of the same thread).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

namespace lanes::detail {

template <class T>
class WorkStealingDeque {
  static_assert(std::is_pointer_v<T>, "the deque holds pointers (null means empty)");

 public:
  explicit WorkStealingDeque(std::size_t capacity = 256) {
    rings_.push_back(std::make_unique<Ring>(round_up(capacity)));
    ring_.store(rings_.back().get(), std::memory_order_relaxed);
  }
  WorkStealingDeque(const WorkStealingDeque&) = delete;
  WorkStealingDeque& operator=(const WorkStealingDeque&) = delete;

  /// Owner only. Adds `item` at the bottom; grows the ring when full (throws
  /// std::bad_alloc if that fails; the deque is then unchanged).
  void push(T item) {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    Ring* ring = ring_.load(std::memory_order_relaxed);
    // top_ is the thieves' line: reading it on every push would be a cache miss per
    // push while they steal. top_ only grows, so an older value is a lower bound: if
    // the ring has room by that bound it has room now, and the acquire load that
    // gave the bound already ordered the steals of the slots below it before our
    // write of slot b (whose previous occupant, b - capacity, is below it).
    if (b - top_seen_ >= static_cast<std::int64_t>(ring->capacity)) {
      top_seen_ = top_.load(std::memory_order_acquire);
      if (b - top_seen_ >= static_cast<std::int64_t>(ring->capacity))
        ring = grow(ring, top_seen_, b);
    }
    ring->put(b, item);
    // Release: a thief that sees bottom > b also sees the slot and what `item`
    // points to.
    bottom_.store(b + 1, std::memory_order_release);
  }

  /// Owner only. Takes the newest item, or null if the deque is empty (or a thief
  /// took the last one).
  T pop() noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    Ring* ring = ring_.load(std::memory_order_relaxed);
    // Reserve slot b first, then look at top: the seq_cst fence orders this store
    // before the load of top_, against the mirror-image fence in steal(), so that
    // the owner and a thief can never both take the last item.
    bottom_.store(b, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_relaxed);
    if (t > b) {  // it was empty
      bottom_.store(b + 1, std::memory_order_release);
      return nullptr;
    }
    T item = ring->get(b);
    if (t == b) {
      // The last item: thieves may race for it; whoever moves top_ past it wins.
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                        std::memory_order_relaxed)) {
        item = nullptr;
      }
      bottom_.store(b + 1, std::memory_order_release);
    }
    return item;
  }

  /// Any thread. Takes the oldest item, or null if the deque looked empty or
  /// another thread won the race for it (callers just look elsewhere).
  T steal() noexcept {
    std::int64_t t = top_.load(std::memory_order_acquire);
    // Mirror of the fence in pop(): top is read before bottom.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::int64_t b = bottom_.load(std::memory_order_acquire);
    if (t >= b) return nullptr;
    Ring* ring = ring_.load(std::memory_order_acquire);
    T item = ring->get(t);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
      return nullptr;
    }
    return item;
  }

  /// A hint (exact only when no one else touches the deque): true if it seems empty.
  bool looks_empty() const noexcept {
    const std::int64_t t = top_.load(std::memory_order_relaxed);
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    return b <= t;
  }

 private:
  struct Ring {
    explicit Ring(std::size_t cap)
        : capacity(cap), mask(cap - 1), slots(new std::atomic<T>[cap]) {}
    // The slots are atomics only so that an owner's write and a thief's read of
    // the same (reused) slot are not a data race; the deque's indices order them.
    T get(std::int64_t i) const noexcept {
      return slots[static_cast<std::size_t>(i) & mask].load(std::memory_order_relaxed);
    }
    void put(std::int64_t i, T item) noexcept {
      slots[static_cast<std::size_t>(i) & mask].store(item, std::memory_order_relaxed);
    }
    std::size_t capacity;
    std::size_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
  };

  static std::size_t round_up(std::size_t n) noexcept {
    std::size_t cap = 16;
    while (cap < n) cap *= 2;
    return cap;
  }

  Ring* grow(Ring* old, std::int64_t t, std::int64_t b) {
    rings_.reserve(rings_.size() + 1);  // so that emplace_back below cannot throw
    auto bigger = std::make_unique<Ring>(old->capacity * 2);
    for (std::int64_t i = t; i < b; ++i) bigger->put(i, old->get(i));
    Ring* raw = bigger.get();
    rings_.emplace_back(std::move(bigger));
    // Release: a thief that loads the new ring sees the copied slots.
    ring_.store(raw, std::memory_order_release);
    return raw;
  }

  // Invariant: top_ <= bottom_ + 1 at all times; [top_, bottom_) are the items.
  // top_ only grows, and only by a successful CAS (a steal, or the owner taking
  // the last item); keeping it on its own cache line spares the owner's bottom_
  // the thieves' traffic.
  alignas(64) std::atomic<std::int64_t> top_{0};
  // Invariant: written only by the owner. Every store is a release so that a
  // thief's acquire load synchronizes with the push of any slot below it.
  alignas(64) std::atomic<std::int64_t> bottom_{0};
  // Invariant: the current ring; replaced only by the owner (grow), with release.
  std::atomic<Ring*> ring_{nullptr};
  // Owner only: a value of top_ it loaded (acquire) earlier, at most top_ now.
  std::int64_t top_seen_ = 0;
  // Every ring ever used, owner only: outgrown rings stay alive for late thieves.
  std::vector<std::unique_ptr<Ring>> rings_;
};

}  // namespace lanes::detail
