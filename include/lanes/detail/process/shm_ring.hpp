// lanes/detail/process/shm_ring.hpp — a single-producer single-consumer byte ring in
// memory shared between the process pool and one worker (a memfd both map).
//
// One ring carries the pool's call frames to a worker, another the worker's answers
// back. Frames up to kRingSlot bytes travel as one record copied into the ring; a
// larger frame goes through the worker's socket, announced (pool to worker) by a
// "via socket" record so that the worker, which waits on the ring, knows to read it.
//
// Waiting is spin-then-sleep: the consumer looks at `head` for a bounded time, then
// raises `waiter` and sleeps (a worker in FUTEX_WAIT on `waiter`; the pool's supervisor
// in its reactor, woken through an eventfd the worker writes). The producer publishes
// `head`, then lowers `waiter` if it was raised and only then makes the system call.
// Both sides use sequentially consistent accesses for that handshake (store `waiter`,
// load `head` / store `head`, load `waiter`), so one of them always sees the other.
//
// Everything in the ring is written by two processes, so nothing read from it is
// trusted: a record's length is checked against the ring's bounds, and a bad record is
// reported (the pool then kills the worker). A producer that dies mid-record never
// published it: `head` only moves once the bytes are in place.
//
// ThreadSanitizer cannot see the other process's accesses; within one process each
// ring end has one thread at a time (the pool writes requests under its mutex and only
// the supervisor thread reads answers), so the in-process atomics below are all TSan
// needs to check.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lanes::detail {

/// Bytes of record data a ring holds (a power of two).
inline constexpr std::size_t kRingBytes = 64 * 1024;
/// The largest frame that travels through a ring; larger ones use the socket. A quarter
/// of the ring, so that a record always fits once the ring is empty, wrapped or not.
inline constexpr std::size_t kRingSlot = kRingBytes / 4;

/// What a record is.
enum class RingRecord : std::uint32_t {
  frame = 1,       // one whole wire frame follows
  via_socket = 2,  // the next frame comes through the socket (it is over kRingSlot)
  padding = 3,     // skip to the start of the ring (a record never wraps)
};

struct ShmRing {
  // Invariant: the number of bytes ever published by the producer (a multiple of 8,
  // never decreasing); the bytes of every record before it are in place (release
  // store, acquire load). Written by the producer only.
  std::atomic<std::uint64_t> head{0};
  // Invariant: the number of bytes the consumer has taken (≤ head, a multiple of 8);
  // the producer may overwrite ring bytes before it (release store by the consumer
  // once it has copied a record out, acquire load by the producer). Consumer only.
  alignas(64) std::atomic<std::uint64_t> tail{0};
  // Invariant: 1 while the consumer is asleep or about to sleep (it stored 1, then
  // looked at head once more); the producer that sees 1 after publishing stores 0 and
  // wakes it. 0 otherwise. Also the futex word a sleeping worker waits on.
  alignas(64) std::atomic<std::uint32_t> waiter{0};
  // Invariant: 0 while the producer may still write; 1 once it never will (the pool
  // retires the worker). Set by the producer, who then wakes a sleeping consumer.
  std::atomic<std::uint32_t> closed{0};
  alignas(64) char data[kRingBytes];
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "a ring shared between processes needs address-free atomics");

/// Producer: appends one record of `kind` whose body is the concatenation of `parts`
/// (total `size` ≤ kRingSlot bytes; none for via_socket). Returns false if the ring
/// lacks room, which the pool's protocol rules out (one frame in flight per direction).
bool ring_put(ShmRing& ring, RingRecord kind, const std::string_view* parts, std::size_t count,
              std::size_t size) noexcept;

/// Producer, after ring_put: true if the consumer had gone to sleep (the caller then
/// wakes it: futex or eventfd). Lowers `waiter`.
bool ring_should_wake(ShmRing& ring) noexcept;

/// Consumer: true if a record is waiting.
inline bool ring_ready(const ShmRing& ring) noexcept {
  return ring.head.load(std::memory_order_acquire) != ring.tail.load(std::memory_order_relaxed);
}

/// What ring_take found.
enum class RingTake { empty, frame, via_socket, corrupt };

/// Consumer: takes the next record. For a frame, `copy(body, size)` is called with
/// its bytes before the space is given back. Padding records are skipped. A record whose
/// length or kind is impossible gives `corrupt` and leaves the ring as it is.
template <class Copy>
RingTake ring_take(ShmRing& ring, Copy&& copy) noexcept(noexcept(copy(nullptr, std::size_t{})));

/// Consumer: announce sleep (store waiter = 1), then true if the ring is still empty
/// and the caller may sleep; false if a record came meanwhile (waiter lowered again).
bool ring_prepare_sleep(ShmRing& ring) noexcept;

/// A worker's sleep on its request ring: FUTEX_WAIT on `waiter` while it is 1. Returns
/// on a wake, a signal, or when waiter was already 0.
void ring_futex_wait(ShmRing& ring) noexcept;
/// Wakes a worker asleep in ring_futex_wait.
void ring_futex_wake(ShmRing& ring) noexcept;

// ---- implementation of the template ----------------------------------------------------

/// A record's header: 4 bytes of body length, 4 of kind; bodies are padded to 8.
inline constexpr std::size_t kRingRecordHeader = 8;

inline std::size_t ring_record_bytes(std::size_t body) noexcept {
  return kRingRecordHeader + ((body + 7) & ~std::size_t{7});
}

template <class Copy>
RingTake ring_take(ShmRing& ring, Copy&& copy) noexcept(noexcept(copy(nullptr, std::size_t{}))) {
  for (;;) {
    const std::uint64_t head = ring.head.load(std::memory_order_acquire);
    const std::uint64_t tail = ring.tail.load(std::memory_order_relaxed);
    if (head == tail) return RingTake::empty;
    if (head - tail > kRingBytes || head - tail < kRingRecordHeader || (tail & 7) != 0)
      return RingTake::corrupt;
    const std::size_t at = static_cast<std::size_t>(tail & (kRingBytes - 1));
    std::uint32_t length = 0;
    std::uint32_t kind = 0;
    __builtin_memcpy(&length, ring.data + at, 4);
    __builtin_memcpy(&kind, ring.data + at + 4, 4);
    if (kind == static_cast<std::uint32_t>(RingRecord::padding)) {
      // The rest of the ring up to its end is padding; the next record starts at 0.
      const std::size_t skip = kRingBytes - at;
      if (skip > head - tail) return RingTake::corrupt;
      ring.tail.store(tail + skip, std::memory_order_release);
      continue;
    }
    const std::size_t bytes = ring_record_bytes(length);
    if (length > kRingSlot || bytes > head - tail || at + bytes > kRingBytes) return RingTake::corrupt;
    RingTake what;
    if (kind == static_cast<std::uint32_t>(RingRecord::frame)) {
      copy(ring.data + at + kRingRecordHeader, static_cast<std::size_t>(length));
      what = RingTake::frame;
    } else if (kind == static_cast<std::uint32_t>(RingRecord::via_socket) && length == 0) {
      what = RingTake::via_socket;
    } else {
      return RingTake::corrupt;
    }
    ring.tail.store(tail + bytes, std::memory_order_release);
    return what;
  }
}

}  // namespace lanes::detail
