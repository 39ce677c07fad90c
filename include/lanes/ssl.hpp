// lanes/ssl.hpp — TLS for streams (Python's ssl module, as asyncio uses it), on OpenSSL 3.
//
//   lanes::SSLContext ctx = lanes::create_default_context();   // system CAs, hostname check
//   auto [r, w] = co_await lanes::open_connection("example.org", 443, {.ssl = &ctx});
//
//   lanes::SSLContext server_ctx(lanes::PROTOCOL_TLS_SERVER);
//   server_ctx.load_cert_chain("cert.pem", "key.pem");
//   auto server = co_await lanes::start_server(handler, "", 8443, {.ssl = &server_ctx});
//
// The StreamReader/StreamWriter of a TLS connection are the ordinary ones: reads give
// plaintext, writes are encrypted. The handshake is done before open_connection
// returns (before a server's handler runs), on the loop, never blocking it: OpenSSL
// works on memory buffers and the loop moves the bytes. writer.close() sends
// close_notify first. A peer that closes the TCP connection without close_notify
// ends the stream as a plain end of file, as asyncio does (truncation is not
// reported; protocols with their own framing, like HTTP, detect it themselves).
//
// An SSLContext is a handle: copies share one context (as Python objects do). Set it
// up before the first connection uses it; it is not thread-safe to change it while
// connections on other threads use it (reading it from several loops is fine).
//
// Built without OpenSSL (LANES_WITH_TLS off), every SSLContext constructor throws
// RuntimeError.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lanes {

namespace detail {
class SslContextCore;
class TlsSession;
}  // namespace detail

/// Which side a context is for (ssl.PROTOCOL_TLS_CLIENT / PROTOCOL_TLS_SERVER).
enum class SSLProtocol { PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER };
inline constexpr SSLProtocol PROTOCOL_TLS_CLIENT = SSLProtocol::PROTOCOL_TLS_CLIENT;
inline constexpr SSLProtocol PROTOCOL_TLS_SERVER = SSLProtocol::PROTOCOL_TLS_SERVER;

/// What a default context is for (ssl.Purpose): SERVER_AUTH makes a client context
/// (it authenticates servers), CLIENT_AUTH a server context.
enum class Purpose { SERVER_AUTH, CLIENT_AUTH };

/// ssl.VerifyMode: whether the peer's certificate is asked for and checked.
enum class VerifyMode { CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED };
inline constexpr VerifyMode CERT_NONE = VerifyMode::CERT_NONE;
inline constexpr VerifyMode CERT_OPTIONAL = VerifyMode::CERT_OPTIONAL;
inline constexpr VerifyMode CERT_REQUIRED = VerifyMode::CERT_REQUIRED;

/// ssl.TLSVersion (the versions OpenSSL 3 still offers by default).
enum class TLSVersion { MINIMUM_SUPPORTED, TLSv1_2, TLSv1_3, MAXIMUM_SUPPORTED };

/// A certificate as Python's getpeercert() gives it (dict keys in snake_case):
/// subject / issuer are (name, value) pairs such as ("commonName", "localhost");
/// subject_alt_name holds ("DNS", "localhost"), ("IP Address", "127.0.0.1").
/// As in Python, a certificate that was not verified (CERT_NONE) has only `der`.
struct PeerCertificate {
  std::vector<std::pair<std::string, std::string>> subject;
  std::vector<std::pair<std::string, std::string>> issuer;
  int version = 0;                ///< 3 for X.509 v3
  std::string serial_number;      ///< upper-case hex, as Python prints it
  std::string not_before;         ///< "Jan  1 00:00:00 2026 GMT"
  std::string not_after;
  std::vector<std::pair<std::string, std::string>> subject_alt_name;
  std::string der;                ///< the certificate itself (getpeercert(True))
};

/// The negotiated cipher, as Python's SSLSocket.cipher() tuple.
struct CipherInfo {
  std::string name;      ///< "TLS_AES_256_GCM_SHA384"
  std::string protocol;  ///< "TLSv1.3"
  int secret_bits = 0;
};

/// A connection's TLS state (Python's SSLObject, get_extra_info("ssl_object")). A
/// handle: it stays valid (and answers the same) after the stream closed.
class SSLObject {
 public:
  explicit SSLObject(std::shared_ptr<detail::TlsSession> session) noexcept
      : session_(std::move(session)) {}
  /// "TLSv1.3" / "TLSv1.2". Never throws but std::bad_alloc.
  std::string version() const;
  CipherInfo cipher() const;
  /// The protocol ALPN chose, or nullopt when none was.
  std::optional<std::string> selected_alpn_protocol() const;
  /// The peer's certificate (nullopt if it sent none). Throws SSLError if OpenSSL
  /// cannot decode it.
  std::optional<PeerCertificate> getpeercert() const;
  bool server_side() const noexcept;
  /// The name sent in SNI and checked against the certificate ("" if none).
  std::string server_hostname() const;
  /// The OpenSSL `SSL*`, for what lanes does not wrap. Do not read or write with it.
  void* native_handle() const noexcept;

