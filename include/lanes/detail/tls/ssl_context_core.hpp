// lanes/detail/tls/ssl_context_core.hpp — what an SSLContext handle shares: the OpenSSL
// SSL_CTX and the Python-level settings OpenSSL does not keep itself. Included only
// by src/tls/ (it brings in OpenSSL's headers).
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "lanes/ssl.hpp"

namespace lanes::detail {

class SslContextCore {
 public:
  /// Throws SSLError if OpenSSL cannot make the context.
  explicit SslContextCore(bool server);
  SslContextCore(const SslContextCore&) = delete;
  SslContextCore& operator=(const SslContextCore&) = delete;
  ~SslContextCore();

  SSL_CTX* ctx() const noexcept { return ctx_; }
  bool server() const noexcept { return server_; }
  VerifyMode verify_mode() const noexcept { return verify_mode_; }
  void set_verify_mode(VerifyMode mode) noexcept;
  bool check_hostname = false;
  /// ALPN protocols in wire format (length-prefixed), for a server's selection.
  std::string alpn_wire;

 private:
  SSL_CTX* ctx_ = nullptr;
  bool server_;
  VerifyMode verify_mode_ = VerifyMode::CERT_NONE;
};

/// OpenSSL's error queue as an SSLError (the queue is emptied): "<what>: <reason>
/// (<library>)".
[[noreturn]] void throw_ssl_error(const std::string& what);
std::exception_ptr make_ssl_error(const std::string& what);

}  // namespace lanes::detail
