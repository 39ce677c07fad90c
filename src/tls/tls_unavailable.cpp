// lanes built without OpenSSL (LANES_WITH_TLS off): the TLS API exists, and says how
// to get it. No SSLContext can be made, so nothing else here is ever reached with TLS.
#include "lanes/detail/tls/tls_handshake.hpp"
#include "lanes/errors.hpp"
#include "lanes/streams.hpp"

namespace lanes {
namespace {

[[noreturn]] void no_tls() {
  throw RuntimeError(
      "lanes was built without TLS (OpenSSL 3 not found): install libssl-dev and "
      "reconfigure with -DLANES_WITH_TLS=ON");
}

}  // namespace

SSLContext::SSLContext(SSLProtocol) { no_tls(); }
void SSLContext::load_cert_chain(const std::string&, const std::string&, const std::string&) { no_tls(); }
void SSLContext::load_verify_locations(const std::string&, const std::string&, const std::string&) {
  no_tls();
}
void SSLContext::load_default_certs() { no_tls(); }
VerifyMode SSLContext::verify_mode() const noexcept { return CERT_NONE; }
void SSLContext::set_verify_mode(VerifyMode) { no_tls(); }
bool SSLContext::check_hostname() const noexcept { return false; }
void SSLContext::set_check_hostname(bool) { no_tls(); }
void SSLContext::set_alpn_protocols(const std::vector<std::string>&) { no_tls(); }
TLSVersion SSLContext::minimum_version() const noexcept { return TLSVersion::MINIMUM_SUPPORTED; }
void SSLContext::set_minimum_version(TLSVersion) { no_tls(); }
TLSVersion SSLContext::maximum_version() const noexcept { return TLSVersion::MAXIMUM_SUPPORTED; }
void SSLContext::set_maximum_version(TLSVersion) { no_tls(); }
void SSLContext::set_ciphers(const std::string&) { no_tls(); }
bool SSLContext::is_server() const noexcept { return false; }
void* SSLContext::native_handle() const noexcept { return nullptr; }
SSLContext create_default_context(Purpose, const std::string&, const std::string&, const std::string&) {
  no_tls();
}

std::string SSLObject::version() const { no_tls(); }
CipherInfo SSLObject::cipher() const { no_tls(); }
std::optional<std::string> SSLObject::selected_alpn_protocol() const { no_tls(); }
std::optional<PeerCertificate> SSLObject::getpeercert() const { no_tls(); }
bool SSLObject::server_side() const noexcept { return false; }
std::string SSLObject::server_hostname() const { no_tls(); }
void* SSLObject::native_handle() const noexcept { return nullptr; }

Task<void> StreamWriter::start_tls(SSLContext, StartTLSOptions) const { no_tls(); }

namespace detail {

std::optional<PeerCertificate> tls_peercert(const StreamCore&) { return std::nullopt; }
std::optional<CipherInfo> tls_cipher(const StreamCore&) { return std::nullopt; }
std::optional<SSLObject> tls_ssl_object(const StreamCore&) { return std::nullopt; }
Task<void> tls_handshake(std::shared_ptr<StreamCore>, TlsParams) { no_tls(); }

}  // namespace detail
}  // namespace lanes
