// lanes/streams.hpp — StreamReader and StreamWriter (asyncio's streams).
//
// open_connection, a server's handler, and a subprocess's pipes hand out a reader
// and a writer that share one transport. Both are cheap handles with reference
// semantics (copies share the stream); the stream closes, after sending what was
// written, when the last handle is gone or on close().
//
//   auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", 8888);
//   writer.write("hello\n");
//   co_await writer.drain();
//   std::string line = co_await reader.readline();
//   writer.close();
//   co_await writer.wait_closed();
//
// Loop-thread only, like asyncio's. One task reads at a time (a second concurrent
// read throws RuntimeError); a cancelled read consumes nothing.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "lanes/address.hpp"
#include "lanes/detail/net/stream_core.hpp"
#include "lanes/ssl.hpp"
#include "lanes/task.hpp"

namespace lanes {

namespace detail {

/// get_extra_info's TLS entries (src/tls/ssl_object.cpp); empty for a stream
/// without TLS.
std::optional<PeerCertificate> tls_peercert(const StreamCore& core);
std::optional<CipherInfo> tls_cipher(const StreamCore& core);
std::optional<SSLObject> tls_ssl_object(const StreamCore& core);
/// Throws ValueError: a TLS entry asked for as a SocketAddress.
[[noreturn]] void throw_extra_info_type(std::string_view name);

/// A StreamCore reference that counts as a handle (the last one closes the stream).
class StreamRef {
 public:
  StreamRef() noexcept = default;
  explicit StreamRef(std::shared_ptr<StreamCore> core) noexcept : core_(std::move(core)) {
    if (core_) core_->add_handle();
  }
  StreamRef(const StreamRef& o) noexcept : core_(o.core_) {
    if (core_) core_->add_handle();
  }
  StreamRef(StreamRef&& o) noexcept = default;
  StreamRef& operator=(StreamRef o) noexcept {
    std::swap(core_, o.core_);
    return *this;
  }
  ~StreamRef() {
    if (core_) core_->drop_handle();
  }
  StreamCore* get() const noexcept { return core_.get(); }
  const std::shared_ptr<StreamCore>& shared() const noexcept { return core_; }

 private:
  std::shared_ptr<StreamCore> core_;
};

/// Waits until the reader's buffer grows (or the stream ends or fails).
class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] FillAwaiter : public IoAwaiter<FillAwaiter> {
 public:
  explicit FillAwaiter(StreamCore& core) noexcept : core_(&core), mark_(core.buffered()) {}
  bool attempt() noexcept { return core_->buffered() > mark_ || core_->fill_once(); }
  bool is_write() const noexcept { return false; }
  IoHandle& handle() noexcept { return core_->io(); }
  /// Throws CancelledError if cancelled while waiting (what arrived stays buffered).
  void await_resume() {
    if (suspended()) check_cancelled();
  }

 private:
  StreamCore* core_;
  std::size_t mark_;
};

/// StreamReader::readinto: bytes straight into the caller's memory.
class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] ReadIntoAwaiter : public IoAwaiter<ReadIntoAwaiter> {
 public:
  ReadIntoAwaiter(std::shared_ptr<StreamCore> core, char* dst, std::size_t size) noexcept
      : core_(std::move(core)), dst_(dst), size_(size) {}
  bool attempt() noexcept { return core_->read_into_once(dst_, size_, n_); }
  bool is_write() const noexcept { return false; }
  IoHandle& handle() noexcept { return core_->io(); }
  std::size_t await_resume() {
    if (suspended()) {
      // Cancelled after the bytes were read: they go back to the buffer, unlost.
      if (cancel_pending() && completed_after_wait() && n_ > 0) core_->unread(dst_, n_);
      check_cancelled();
    }
    if (n_ == 0) core_->rethrow_read_error();
    return n_;
  }

 private:
  std::shared_ptr<StreamCore> core_;
  char* dst_;
  std::size_t size_;
  std::size_t n_ = 0;
};

/// StreamWriter::drain.
class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] DrainAwaiter : public ListAwaiter<DrainAwaiter> {
 public:
  explicit DrainAwaiter(std::shared_ptr<StreamCore> core) noexcept
      : ListAwaiter(core->drain_waiters()), core_(std::move(core)) {}
  bool await_ready() const noexcept { return core_->drained_enough(); }
  void await_resume();

 private:
  std::shared_ptr<StreamCore> core_;
};

