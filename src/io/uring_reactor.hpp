// The io_uring backend's class (src/io/uring_reactor.cpp submits and watches,
// src/io/uring_completions.cpp reaps and dispatches). Private to src/io.
#pragma once

#if defined(LANES_HAVE_LIBURING)
#include <liburing.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lanes/detail/io/reactor.hpp"

namespace lanes::detail::uring {

constexpr unsigned kEntries = 256;
constexpr unsigned kCqEntries = 4096;
constexpr std::uint64_t kTagWatch = 1;
constexpr std::uint64_t kTagOp = 2;
constexpr unsigned kBatch = 64;
/// Completions handled per poll(), so that a flood cannot starve the ready queue.
constexpr int kMaxPerPoll = 1024;
/// The provided-buffer ring of stream receives (src/io/uring_buffers.cpp): how
/// many buffers, their size, and their group id.
constexpr unsigned kBufCount = 256;
constexpr unsigned kBufSize = 16 * 1024;
constexpr unsigned short kBufGroup = 0;

struct Cqe {
  std::uint64_t user_data;
  int res;
  unsigned flags;
};

class UringReactor final : public Reactor {
 public:
  UringReactor() = default;
  ~UringReactor() override;

  /// Makes the ring; 0 or an errno value.
  int init() noexcept;

  Backend backend() const noexcept override { return Backend::io_uring; }

  void add(int fd, std::uint32_t events, IoWatcher* watcher) override;
  void modify(int fd, std::uint32_t events, IoWatcher* watcher) override;
  void remove(int fd) noexcept override;

  std::size_t watched() const noexcept override { return watched_; }

  bool completes_operations() const noexcept override { return true; }

  bool provides_buffers() noexcept override;
  void flush_submissions() noexcept override {
    if (io_uring_sq_ready(&ring_) > 0) submit_now();
  }
  void submit(IoOp& op) override;
  void cancel(IoOp& op) noexcept override;
  int poll(std::chrono::nanoseconds timeout) override;

 private:
  struct Watch {
    int fd = -1;
    IoWatcher* watcher = nullptr;
    std::uint32_t events = 0;
    std::uint32_t generation = 0;
    bool multishot = false;
    bool armed = false;
    /// Its last report (no IORING_CQE_F_MORE) was taken from the ring and awaits
    /// handling: the kernel has let go of the file already.
    bool final_pending = false;
    bool dead = false;
    int next_free = -1;
  };
  std::uint64_t watch_data(int slot) const noexcept;
  int new_slot();
  void free_slot(int slot) noexcept;

  /// An SQE, submitting what is queued to make room (SQ full).
  io_uring_sqe* get_sqe();
  io_uring_sqe* get_sqe_noexcept() noexcept;
  void submit_now() noexcept;

  /// Submits, then waits until the last report of the watch in `slot` is in (the
  /// kernel has let go of its file); other completions go to backlog_.
  void await_final(int slot) noexcept;

  /// Moves the completions waiting in the ring to backlog_ (handled by poll()).
  void stash() noexcept;
  /// Marks the watch a report is addressed to if that report is its last one.
  void note_final(const Cqe& c) noexcept;
  void arm(int slot);
  int reap();
  int handle(const Cqe& c);
  void shut_down() noexcept;
  /// Completes `op` with its CQE: the picked buffer (if any) is lent to it for
  /// the duration of on_complete, then goes back to the pool.
  void complete(IoOp* op, const Cqe& c) noexcept;
  void free_buffers() noexcept;
  io_uring ring_{};
  bool ready_ = false;
  std::vector<Watch> slots_;
  int free_ = -1;
  std::vector<int> by_fd_;  // fd -> slot of its live watch, -1 if none
  std::size_t watched_ = 0;
  std::size_t ops_in_flight_ = 0;
  int dispatching_ = -1;
  bool multishot_ok_ = true;
  std::vector<Cqe> backlog_;
  // The provided buffers: 0 not tried yet, 1 registered, -1 refused by the kernel.
  int buf_state_ = 0;
  io_uring_buf_ring* buf_ring_ = nullptr;
  char* buf_memory_ = nullptr;
};

}  // namespace lanes::detail::uring

#endif