 private:
  std::shared_ptr<detail::TlsSession> session_;
};

/// ssl.SSLContext: certificates, verification and protocol settings shared by
/// connections.
class SSLContext {
 public:
  /// A new context. A client context checks the server's certificate and host name
  /// (CERT_REQUIRED, check_hostname on) but trusts no CA until load_verify_locations
  /// or load_default_certs; a server context asks no client certificate. Minimum
  /// TLS 1.2. Throws SSLError if OpenSSL fails, RuntimeError if lanes was built
  /// without TLS.
  explicit SSLContext(SSLProtocol protocol = PROTOCOL_TLS_CLIENT);

  /// This side's certificate chain (PEM, leaf first) and private key (PEM; "" = in
  /// `certfile`), decrypted with `password` if it is encrypted. Throws
  /// FileNotFoundError for a missing file, SSLError for a bad or mismatched key/cert
  /// or a wrong password.
  void load_cert_chain(const std::string& certfile, const std::string& keyfile = "",
                       const std::string& password = "");
  /// CAs to trust: a PEM file, a hashed directory (c_rehash), and/or PEM text.
  /// Throws ValueError if all three are empty, FileNotFoundError, SSLError.
  void load_verify_locations(const std::string& cafile = "", const std::string& capath = "",
                             const std::string& cadata = "");
  /// The system's CA store (Debian: /etc/ssl/certs). Throws SSLError.
  void load_default_certs();
  /// Same as load_default_certs (Python's name for the OpenSSL default paths).
  void set_default_verify_paths() { load_default_certs(); }

  VerifyMode verify_mode() const noexcept;
  /// Throws ValueError for CERT_NONE while check_hostname is on (turn it off first),
  /// as Python does.
  void set_verify_mode(VerifyMode mode);
  bool check_hostname() const noexcept;
  /// Turning it on also sets verify_mode to CERT_REQUIRED if it was CERT_NONE.
  void set_check_hostname(bool on);

  /// Protocols offered (client) or accepted (server) in preference order, such as
  /// {"h2", "http/1.1"}. Throws ValueError for an empty name or one over 255 bytes.
  void set_alpn_protocols(const std::vector<std::string>& protocols);
  TLSVersion minimum_version() const noexcept;
  /// Throws ValueError if above maximum_version.
  void set_minimum_version(TLSVersion version);
  TLSVersion maximum_version() const noexcept;
  /// Throws ValueError if below minimum_version.
  void set_maximum_version(TLSVersion version);
  /// OpenSSL cipher list for TLS 1.2 ("ECDHE+AESGCM"). Throws SSLError if none matches.
  void set_ciphers(const std::string& ciphers);

  bool is_server() const noexcept;
  /// The OpenSSL `SSL_CTX*`, for settings lanes does not wrap.
  void* native_handle() const noexcept;
  /// Internal.
  const std::shared_ptr<detail::SslContextCore>& core() const noexcept { return core_; }

 private:
  std::shared_ptr<detail::SslContextCore> core_;
};

/// StreamWriter::start_tls's keyword arguments (Python's names).
struct StartTLSOptions {
  /// The server's name for SNI and the hostname check (client side); required when
  /// the context checks host names.
  std::optional<std::string_view> server_hostname = std::nullopt;
  /// How long the handshake may take (default 60 s); then TimeoutError.
  std::optional<std::chrono::duration<double>> ssl_handshake_timeout = std::nullopt;
  /// How long closing may wait to send the last bytes and close_notify (default
  /// 30 s); then the connection is aborted.
  std::optional<std::chrono::duration<double>> ssl_shutdown_timeout = std::nullopt;
};

/// ssl.create_default_context: for SERVER_AUTH a client context with the system CA
/// store (or the given CAs), CERT_REQUIRED and check_hostname on, TLS 1.2 minimum;
/// for CLIENT_AUTH a server context (load_cert_chain it). Throws what SSLContext
/// and load_verify_locations throw.
SSLContext create_default_context(Purpose purpose = Purpose::SERVER_AUTH,
                                  const std::string& cafile = "", const std::string& capath = "",
                                  const std::string& cadata = "");

}  // namespace lanes
