// lanes::SSLContext on OpenSSL's SSL_CTX (ssl.hpp).
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "lanes/detail/tls/ssl_context_core.hpp"
#include "lanes/errors.hpp"

namespace lanes {
namespace detail {

std::exception_ptr make_ssl_error(const std::string& what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();  // the rest of the queue is detail of the same failure
  if (code == 0) return std::make_exception_ptr(SSLError(0, what));
  const char* reason = ERR_reason_error_string(code);
  const char* lib = ERR_lib_error_string(code);
  std::string r = reason ? reason : "unknown error";
  std::string l = lib ? lib : "OpenSSL";
  return std::make_exception_ptr(
      SSLError(static_cast<int>(code & 0x7fffffff), what + ": " + r + " (" + l + ")", r, l));
}

void throw_ssl_error(const std::string& what) { std::rethrow_exception(make_ssl_error(what)); }

namespace {

int alpn_select(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  auto* core = static_cast<SslContextCore*>(arg);
  if (core->alpn_wire.empty()) return SSL_TLSEXT_ERR_NOACK;
  unsigned char* chosen = nullptr;
  // The server's preference order, as Python's ssl does.
  const int r = SSL_select_next_proto(
      &chosen, outlen, reinterpret_cast<const unsigned char*>(core->alpn_wire.data()),
      static_cast<unsigned>(core->alpn_wire.size()), in, inlen);
  if (r != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

void require_file(const std::string& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_os_error(errno, std::string(what) + " '" + path + "'");
}

int to_openssl(TLSVersion v) {
  switch (v) {
    case TLSVersion::TLSv1_2: return TLS1_2_VERSION;
    case TLSVersion::TLSv1_3: return TLS1_3_VERSION;
    default: return 0;  // no bound
  }
}

TLSVersion from_openssl(long v, TLSVersion none) {
  if (v == TLS1_2_VERSION) return TLSVersion::TLSv1_2;
  if (v == TLS1_3_VERSION) return TLSVersion::TLSv1_3;
  return none;
}

/// The order of versions, for comparing bounds.
int rank(TLSVersion v) {
  switch (v) {
    case TLSVersion::MINIMUM_SUPPORTED: return 0;
    case TLSVersion::TLSv1_2: return 2;
    case TLSVersion::TLSv1_3: return 3;
    case TLSVersion::MAXIMUM_SUPPORTED: return 4;
  }
  return 0;
}

}  // namespace

SslContextCore::SslContextCore(bool server) : server_(server) {
  ctx_ = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!ctx_) throw_ssl_error("SSLContext: SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  // No renegotiation (Python disables it too); a TCP end without close_notify is an
  // end of file, as asyncio treats it; no compression (CRIME).
  SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx_, SSL_MODE_AUTO_RETRY);
  if (server) {
    static const unsigned char sid[] = "lanes";
    SSL_CTX_set_session_id_context(ctx_, sid, sizeof sid - 1);
  }
  SSL_CTX_set_alpn_select_cb(ctx_, &alpn_select, this);
  // Python's PROTOCOL_TLS_CLIENT: verify the server and its name.
  set_verify_mode(server ? VerifyMode::CERT_NONE : VerifyMode::CERT_REQUIRED);
  check_hostname = !server;
}

SslContextCore::~SslContextCore() { SSL_CTX_free(ctx_); }

void SslContextCore::set_verify_mode(VerifyMode mode) noexcept {
  verify_mode_ = mode;
  int flags = SSL_VERIFY_NONE;
  if (mode == VerifyMode::CERT_OPTIONAL) flags = SSL_VERIFY_PEER;
  if (mode == VerifyMode::CERT_REQUIRED)
    flags = SSL_VERIFY_PEER | (server_ ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
  SSL_CTX_set_verify(ctx_, flags, nullptr);
}

}  // namespace detail

SSLContext::SSLContext(SSLProtocol protocol)
    : core_(std::make_shared<detail::SslContextCore>(protocol == PROTOCOL_TLS_SERVER)) {}

void SSLContext::load_cert_chain(const std::string& certfile, const std::string& keyfile,
                                 const std::string& password) {
  const std::string& key = keyfile.empty() ? certfile : keyfile;
  detail::require_file(certfile, "load_cert_chain: no certificate file");
  detail::require_file(key, "load_cert_chain: no key file");
  SSL_CTX* ctx = core_->ctx();
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, certfile.c_str()) != 1)
    detail::throw_ssl_error("load_cert_chain: cannot load the certificate chain from '" + certfile + "'");
  // The password goes through OpenSSL's callback; the pointer lives for this call only.
  struct Pw {
    static int cb(char* buf, int size, int, void* u) {
      const auto* p = static_cast<const std::string*>(u);
      if (p->size() > static_cast<std::size_t>(size)) return -1;
      std::memcpy(buf, p->data(), p->size());
      return static_cast<int>(p->size());
    }
  };
  std::string pw = password;
  SSL_CTX_set_default_passwd_cb(ctx, &Pw::cb);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, &pw);
  const int ok = SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_set_default_passwd_cb(ctx, nullptr);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
  OPENSSL_cleanse(pw.data(), pw.size());
  if (ok != 1)
    detail::throw_ssl_error("load_cert_chain: cannot load the private key from '" + key +
                            "' (wrong password, or not a PEM key?)");
  if (SSL_CTX_check_private_key(ctx) != 1)
    detail::throw_ssl_error("load_cert_chain: the private key does not match the certificate");
}