/// StreamWriter::wait_closed.
class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] WaitClosedAwaiter : public ListAwaiter<WaitClosedAwaiter> {
 public:
  explicit WaitClosedAwaiter(std::shared_ptr<StreamCore> core) noexcept
      : ListAwaiter(core->closed_waiters()), core_(std::move(core)) {}
  bool await_ready() const noexcept { return core_->closed(); }
  void await_resume() {
    if (resumed()) task->throw_if_cancelled();
  }

 private:
  std::shared_ptr<StreamCore> core_;
};

}  // namespace detail

class StreamReader {
 public:
  static constexpr std::size_t kDefaultLimit = detail::StreamCore::kDefaultLimit;

  /// A reader with no transport, fed by feed_data() / feed_eof() (as asyncio's
  /// StreamReader() is). `limit` bounds readline / readuntil. Throws ValueError if 0.
  explicit StreamReader(std::size_t limit = kDefaultLimit)
      : ref_(std::make_shared<detail::StreamCore>(limit)) {}
  /// Internal: a reader over a transport.
  explicit StreamReader(std::shared_ptr<detail::StreamCore> core) noexcept
      : ref_(std::move(core)) {}

  /// Up to `n` bytes (at least one unless the stream ended); n < 0 reads until the
  /// end. "" at the end. Throws the stream's error (ConnectionResetError...),
  /// CancelledError, and RuntimeError if another task is reading.
  Task<std::string> read(std::ptrdiff_t n = -1) const;
  /// One line, '\n' included; at the end, what is left (maybe ""). Throws
  /// LimitOverrunError (a ValueError) when no '\n' comes within limit() bytes —
  /// the data up to the limit is dropped — and what read() throws.
  Task<std::string> readline() const;
  /// Everything up to and including `separator`. Throws IncompleteReadError (with
  /// the partial data) at the end of the stream, LimitOverrunError (data kept)
  /// when the separator is not within limit() bytes, ValueError for an empty
  /// separator, and what read() throws.
  Task<std::string> readuntil(std::string separator = "\n") const;
  /// Exactly `n` bytes. Throws IncompleteReadError (partial() holds what came) if
  /// the stream ends first, and what read() throws.
  Task<std::string> readexactly(std::size_t n) const;
  /// Reads at most buf.size() bytes into `buf` (from the buffer first, else in one
  /// system call, without copying) and returns how many; 0 at the end. The
  /// allocation-free read for hot loops. Throws what read() throws.
  detail::ReadIntoAwaiter readinto(std::span<char> buf) const {
    return detail::ReadIntoAwaiter(ref_.shared(), buf.data(), buf.size());
  }

  /// True when the stream ended and the buffer is empty.
  bool at_eof() const noexcept { return core().eof() && core().buffered() == 0; }
  /// Adds bytes for the readers (a reader without transport). Throws
  /// InvalidStateError after feed_eof().
  void feed_data(std::string_view data) { core().feed_data(data); }
  /// Marks the end of the stream.
  void feed_eof() noexcept { core().feed_eof(); }
  /// The error the stream failed with, or null.
  std::exception_ptr exception() const noexcept { return core().read_error(); }
  /// Makes every read (the waiting one too) throw `error`.
  void set_exception(std::exception_ptr error) noexcept { core().set_read_error(std::move(error)); }
  std::size_t limit() const noexcept { return core().limit(); }

  /// Internal: the transport.
  const std::shared_ptr<detail::StreamCore>& core_ptr() const noexcept { return ref_.shared(); }

 private:
  detail::StreamCore& core() const noexcept { return *ref_.get(); }
  detail::StreamRef ref_;
};

class StreamWriter {
 public:
  /// Internal: a writer over a transport.
  explicit StreamWriter(std::shared_ptr<detail::StreamCore> core) noexcept
      : ref_(std::move(core)) {}

