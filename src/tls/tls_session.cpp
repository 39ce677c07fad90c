// One TLS connection over a stream's socket (detail/tls/tls_session.hpp).
#include "lanes/detail/io/syscall.hpp"
#include "lanes/detail/tls/tls_session.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "lanes/errors.hpp"

namespace lanes::detail {

/// The BIO under every TlsSession: reads come from the socket (after any prefix),
/// writes go to the session's output string. Never blocks: an empty socket is a
/// retryable read, which SSL_read reports as SSL_ERROR_WANT_READ.
struct TlsBio {
  static TlsSession& session(BIO* b) { return *static_cast<TlsSession*>(BIO_get_data(b)); }

  static int write(BIO* b, const char* data, int len) {
    BIO_clear_retry_flags(b);
    try {
      session(b).out_->append(data, static_cast<std::size_t>(len));
    } catch (...) {
      return -1;  // out of memory: OpenSSL reports a write failure
    }
    return len;
  }

  static int read(BIO* b, char* buf, int len) {
    BIO_clear_retry_flags(b);
    TlsSession& s = session(b);
    if (s.prefix_head_ < s.prefix_.size()) {
      const std::size_t n = std::min(static_cast<std::size_t>(len), s.prefix_.size() - s.prefix_head_);
      std::memcpy(buf, s.prefix_.data() + s.prefix_head_, n);
      s.prefix_head_ += n;
      if (s.prefix_head_ == s.prefix_.size()) {
        s.prefix_.clear();
        s.prefix_head_ = 0;
      }
      return static_cast<int>(n);
    }
    IoHandle* io = s.io_;
    if (io == nullptr || !io->is_open()) return 0;  // closed on our side: the end
    if (!io->readable) {
      BIO_set_retry_read(b);
      return -1;
    }
    const ssize_t k =
        retry_eintr([&] { return ::read(io->fd(), buf, static_cast<std::size_t>(len)); });
    if (k > 0) {
      // A short read emptied the socket: the next arrival is a new edge.
      if (k < len && !io->hangup) io->readable = false;
      return static_cast<int>(k);
    }
    if (k == 0) return 0;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      io->readable = false;
      BIO_set_retry_read(b);
      return -1;
    }
    s.sys_errno_ = errno;
    return -1;
  }

  static long ctrl(BIO*, int cmd, long, void*) {
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // output is never held back
  }

  static int create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
  }

  static BIO_METHOD* method() {
    // Made once, never freed (it lives as long as the process can use TLS).
    static BIO_METHOD* m = [] {
      BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "lanes stream");
      if (bm) {
        BIO_meth_set_write(bm, &TlsBio::write);
        BIO_meth_set_read(bm, &TlsBio::read);
        BIO_meth_set_ctrl(bm, &TlsBio::ctrl);
        BIO_meth_set_create(bm, &TlsBio::create);
      }
      return bm;
    }();
    return m;
  }
};

namespace {

bool is_ip_literal(const std::string& host) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
  if (!ip) {
    ERR_clear_error();
    return false;
  }
  ASN1_OCTET_STRING_free(ip);
  return true;
}

}  // namespace

std::string verify_error_text(long code, const std::string& hostname) {
  if (code == X509_V_ERR_HOSTNAME_MISMATCH)
    return "Hostname mismatch, certificate is not valid for '" + hostname + "'.";
  if (code == X509_V_ERR_IP_ADDRESS_MISMATCH)
    return "IP address mismatch, certificate is not valid for '" + hostname + "'.";
  return X509_verify_cert_error_string(code);
}

TlsSession::TlsSession(std::shared_ptr<SslContextCore> ctx, bool server_side, std::string hostname,
                       IoHandle& io)
    : ctx_(std::move(ctx)), io_(&io), server_side_(server_side), hostname_(std::move(hostname)) {
  ERR_clear_error();
  BIO_METHOD* method = TlsBio::method();
  if (!method) throw_ssl_error("TLS: cannot make the stream BIO");
  ssl_ = SSL_new(ctx_->ctx());
  if (!ssl_) throw_ssl_error("TLS: SSL_new failed");
  BIO* bio = BIO_new(method);
  if (!bio) {
    SSL_free(ssl_);
    throw_ssl_error("TLS: BIO_new failed");
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways; the SSL owns it
  // Whole socket reads rather than a header then a body: half the system calls.
  SSL_set_read_ahead(ssl_, 1);
  if (server_side_) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (hostname_.empty()) return;
  const bool ip = is_ip_literal(hostname_);
  // SNI carries names only (RFC 6066), never addresses.
  if (!ip && SSL_set_tlsext_host_name(ssl_, hostname_.c_str()) != 1) {
    SSL_free(ssl_);
    throw_ssl_error("TLS: bad server_hostname '" + hostname_ + "'");
  }
  if (ctx_->check_hostname) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, hostname_.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, hostname_.c_str(), hostname_.size());
    if (ok != 1) {
      SSL_free(ssl_);
      throw_ssl_error("TLS: cannot check the host name '" + hostname_ + "'");
    }
  }
}

