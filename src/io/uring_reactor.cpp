// The io_uring backend of detail::Reactor.
//
// Readiness: each watched descriptor has one poll request in the ring —
// multishot (IORING_POLL_ADD_MULTI) for an edge-triggered watch, one-shot and
// re-armed after each report for a level-triggered one. Completions: IoOps
// (read, write, fsync, recv, send) go into the same ring and call back when done.
//
// Nothing is submitted by add() or submit(): the SQEs of one loop iteration go to
// the kernel together in poll()'s io_uring_submit_and_wait_timeout. remove() and
// cancel() submit at once, so that a closed descriptor is really closed (an armed
// poll holds a reference to the file: remove() waits for its last report) and a
// cancel targets a live request.
//
// user_data: a watch is (generation << 32 | slot << 2 | 1), stale reports of a
// reused slot are recognised by the generation; an IoOp is its address | 2; 0 is
// a request whose completion is ignored (poll removal, cancellation).
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <system_error>
#include <utility>

#include "lanes/detail/io/reactor.hpp"

#if defined(LANES_HAVE_LIBURING)
#include "uring_reactor.hpp"

namespace lanes::detail {
namespace uring {
namespace {

unsigned to_poll(std::uint32_t events) noexcept {
  // Errors and hang-ups are asked for explicitly: unlike epoll, io_uring filters
  // a report by the requested mask (a UDP socket's ICMP error is only POLLERR).
  unsigned m = POLLERR | POLLHUP;
  if (events & kReadable) m |= POLLIN | POLLRDHUP;
  if (events & kWritable) m |= POLLOUT;
  return m;
}

}  // namespace

UringReactor::~UringReactor() {
  if (ready_) shut_down();
}

int UringReactor::init() noexcept {
  io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  params.cq_entries = kCqEntries;
  int r = io_uring_queue_init_params(kEntries, &ring_, &params);
  if (r == -EINVAL) {
    // An older kernel without cooperative task running.
    params = io_uring_params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = kCqEntries;
    r = io_uring_queue_init_params(kEntries, &ring_, &params);
  }
  if (r < 0) return -r;  // ENOSYS, EPERM (io_uring_disabled), ENOMEM (RLIMIT_MEMLOCK)...
  if ((params.features & IORING_FEAT_NODROP) == 0) {
    // Completions could be lost when the queue overflows: not safe to use.
    io_uring_queue_exit(&ring_);
    return ENOTSUP;
  }
  ready_ = true;
  return 0;
}

void UringReactor::add(int fd, std::uint32_t events, IoWatcher* watcher) {
  if (fd < 0) throw std::system_error(EBADF, std::generic_category(), "io_uring poll");
  if (static_cast<std::size_t>(fd) < by_fd_.size() && by_fd_[fd] >= 0)
    throw std::system_error(EEXIST, std::generic_category(), "io_uring poll");
  const int slot = new_slot();
  Watch& w = slots_[slot];
  w.fd = fd;
  w.watcher = watcher;
  w.events = events;
  w.multishot = (events & kEdgeTriggered) != 0 && multishot_ok_;
  try {
    arm(slot);
  } catch (...) {
    free_slot(slot);
    throw;
  }
  if (by_fd_.size() <= static_cast<std::size_t>(fd)) by_fd_.resize(fd + 1, -1);
  by_fd_[fd] = slot;
  ++watched_;
}

void UringReactor::modify(int fd, std::uint32_t events, IoWatcher* watcher) {
  if (fd < 0 || static_cast<std::size_t>(fd) >= by_fd_.size() || by_fd_[fd] < 0)
    throw std::system_error(ENOENT, std::generic_category(), "io_uring poll");
  remove(fd);
  add(fd, events, watcher);
}

void UringReactor::remove(int fd) noexcept {
  if (fd < 0 || static_cast<std::size_t>(fd) >= by_fd_.size() || by_fd_[fd] < 0) return;
  const int slot = std::exchange(by_fd_[fd], -1);
  --watched_;
  Watch& w = slots_[slot];
  w.dead = true;
  w.watcher = nullptr;
  if (w.armed && !w.final_pending) {
    // Removed now, not with the next batch: an armed poll keeps the file open
    // (a closed socket would still hold its port and receive).
    if (io_uring_sqe* sqe = get_sqe_noexcept()) {
      // ASYNC_CANCEL, not POLL_REMOVE: a poll that is busy reporting makes
      // POLL_REMOVE fail with EALREADY and stay armed; a cancel always ends it.
      io_uring_prep_cancel64(sqe, watch_data(slot), 0);
      io_uring_sqe_set_data64(sqe, 0);
      await_final(slot);
    }
  } else if (slot != dispatching_) {
    free_slot(slot);
  }
}

void UringReactor::submit(IoOp& op) {
  io_uring_sqe* sqe = get_sqe();
  const bool at_position = op.offset == ~std::uint64_t{0};
  switch (op.code) {
    case IoOp::Code::read:
      io_uring_prep_read(sqe, op.fd, op.buffer, static_cast<unsigned>(op.length),
                         at_position ? ~std::uint64_t{0} : op.offset);
      break;
    case IoOp::Code::write:
      io_uring_prep_write(sqe, op.fd, op.buffer, static_cast<unsigned>(op.length),
                          at_position ? ~std::uint64_t{0} : op.offset);
      break;
    case IoOp::Code::fsync:
      io_uring_prep_fsync(sqe, op.fd, 0);
      break;
    case IoOp::Code::fdatasync:
      io_uring_prep_fsync(sqe, op.fd, IORING_FSYNC_DATASYNC);
      break;
    case IoOp::Code::recv:
      if (op.buffer == nullptr && buf_state_ > 0) {
        // The kernel picks one of the provided buffers when data arrives.
        io_uring_prep_recv(sqe, op.fd, nullptr, kBufSize, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = kBufGroup;
      } else {
        io_uring_prep_recv(sqe, op.fd, op.buffer, op.length, 0);
      }
      // Kernels with provided-buffer rings (5.19) also know POLL_FIRST.
      if (op.poll_first && buf_state_ > 0) sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
      op.selected = nullptr;
      break;
    case IoOp::Code::send:
      // MSG_WAITALL: the kernel retries a short send itself, so a stream's bytes
      // go out whole (or the call fails) and never need a second submission.
      io_uring_prep_send(sqe, op.fd, op.buffer, op.length, MSG_NOSIGNAL | MSG_WAITALL);
      break;
  }
  if (op.net == IoOp::Net::connect)
    io_uring_prep_connect(sqe, op.fd, static_cast<const sockaddr*>(op.buffer),
                          static_cast<socklen_t>(op.length));
  if (op.net == IoOp::Net::accept)
    io_uring_prep_multishot_accept(sqe, op.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (op.net == IoOp::Net::accept_once)
    io_uring_prep_accept(sqe, op.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (op.net == IoOp::Net::recvmsg) io_uring_prep_recvmsg(sqe, op.fd, static_cast<msghdr*>(op.buffer), 0);
  if (op.net == IoOp::Net::sendmsg)
    io_uring_prep_sendmsg(sqe, op.fd, static_cast<const msghdr*>(op.buffer), MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uintptr_t>(&op) | kTagOp);
  ++ops_in_flight_;
}

void UringReactor::cancel(IoOp& op) noexcept {
  if (io_uring_sqe* sqe = get_sqe_noexcept()) {
    io_uring_prep_cancel64(sqe, reinterpret_cast<std::uintptr_t>(&op) | kTagOp, 0);
    io_uring_sqe_set_data64(sqe, 0);
    submit_now();
  }
}

int UringReactor::poll(std::chrono::nanoseconds timeout) {
  if (!backlog_.empty() || io_uring_cq_ready(&ring_) > 0) timeout = std::chrono::nanoseconds::zero();
  int r;
  io_uring_cqe* cqe = nullptr;
  if (timeout == std::chrono::nanoseconds::zero()) {
    // No system call when nothing is queued and the kernel has nothing pending.
    r = io_uring_sq_ready(&ring_) > 0 ? io_uring_submit(&ring_) : 0;
    if (IO_URING_READ_ONCE(*ring_.sq.kflags) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW))
      io_uring_get_events(&ring_);
  } else if (timeout < std::chrono::nanoseconds::zero()) {
    r = io_uring_submit_and_wait(&ring_, 1);
  } else {
    __kernel_timespec ts{};
    ts.tv_sec = static_cast<long long>(timeout.count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long long>(timeout.count() % 1'000'000'000);
    r = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  }
  // ETIME: the timeout passed; EINTR: a signal (its handler's work is queued);
  // EBUSY/EAGAIN: completions must be reaped before more can be submitted.
  if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN)
    throw std::system_error(-r, std::generic_category(), "io_uring_enter");
  return reap();
}

std::uint64_t UringReactor::watch_data(int slot) const noexcept {
  return (std::uint64_t{slots_[slot].generation} << 32) | (std::uint64_t(slot) << 2) | kTagWatch;
}

int UringReactor::new_slot() {
  if (free_ < 0) {
    slots_.emplace_back();
    return static_cast<int>(slots_.size() - 1);
  }
  const int slot = free_;
  free_ = slots_[slot].next_free;
  const std::uint32_t gen = slots_[slot].generation;
  slots_[slot] = Watch{};
  slots_[slot].generation = gen;
  return slot;
}

void UringReactor::free_slot(int slot) noexcept {
  Watch& w = slots_[slot];
  ++w.generation;  // reports still addressed to the old watch are stale now
  w.dead = true;
  w.watcher = nullptr;
  w.next_free = free_;
  free_ = slot;
}

io_uring_sqe* UringReactor::get_sqe() {
  for (int tries = 0;; ++tries) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
    const int r = io_uring_submit(&ring_);
    if (r == -EBUSY || r == -EAGAIN) {
      // The completion queue is full: take its entries aside, handled by poll().
      stash();
    } else if (r < 0 && r != -EINTR) {
      throw std::system_error(-r, std::generic_category(), "io_uring_submit");
    }
    if (tries > 1000) throw std::system_error(EAGAIN, std::generic_category(), "io_uring_submit");
  }
}

io_uring_sqe* UringReactor::get_sqe_noexcept() noexcept {
  try {
    return get_sqe();
  } catch (...) {
    return nullptr;
  }
}

void UringReactor::submit_now() noexcept {
  for (int tries = 0; tries < 1000; ++tries) {
    const int r = io_uring_submit(&ring_);
    if (r >= 0) return;
    if (r == -EBUSY || r == -EAGAIN) {
      stash();
    } else if (r != -EINTR) {
      return;
    }
  }
}

void UringReactor::arm(int slot) {
  Watch& w = slots_[slot];
  io_uring_sqe* sqe = get_sqe();
  const unsigned mask = to_poll(w.events);
  if (w.multishot) {
    io_uring_prep_poll_multishot(sqe, w.fd, mask);
  } else {
    io_uring_prep_poll_add(sqe, w.fd, mask);
  }
  io_uring_sqe_set_data64(sqe, watch_data(slot));
  w.armed = true;
  w.final_pending = false;
}

}  // namespace uring

std::unique_ptr<Reactor> make_uring_reactor(int& error) {
  std::unique_ptr<uring::UringReactor> reactor;
  try {
    reactor = std::make_unique<uring::UringReactor>();
  } catch (...) {
    error = ENOMEM;
    return nullptr;
  }
  error = reactor->init();
  if (error != 0) return nullptr;
  return reactor;
}

}  // namespace lanes::detail

#else  // built without liburing

namespace lanes::detail {
std::unique_ptr<Reactor> make_uring_reactor(int& error) {
  error = 0;
  return nullptr;
}
}  // namespace lanes::detail

#endif
