// Checks of the TLS arguments of open_connection / start_server / start_tls, and
// get_extra_info's type error. Built with or without OpenSSL.
#include <string>

#include "lanes/detail/tls/tls_handshake.hpp"
#include "lanes/errors.hpp"
#include "lanes/streams.hpp"

namespace lanes::detail {

void check_tls_arguments(const SSLContext* ssl, bool server_side,
                         const std::optional<std::string_view>& server_hostname,
                         const std::optional<std::chrono::duration<double>>& handshake_timeout,
                         const std::optional<std::chrono::duration<double>>& shutdown_timeout) {
  if (!ssl) {
    if (server_hostname) throw ValueError("server_hostname is only meaningful with ssl");
    if (handshake_timeout) throw ValueError("ssl_handshake_timeout is only meaningful with ssl");
    if (shutdown_timeout) throw ValueError("ssl_shutdown_timeout is only meaningful with ssl");
    return;
  }
  if (handshake_timeout && handshake_timeout->count() <= 0)
    throw ValueError("ssl_handshake_timeout should be a positive number, got " +
                     std::to_string(handshake_timeout->count()) + " s");
  if (shutdown_timeout && shutdown_timeout->count() <= 0)
    throw ValueError("ssl_shutdown_timeout should be a positive number, got " +
                     std::to_string(shutdown_timeout->count()) + " s");
  if (server_side && !ssl->is_server())
    throw ValueError("a server needs a PROTOCOL_TLS_SERVER context (create_default_context(Purpose::CLIENT_AUTH))");
  if (!server_side && ssl->is_server())
    throw ValueError("a client needs a PROTOCOL_TLS_CLIENT context (create_default_context())");
  if (!server_side && ssl->check_hostname() && server_hostname && server_hostname->empty())
    throw ValueError("check_hostname requires server_hostname: give one, or set_check_hostname(false)");
}

void throw_extra_info_type(std::string_view name) {
  const char* type = name == "peercert" ? "lanes::PeerCertificate"
                     : name == "cipher" ? "lanes::CipherInfo"
                                        : "lanes::SSLObject";
  throw ValueError("get_extra_info(\"" + std::string(name) + "\") is a " + type + ": call get_extra_info<" +
                   type + ">(\"" + std::string(name) + "\")");
}

}  // namespace lanes::detail
