// lanes/detail/tls/tls_session.hpp — one TLS connection: an OpenSSL SSL object whose
// BIO reads the stream's socket directly (non-blocking, readiness from the loop's
// reactor) and writes into a buffer the stream then sends. So OpenSSL never blocks
// and never waits for the socket to be writable: its records join the stream's
// ordinary write buffer, which the reactor flushes. Included only by src/tls/.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "lanes/detail/net/stream_core.hpp"
#include "lanes/detail/tls/ssl_context_core.hpp"
#include "lanes/loop.hpp"

namespace lanes::detail {

class TlsSession final : public StreamLayer {
 public:
  enum class Step { done, want_read, failed };

  /// A client (server_side false) or server session over `io`. `hostname` is sent
  /// in SNI and, with the context's check_hostname, checked against the
  /// certificate. Throws SSLError.
  TlsSession(std::shared_ptr<SslContextCore> ctx, bool server_side, std::string hostname, IoHandle& io);
  ~TlsSession() override;
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  /// Bytes already read from the socket that belong to the TLS stream (a STARTTLS
  /// client that sent its ClientHello right behind the command).
  void prepend_input(std::string_view bytes) { prefix_.append(bytes); }
  /// Advances the handshake as far as the bytes at hand allow; what it has to send
  /// is appended to `out`. On failed, `error` holds the typed error.
  Step handshake(std::string& out, std::exception_ptr& error) noexcept;
  void set_shutdown_timeout(std::chrono::duration<double> d) noexcept { shutdown_timeout_ = d; }
  /// The stream has gone: the socket is no longer ours to read.
  void detach() noexcept { io_ = nullptr; }

  // StreamLayer
  std::ptrdiff_t read(char* dst, std::size_t size, std::string& out,
                      std::exception_ptr& error) noexcept override;
  void write(const char* data, std::size_t size, std::string& out) override;
  void shutdown(std::string& out) noexcept override;
  void closing(StreamCore& core) noexcept override;

  SSL* ssl() const noexcept { return ssl_; }
  bool server_side() const noexcept { return server_side_; }
  const std::string& hostname() const noexcept { return hostname_; }
  const std::shared_ptr<SslContextCore>& context() const noexcept { return ctx_; }

 private:
  friend struct TlsBio;
  /// Sets where OpenSSL's output goes for one call (and back to the spill after).
  class Sink {
   public:
    Sink(TlsSession& s, std::string& out) noexcept : s_(s) {
      if (!s.spill_.empty()) {
        out.append(s.spill_);
        s.spill_.clear();
      }
      s.out_ = &out;
    }
    ~Sink() { s_.out_ = &s_.spill_; }
    Sink(const Sink&) = delete;
    Sink& operator=(const Sink&) = delete;

   private:
    TlsSession& s_;
  };
  std::exception_ptr handshake_error() const;

  std::shared_ptr<SslContextCore> ctx_;
  SSL* ssl_ = nullptr;
  IoHandle* io_;
  bool server_side_;
  std::string hostname_;
  std::string prefix_;
  std::size_t prefix_head_ = 0;
  std::string spill_;             // output produced outside a call that takes it
  std::string* out_ = &spill_;
  int sys_errno_ = 0;             // the socket's errno when a read failed
  bool shutdown_sent_ = false;
  std::chrono::duration<double> shutdown_timeout_{30.0};
  Handle shutdown_timer_;
};

/// The text of OpenSSL's verify error, Python's way for a host name mismatch.
std::string verify_error_text(long code, const std::string& hostname);

}  // namespace lanes::detail
