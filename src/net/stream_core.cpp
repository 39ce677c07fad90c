// The transport behind StreamReader / StreamWriter (detail/net/stream_core.hpp).
#include "lanes/detail/net/stream_core.hpp"

#include <sys/socket.h>

#include <cstring>

#include "lanes/errors.hpp"
#include "lanes/loop.hpp"

namespace lanes::detail {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

/// Where reads land before they are appended to a reader's buffer: one per thread,
/// so that an idle connection holds no read buffer of its own.
char* scratch() {
  thread_local std::unique_ptr<char[]> buffer(new char[kReadChunk]);
  return buffer.get();
}

}  // namespace

StreamCore::StreamCore(std::size_t limit) : limit_(limit) {
  if (limit == 0) throw ValueError("StreamReader: the limit must be positive");
  flusher_.ready = &StreamCore::flush_thunk;
  flusher_.core = this;
  io_.owner = this;
  io_.on_detach = [](IoHandle* h) noexcept {
    // The loop closed: a stream still flushing with no handle left lets go of
    // itself (and is destroyed, closing its descriptor).
    auto keep = std::move(static_cast<StreamCore*>(h->owner)->linger_);
  };
}

StreamCore::~StreamCore() {
  if (io_.is_open()) {
    transport_->closing(false);
    io_.close();
    if (tracker_) tracker_->connection_closed(*this);
  }
}

// ---- reading -------------------------------------------------------------------

void StreamCore::consume(std::size_t n) noexcept {
  rhead_ += n;
  if (rhead_ >= rbuf_.size()) {
    rbuf_.clear();
    rhead_ = 0;
  } else if (rhead_ > 4096 && rhead_ * 2 > rbuf_.size()) {
    rbuf_.erase(0, rhead_);
    rhead_ = 0;
  }
}

std::string StreamCore::take(std::size_t n) {
  std::string out(rdata(), n);
  consume(n);
  return out;
}

void StreamCore::unread(const char* data, std::size_t n) {
  if (n == 0) return;
  if (rhead_ >= n) {
    rhead_ -= n;
    std::memcpy(rbuf_.data() + rhead_, data, n);
  } else {
    rbuf_.erase(0, rhead_);
    rbuf_.insert(0, data, n);
    rhead_ = 0;
  }
}

bool StreamCore::fill_once() noexcept {
  if (read_error_ || eof_) return true;
  if (!io_.is_open()) {
    if (kind_ == Kind::fed) return false;  // waits for feed_data / feed_eof
    eof_ = true;                            // closed on our side: nothing more comes
    return true;
  }
  if (!io_.loop()) {
    read_error_ = std::make_exception_ptr(
        RuntimeError("this stream's event loop is closed: streams belong to the loop that made them"));
    return true;
  }
  if (layer_) {
    char* buf = scratch();
    const std::ptrdiff_t k = layer_->read(buf, kReadChunk, layer_out_, read_error_);
    send_layer_output();
    if (k > 0) {
      try {
        rbuf_.append(buf, static_cast<std::size_t>(k));
      } catch (...) {
        read_error_ = std::current_exception();
      }
      return true;
    }
    if (k == 0) eof_ = true;
    return k != StreamLayer::kWouldBlock;
  }
  if (!io_.readable) return false;
  char* buf = scratch();
  std::size_t n = 0;
  if (!read_once(buf, kReadChunk, n)) return false;
  if (n > 0) {
    try {
      rbuf_.append(buf, n);
    } catch (...) {
      read_error_ = std::current_exception();
    }
  }
  return true;
}

bool StreamCore::read_once(char* dst, std::size_t size, std::size_t& n) noexcept {
  n = 0;
  const IoResult r = transport_->read_some(dst, size);
  switch (r.status) {
    case IoResult::Status::done:
      // A short read emptied the socket: the next arrival is a new edge. (Not for
      // a completion-based transport: it is asked again and starts a receive.)
      if (r.bytes < size && !io_.hangup && !transport_->completion_based()) io_.readable = false;
      n = r.bytes;
      return true;
    case IoResult::Status::eof:
      eof_ = true;
      return true;
    case IoResult::Status::would_block:
      io_.readable = false;
      return false;
    case IoResult::Status::error:
      break;
  }
  read_error_ = make_os_error(r.error, "reading from a stream");
  return true;
}

