// lanes/detail/net/stream_core.hpp — the transport behind a StreamReader/StreamWriter
// pair: one descriptor (a connected socket or a pipe), the reader's buffer and the
// writer's buffer.
//
// Reading pulls: bytes are read from the descriptor only when a reader asks for
// more than its buffer holds, so unread data waits in the kernel (and the peer is
// slowed by TCP itself). Writing pushes: write() sends at once when the buffer is
// empty, and keeps only what the kernel did not take; the reactor flushes the rest
// as room appears, and drain() bounds it with high/low water marks.
//
// Bytes move through a StreamTransport (detail/net/stream_transport.hpp): the
// descriptor itself by default, or one set with set_transport() (TLS). The core
// turns each IoResult into its readiness flags, buffers, errors and wake-ups.
//
// A core without a descriptor is a standalone StreamReader fed by feed_data().
// Loop-thread only.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "lanes/address.hpp"
#include "lanes/detail/io/io_handle.hpp"
#include "lanes/detail/net/stream_transport.hpp"
#include "lanes/detail/sync/wait_list.hpp"

namespace lanes::detail {

class StreamCore;

/// Told when a server's connection closes (the server's count of live connections).
class ConnectionTracker {
 public:
  virtual void connection_closed(StreamCore& core) noexcept = 0;
  virtual void connection_opened(StreamCore& core) noexcept = 0;

 protected:
  ~ConnectionTracker() = default;
};

/// A layer above the transport that transforms the bytes both ways: TLS (src/tls/).
/// Reads pull through it (it reads the descriptor itself, as it needs), writes push
/// through it; what it asks to send is appended to `out` and goes through the
/// stream's write buffer and transport like any bytes. Not a StreamTransport
/// because a record layer breaks that seam's assumptions: it holds decrypted bytes
/// the descriptor's readiness does not show (a short read does not mean drained),
/// its output must count in the write buffer (drain() and the water marks see
/// it), its errors are not errno values (SSLError), and close() must say goodbye
/// (close_notify). Loop-thread only.
class StreamLayer {
 public:
  static constexpr std::ptrdiff_t kWouldBlock = -1;
  static constexpr std::ptrdiff_t kFailed = -2;
  virtual ~StreamLayer() = default;
  /// Up to `size` bytes into `dst`: the count (> 0), 0 at the end of the stream,
  /// kWouldBlock (waits for the descriptor), or kFailed with `error` set.
  virtual std::ptrdiff_t read(char* dst, std::size_t size, std::string& out,
                              std::exception_ptr& error) noexcept = 0;
  /// Transforms `data` into `out`. Throws the layer's error (SSLError).
  virtual void write(const char* data, std::size_t size, std::string& out) = 0;
  /// The layer's goodbye (close_notify) into `out`, once.
  virtual void shutdown(std::string& out) noexcept = 0;
  /// The stream closes with bytes still to send: the layer may bound how long.
  virtual void closing(StreamCore& core) noexcept = 0;
};

class StreamCore : public std::enable_shared_from_this<StreamCore> {
 public:
  enum class Kind { fed, socket, pipe };
  static constexpr std::size_t kDefaultLimit = 64 * 1024;
  static constexpr std::size_t kDefaultHighWater = 64 * 1024;

  explicit StreamCore(std::size_t limit = kDefaultLimit);
  StreamCore(const StreamCore&) = delete;
  StreamCore& operator=(const StreamCore&) = delete;
  ~StreamCore();

  /// Adopts `fd` (non-blocking, close-on-exec). Closes it and throws OSError or
  /// RuntimeError on failure.
  void attach(EventLoop& loop, int fd, Kind kind);

  // ---- reading -----------------------------------------------------------------
  std::size_t buffered() const noexcept { return rbuf_.size() - rhead_; }
  const char* rdata() const noexcept { return rbuf_.data() + rhead_; }
  std::string_view rview() const noexcept { return {rdata(), buffered()}; }
  /// Drops the first `n` buffered bytes.
  void consume(std::size_t n) noexcept;
  /// Takes the first `n` buffered bytes out as a string.
  std::string take(std::size_t n);
  /// Puts bytes back in front of the buffer (a read cancelled after it completed).
  void unread(const char* data, std::size_t n);
  /// Reads once into the buffer. True when done: bytes arrived, the end came, or
  /// an error was stored; false when the read would block.
  bool fill_once() noexcept;
  /// Reads into `dst`, from the buffer first. True when done (`n` = bytes, 0 at the
  /// end or on error); false when it would block.
  bool read_into_once(char* dst, std::size_t size, std::size_t& n) noexcept;
  void feed_data(std::string_view data);
  void feed_eof() noexcept;
  void set_read_error(std::exception_ptr error) noexcept;
  bool eof() const noexcept { return eof_; }
  const std::exception_ptr& read_error() const noexcept { return read_error_; }
  void rethrow_read_error() const {
    if (read_error_) std::rethrow_exception(read_error_);
  }
  std::size_t limit() const noexcept { return limit_; }

