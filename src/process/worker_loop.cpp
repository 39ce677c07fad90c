// The loop a process-pool worker runs: take a call frame from the request ring (or the
// socket, for a large one), run the registered function, put the answer in the answer
// ring (or the socket). Single-threaded; it ends when the pool closes the ring or the
// socket (a worker whose pool died is killed by PR_SET_PDEATHSIG) and the start-up
// hook then _exit()s.
#include "worker_loop.hpp"

#include <sys/socket.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <algorithm>

#include "lanes/detail/io/syscall.hpp"
#include "lanes/detail/process/call_runner.hpp"
#include "lanes/detail/process/process_registry.hpp"
#include "lanes/detail/process/shm_ring.hpp"
#include "lanes/detail/threads/parker.hpp"
#include "lanes/detail/process/wire_frame.hpp"
#include "lanes/detail/process/wire_types.hpp"
#include "worker_spawn.hpp"

namespace lanes::detail {
namespace {

/// False if the pool is gone (EPIPE and the like): the worker then just ends.
bool write_all(int fd, const char* p, std::size_t n) noexcept {
  while (n > 0) {
    const ssize_t w = retry_eintr([&] { return ::send(fd, p, n, MSG_NOSIGNAL); });
    if (w < 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

/// The worker is a fresh exec of the caller's program, so a missing function means
/// another program or build.
std::string missing_in_worker(std::string_view function, bool other_signature) {
  return other_signature
             ? "the worker's `" + std::string(function) +
                   "` has another signature than the caller's (different builds of the program?)"
             : "the worker program has no function registered as `" + std::string(function) +
                   "` (is the worker the same program as the caller?)";
}

/// Right after an answer, a caller that waits for it often sends the next call
/// within microseconds: the worker looks at its request ring for a bounded time
/// (kSpin) before it sleeps on the ring's futex, which spares the wake-up of this
/// process on that path. Bounded, and only after an answer: an idle worker uses no CPU.
constexpr auto kSpin = std::chrono::microseconds(50);

/// Waits until the request ring holds a record or is closed; spins first if `spin`.
void wait_for_request(ShmRing& ring, bool spin) noexcept {
  if (spin) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (unsigned i = 1;; ++i) {
      if (ring_ready(ring) || ring.closed.load(std::memory_order_acquire) != 0) return;
      cpu_relax();
      // Yield often: with the worker and the supervisor both spinning, the caller just
      // woken by a completion would otherwise wait for a core (2 cores: seen as 200 µs
      // round trips without it).
      if (i % 8 == 0) ::sched_yield();
      if (i % 64 == 0 && std::chrono::steady_clock::now() >= until) break;
    }
  }
  while (ring_prepare_sleep(ring)) {
    ring_futex_wait(ring);
    // Woken (or a spurious return): the producer lowered `waiter`, or look again.
    ring.waiter.store(0, std::memory_order_relaxed);
    if (ring_ready(ring) || ring.closed.load(std::memory_order_acquire) != 0) return;
  }
}

enum class Next { frame, closed, failed };

/// Gets the next call frame into `in`: from the ring, or from the socket when the ring
/// says it comes that way.
Next receive(int fd, ShmRing& ring, FrameReceiver& in, bool spin, FrameHeader& header,
             std::string_view& payload) {
  for (;;) {
    if (in.next(header, payload)) return Next::frame;
    wait_for_request(ring, spin);
    spin = false;
    const RingTake took = ring_take(ring, [&](const char* body, std::size_t size) {
      auto [room, room_size] = in.prepare();  // ≥ 64 KiB > kRingSlot
      std::memcpy(room, body, std::min(size, room_size));
      in.commit(std::min(size, room_size));
    });
    switch (took) {
      case RingTake::frame:
        if (!in.next(header, payload))
          throw WireFormatError("a ring record held part of a frame, not a whole one");
        return Next::frame;
      case RingTake::via_socket:
        while (!in.next(header, payload)) {
          auto [room, size] = in.prepare();
          const ssize_t r = retry_eintr([&] { return ::read(fd, room, size); });
          if (r <= 0) return Next::closed;  // the pool closed the socket (or it broke)
          in.commit(static_cast<std::size_t>(r));
        }
        return Next::frame;
      case RingTake::corrupt:
        throw WireFormatError("the request ring holds a malformed record");
      case RingTake::empty:
        if (ring.closed.load(std::memory_order_acquire) != 0) return Next::closed;
        break;
    }
  }
}

/// Sends an answer: through the ring when it fits a slot, else the socket. False if
/// the pool is gone.
bool answer(int fd, ShmRing& ring, int doorbell, const ByteBuffer& out) noexcept {
  if (out.size() <= kRingSlot) {
    const std::string_view part(out.data(), out.size());
    if (ring_put(ring, RingRecord::frame, &part, 1, out.size())) {
      if (ring_should_wake(ring)) {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(doorbell, &one, sizeof one);
      }
      return true;
    }
    // No room: the pool has not taken the last answer, which its protocol rules out;
    // the socket still delivers this one.
  }
  return write_all(fd, out.data(), out.size());
}

}  // namespace

int run_process_worker(int fd, WorkerSharedState& shared, int doorbell) {
  FrameReceiver in;
  ByteBuffer out;
  bool just_answered = false;
  for (;;) {
    FrameHeader header;
    std::string_view payload;
    try {
      const Next next = receive(fd, shared.requests, in, std::exchange(just_answered, false),
                                header, payload);
      if (next != Next::frame) return 0;  // the pool is done with this worker
    } catch (const WireFormatError& e) {
      std::fprintf(stderr, "lanes worker %d: %s\n", static_cast<int>(::getpid()), e.what());
      return 3;
    }
    if (header.kind != FrameKind::call) {
      std::fprintf(stderr, "lanes worker %d: the pool sent a frame of kind %d, not a call\n",
                   static_cast<int>(::getpid()), static_cast<int>(header.kind));
      return 3;
    }
    // From here the call counts as started: if this process dies, the pool must not
    // run it again elsewhere.
    shared.taken_frame.store(header.task_id, std::memory_order_release);
    run_call_frame(header, payload, out, missing_in_worker);
    // What the task printed goes out before its answer: the caller sees it first.
    std::fflush(nullptr);
    if (!answer(fd, shared.answers, doorbell, out)) return 0;
    just_answered = true;
    in.shrink();
    if (out.capacity() > (1u << 20)) out.release_memory();
  }
}

}  // namespace lanes::detail
