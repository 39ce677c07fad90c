// lanes/detail/tls/tls_handshake.hpp — putting TLS on a connected stream, for
// open_connection, start_server, their Unix variants and start_tls. Free of OpenSSL's
// headers (src/net/ includes it); built without TLS, tls_handshake throws RuntimeError.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lanes/detail/net/stream_core.hpp"
#include "lanes/ssl.hpp"
#include "lanes/task.hpp"

namespace lanes::detail {

struct TlsParams {
  SSLContext context;
  bool server_side = false;
  /// Sent in SNI and checked against the certificate (client side; "" = neither).
  std::string server_hostname;
  std::optional<std::chrono::duration<double>> handshake_timeout;  // nullopt: 60 s
  std::optional<std::chrono::duration<double>> shutdown_timeout;   // nullopt: 30 s
};

/// Checks what the caller of open_connection / start_server / start_tls passed:
/// `server_hostname` given without ssl, timeouts without ssl or not positive, a
/// server context on a client (or the reverse), check_hostname without a host name.
/// Throws ValueError.
void check_tls_arguments(const SSLContext* ssl, bool server_side,
                         const std::optional<std::string_view>& server_hostname,
                         const std::optional<std::chrono::duration<double>>& handshake_timeout,
                         const std::optional<std::chrono::duration<double>>& shutdown_timeout);

/// Does the TLS handshake on `core` (a connected socket stream) and, once it
/// succeeded, makes the stream encrypt and decrypt. On failure the connection is
/// aborted. Throws SSLCertVerificationError, SSLError, TimeoutError (the handshake
/// timeout), ConnectionResetError (the peer went away), CancelledError.
Task<void> tls_handshake(std::shared_ptr<StreamCore> core, TlsParams params);

}  // namespace lanes::detail