TlsSession::~TlsSession() {
  shutdown_timer_.cancel();
  SSL_free(ssl_);
}

std::exception_ptr TlsSession::handshake_error() const {
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK && !server_side_) {
    ERR_clear_error();
    std::string text = verify_error_text(verify, hostname_);
    return std::make_exception_ptr(
        SSLCertVerificationError("TLS handshake failed: certificate verify failed: " + text, verify, text));
  }
  if (verify != X509_V_OK && server_side_ && SSL_get0_peer_certificate(ssl_) != nullptr) {
    ERR_clear_error();
    std::string text = X509_verify_cert_error_string(verify);
    return std::make_exception_ptr(SSLCertVerificationError(
        "TLS handshake failed: the client's certificate was refused: " + text, verify, text));
  }
  return make_ssl_error(server_side_ ? "TLS handshake with a client failed" : "TLS handshake failed");
}

TlsSession::Step TlsSession::handshake(std::string& out, std::exception_ptr& error) noexcept {
  Sink sink(*this, out);
  ERR_clear_error();
  sys_errno_ = 0;
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) return Step::done;
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      return Step::want_read;
    case SSL_ERROR_SSL:
      error = handshake_error();
      return Step::failed;
    default:
      // The socket failed or ended mid-handshake.
      ERR_clear_error();
      error = sys_errno_ != 0
                  ? make_os_error(sys_errno_, "TLS handshake")
                  : std::make_exception_ptr(ConnectionResetError(
                        ECONNRESET, "TLS handshake: the peer closed the connection before it completed"));
      return Step::failed;
  }
}

std::ptrdiff_t TlsSession::read(char* dst, std::size_t size, std::string& out,
                                 std::exception_ptr& error) noexcept {
  Sink sink(*this, out);
  ERR_clear_error();
  sys_errno_ = 0;
  const int want = size > INT_MAX ? INT_MAX : static_cast<int>(size);
  const int r = SSL_read(ssl_, dst, want);
  if (r > 0) return r;
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      return kWouldBlock;
    case SSL_ERROR_ZERO_RETURN:
      return 0;  // close_notify, or the TCP end (SSL_OP_IGNORE_UNEXPECTED_EOF)
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      if (sys_errno_ == 0) return 0;
      error = make_os_error(sys_errno_, "reading from a TLS stream");
      return kFailed;
    default:
      error = make_ssl_error("reading from a TLS stream");
      return kFailed;
  }
}

void TlsSession::write(const char* data, std::size_t size, std::string& out) {
  if (shutdown_sent_) throw RuntimeError("write() after write_eof() on a TLS stream: close_notify was sent");
  Sink sink(*this, out);
  ERR_clear_error();
  std::size_t written = 0;
  // The BIO takes every byte, so a write completes whole or fails.
  if (SSL_write_ex(ssl_, data, size, &written) != 1) throw_ssl_error("writing to a TLS stream");
}

void TlsSession::shutdown(std::string& out) noexcept {
  if (shutdown_sent_ || !SSL_is_init_finished(ssl_)) return;
  shutdown_sent_ = true;
  Sink sink(*this, out);
  ERR_clear_error();
  // Sends close_notify; the peer's is not waited for (the stream is closing, or
  // reading goes on after write_eof and meets it as the end of the stream).
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

void TlsSession::closing(StreamCore& core) noexcept {
  EventLoop* loop = core.io().loop();
  if (!loop || shutdown_timeout_.count() <= 0) return;
  try {
    std::weak_ptr<StreamCore> weak = core.weak_from_this();
    shutdown_timer_.cancel();
    shutdown_timer_ = loop->call_later(
        std::chrono::duration_cast<EventLoop::Clock::duration>(shutdown_timeout_), [weak] {
          // The peer did not take the last bytes and close_notify in time.
          if (auto c = weak.lock()) c->abort();
        });
  } catch (...) {
    // No timer: the stream flushes as long as it takes, as a plain one does.
  }
}

}  // namespace lanes::detail