bool StreamCore::read_into_once(char* dst, std::size_t size, std::size_t& n) noexcept {
  n = 0;
  if (const std::size_t have = buffered(); have > 0) {
    n = have < size ? have : size;
    std::memcpy(dst, rdata(), n);
    consume(n);
    return true;
  }
  if (read_error_ || eof_ || size == 0) return true;
  if (!io_.is_open() || !io_.loop() || (!io_.readable && !layer_)) return fill_once();
  if (layer_) {
    // The layer reads the socket itself and may hold decrypted bytes the socket
    // no longer shows: it is asked whatever the readiness flag says.
    const std::ptrdiff_t k = layer_->read(dst, size, layer_out_, read_error_);
    send_layer_output();
    if (k > 0) n = static_cast<std::size_t>(k);
    if (k == 0) eof_ = true;
    return k != StreamLayer::kWouldBlock;
  }
  return read_once(dst, size, n);
}

void StreamCore::wake_reader() noexcept {
  if (IoWaiter* w = std::exchange(io_.read_waiter, nullptr)) w->ready(w);
}

void StreamCore::feed_data(std::string_view data) {
  if (eof_) throw InvalidStateError("feed_data after feed_eof: the stream has ended");
  if (data.empty()) return;
  rbuf_.append(data.data(), data.size());
  wake_reader();
}

void StreamCore::feed_eof() noexcept {
  eof_ = true;
  wake_reader();
}

void StreamCore::set_read_error(std::exception_ptr error) noexcept {
  read_error_ = std::move(error);
  wake_reader();
}

// ---- writing -------------------------------------------------------------------

void StreamCore::set_write_error(int err) noexcept {
  write_error_ = make_os_error(err, kind_ == Kind::pipe ? "writing to a pipe" : "writing to a socket");
  wbuf_.clear();
  whead_ = 0;
  drain_waiters_.wake_all();
}

void StreamCore::write(const char* data, std::size_t size) {
  if (write_error_) std::rethrow_exception(write_error_);
  if (kind_ == Kind::fed) throw InvalidStateError("this stream has no descriptor to write to");
  if (closing_ || !io_.is_open())
    throw RuntimeError("write() on a closed StreamWriter: the stream was closed or aborted");
  if (eof_requested_) throw RuntimeError("write() after write_eof(): the sending side is shut down");
  if (!io_.loop())
    throw RuntimeError("this stream's event loop is closed: streams belong to the loop that made them");
  if (size == 0) return;
  if (layer_) {
    layer_out_.clear();
    layer_->write(data, size, layer_out_);
    if (!send_layer_output() && write_error_) std::rethrow_exception(write_error_);
    return;
  }
  send_bytes(data, size);
}

bool StreamCore::send_layer_output() noexcept {
  if (layer_out_.empty()) return true;
  bool ok = true;
  try {
    send_bytes(layer_out_.data(), layer_out_.size());
  } catch (...) {
    ok = false;  // the error is stored (write_error_) or the stream is closed
  }
  layer_out_.clear();
  // A large write leaves a large buffer: do not keep it for an idle connection.
  if (layer_out_.capacity() > 256 * 1024) layer_out_.shrink_to_fit();
  return ok;
}

void StreamCore::layer_shutdown() noexcept {
  if (!layer_ || !io_.is_open() || !io_.loop() || write_error_) return;
  layer_->shutdown(layer_out_);
  send_layer_output();
}

void StreamCore::send_bytes(const char* data, std::size_t size) {
  if (write_error_) std::rethrow_exception(write_error_);
  if (!io_.is_open()) throw RuntimeError("the stream is closed");
  if (size == 0) return;
  if (write_buffer_size() == 0 && io_.writable) {
    const std::size_t sent = write_out(data, size);
    if (write_error_) std::rethrow_exception(write_error_);
    if (sent == size) return;  // the common case: nothing kept
    data += sent;
    size -= sent;
  }
  wbuf_.append(data, size);
  park_flusher();
}

std::size_t StreamCore::write_out(const char* data, std::size_t size) noexcept {
  const IoResult r = transport_->write_some(data, size);
  switch (r.status) {
    case IoResult::Status::done:
      if (r.bytes < size) io_.writable = false;  // the kernel's buffer is full
      return r.bytes;
    case IoResult::Status::would_block:
    case IoResult::Status::eof:
      io_.writable = false;
      return 0;
    case IoResult::Status::error:
      break;
  }
  set_write_error(r.error);
  return 0;
}

void StreamCore::park_flusher() noexcept {
  if (io_.write_waiter == nullptr) {
    io_.write_waiter = &flusher_;
    // Readiness came back meanwhile (no edge will be reported for it): flush now.
    if (io_.writable) {
      io_.write_waiter = nullptr;
      flush();
    }
  }
}

void StreamCore::flush_thunk(IoWaiter* w) noexcept { static_cast<Flusher*>(w)->core->flush(); }

