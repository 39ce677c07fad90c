// lanes/detail/net/stream_transport.hpp — what a StreamCore reads from and writes
// to: the seam between the stream's buffers and the bytes on the wire.
//
// The core keeps the buffers, the readiness flags and the waiting tasks; a
// transport only moves bytes, one non-blocking call at a time, and says what
// happened with an IoResult. The plain transport is the descriptor itself; a TLS
// transport sits on the same descriptor and encrypts in between (src/tls). A
// completion-based backend can provide one whose calls complete from its ring.
//
// Contract of each call: never blocks; reports would_block only when nothing was
// transferred and the descriptor's readiness in the call's own direction is needed
// (the core then waits for that edge and calls again); transfers as much as it can
// (a short transfer tells the core that the descriptor is drained or full).
// Loop-thread only, like the core.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "lanes/detail/io/io_handle.hpp"
#include "lanes/detail/io/syscall.hpp"

namespace lanes::detail {

class StreamTransport {
 public:
  virtual ~StreamTransport() = default;

  /// Reads at most `size` (> 0) bytes of payload into `dst`: done with the count,
  /// eof at the end of the stream, would_block, or error with an errno value.
  virtual IoResult read_some(char* dst, std::size_t size) noexcept = 0;
  /// Writes at most `size` (> 0) bytes of payload from `src`: done with the count
  /// taken (the rest is offered again later), would_block, or error.
  virtual IoResult write_some(const char* src, std::size_t size) noexcept = 0;
  /// Ends the sending direction after everything written was taken (a socket's
  /// shutdown(SHUT_WR); TLS sends its close_notify first). Best effort.
  virtual void shutdown_write() noexcept = 0;

  /// True for a transport whose calls complete from the reactor's ring: read_some
  /// and write_some start an operation and report would_block until its
  /// completion calls IoHandle::notify(). A short transfer then says nothing about
  /// the descriptor: the core asks again instead of waiting for an edge.
  virtual bool completion_based() const noexcept { return false; }
  /// The descriptor is about to be closed (`abort`: with a reset): operations in
  /// flight are cancelled (a send is left to finish unless aborting) and nothing
  /// is submitted on it any more.
  virtual void closing(bool abort) noexcept { (void)abort; }
  /// Reads go another way from now on (a TLS layer reading the descriptor): a
  /// receive in flight is cancelled; returns the bytes received and not yet read.
  virtual std::string stop_reading() noexcept { return {}; }
};

/// The completion-based transport of a socket on a reactor that
/// completes_operations() (io_uring): src/net/ring_transport.cpp. `io` must be
/// open and not watched; the transport calls io.notify() as operations complete.
/// Throws std::bad_alloc.
std::unique_ptr<StreamTransport> make_ring_transport(IoHandle& io, Reactor& reactor);

/// Bytes straight to and from the descriptor of `io`: send(MSG_NOSIGNAL) for a
/// socket, write() for a pipe.
class PlainTransport final : public StreamTransport {
 public:
  PlainTransport(const IoHandle& io, bool socket) noexcept : io_(&io), socket_(socket) {}
  void set_socket(bool socket) noexcept { socket_ = socket; }

  IoResult read_some(char* dst, std::size_t size) noexcept override;
  IoResult write_some(const char* src, std::size_t size) noexcept override;
  void shutdown_write() noexcept override;

 private:
  const IoHandle* io_;
  bool socket_;
};

}  // namespace lanes::detail
