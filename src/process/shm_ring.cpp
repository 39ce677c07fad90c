// The shared-memory ring's producer side and its futex sleep (see shm_ring.hpp).
#include "lanes/detail/process/shm_ring.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace lanes::detail {

bool ring_put(ShmRing& ring, RingRecord kind, const std::string_view* parts, std::size_t count,
              std::size_t size) noexcept {
  if (size > kRingSlot) return false;
  const std::uint64_t head = ring.head.load(std::memory_order_relaxed);  // ours alone
  const std::uint64_t tail = ring.tail.load(std::memory_order_acquire);
  const std::size_t at = static_cast<std::size_t>(head & (kRingBytes - 1));
  const std::size_t bytes = ring_record_bytes(size);
  // A record never wraps: if it does not fit before the end, pad to the end first.
  const std::size_t pad = at + bytes > kRingBytes ? kRingBytes - at : 0;
  if ((head - tail) + pad + bytes > kRingBytes) return false;
  std::uint64_t pos = head;
  if (pad > 0) {
    const auto padding = static_cast<std::uint32_t>(RingRecord::padding);
    const std::uint32_t zero = 0;
    std::memcpy(ring.data + at, &zero, 4);
    std::memcpy(ring.data + at + 4, &padding, 4);
    pos += pad;
  }
  char* p = ring.data + (pos & (kRingBytes - 1));
  const auto length = static_cast<std::uint32_t>(size);
  const auto k = static_cast<std::uint32_t>(kind);
  std::memcpy(p, &length, 4);
  std::memcpy(p + 4, &k, 4);
  p += kRingRecordHeader;
  for (std::size_t i = 0; i < count; ++i) {
    if (parts[i].empty()) continue;
    std::memcpy(p, parts[i].data(), parts[i].size());
    p += parts[i].size();
  }
  // Sequentially consistent: ordered before the load of `waiter` in ring_should_wake
  // (the other half of the sleep handshake), and a release for the bytes above.
  ring.head.store(pos + bytes, std::memory_order_seq_cst);
  return true;
}

bool ring_should_wake(ShmRing& ring) noexcept {
  if (ring.waiter.load(std::memory_order_seq_cst) == 0) return false;  // awake: no call
  return ring.waiter.exchange(0, std::memory_order_seq_cst) == 1;
}

bool ring_prepare_sleep(ShmRing& ring) noexcept {
  ring.waiter.store(1, std::memory_order_seq_cst);
  if (ring.head.load(std::memory_order_seq_cst) == ring.tail.load(std::memory_order_relaxed) &&
      ring.closed.load(std::memory_order_seq_cst) == 0)
    return true;
  ring.waiter.store(0, std::memory_order_relaxed);
  return false;
}

void ring_futex_wait(ShmRing& ring) noexcept {
  // Shared (not FUTEX_PRIVATE): the waker is another process mapping the same memfd.
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&ring.waiter), FUTEX_WAIT, 1u, nullptr,
            nullptr, 0);
}

void ring_futex_wake(ShmRing& ring) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&ring.waiter), FUTEX_WAKE, 1, nullptr,
            nullptr, 0);
}

}  // namespace lanes::detail
