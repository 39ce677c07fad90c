// A UDP endpoint's datagrams moved by the loop's ring (io_uring): see
// detail/net/ring_datagram.hpp.
//
// Receiving: recvfrom() starts one IORING_OP_RECVMSG into the record's 64 KiB
// buffer and parks; the completion keeps the datagram (and who sent it) in the
// record and notifies the handle readable, and the parked receive takes it from
// there, cut to its max_size. A receive cancelled meanwhile leaves the recvmsg in
// flight: its datagram waits in the record for the next recvfrom(), as it would
// wait in the socket on epoll. An error (ECONNREFUSED on a connected socket whose
// peer is gone) is kept for the next recvfrom(), as the kernel keeps it on epoll.
//
// Sending: sendto() copies the datagram into the record's queue and returns; the
// queue goes out in order, one IORING_OP_SENDMSG at a time (two sends in flight
// could pass each other when the socket's buffer fills). An error a send met is
// returned by the next sendto(), which then sends nothing — the kernel reports a
// pending socket error the same way. When 256 datagrams or 1 MiB wait, sendto()
// waits for the queue to drain, as it waits for EAGAIN to pass on epoll.
//
// Ownership: the buffers, msghdrs, addresses and IoOps live in the heap record,
// never in a task. ring_close() submits what is still queued (so a datagram that
// sendto() took is not lost), cancels the recvmsg (it holds the file) and orphans
// the record (io null); the last completion frees it, so no completion touches
// freed memory.
#include "lanes/detail/net/ring_datagram.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <system_error>

#include "lanes/loop.hpp"

namespace lanes::detail {
namespace {

constexpr std::size_t kMaxDatagram = 65536;
constexpr std::size_t kQueueCount = 256;
constexpr std::size_t kQueueBytes = 1024 * 1024;

struct RingOp : IoOp {
  DatagramRing* record = nullptr;
};

/// One datagram to send, with its own msghdr: it stays where it is (a deque's
/// elements do not move) until its SENDMSG completes.
struct Outgoing {
  RingOp op;
  std::string data;
  sockaddr_storage to{};
  iovec iov{};
  msghdr msg{};
  bool submitted = false;
};

}  // namespace

struct DatagramRing {
  IoHandle* io = nullptr;  // null once given up (orphaned)
  Reactor* reactor = nullptr;
  bool closed = false;

  RingOp recv;
  bool recv_busy = false;
  std::unique_ptr<char[]> buffer;  // where the kernel writes the datagram
  sockaddr_storage from{};
  iovec iov{};
  msghdr msg{};
  bool have = false;  // a datagram received and not yet taken
  std::string got;
  SocketAddress got_from;
  int recv_error = 0;

  std::deque<Outgoing> out;  // front: the send in flight (while open)
  std::size_t out_bytes = 0;
  std::size_t sends_busy = 0;
  int send_error = 0;

  bool live() const noexcept { return io != nullptr && !closed && io->loop() != nullptr; }
  void release_if_done() noexcept {
    if (io == nullptr && !recv_busy && sends_busy == 0) delete this;
  }
};

namespace {

void submit_recv(DatagramRing& r) {
  if (!r.buffer) r.buffer.reset(new char[kMaxDatagram]);
  r.iov = {r.buffer.get(), kMaxDatagram};
  r.msg = msghdr{};
  r.msg.msg_name = &r.from;
  r.msg.msg_namelen = sizeof r.from;  // the kernel writes the length back
  r.msg.msg_iov = &r.iov;
  r.msg.msg_iovlen = 1;
  r.recv.net = IoOp::Net::recvmsg;
  r.recv.fd = r.io->fd();
  r.recv.buffer = &r.msg;
  r.reactor->submit(r.recv);
  r.recv_busy = true;
}

void submit_send(DatagramRing& r, Outgoing& o) {
  o.iov = {o.data.data(), o.data.size()};
  o.msg.msg_iov = &o.iov;
  o.msg.msg_iovlen = 1;
  o.op.net = IoOp::Net::sendmsg;
  o.op.fd = r.io->fd();
  o.op.buffer = &o.msg;
  r.reactor->submit(o.op);
  o.submitted = true;
  ++r.sends_busy;
}

void recv_done(IoOp* self, int result) noexcept {
  DatagramRing& r = *static_cast<RingOp*>(self)->record;
  r.recv_busy = false;
  if (result == -EINTR && r.live()) {
    try {
      submit_recv(r);
      return;
    } catch (const std::system_error& e) {
      r.recv_error = e.code().value();
    } catch (...) {
      r.recv_error = ENOMEM;
    }
  } else if (result >= 0) {
    if (r.io != nullptr) {
      try {
        r.got.assign(r.buffer.get(), static_cast<std::size_t>(result));
        r.got_from = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&r.from), r.msg.msg_namelen);
        r.have = true;
      } catch (...) {
        r.recv_error = ENOMEM;
      }
    }
  } else if (result != -ECANCELED) {
    r.recv_error = -result;
  }
  if (r.io == nullptr) {
    r.release_if_done();
    return;
  }
  if (!r.closed) r.io->notify(kReadable);  // the parked receive takes it
}

