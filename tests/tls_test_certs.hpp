// A throwaway PKI for the TLS tests, made with OpenSSL's API at test time in a
// temporary folder: a CA, and certificates it signs for given names and validity.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace tls_test {

struct KeyPair {
  std::string cert;  ///< PEM file
  std::string key;   ///< PEM file
};

class Pki {
 public:
  /// A new temporary folder with a CA ("lanes test CA") in it.
  Pki() {
    char tmpl[] = "/tmp/lanes_tls_XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    ca_key_ = new_key();
    ca_cert_ = make_cert(ca_key_, "lanes test CA", {}, -1, 30, nullptr, nullptr, true);
    ca_file_ = dir_ + "/ca.pem";
    write_cert(ca_cert_, ca_file_);
  }
  ~Pki() {
    X509_free(ca_cert_);
    EVP_PKEY_free(ca_key_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Pki(const Pki&) = delete;
  Pki& operator=(const Pki&) = delete;

  const std::string& ca_file() const { return ca_file_; }
  const std::string& dir() const { return dir_; }

  /// A certificate signed by the CA for `cn` with subjectAltName entries such as
  /// "DNS:localhost", "IP:127.0.0.1", valid from `from_days` to `to_days` from now.
  /// `password` non-empty: the key file is encrypted with it. `self_signed`: not
  /// signed by the CA (an unknown issuer).
  KeyPair issue(const std::string& name, const std::string& cn, const std::vector<std::string>& sans,
                long from_days = -1, long to_days = 30, const std::string& password = "",
                bool self_signed = false) {
    EVP_PKEY* key = new_key();
    X509* cert = self_signed ? make_cert(key, cn, sans, from_days, to_days, nullptr, nullptr, false)
                             : make_cert(key, cn, sans, from_days, to_days, ca_cert_, ca_key_, false);
    KeyPair kp{dir_ + "/" + name + ".crt", dir_ + "/" + name + ".key"};
    write_cert(cert, kp.cert);
    FILE* f = std::fopen(kp.key.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + kp.key);
    const EVP_CIPHER* cipher = password.empty() ? nullptr : EVP_aes_256_cbc();
    PEM_write_PrivateKey(f, key, cipher,
                         password.empty() ? nullptr : reinterpret_cast<const unsigned char*>(password.data()),
                         static_cast<int>(password.size()), nullptr, nullptr);
    std::fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
    return kp;
  }

 private:
  static EVP_PKEY* new_key() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (!key) throw std::runtime_error("EVP_EC_gen failed");
    return key;
  }

  static void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) throw std::runtime_error("bad extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }

  X509* make_cert(EVP_PKEY* key, const std::string& cn, const std::vector<std::string>& sans, long from_days,
                  long to_days, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial_);
    X509_gmtime_adj(X509_getm_notBefore(cert), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(cert), to_days * 86400);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("lanes tests"),
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()),
                               -1, -1, 0);
    X509* signer = issuer ? issuer : cert;
    X509_set_issuer_name(cert, X509_get_subject_name(signer));
    if (ca) {
      add_ext(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
      add_ext(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
      add_ext(cert, signer, NID_basic_constraints, "CA:FALSE");
      add_ext(cert, signer, NID_ext_key_usage, "serverAuth,clientAuth");
    }
    add_ext(cert, signer, NID_subject_key_identifier, "hash");
    if (!sans.empty()) {
      std::string joined;
      for (const auto& s : sans) joined += (joined.empty() ? "" : ",") + s;
      add_ext(cert, signer, NID_subject_alt_name, joined);
    }
    if (X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()) == 0)
      throw std::runtime_error("X509_sign failed");
    return cert;
  }

  static void write_cert(X509* cert, const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + path);
    PEM_write_X509(f, cert);
    std::fclose(f);
  }

  std::string dir_;
  std::string ca_file_;
  EVP_PKEY* ca_key_ = nullptr;
  X509* ca_cert_ = nullptr;
  long serial_ = 1000;
};

}  // namespace tls_test
