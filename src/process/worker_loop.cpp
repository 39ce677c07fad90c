// The loop a process-pool worker runs: read a call frame, run the registered
// function, write the answer. Single-threaded and blocking; it ends on EOF (the pool
// closed the socket, or died) and the start-up hook then _exit()s.
#include "worker_loop.hpp"

#include <sys/socket.h>
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

#include "lanes/detail/io/syscall.hpp"
#include "lanes/detail/process/call_runner.hpp"
#include "lanes/detail/process/process_registry.hpp"
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
/// within microseconds: look for it with non-blocking reads for a bounded time
/// (kSpin) before sleeping in read(), which spares the wake-up of this process on
/// that path. Returns what recv returned, or -1 when nothing came (then block).
/// Bounded, and only after an answer: an idle worker uses no CPU.
ssize_t poll_briefly(int fd, char* room, std::size_t size) noexcept {
  constexpr auto kSpin = std::chrono::microseconds(30);
  const auto until = std::chrono::steady_clock::now() + kSpin;
  do {
    const ssize_t r = retry_eintr([&] { return ::recv(fd, room, size, MSG_DONTWAIT); });
    if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return r;
  } while (std::chrono::steady_clock::now() < until);
  return -1;
}

}  // namespace

int run_process_worker(int fd, WorkerSharedState* shared) {
  FrameReceiver in;
  ByteBuffer out;
  bool just_answered = false;
  for (;;) {
    FrameHeader header;
    std::string_view payload;
    try {
      while (!in.next(header, payload)) {
        auto [room, size] = in.prepare();
        ssize_t r = -1;
        if (std::exchange(just_answered, false)) r = poll_briefly(fd, room, size);
        if (r < 0) r = retry_eintr([&] { return ::read(fd, room, size); });
        if (r <= 0) return 0;  // the pool closed the socket (or it broke): done
        in.commit(static_cast<std::size_t>(r));
      }
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
    if (shared) shared->taken_frame.store(header.task_id, std::memory_order_release);
    run_call_frame(header, payload, out, missing_in_worker);
    // What the task printed goes out before its answer: the caller sees it first.
    std::fflush(nullptr);
    if (!write_all(fd, out.data(), out.size())) return 0;
    just_answered = true;
    in.shrink();
    if (out.capacity() > (1u << 20)) out.release_memory();
  }
}

}  // namespace lanes::detail
