// The io_uring backend's completion side (src/io/uring_reactor.hpp): reaping the
// ring, dispatching readiness reports and completed operations, the overflow and
// removal waits, and the shutdown that completes every operation still in flight.
#include <poll.h>

#include <cerrno>
#include <vector>

#if defined(LANES_HAVE_LIBURING)
#include "uring_reactor.hpp"

namespace lanes::detail::uring {
namespace {

std::uint32_t from_poll(unsigned m) noexcept {
  std::uint32_t events = 0;
  if (m & (POLLIN | POLLPRI)) events |= kReadable;
  if (m & POLLOUT) events |= kWritable;
  if (m & (POLLHUP | POLLRDHUP)) events |= kHangup;
  if (m & POLLERR) events |= kError;
  return events;
}

}  // namespace

void UringReactor::note_final(const Cqe& c) noexcept {
  if ((c.user_data & 3) != kTagWatch || (c.flags & IORING_CQE_F_MORE) != 0) return;
  const auto slot = static_cast<std::size_t>((c.user_data & 0xffffffffu) >> 2);
  if (slot < slots_.size() && slots_[slot].generation == static_cast<std::uint32_t>(c.user_data >> 32))
    slots_[slot].final_pending = true;
}

void UringReactor::await_final(int slot) noexcept {
  // Bounded: a lost report costs at most a second here, never a hang.
  for (int round = 0; round < 100 && !slots_[slot].final_pending; ++round) {
    __kernel_timespec ts{};
    ts.tv_nsec = 10'000'000;
    io_uring_cqe* cqe = nullptr;
    const int r = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    stash();
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN) return;
  }
}

void UringReactor::stash() noexcept {
  try {
    io_uring_cqe* cqes[kBatch];
    unsigned n;
    while ((n = io_uring_peek_batch_cqe(&ring_, cqes, kBatch)) > 0) {
      for (unsigned i = 0; i < n; ++i) {
        backlog_.push_back({cqes[i]->user_data, cqes[i]->res, cqes[i]->flags});
        note_final(backlog_.back());
      }
      io_uring_cq_advance(&ring_, n);
    }
  } catch (...) {
    // Out of memory: what is left stays in the ring for the next poll().
  }
}

int UringReactor::reap() {
  int called = 0;
  while (!backlog_.empty() && called < kMaxPerPoll) {
    std::vector<Cqe> batch;
    batch.swap(backlog_);
    for (const Cqe& c : batch) called += handle(c);
  }
  while (called < kMaxPerPoll) {
    io_uring_cqe* cqes[kBatch];
    unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, kBatch);
    if (n == 0) {
      // Completions the kernel kept aside when the ring was full (IORING_FEAT_NODROP).
      if (io_uring_cq_has_overflow(&ring_) && io_uring_get_events(&ring_) >= 0 &&
          io_uring_cq_ready(&ring_) > 0)
        continue;
      break;
    }
    Cqe local[kBatch];
    for (unsigned i = 0; i < n; ++i) {
      local[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
      // A callback below may remove a watch whose last report is later in this
      // batch: remove() must not wait for a report already taken.
      note_final(local[i]);
    }
    io_uring_cq_advance(&ring_, n);  // before the callbacks, which may submit
    for (unsigned i = 0; i < n; ++i) called += handle(local[i]);
  }
  return called;
}

int UringReactor::handle(const Cqe& c) {
  const std::uint64_t tag = c.user_data & 3;
  if (c.user_data == LIBURING_UDATA_TIMEOUT || tag == 0) return 0;
  if (tag == kTagOp) {
    auto* op = reinterpret_cast<IoOp*>(c.user_data & ~std::uint64_t{3});
    op->more = (c.flags & IORING_CQE_F_MORE) != 0;  // multishot: still in flight
    if (!op->more) --ops_in_flight_;
    complete(op, c);  // may free op
    return 1;
  }
  const int slot = static_cast<int>((c.user_data & 0xffffffffu) >> 2);
  if (slot < 0 || static_cast<std::size_t>(slot) >= slots_.size()) return 0;
  Watch& w = slots_[slot];
  if (w.generation != static_cast<std::uint32_t>(c.user_data >> 32)) return 0;  // stale
  const bool final = (c.flags & IORING_CQE_F_MORE) == 0;
  if (final) {
    w.armed = false;
    w.final_pending = false;
  }
  if (final && c.res == -EINVAL && w.multishot && !w.dead) {
    // A kernel without multishot poll: one-shot polls, re-armed after each report.
    multishot_ok_ = false;
    w.multishot = false;
    arm(slot);
    return 0;
  }
  int called = 0;
  if (!w.dead && c.res != -ECANCELED) {
    const std::uint32_t events = c.res >= 0 ? from_poll(static_cast<unsigned>(c.res)) : kError;
    if (events != 0) {
      dispatching_ = slot;
      w.watcher->on_ready(w.watcher, events);  // may remove (or re-add) watches
      dispatching_ = -1;
      called = 1;
    }
  }
  Watch& after = slots_[slot];  // slots_ may have grown
  if (final) {
    if (after.dead) {
      free_slot(slot);
    } else if (c.res >= 0 || c.res == -ENOMEM || c.res == -EAGAIN) {
      arm(slot);  // one-shot: level-triggered; multishot: ended (e.g. CQ overflow)
    }
  }
  return called;
}

void UringReactor::shut_down() noexcept {
  // Operations still in flight own buffers: cancel them and wait for each one's
  // completion, so that no callback is lost and no buffer is written after free.
  if (ops_in_flight_ > 0) {
    if (io_uring_sqe* sqe = get_sqe_noexcept()) {
      io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data64(sqe, 0);
    }
    while (ops_in_flight_ > 0) {
      const int r = io_uring_submit_and_wait(&ring_, 1);
      if (r < 0 && r != -EINTR && r != -ETIME && r != -EBUSY && r != -EAGAIN) break;
      try {
        reap();
      } catch (...) {
        break;
      }
    }
  }
  free_buffers();
  io_uring_queue_exit(&ring_);
}

}  // namespace lanes::detail::uring

#endif