  // ---- writing -----------------------------------------------------------------
  /// Sends or buffers `data`. Throws RuntimeError after close() or write_eof(), and
  /// the stored error (ConnectionResetError, BrokenPipeError...) once the
  /// connection is known broken.
  void write(const char* data, std::size_t size);
  void write_eof();
  /// Flushes what is buffered, then closes (at once if nothing is buffered).
  void close() noexcept;
  /// Closes now, dropping the buffer; a TCP peer sees a reset.
  void abort() noexcept;
  bool is_closing() const noexcept { return closing_ || !io_.is_open(); }
  bool closed() const noexcept { return closed_; }
  std::size_t write_buffer_size() const noexcept { return wbuf_.size() - whead_; }
  void set_write_buffer_limits(std::size_t high, std::size_t low);
  std::size_t high_water() const noexcept { return high_; }
  std::size_t low_water() const noexcept { return low_; }
  const std::exception_ptr& write_error() const noexcept { return write_error_; }
  /// True when drain() need not wait.
  bool drained_enough() const noexcept {
    return write_error_ || closed_ || write_buffer_size() <= high_;
  }
  LoopWaitList& drain_waiters() noexcept { return drain_waiters_; }
  LoopWaitList& closed_waiters() noexcept { return closed_waiters_; }

  // ---- layering (TLS) -------------------------------------------------------------
  /// From now on, bytes go through `layer` (the reader's buffer must be empty).
  /// A socket read through the ring (io_uring) turns to readiness for the layer.
  void set_layer(std::shared_ptr<StreamLayer> layer) noexcept;
  /// From now on the descriptor is read by readiness (a TLS handshake reads it
  /// itself): a ring transport's receive stops and what it held moves into the
  /// reader's buffer; the descriptor is registered with the reactor. Sends still
  /// go through the transport. Stores a registration failure as the read error.
  void use_readiness() noexcept;
  StreamLayer* layer() const noexcept { return layer_.get(); }
  const std::shared_ptr<StreamLayer>& layer_ptr() const noexcept { return layer_; }
  /// Sends bytes as they are, under any layer (buffering what the OS cannot take).
  /// Throws the connection's error (ConnectionResetError...), RuntimeError if closed.
  void send_bytes(const char* data, std::size_t size);

  // ---- identity ------------------------------------------------------------------
  IoHandle& io() noexcept { return io_; }
  Kind kind() const noexcept { return kind_; }
  SocketAddress peername() const;
  SocketAddress sockname() const;
  void set_tracker(std::shared_ptr<ConnectionTracker> tracker) noexcept;

  /// Puts `transport` between the buffers and the descriptor (after attach(),
  /// before the first read or write). Null restores the plain transport.
  void set_transport(std::unique_ptr<StreamTransport> transport) noexcept;
  StreamTransport& transport() noexcept { return *transport_; }

  /// The StreamReader/StreamWriter handles alive; the last one gone closes the
  /// stream (after flushing, keeping itself alive meanwhile).
  void add_handle() noexcept { ++handles_; }
  void drop_handle() noexcept;

 private:
  struct Flusher : IoWaiter {
    StreamCore* core;
  };
  static void flush_thunk(IoWaiter* w) noexcept;
  void flush() noexcept;
  void park_flusher() noexcept;
  void set_write_error(int err) noexcept;
  void do_shutdown() noexcept;
  /// Closes the descriptor and wakes the waiters; `graceful` false: an abort.
  void finish_close(bool graceful = true) noexcept;
  /// Registers the descriptor for readiness reports if it is not (a transport or
  /// layer that needs them replaces the ring transport's completions).
  void watch_readiness() noexcept;
  /// Appends what a transport received but the reader has not read yet.
  void keep_unread(std::string bytes) noexcept;
  void wake_reader() noexcept;
  bool send_layer_output() noexcept;
  void layer_shutdown() noexcept;
  /// One transport read into `dst`; updates the readiness flag, eof_ and
  /// read_error_. True when done (bytes in `n`, or the end, or an error).
  bool read_once(char* dst, std::size_t size, std::size_t& n) noexcept;
  /// Writes from `data` until done, blocked or failed; returns the bytes taken.
  /// Stores the error (set_write_error) on failure.
  std::size_t write_out(const char* data, std::size_t size) noexcept;

  IoHandle io_;
  Kind kind_ = Kind::fed;
  PlainTransport plain_{io_, false};
  std::unique_ptr<StreamTransport> custom_;
  StreamTransport* transport_ = &plain_;
  std::size_t limit_;

  std::string rbuf_;
  std::size_t rhead_ = 0;
  bool eof_ = false;
  std::exception_ptr read_error_;

  std::string wbuf_;
  std::size_t whead_ = 0;
  std::size_t high_ = kDefaultHighWater;
  std::size_t low_ = kDefaultHighWater / 4;
  bool eof_requested_ = false;
  bool eof_sent_ = false;
  bool closing_ = false;
  bool closed_ = false;
  std::exception_ptr write_error_;
  Flusher flusher_;
  LoopWaitList drain_waiters_;
  LoopWaitList closed_waiters_;

  int handles_ = 0;
  std::shared_ptr<StreamCore> linger_;  // itself, while flushing with no handle left
  std::shared_ptr<ConnectionTracker> tracker_;
  std::shared_ptr<StreamLayer> layer_;
  std::string layer_out_;  // what the layer asked to send, on its way to send_bytes
};

}  // namespace lanes::detail
