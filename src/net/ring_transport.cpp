// A stream socket's bytes moved by the reactor's ring (io_uring): the
// completion-based StreamTransport of detail/net/stream_transport.hpp.
//
// A read asks the kernel for one IORING_OP_RECV and reports would_block; the
// completion appends what came to this transport's own buffer and notifies the
// IoHandle, whose parked waiter then reads it from there. A write copies the
// bytes into this transport's send buffer, submits one IORING_OP_SEND for them and
// reports them taken; while that send is in flight, further writes report
// would_block (the core buffers them and drain() sees them) and its completion
// notifies the handle writable. The SQEs go to the kernel with the loop's one
// io_uring_enter of the iteration.
//
// Buffer ownership: no operation ever points at a task's memory. A recv takes one
// of the reactor's provided buffers when data arrives (so a waiting recv holds no
// memory), or this transport's own receive buffer where the kernel has no
// provided-buffer rings or the pool ran out. A send points at the send buffer.
// Both buffers and both IoOps live in a heap Record, not in the transport: when
// the stream goes away with an operation in flight, the Record is orphaned
// (cancelled, no longer attached to the handle) and freed by the last completion,
// so a completion never touches freed memory.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <system_error>

#include "lanes/detail/net/stream_transport.hpp"
#include "lanes/loop.hpp"

namespace lanes::detail {
namespace {

constexpr std::size_t kOwnBuffer = 16 * 1024;
/// The size of the reactor's provided buffers (src/io/uring_reactor.hpp's kBufSize):
/// a recv that fills one may have left bytes behind.
constexpr std::size_t kProvided = 16 * 1024;
/// The most one send takes; the rest waits in the core's write buffer.
constexpr std::size_t kSendMax = 256 * 1024;

struct Record;

struct RingOp : IoOp {
  Record* record = nullptr;
};

struct Record {
  IoHandle* io = nullptr;  // null once the transport is gone (orphaned)
  Reactor* reactor = nullptr;
  RingOp recv;
  RingOp send;
  bool recv_busy = false;
  bool send_busy = false;
  bool closed = false;        // the descriptor is (being) closed: never submit again
  bool use_own = false;       // the next recv into own (the provided pool ran out)
  bool shutdown_after = false;  // shutdown(SHUT_WR) once the send in flight is done

  std::string in;  // received, not yet read
  std::size_t in_head = 0;
  int in_error = 0;
  bool in_eof = false;
  std::unique_ptr<char[]> own;  // this stream's receive buffer, only while needed

  std::string out;  // the bytes of the send in flight
  int out_error = 0;

  bool live() const noexcept { return io != nullptr && !closed && io->loop() != nullptr; }
  void release_if_done() noexcept {
    if (io == nullptr && !recv_busy && !send_busy) delete this;
  }
};

void submit_recv(Record& r) {
  RingOp& op = r.recv;
  op.code = IoOp::Code::recv;
  op.fd = r.io->fd();
  if (!r.use_own && r.reactor->provides_buffers()) {
    op.buffer = nullptr;  // the kernel picks one when data arrives
    op.length = 0;
  } else {
    if (!r.own) r.own.reset(new char[kOwnBuffer]);
    op.buffer = r.own.get();
    op.length = kOwnBuffer;
  }
  r.reactor->submit(op);
  r.recv_busy = true;
}

void submit_send(Record& r, std::size_t from) {
  RingOp& op = r.send;
  op.code = IoOp::Code::send;
  op.fd = r.io->fd();
  op.buffer = r.out.data() + from;
  op.length = r.out.size() - from;
  r.reactor->submit(op);
  r.send_busy = true;
}

void recv_done(IoOp* self, int result) noexcept {
  auto* op = static_cast<RingOp*>(self);
  Record& r = *op->record;
  r.recv_busy = false;
  if (result == -ENOBUFS || result == -EAGAIN) {
    // The provided buffers are all in use: once into a buffer of our own.
    r.use_own = result == -ENOBUFS;
    if (r.live()) {
      try {
        submit_recv(r);
        return;
      } catch (const std::system_error& e) {
        r.in_error = e.code().value();
      } catch (...) {
        r.in_error = ENOMEM;
      }
    }
  } else if (result > 0) {
    // A full buffer may have left more behind; a short one emptied the socket.
    op->poll_first = static_cast<std::size_t>(result) < (op->selected != nullptr ? kProvided : kOwnBuffer);
    const char* src = op->selected != nullptr ? op->selected : r.own.get();
    if (r.io != nullptr && src != nullptr) {
      try {
        r.in.append(src, static_cast<std::size_t>(result));
      } catch (...) {
        r.in_error = ENOMEM;
      }
    }
    if (op->selected == nullptr) {
      // Idle connections keep no receive buffer.
      r.own.reset();
      r.use_own = false;
    }
  } else if (result == 0) {
    r.in_eof = true;
  } else if (result != -ECANCELED) {
    r.in_error = -result;
  }
  if (r.io == nullptr) {
    r.release_if_done();
    return;
  }
  if (!r.closed) r.io->notify(kReadable);  // the waiter reads from r.in
}

void send_done(IoOp* self, int result) noexcept {
  auto* op = static_cast<RingOp*>(self);
  Record& r = *op->record;
  r.send_busy = false;
  const std::size_t sent_to = static_cast<std::size_t>(static_cast<const char*>(op->buffer) - r.out.data());
  if (result >= 0 && static_cast<std::size_t>(result) < op->length && r.live()) {
    // A short send (interrupted): the rest, from where it stopped.
    try {
      submit_send(r, sent_to + static_cast<std::size_t>(result));
      return;
    } catch (const std::system_error& e) {
      r.out_error = e.code().value();
    } catch (...) {
      r.out_error = ENOMEM;
    }
  } else if (result < 0 && result != -ECANCELED) {
    r.out_error = -result;
  }
  r.out.clear();
  if (r.out.capacity() > 64 * 1024) r.out.shrink_to_fit();
  if (r.io == nullptr) {
    r.release_if_done();
    return;
  }
  if (r.closed) return;
  if (r.shutdown_after) {
    r.shutdown_after = false;
    if (r.out_error == 0) ::shutdown(r.io->fd(), SHUT_WR);
  }
  r.io->notify(kWritable);
}

class RingTransport final : public StreamTransport {
 public:
  RingTransport(IoHandle& io, Reactor& reactor) : r_(new Record) {
    r_->io = &io;
    r_->reactor = &reactor;
    r_->recv.record = r_;
    r_->recv.on_complete = &recv_done;
    r_->send.record = r_;
    r_->send.on_complete = &send_done;
  }
  RingTransport(const RingTransport&) = delete;
  RingTransport& operator=(const RingTransport&) = delete;
  ~RingTransport() override {
    closing(false);
    r_->io = nullptr;  // orphaned: the last completion frees it
    r_->release_if_done();
  }

