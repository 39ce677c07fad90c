// Accepting connections through the loop's ring (detail/net/ring_acceptor.hpp).
//
// One multishot accept (IORING_OP_ACCEPT with IORING_ACCEPT_MULTISHOT, Linux 5.19)
// stays armed and posts one completion per connection: no SQE and no system call
// per accept. A kernel without multishot accept refuses it (EINVAL): from then on
// each completion arms the next single-shot accept. An error (EMFILE...) ends the
// multishot accept; the owner reports it and arms again (the server: after 100 ms).
//
// The IoOp lives in a heap Op, not in the acceptor: stop() cancels it and leaves
// it orphaned, and its last completion (the one without IORING_CQE_F_MORE) frees
// it; a connection accepted in between is closed. So no completion touches freed
// memory, and the listening socket is released once the cancel completes.
#include "lanes/detail/net/ring_acceptor.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <new>

namespace lanes::detail {
namespace {
/// Set once a kernel refused multishot accept; only ever goes false -> true.
std::atomic<bool> g_multishot_refused{false};
}

struct RingAcceptor::Op final : IoOp {
  RingAcceptor::Callback callback = nullptr;
  void* context = nullptr;
  Reactor* reactor = nullptr;
  bool busy = false;
  bool orphaned = false;

  static void done(IoOp* self, int result) noexcept {
    auto* op = static_cast<Op*>(self);
    if (!op->more) op->busy = false;
    if (op->orphaned) {
      if (result >= 0) ::close(result);  // accepted after stop(): nobody wants it
      if (!op->busy) delete op;
      return;
    }
    if (result == -EINVAL && op->net == Net::accept && !op->more) {
      // No multishot accept in this kernel: single-shot accepts from now on.
      g_multishot_refused.store(true, std::memory_order_relaxed);
      op->net = Net::accept_once;
      op->arm_again(result);
      return;
    }
    if (result == -ECANCELED) return;
    op->callback(op->context, result);  // may stop() (then orphaned) or arm()
    if (op->orphaned) {
      if (!op->busy) delete op;
      return;
    }
    // A single-shot accept, or a multishot one the kernel ended without an
    // error (e.g. a full completion queue): armed again.
    if (!op->busy && result >= 0) op->arm_again(0);
  }

  void arm_again(int fallback_error) noexcept {
    try {
      reactor->submit(*this);
      busy = true;
    } catch (...) {
      callback(context, fallback_error < 0 ? fallback_error : -ENOMEM);
    }
  }
};

RingAcceptor::RingAcceptor(Reactor& reactor, int listen_fd, Callback callback, void* context) noexcept
    : reactor_(&reactor), op_(nullptr) {
  try {
    op_ = new Op;
  } catch (...) {
    return;  // arm() reports it
  }
  op_->fd = listen_fd;
  op_->net = g_multishot_refused.load(std::memory_order_relaxed) ? IoOp::Net::accept_once : IoOp::Net::accept;
  op_->on_complete = &Op::done;
  op_->callback = callback;
  op_->context = context;
  op_->reactor = &reactor;
}

RingAcceptor::~RingAcceptor() { stop(); }

bool RingAcceptor::armed() const noexcept { return op_ != nullptr && op_->busy; }

void RingAcceptor::arm() {
  if (op_ == nullptr) throw std::bad_alloc();
  if (op_->busy) return;
  reactor_->submit(*op_);
  op_->busy = true;
}

void RingAcceptor::stop() noexcept {
  if (op_ == nullptr) return;
  Op* op = op_;
  op_ = nullptr;
  if (!op->busy) {
    delete op;
    return;
  }
  op->orphaned = true;
  reactor_->cancel(*op);  // submitted now: before the descriptor is closed
}

}  // namespace lanes::detail