void send_done(IoOp* self, int result) noexcept {
  DatagramRing& r = *static_cast<RingOp*>(self)->record;
  --r.sends_busy;
  if (r.io == nullptr || r.closed) {
    // Given up: the queue goes with the record; nobody reads the errors.
    if (r.io == nullptr) r.release_if_done();
    return;
  }
  Outgoing& done = r.out.front();
  if (result == -EINTR && r.live()) {
    try {
      submit_send(r, done);
      return;
    } catch (const std::system_error& e) {
      result = -e.code().value();
    } catch (...) {
      result = -ENOMEM;
    }
  }
  if (result < 0 && result != -ECANCELED) r.send_error = -result;
  r.out_bytes -= done.data.size();
  r.out.pop_front();
  if (!r.out.empty() && r.live()) {
    try {
      submit_send(r, r.out.front());
    } catch (const std::system_error& e) {
      r.send_error = e.code().value();
      r.out.clear();
      r.out_bytes = 0;
    } catch (...) {
      r.send_error = ENOMEM;
      r.out.clear();
      r.out_bytes = 0;
    }
  }
  r.io->notify(kWritable);  // a sender parked on a full queue tries again
}

}  // namespace

DatagramRing* make_datagram_ring(IoHandle& io, Reactor& reactor) {
  auto* r = new DatagramRing;
  r->io = &io;
  r->reactor = &reactor;
  r->recv.record = r;
  r->recv.on_complete = &recv_done;
  return r;
}

bool ring_recvfrom(DatagramRing& r, std::size_t max, std::pair<std::string, SocketAddress>& got,
                   int& error) noexcept {
  if (r.have) {
    r.have = false;
    if (r.got.size() > max) r.got.resize(max);  // the rest of the datagram is lost, as with recvfrom
    got.first = std::move(r.got);
    got.second = std::move(r.got_from);
    r.got = std::string();
    return true;
  }
  if (r.recv_error != 0) {
    error = r.recv_error;
    r.recv_error = 0;
    return true;
  }
  if (!r.live()) {
    error = EBADF;
    return true;
  }
  if (!r.recv_busy) {
    try {
      submit_recv(r);
    } catch (const std::system_error& e) {
      error = e.code().value();
      return true;
    } catch (...) {
      error = ENOMEM;
      return true;
    }
  }
  return false;
}

bool ring_sendto(DatagramRing& r, std::string_view data, const void* to, unsigned to_len,
                 int& error) noexcept {
  if (r.send_error != 0) {
    error = r.send_error;
    r.send_error = 0;
    return true;
  }
  if (!r.live()) {
    error = EBADF;
    return true;
  }
  if (!r.out.empty() && (r.out.size() >= kQueueCount || r.out_bytes >= kQueueBytes)) return false;
  try {
    Outgoing& o = r.out.emplace_back();
    o.op.record = &r;
    o.op.on_complete = &send_done;
    o.data.assign(data);
    if (to_len != 0) {
      std::memcpy(&o.to, to, to_len);
      o.msg.msg_name = &o.to;
      o.msg.msg_namelen = to_len;
    }
    r.out_bytes += o.data.size();
    if (r.sends_busy == 0) submit_send(r, o);
  } catch (const std::system_error& e) {
    error = e.code().value();
  } catch (...) {
    error = ENOMEM;
  }
  if (error != 0 && !r.out.empty() && !r.out.back().submitted) {
    r.out_bytes -= r.out.back().data.size();
    r.out.pop_back();
  }
  return true;
}

void ring_close(DatagramRing* r) noexcept {
  if (r == nullptr) return;
  if (!r->closed && r->io != nullptr && r->io->loop() != nullptr) {
    // What sendto() took goes out: the datagrams still queued are submitted now
    // (in order; only a full socket buffer could reorder them), then everything
    // queued reaches the kernel before the descriptor number can be reused.
    for (Outgoing& o : r->out) {
      if (o.submitted) continue;
      try {
        submit_send(*r, o);
      } catch (...) {
        break;  // the ring refused: the rest is dropped, as close() drops on epoll
      }
    }
    r->reactor->flush_submissions();
    // An armed recvmsg holds the file: without the cancel the socket stays open.
    if (r->recv_busy) r->reactor->cancel(r->recv);
  }
  r->closed = true;
  r->io = nullptr;  // orphaned: the last completion frees it
  r->release_if_done();
}

}  // namespace lanes::detail