void SSLContext::load_verify_locations(const std::string& cafile, const std::string& capath,
                                       const std::string& cadata) {
  if (cafile.empty() && capath.empty() && cadata.empty())
    throw ValueError("load_verify_locations: give cafile, capath or cadata");
  SSL_CTX* ctx = core_->ctx();
  ERR_clear_error();
  if (!cafile.empty()) {
    detail::require_file(cafile, "load_verify_locations: no CA file");
    if (SSL_CTX_load_verify_file(ctx, cafile.c_str()) != 1)
      detail::throw_ssl_error("load_verify_locations: cannot load CAs from '" + cafile + "'");
  }
  if (!capath.empty()) {
    detail::require_file(capath, "load_verify_locations: no CA directory");
    if (SSL_CTX_load_verify_dir(ctx, capath.c_str()) != 1)
      detail::throw_ssl_error("load_verify_locations: cannot use CA directory '" + capath + "'");
  }
  if (!cadata.empty()) {
    BIO* bio = BIO_new_mem_buf(cadata.data(), static_cast<int>(cadata.size()));
    if (!bio) detail::throw_ssl_error("load_verify_locations: out of memory");
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    const bool pem = cadata.find("-----BEGIN") != std::string::npos;
    int added = 0;
    for (;;) {
      X509* cert = pem ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : d2i_X509_bio(bio, nullptr);
      if (!cert) break;
      const int ok = X509_STORE_add_cert(store, cert);
      X509_free(cert);
      if (ok != 1) {
        BIO_free(bio);
        detail::throw_ssl_error("load_verify_locations: cannot add a CA from cadata");
      }
      ++added;
    }
    BIO_free(bio);
    ERR_clear_error();  // the loop ends on a "no start line" / end-of-data error
    if (added == 0)
      throw SSLError(0, "load_verify_locations: cadata holds no certificate (PEM or DER expected)",
                     "no certificate", "lanes");
  }
}

void SSLContext::load_default_certs() {
  ERR_clear_error();
  if (SSL_CTX_set_default_verify_paths(core_->ctx()) != 1)
    detail::throw_ssl_error("load_default_certs: cannot use the system's CA store");
}

VerifyMode SSLContext::verify_mode() const noexcept { return core_->verify_mode(); }

void SSLContext::set_verify_mode(VerifyMode mode) {
  if (mode == CERT_NONE && core_->check_hostname)
    throw ValueError("Cannot set verify_mode to CERT_NONE when check_hostname is enabled: "
                     "set_check_hostname(false) first");
  core_->set_verify_mode(mode);
}

bool SSLContext::check_hostname() const noexcept { return core_->check_hostname; }

void SSLContext::set_check_hostname(bool on) {
  if (on && core_->verify_mode() == CERT_NONE) core_->set_verify_mode(CERT_REQUIRED);
  core_->check_hostname = on;
}

void SSLContext::set_alpn_protocols(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255)
      throw ValueError("set_alpn_protocols: each protocol name must be 1 to 255 bytes, got '" + p + "'");
    wire.push_back(static_cast<char>(p.size()));
    wire += p;
  }
  // Returns 0 on success (unlike most of OpenSSL).
  if (SSL_CTX_set_alpn_protos(core_->ctx(), reinterpret_cast<const unsigned char*>(wire.data()),
                              static_cast<unsigned>(wire.size())) != 0)
    detail::throw_ssl_error("set_alpn_protocols");
  core_->alpn_wire = std::move(wire);
}

TLSVersion SSLContext::minimum_version() const noexcept {
  return detail::from_openssl(SSL_CTX_get_min_proto_version(core_->ctx()), TLSVersion::MINIMUM_SUPPORTED);
}

void SSLContext::set_minimum_version(TLSVersion version) {
  if (detail::rank(version) > detail::rank(maximum_version()) ||
      version == TLSVersion::MAXIMUM_SUPPORTED)
    throw ValueError("set_minimum_version: above maximum_version (or MAXIMUM_SUPPORTED)");
  SSL_CTX_set_min_proto_version(core_->ctx(), detail::to_openssl(version));
}

TLSVersion SSLContext::maximum_version() const noexcept {
  return detail::from_openssl(SSL_CTX_get_max_proto_version(core_->ctx()), TLSVersion::MAXIMUM_SUPPORTED);
}

void SSLContext::set_maximum_version(TLSVersion version) {
  if (detail::rank(version) < detail::rank(minimum_version()) ||
      version == TLSVersion::MINIMUM_SUPPORTED)
    throw ValueError("set_maximum_version: below minimum_version (or MINIMUM_SUPPORTED)");
  SSL_CTX_set_max_proto_version(core_->ctx(), detail::to_openssl(version));
}

void SSLContext::set_ciphers(const std::string& ciphers) {
  ERR_clear_error();
  if (SSL_CTX_set_cipher_list(core_->ctx(), ciphers.c_str()) != 1)
    detail::throw_ssl_error("set_ciphers: no cipher matches '" + ciphers + "'");
}

bool SSLContext::is_server() const noexcept { return core_->server(); }

void* SSLContext::native_handle() const noexcept { return core_->ctx(); }

SSLContext create_default_context(Purpose purpose, const std::string& cafile, const std::string& capath,
                                  const std::string& cadata) {
  SSLContext ctx(purpose == Purpose::SERVER_AUTH ? PROTOCOL_TLS_CLIENT : PROTOCOL_TLS_SERVER);
  if (!cafile.empty() || !capath.empty() || !cadata.empty()) {
    ctx.load_verify_locations(cafile, capath, cadata);
  } else if (ctx.verify_mode() != CERT_NONE) {
    ctx.load_default_certs();
  }
  return ctx;
}

}  // namespace lanes
