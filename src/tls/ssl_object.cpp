// lanes::SSLObject and get_extra_info's TLS entries: what a TLS connection tells
// about itself, in Python's shapes (ssl.hpp, streams.hpp).
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstdio>

#include "lanes/detail/tls/tls_session.hpp"
#include "lanes/errors.hpp"
#include "lanes/streams.hpp"

namespace lanes {
namespace {

std::string asn1_text(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::vector<std::pair<std::string, std::string>> name_entries(const X509_NAME* name) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    const char* ln = nid != NID_undef ? OBJ_nid2ln(nid) : "unknown";
    out.emplace_back(ln, asn1_text(X509_NAME_ENTRY_get_data(e)));
  }
  return out;
}

std::string time_text(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return {};
  ASN1_TIME_print(bio, t);  // "Jan  1 00:00:00 2026 GMT", Python's format too
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n > 0 ? n : 0));
  BIO_free(bio);
  return out;
}

/// An IP address in a certificate, as Python prints it (IPv6: upper-case groups).
std::string ip_text(const ASN1_OCTET_STRING* ip) {
  const unsigned char* p = ASN1_STRING_get0_data(ip);
  const int len = ASN1_STRING_length(ip);
  char buf[64];
  if (len == 4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
    return buf;
  }
  if (len == 16) {
    std::string out;
    for (int i = 0; i < 16; i += 2) {
      std::snprintf(buf, sizeof buf, "%s%X", i ? ":" : "", (p[i] << 8) | p[i + 1]);
      out += buf;
    }
    return out;
  }
  return "<invalid>";
}

PeerCertificate decode(X509* cert, bool verified) {
  PeerCertificate pc;
  const int der_len = i2d_X509(cert, nullptr);
  if (der_len > 0) {
    pc.der.resize(static_cast<std::size_t>(der_len));
    auto* p = reinterpret_cast<unsigned char*>(pc.der.data());
    i2d_X509(cert, &p);
  }
  if (!verified) return pc;  // Python: an unverified certificate's fields are not shown
  pc.subject = name_entries(X509_get_subject_name(cert));
  pc.issuer = name_entries(X509_get_issuer_name(cert));
  pc.version = static_cast<int>(X509_get_version(cert)) + 1;
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      pc.serial_number = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  pc.not_before = time_text(X509_get0_notBefore(cert));
  pc.not_after = time_text(X509_get0_notAfter(cert));
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
      if (g->type == GEN_DNS) pc.subject_alt_name.emplace_back("DNS", asn1_text(g->d.dNSName));
      if (g->type == GEN_IPADD) pc.subject_alt_name.emplace_back("IP Address", ip_text(g->d.iPAddress));
      if (g->type == GEN_EMAIL) pc.subject_alt_name.emplace_back("email", asn1_text(g->d.rfc822Name));
      if (g->type == GEN_URI)
        pc.subject_alt_name.emplace_back("URI", asn1_text(g->d.uniformResourceIdentifier));
    }
    GENERAL_NAMES_free(names);
  }
  ERR_clear_error();
  return pc;
}

std::shared_ptr<detail::TlsSession> session_of(const detail::StreamCore& core) {
  return std::dynamic_pointer_cast<detail::TlsSession>(core.layer_ptr());
}

}  // namespace

std::string SSLObject::version() const { return SSL_get_version(session_->ssl()); }

CipherInfo SSLObject::cipher() const {
  CipherInfo info;
  if (const SSL_CIPHER* c = SSL_get_current_cipher(session_->ssl())) {
    info.name = SSL_CIPHER_get_name(c);
    info.protocol = SSL_CIPHER_get_version(c);
    info.secret_bits = SSL_CIPHER_get_bits(c, nullptr);
  }
  return info;
}

std::optional<std::string> SSLObject::selected_alpn_protocol() const {
  const unsigned char* p = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(session_->ssl(), &p, &len);
  if (!p || len == 0) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(p), len);
}

std::optional<PeerCertificate> SSLObject::getpeercert() const {
  SSL* ssl = session_->ssl();
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert) return std::nullopt;
  const bool verified = (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0 &&
                        SSL_get_verify_result(ssl) == X509_V_OK;
  return decode(cert, verified);
}

bool SSLObject::server_side() const noexcept { return session_->server_side(); }

std::string SSLObject::server_hostname() const { return session_->hostname(); }

void* SSLObject::native_handle() const noexcept { return session_->ssl(); }

namespace detail {

std::optional<PeerCertificate> tls_peercert(const StreamCore& core) {
  auto s = session_of(core);
  if (!s) return std::nullopt;
  return SSLObject(std::move(s)).getpeercert();
}

std::optional<CipherInfo> tls_cipher(const StreamCore& core) {
  auto s = session_of(core);
  if (!s) return std::nullopt;
  return SSLObject(std::move(s)).cipher();
}

std::optional<SSLObject> tls_ssl_object(const StreamCore& core) {
  auto s = session_of(core);
  if (!s) return std::nullopt;
  return SSLObject(std::move(s));
}

}  // namespace detail
}  // namespace lanes