void StreamCore::flush() noexcept {
  if (!io_.is_open() || !io_.loop()) return;
  while (write_buffer_size() > 0) {
    const std::size_t k = write_out(wbuf_.data() + whead_, write_buffer_size());
    if (write_error_) break;  // the buffer is already dropped
    whead_ += k;
    if (whead_ == wbuf_.size()) {
      wbuf_.clear();
      whead_ = 0;
    } else if (whead_ > 65536 && whead_ * 2 > wbuf_.size()) {
      wbuf_.erase(0, whead_);
      whead_ = 0;
    }
    if (!io_.writable) break;
  }
  if (write_buffer_size() <= low_) drain_waiters_.wake_all();
  if (write_buffer_size() > 0 && !write_error_) {
    io_.write_waiter = &flusher_;
    return;
  }
  if (eof_requested_ && !eof_sent_ && !write_error_) do_shutdown();
  if (closing_) finish_close();  // may destroy this: last
}

void StreamCore::do_shutdown() noexcept {
  eof_sent_ = true;
  if (kind_ == Kind::socket) {
    transport_->shutdown_write();
  } else {
    // A pipe has one direction: its end of file is its close.
    closing_ = true;
  }
}

void StreamCore::write_eof() {
  if (kind_ == Kind::fed) throw InvalidStateError("this stream has no descriptor to write to");
  if (closing_ || eof_requested_) return;
  layer_shutdown();  // TLS: close_notify, then the TCP half-close
  eof_requested_ = true;
  if (write_buffer_size() == 0 && io_.is_open()) {
    do_shutdown();
    if (closing_) finish_close();
  }
}

void StreamCore::set_write_buffer_limits(std::size_t high, std::size_t low) {
  if (low > high)
    throw ValueError("set_write_buffer_limits: low (" + std::to_string(low) +
                     ") must not exceed high (" + std::to_string(high) + ")");
  high_ = high;
  low_ = low;
  if (write_buffer_size() <= low_) drain_waiters_.wake_all();
}

void StreamCore::close() noexcept {
  if (closing_ && !io_.is_open()) return;
  if (!closing_ && !eof_requested_) layer_shutdown();  // TLS: close_notify first
  closing_ = true;
  if (kind_ == Kind::fed) {
    closed_ = true;
    return;
  }
  // Further reads find the end: Python feeds EOF to the reader when its transport
  // closes.
  if (write_buffer_size() == 0 || write_error_ || !io_.loop()) {
    finish_close();
  } else if (layer_) {
    layer_->closing(*this);
  }
}

void StreamCore::abort() noexcept {
  if (io_.is_open() && kind_ == Kind::socket) {
    // Linger on, time zero: close() then sends a reset instead of a FIN.
    struct linger lg {
      1, 0
    };
    ::setsockopt(io_.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  wbuf_.clear();
  whead_ = 0;
  closing_ = true;
  if (io_.is_open()) transport_->closing(true);  // a send in flight is cancelled too
  finish_close(false);
}

void StreamCore::finish_close(bool graceful) noexcept {
  const bool was_open = io_.is_open();
  if (was_open && graceful && layer_) {
    // TLS: bytes the peer sent that nobody will read (session tickets, its
    // close_notify) are dropped first: closing a socket with unread bytes makes
    // the kernel send a reset, and the peer would lose the end of what we sent.
    char sink[4096];
    for (int i = 0; i < 64 && ::read(io_.fd(), sink, sizeof sink) > 0; ++i) {
    }
  }
  if (was_open) {
    transport_->closing(!graceful);  // operations in flight: cancelled or left to finish
    io_.close();                     // a waiting reader finds the end of the stream
  }
  closed_ = true;
  eof_ = eof_ || was_open;
  drain_waiters_.wake_all();
  closed_waiters_.wake_all();
  if (was_open && tracker_) tracker_->connection_closed(*this);
  auto self = std::move(linger_);  // may be the last reference: destroyed on return
}

void StreamCore::drop_handle() noexcept {
  if (--handles_ > 0) return;
  if (kind_ == Kind::fed || !io_.is_open()) return;
  if (!closing_ && !eof_requested_) layer_shutdown();  // TLS: close_notify first
  closing_ = true;
  if (write_buffer_size() > 0 && !write_error_ && io_.loop()) {
    if (layer_) layer_->closing(*this);
    // Python's transport.close(): what was written still goes out. Kept alive by
    // itself until flushed (or until its loop closes).
    try {
      linger_ = shared_from_this();
    } catch (...) {
      finish_close();
    }
    return;
  }
  finish_close();
}

}  // namespace lanes::detail