  bool completion_based() const noexcept override { return true; }

  IoResult read_some(char* dst, std::size_t size) noexcept override {
    Record& r = *r_;
    if (r.in_head < r.in.size()) {
      const std::size_t n = std::min(size, r.in.size() - r.in_head);
      std::memcpy(dst, r.in.data() + r.in_head, n);
      r.in_head += n;
      if (r.in_head == r.in.size()) {
        r.in.clear();
        r.in_head = 0;
        if (r.in.capacity() > 64 * 1024) r.in.shrink_to_fit();
      }
      return IoResult::transferred(n);
    }
    if (r.in_error != 0) return IoResult::failed(r.in_error);
    if (r.in_eof) return IoResult::end();
    if (r.recv_busy) return IoResult::blocked();
    if (!r.live()) return IoResult::failed(EBADF);
    try {
      submit_recv(r);
    } catch (const std::system_error& e) {
      return IoResult::failed(e.code().value());
    } catch (...) {
      return IoResult::failed(ENOMEM);
    }
    return IoResult::blocked();
  }

  IoResult write_some(const char* src, std::size_t size) noexcept override {
    Record& r = *r_;
    if (r.out_error != 0) return IoResult::failed(r.out_error);
    // A reset seen by a receive breaks the sending side too; the kernel's send()
    // would say EPIPE at once (as on epoll), not after a completion.
    if (r.in_error == ECONNRESET) return IoResult::failed(EPIPE);
    if (r.send_busy) return IoResult::blocked();
    if (!r.live()) return IoResult::failed(EBADF);
    const std::size_t n = std::min(size, kSendMax);
    try {
      r.out.assign(src, n);
      submit_send(r, 0);
    } catch (const std::system_error& e) {
      r.out.clear();
      return IoResult::failed(e.code().value());
    } catch (...) {
      r.out.clear();
      return IoResult::failed(ENOMEM);
    }
    return IoResult::transferred(n);
  }

  void shutdown_write() noexcept override {
    Record& r = *r_;
    if (!r.live()) return;
    if (r.send_busy) {
      r.shutdown_after = true;  // after the bytes in flight, not before them
    } else {
      ::shutdown(r.io->fd(), SHUT_WR);
    }
  }

  void closing(bool abort) noexcept override {
    Record& r = *r_;
    if (r.closed) return;
    const bool can_cancel = r.io != nullptr && r.io->loop() != nullptr;
    r.closed = true;
    if (!can_cancel) return;  // the loop closed: its ring completed everything
    // Queued operations name the descriptor by number: into the kernel before
    // it is closed (and the number reused).
    r.reactor->flush_submissions();
    // A recv in flight keeps the socket open in the kernel: cancelled. A send
    // finishes (a close flushes what was written) unless this is an abort.
    if (r.recv_busy) r.reactor->cancel(r.recv);
    if (r.send_busy && abort) r.reactor->cancel(r.send);
  }

  std::string stop_reading() noexcept override {
    Record& r = *r_;
    if (r.recv_busy && r.io != nullptr && r.io->loop() != nullptr) r.reactor->cancel(r.recv);
    std::string left = std::move(r.in);
    left.erase(0, r.in_head);
    r.in.clear();
    r.in_head = 0;
    return left;
  }

 private:
  Record* r_;
};

}  // namespace

std::unique_ptr<StreamTransport> make_ring_transport(IoHandle& io, Reactor& reactor) {
  return std::make_unique<RingTransport>(io, reactor);
}

}  // namespace lanes::detail