  /// Sends `data`, keeping in the write buffer what the OS cannot take now (never
  /// blocks; call drain() to let the buffer empty). Throws RuntimeError after
  /// close() or write_eof(), and ConnectionResetError / BrokenPipeError once the
  /// connection is known broken.
  void write(std::string_view data) { core().write(data.data(), data.size()); }
  /// write() of each piece, in order.
  template <class Range>
  void writelines(const Range& pieces) {
    for (const auto& piece : pieces) write(std::string_view(piece));
  }
  /// Waits until the write buffer is back under the low-water mark, if it went
  /// over the high-water mark (a slow reader bounds the writer's memory). Throws
  /// the connection's error (ConnectionResetError, BrokenPipeError),
  /// ConnectionResetError if the stream is closed, and CancelledError.
  detail::DrainAwaiter drain() const { return detail::DrainAwaiter(ref_.shared()); }
  /// Shuts down the sending side once the buffer is flushed (the peer reads the
  /// end of the stream); reading goes on. Throws InvalidStateError on a reader-only stream.
  void write_eof() { core().write_eof(); }
  bool can_write_eof() const noexcept { return core().kind() != detail::StreamCore::Kind::fed; }
  /// Closes the stream after flushing the write buffer; reads then find the end.
  void close() noexcept { core().close(); }
  /// Closes at once, dropping the write buffer; a TCP peer sees a connection reset.
  void abort() noexcept { core().abort(); }
  bool is_closing() const noexcept { return core().is_closing(); }
  /// Waits until the stream is really closed. Throws CancelledError only.
  detail::WaitClosedAwaiter wait_closed() const { return detail::WaitClosedAwaiter(ref_.shared()); }

  /// drain() waits when more than `high` bytes are buffered, until at most `low`
  /// remain (defaults 64 KiB and 16 KiB; low defaults to high / 4). Throws
  /// ValueError if low > high.
  void set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low = std::nullopt) {
    core().set_write_buffer_limits(high, low ? *low : high / 4);
  }
  std::size_t get_write_buffer_size() const noexcept { return core().write_buffer_size(); }

  /// The peer's address (empty for pipes and unnamed Unix sockets).
  SocketAddress peername() const { return core().peername(); }
  /// This end's address.
  SocketAddress sockname() const { return core().sockname(); }
  /// Python's writer.get_extra_info(name). The type says what is asked for:
  ///   get_extra_info("peername"), ("sockname")          -> SocketAddress
  ///   get_extra_info<lanes::PeerCertificate>("peercert") -> the peer's certificate
  ///   get_extra_info<lanes::CipherInfo>("cipher")        -> the negotiated cipher
  ///   get_extra_info<lanes::SSLObject>("ssl_object")     -> the TLS connection
  /// Empty for any other name, for a stream that is not a socket, and for the TLS
  /// names on a stream without TLS (as Python gives None). Throws ValueError for a
  /// TLS name asked for as a SocketAddress on a TLS stream, and std::bad_alloc.
  template <class T = SocketAddress>
  std::optional<T> get_extra_info(std::string_view name) const {
    if (core().kind() != detail::StreamCore::Kind::socket) return std::nullopt;
    if constexpr (std::is_same_v<T, SocketAddress>) {
      if (name == "peername") return peername();
      if (name == "sockname") return sockname();
      if (core().layer() && (name == "peercert" || name == "cipher" || name == "ssl_object"))
        detail::throw_extra_info_type(name);
      return std::nullopt;
    } else if constexpr (std::is_same_v<T, PeerCertificate>) {
      return name == "peercert" ? detail::tls_peercert(core()) : std::nullopt;
    } else if constexpr (std::is_same_v<T, CipherInfo>) {
      return name == "cipher" ? detail::tls_cipher(core()) : std::nullopt;
    } else {
      static_assert(std::is_same_v<T, SSLObject>,
                    "get_extra_info<T>: T is SocketAddress, PeerCertificate, CipherInfo or SSLObject");
      return name == "ssl_object" ? detail::tls_ssl_object(core()) : std::nullopt;
    }
  }

  /// STARTTLS: upgrades this connection to TLS in place (asyncio's writer.start_tls);
  /// the same reader and writer then carry plaintext over TLS. The side is the
  /// context's (PROTOCOL_TLS_SERVER: server). Bytes the reader has buffered are
  /// taken as the first TLS bytes. Write nothing and read from no other task while
  /// it runs. Throws what open_connection's handshake throws (SSLError,
  /// SSLCertVerificationError, TimeoutError, ConnectionResetError, CancelledError;
  /// the connection is then aborted), RuntimeError if the stream already has TLS,
  /// is closing or is not a socket, ValueError for arguments that do not fit.
  Task<void> start_tls(SSLContext context, StartTLSOptions options = {}) const;

  /// Internal: the transport.
  const std::shared_ptr<detail::StreamCore>& core_ptr() const noexcept { return ref_.shared(); }

 private:
  detail::StreamCore& core() const noexcept { return *ref_.get(); }
  detail::StreamRef ref_;
};

}  // namespace lanes
