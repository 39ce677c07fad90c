// TLS over loopback (lanes/ssl.hpp): contexts, handshakes and echo both ways, the
// certificate errors (host name, expiry, unknown CA, client certificate), ALPN,
// STARTTLS, bulk data, many connections on one loop, hostile clients, timeouts,
// cancellation and close_notify. Every certificate is made at test time.
#include <gtest/gtest.h>

#include <lanes/combinators.hpp>
#include <lanes/loop.hpp>
#include <lanes/net.hpp>
#include <lanes/ssl.hpp>
#include <lanes/sync.hpp>
#include <lanes/time.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#if !LANES_WITH_TLS

// Built without OpenSSL: the API is there and says how to get TLS.
TEST(SSLContext, UnavailableWithoutOpenSSL) {
  EXPECT_THROW(lanes::SSLContext(), lanes::RuntimeError);
  EXPECT_THROW(lanes::create_default_context(), lanes::RuntimeError);
}

#else

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "tls_test_certs.hpp"

using namespace std::chrono_literals;

namespace {

/// One PKI for the whole file (key generation is the slow part).
tls_test::Pki& pki() {
  static tls_test::Pki p;
  return p;
}
const tls_test::KeyPair& server_pair() {
  static const tls_test::KeyPair kp = pki().issue("server", "localhost", {"DNS:localhost", "IP:127.0.0.1"});
  return kp;
}

lanes::SSLContext server_context() {
  lanes::SSLContext ctx(lanes::PROTOCOL_TLS_SERVER);
  ctx.load_cert_chain(server_pair().cert, server_pair().key);
  return ctx;
}

lanes::SSLContext client_context() { return lanes::create_default_context(lanes::Purpose::SERVER_AUTH, pki().ca_file()); }

lanes::Task<void> echo_handler(lanes::StreamReader reader, lanes::StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(65536);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
}

/// Options holding a context that lives as long as the test: the options take a
/// pointer (and the server keeps its own handle).
lanes::ServerOptions tls_server(lanes::SSLContext ctx) {
  static std::vector<std::unique_ptr<lanes::SSLContext>> keep;
  keep.push_back(std::make_unique<lanes::SSLContext>(std::move(ctx)));
  lanes::ServerOptions o;
  o.ssl = keep.back().get();
  return o;
}

lanes::ConnectOptions tls_client(lanes::SSLContext ctx, std::optional<std::string_view> hostname = std::nullopt) {
  static std::vector<std::unique_ptr<lanes::SSLContext>> keep;
  keep.push_back(std::make_unique<lanes::SSLContext>(std::move(ctx)));
  lanes::ConnectOptions o;
  o.ssl = keep.back().get();
  o.server_hostname = hostname;
  return o;
}

/// Connects with `client` to a TLS echo server using `server` and returns what
/// the handshake threw (null if it succeeded and one line echoed).
lanes::Task<std::exception_ptr> try_handshake(lanes::SSLContext server, lanes::SSLContext client,
                                              std::string hostname) {
  auto srv = co_await lanes::start_server(echo_handler, "127.0.0.1", 0, tls_server(std::move(server)));
  std::exception_ptr error;
  try {
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", srv.port(), tls_client(std::move(client), hostname));
    w.write("ping\n");
    co_await w.drain();
    if (co_await r.readline() != "ping\n") throw std::runtime_error("echo mismatch");
    w.close();
    co_await w.wait_closed();
  } catch (...) {
    error = std::current_exception();
  }
  srv.close();
  co_await srv.wait_closed();
  co_return error;
}

}  // namespace

TEST(SSLContext, PythonDefaults) {
  lanes::SSLContext client(lanes::PROTOCOL_TLS_CLIENT);
  EXPECT_EQ(client.verify_mode(), lanes::CERT_REQUIRED);
  EXPECT_TRUE(client.check_hostname());
  EXPECT_EQ(client.minimum_version(), lanes::TLSVersion::TLSv1_2);
  EXPECT_FALSE(client.is_server());
  lanes::SSLContext server(lanes::PROTOCOL_TLS_SERVER);
  EXPECT_EQ(server.verify_mode(), lanes::CERT_NONE);
  EXPECT_FALSE(server.check_hostname());
  EXPECT_TRUE(server.is_server());
  // Python: CERT_NONE is refused while check_hostname is on; turning the check on
  // raises the verify mode.
  EXPECT_THROW(client.set_verify_mode(lanes::CERT_NONE), lanes::ValueError);
  client.set_check_hostname(false);
  client.set_verify_mode(lanes::CERT_NONE);
  client.set_check_hostname(true);
  EXPECT_EQ(client.verify_mode(), lanes::CERT_REQUIRED);
  client.set_minimum_version(lanes::TLSVersion::TLSv1_3);
  EXPECT_EQ(client.minimum_version(), lanes::TLSVersion::TLSv1_3);
  EXPECT_THROW(client.set_maximum_version(lanes::TLSVersion::TLSv1_2), lanes::ValueError);
  EXPECT_THROW(client.set_alpn_protocols({"h2", ""}), lanes::ValueError);
  EXPECT_THROW(client.set_alpn_protocols({std::string(256, 'x')}), lanes::ValueError);
  EXPECT_THROW(client.set_ciphers("NO-SUCH-CIPHER"), lanes::SSLError);
  auto def = lanes::create_default_context();
  EXPECT_TRUE(def.check_hostname());
  EXPECT_EQ(def.verify_mode(), lanes::CERT_REQUIRED);
  EXPECT_TRUE(lanes::create_default_context(lanes::Purpose::CLIENT_AUTH).is_server());
}

TEST(SSLContext, LoadingErrorsAreTyped) {
  lanes::SSLContext ctx(lanes::PROTOCOL_TLS_SERVER);
  EXPECT_THROW(ctx.load_cert_chain(pki().dir() + "/nope.crt"), lanes::FileNotFoundError);
  EXPECT_THROW(ctx.load_verify_locations(), lanes::ValueError);
  EXPECT_THROW(ctx.load_verify_locations(pki().dir() + "/nope.pem"), lanes::FileNotFoundError);
  EXPECT_THROW(ctx.load_verify_locations("", "", "not a certificate"), lanes::SSLError);
  // A key that does not belong to the certificate.
  const auto other = pki().issue("other", "other", {"DNS:other"});
  EXPECT_THROW(ctx.load_cert_chain(server_pair().cert, other.key), lanes::SSLError);
  // An encrypted key: the right password works, a wrong one is an SSLError.
  const auto locked = pki().issue("locked", "localhost", {"DNS:localhost"}, -1, 30, "s3cret");
  EXPECT_THROW(ctx.load_cert_chain(locked.cert, locked.key, "wrong"), lanes::SSLError);
  ctx.load_cert_chain(locked.cert, locked.key, "s3cret");
  // cadata in PEM.
  std::string pem;
  {
    FILE* f = std::fopen(pki().ca_file().c_str(), "r");
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) pem.append(buf, n);
    std::fclose(f);
  }
  lanes::SSLContext client;
  client.load_verify_locations("", "", pem);
}

TEST(SSL, EchoBothWaysWithCertificateInfo) {
  lanes::run([]() -> lanes::Task<void> {
    std::optional<lanes::PeerCertificate> server_saw;
    std::optional<lanes::CipherInfo> server_cipher;
    auto srv = co_await lanes::start_server(
        [&](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          server_saw = w.get_extra_info<lanes::PeerCertificate>("peercert");
          server_cipher = w.get_extra_info<lanes::CipherInfo>("cipher");
          co_await echo_handler(r, w);
        },
        "127.0.0.1", 0, tls_server(server_context()));
    auto [reader, writer] = co_await lanes::open_connection("localhost", srv.port(), tls_client(client_context()));
    for (int i = 0; i < 10; ++i) {
      writer.write("line " + std::to_string(i) + "\n");
      co_await writer.drain();
      EXPECT_EQ(co_await reader.readline(), "line " + std::to_string(i) + "\n");
    }
    auto cert = writer.get_extra_info<lanes::PeerCertificate>("peercert");
    EXPECT_TRUE(cert.has_value());
    if (cert) {
      EXPECT_NE(std::find(cert->subject.begin(), cert->subject.end(),
                          std::pair<std::string, std::string>("commonName", "localhost")),
                cert->subject.end());
      EXPECT_NE(std::find(cert->issuer.begin(), cert->issuer.end(),
                          std::pair<std::string, std::string>("commonName", "lanes test CA")),
                cert->issuer.end());
      EXPECT_NE(std::find(cert->subject_alt_name.begin(), cert->subject_alt_name.end(),
                          std::pair<std::string, std::string>("IP Address", "127.0.0.1")),
                cert->subject_alt_name.end());
      EXPECT_EQ(cert->version, 3);
      EXPECT_FALSE(cert->der.empty());
      EXPECT_NE(cert->not_after.find("GMT"), std::string::npos);
    }
    auto cipher = writer.get_extra_info<lanes::CipherInfo>("cipher");
    EXPECT_TRUE(cipher.has_value());
    if (cipher) {
      EXPECT_EQ(cipher->protocol, "TLSv1.3");
      EXPECT_GE(cipher->secret_bits, 128);
    }
    auto obj = writer.get_extra_info<lanes::SSLObject>("ssl_object");
    EXPECT_TRUE(obj.has_value());
    if (obj) {
      EXPECT_EQ(obj->version(), "TLSv1.3");
      EXPECT_FALSE(obj->server_side());
      EXPECT_EQ(obj->server_hostname(), "localhost");
      EXPECT_NE(obj->native_handle(), nullptr);
    }
    // The address entries still work; a TLS entry asked as an address says how.
    EXPECT_EQ(writer.get_extra_info("peername"), writer.peername());
    EXPECT_THROW((void)writer.get_extra_info("cipher"), lanes::ValueError);
    writer.close();
    co_await writer.wait_closed();
    srv.close();
    co_await srv.wait_closed();
    EXPECT_FALSE(server_saw.has_value());  // the client sent no certificate
    EXPECT_TRUE(server_cipher.has_value());
  }());
}

TEST(SSL, UnixSocketWithServerHostname) {
  lanes::run([]() -> lanes::Task<void> {
    const std::string path = pki().dir() + "/tls.sock";
    auto srv = co_await lanes::start_unix_server(echo_handler, path, tls_server(server_context()));
    EXPECT_THROW(co_await lanes::open_unix_connection(path, tls_client(client_context())), lanes::ValueError);
    auto [r, w] = co_await lanes::open_unix_connection(path, tls_client(client_context(), "localhost"));
    w.write("over unix\n");
    EXPECT_EQ(co_await r.readline(), "over unix\n");
    w.close();
    co_await w.wait_closed();
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST(SSL, HostnameMismatchIsAVerifyError) {
  lanes::run([]() -> lanes::Task<void> {
    auto err = co_await try_handshake(server_context(), client_context(), "example.org");
    if (!err) {
      ADD_FAILURE() << "the handshake should have failed";
      co_return;
    }
    try {
      std::rethrow_exception(err);
    } catch (const lanes::SSLCertVerificationError& e) {
      EXPECT_EQ(e.verify_code(), X509_V_ERR_HOSTNAME_MISMATCH);
      EXPECT_NE(std::string(e.what()).find("Hostname mismatch, certificate is not valid for 'example.org'"),
                std::string::npos)
          << e.what();
    }
  }());
}

TEST(SSL, ExpiredCertificateIsAVerifyError) {
  lanes::run([]() -> lanes::Task<void> {
    const auto old = pki().issue("expired", "localhost", {"DNS:localhost"}, -30, -1);
    lanes::SSLContext server(lanes::PROTOCOL_TLS_SERVER);
    server.load_cert_chain(old.cert, old.key);
    auto err = co_await try_handshake(server, client_context(), "localhost");
    if (!err) {
      ADD_FAILURE() << "the handshake should have failed";
      co_return;
    }
    try {
      std::rethrow_exception(err);
    } catch (const lanes::SSLCertVerificationError& e) {
      EXPECT_EQ(e.verify_code(), X509_V_ERR_CERT_HAS_EXPIRED);
      EXPECT_EQ(e.verify_message(), "certificate has expired");
    }
  }());
}

TEST(SSL, UnknownIssuerIsAVerifyErrorUnlessVerificationIsOff) {
  lanes::run([]() -> lanes::Task<void> {
    const auto self = pki().issue("selfsigned", "localhost", {"DNS:localhost"}, -1, 30, "", true);
    lanes::SSLContext server(lanes::PROTOCOL_TLS_SERVER);
    server.load_cert_chain(self.cert, self.key);
    auto err = co_await try_handshake(server, client_context(), "localhost");
    if (!err) {
      ADD_FAILURE() << "the handshake should have failed";
      co_return;
    }
    EXPECT_THROW(std::rethrow_exception(err), lanes::SSLCertVerificationError);
    // CERT_NONE: accepted, and the certificate's fields are not shown (Python's rule).
    lanes::SSLContext lax(lanes::PROTOCOL_TLS_CLIENT);
    lax.set_check_hostname(false);
    lax.set_verify_mode(lanes::CERT_NONE);
    EXPECT_FALSE(co_await try_handshake(server, lax, "localhost"));
  }());
}

TEST(SSL, ClientCertificateRequired) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::SSLContext server = server_context();
    server.set_verify_mode(lanes::CERT_REQUIRED);
    server.load_verify_locations(pki().ca_file());
    int handled = 0;
    std::string client_cn;
    auto srv = co_await lanes::start_server(
        [&](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          ++handled;
          if (auto cert = w.get_extra_info<lanes::PeerCertificate>("peercert"))
            for (auto& [k, v] : cert->subject)
              if (k == "commonName") client_cn = v;
          co_await echo_handler(r, w);
        },
        "127.0.0.1", 0, tls_server(server));
    // Without a certificate: with TLS 1.3 the client's handshake may finish before
    // the server refuses, so the refusal can also come with the first read.
    bool refused = false;
    try {
      auto [r, w] = co_await lanes::open_connection("127.0.0.1", srv.port(), tls_client(client_context(), "localhost"));
      w.write("x\n");
      std::string got = co_await r.readline();
      refused = got.empty();
    } catch (const lanes::SSLError& e) {
      refused = true;
      EXPECT_NE(std::string(e.what()).find("certificate"), std::string::npos) << e.what();
    } catch (const lanes::ConnectionResetError&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
    EXPECT_EQ(handled, 0);
    // With one, the server sees who the client is.
    const auto client_pair = pki().issue("client", "alice", {"DNS:alice"});
    auto with_cert = client_context();
    with_cert.load_cert_chain(client_pair.cert, client_pair.key);
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", srv.port(), tls_client(with_cert, "localhost"));
    w.write("hi\n");
    EXPECT_EQ(co_await r.readline(), "hi\n");
    EXPECT_EQ(client_cn, "alice");
    w.close();
    co_await w.wait_closed();
    srv.close();
    co_await srv.wait_closed();
    EXPECT_EQ(handled, 1);
  }());
}

TEST(SSL, AlpnChoosesTheServersPreference) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = server_context();
    server.set_alpn_protocols({"http/1.1", "h2"});
    std::optional<std::string> server_chose;
    auto srv = co_await lanes::start_server(
        [&](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          server_chose = w.get_extra_info<lanes::SSLObject>("ssl_object")->selected_alpn_protocol();
          co_await echo_handler(r, w);
        },
        "127.0.0.1", 0, tls_server(server));
    auto client = client_context();
    client.set_alpn_protocols({"h2", "http/1.1"});
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", srv.port(), tls_client(client, "localhost"));
    EXPECT_EQ(w.get_extra_info<lanes::SSLObject>("ssl_object")->selected_alpn_protocol(), "http/1.1");
    w.write("a\n");
    EXPECT_EQ(co_await r.readline(), "a\n");
    EXPECT_EQ(server_chose, "http/1.1");
    w.close();
    // No protocol in common: the connection goes on without ALPN.
    auto other = client_context();
    other.set_alpn_protocols({"spdy/3"});
    auto [r2, w2] = co_await lanes::open_connection("127.0.0.1", srv.port(), tls_client(other, "localhost"));
    EXPECT_FALSE(w2.get_extra_info<lanes::SSLObject>("ssl_object")->selected_alpn_protocol().has_value());
    w2.close();
    co_await w2.wait_closed();
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST(SSL, StartTlsAfterAPlaintextGreeting) {
  lanes::run([]() -> lanes::Task<void> {
    auto srv = co_await lanes::start_server(
        [](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          w.write("220 lanes ready\n");
          if (co_await r.readline() != "STARTTLS\n") co_return;
          w.write("220 go ahead\n");
          co_await w.drain();
          co_await w.start_tls(server_context());
          co_await echo_handler(r, w);
        },
        "127.0.0.1", 0);
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", srv.port());
    EXPECT_EQ(co_await r.readline(), "220 lanes ready\n");
    EXPECT_FALSE(w.get_extra_info<lanes::CipherInfo>("cipher").has_value());
    w.write("STARTTLS\n");
    EXPECT_EQ(co_await r.readline(), "220 go ahead\n");
    EXPECT_THROW((void)w.start_tls(client_context()), lanes::ValueError);  // no server_hostname
    const lanes::StartTLSOptions named{.server_hostname = "localhost"};
    co_await w.start_tls(client_context(), {.server_hostname = "localhost"});
    EXPECT_TRUE(w.get_extra_info<lanes::CipherInfo>("cipher").has_value());
    w.write("secret\n");
    EXPECT_EQ(co_await r.readline(), "secret\n");
    EXPECT_THROW(co_await w.start_tls(client_context(), named), lanes::RuntimeError);
    w.close();
    co_await w.wait_closed();
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST(SSL, OneMebibyteEachWay) {
  lanes::run([]() -> lanes::Task<void> {
    auto srv = co_await lanes::start_server(echo_handler, "127.0.0.1", 0, tls_server(server_context()));
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", srv.port(), tls_client(client_context(), "localhost"));
    std::string payload(1 << 20, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>((i * 2654435761u) >> 13);
    auto sender = [](lanes::StreamWriter w, const std::string& data) -> lanes::Task<void> {
      for (std::size_t off = 0; off < data.size(); off += 50000) {
        w.write(std::string_view(data).substr(off, 50000));
        co_await w.drain();
      }
      w.write_eof();  // TLS: close_notify, and reading goes on
    };
    auto [sent, echoed] = co_await lanes::gather(sender(w, payload), r.read(-1));
    (void)sent;
    EXPECT_EQ(echoed.size(), payload.size());
    EXPECT_TRUE(echoed == payload);
    w.close();
    co_await w.wait_closed();
    srv.close();
    co_await srv.wait_closed();
  }());
}

class SSLConcurrent : public ::testing::TestWithParam<int> {};

TEST_P(SSLConcurrent, ManyConnectionsOnOneLoop) {
  const int n = GetParam();
  lanes::run([](int n) -> lanes::Task<void> {
    auto srv = co_await lanes::start_server(echo_handler, "127.0.0.1", 0, tls_server(server_context()));
    auto client = client_context();
    std::vector<lanes::Task<std::string>> clients;
    for (int i = 0; i < n; ++i) {
      clients.push_back([](lanes::SSLContext ctx, std::uint16_t port, int i) -> lanes::Task<std::string> {
        auto [r, w] = co_await lanes::open_connection("127.0.0.1", port, tls_client(ctx, "localhost"));
        w.write("client " + std::to_string(i) + "\n");
        std::string line = co_await r.readline();
        w.close();
        co_await w.wait_closed();
        co_return line;
      }(client, srv.port(), i));
    }
    auto lines = co_await lanes::wait_for(lanes::gather(std::move(clients)), 60s);
    for (int i = 0; i < n; ++i) EXPECT_EQ(lines[static_cast<std::size_t>(i)], "client " + std::to_string(i) + "\n");
    srv.close();
    co_await srv.wait_closed();
  }(n));
}

INSTANTIATE_TEST_SUITE_P(Counts, SSLConcurrent, ::testing::Values(1, 20, 200));

TEST(SSL, GarbageAndStalledClientsDoNotBlockOthers) {
  lanes::run([]() -> lanes::Task<void> {
    auto opts = tls_server(server_context());
    opts.ssl_handshake_timeout = 30s;
    int handled = 0;
    auto srv = co_await lanes::start_server(
        [&](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          ++handled;
          co_await echo_handler(r, w);
        },
        "127.0.0.1", 0, opts);
    // One client stalls before its ClientHello, one stalls mid-record, one sends HTTP.
    auto [sr, sw] = co_await lanes::open_connection("127.0.0.1", srv.port());
    auto [hr, hw] = co_await lanes::open_connection("127.0.0.1", srv.port());
    hw.write(std::string("\x16\x03\x01\x02\x00", 5));  // a handshake record header, no body
    auto [gr, gw] = co_await lanes::open_connection("127.0.0.1", srv.port());
    gw.write("GET / HTTP/1.0\r\n\r\n");
    // The garbage connection is refused: the server answers with an alert or just
    // closes, and then the stream ends.
    try {
      std::string answer = co_await lanes::wait_for(gr.read(-1), 30s);
      EXPECT_LT(answer.size(), 64u);
    } catch (const lanes::ConnectionResetError&) {
    }
    // Meanwhile a real client is served, while the stalled ones are still connected.
    EXPECT_FALSE(co_await try_handshake(server_context(), client_context(), "localhost"));
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", srv.port(), tls_client(client_context(), "localhost"));
    w.write("still here\n");
    EXPECT_EQ(co_await r.readline(), "still here\n");
    EXPECT_FALSE(sw.is_closing());
    EXPECT_FALSE(hw.is_closing());
    EXPECT_EQ(handled, 1);
    w.close();
    co_await w.wait_closed();
    srv.close();
    srv.abort_clients();
    co_await lanes::wait_for(srv.wait_closed(), 30s);
  }());
}

TEST(SSL, ServerHandshakeTimeoutClosesAStalledClient) {
  lanes::run([]() -> lanes::Task<void> {
    auto opts = tls_server(server_context());
    opts.ssl_handshake_timeout = 200ms;
    auto srv = co_await lanes::start_server(echo_handler, "127.0.0.1", 0, opts);
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", srv.port());
    // Nothing is sent: the server gives up and the stream ends (or is reset).
    bool ended = false;
    try {
      ended = (co_await lanes::wait_for(r.read(-1), 30s)).empty();
    } catch (const lanes::ConnectionResetError&) {
      ended = true;
    }
    EXPECT_TRUE(ended);
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST(SSL, ClientHandshakeTimeoutAndCancellation) {
  lanes::run([]() -> lanes::Task<void> {
    // A plaintext server that never answers a ClientHello.
    lanes::Event release;
    auto silent = co_await lanes::start_server(
        [&](lanes::StreamReader, lanes::StreamWriter) -> lanes::Task<void> { co_await release.wait(); },
        "127.0.0.1", 0);
    auto opts = tls_client(client_context(), "localhost");
    opts.ssl_handshake_timeout = 200ms;
    try {
      co_await lanes::open_connection("127.0.0.1", silent.port(), opts);
      ADD_FAILURE() << "the handshake should have timed out";
    } catch (const lanes::TimeoutError& e) {
      EXPECT_NE(std::string(e.what()).find("ssl_handshake_timeout"), std::string::npos) << e.what();
    }
    // Cancelled mid-handshake: CancelledError, nothing left behind.
    auto pending = lanes::create_task(
        lanes::open_connection("127.0.0.1", silent.port(), tls_client(client_context(), "localhost")));
    co_await lanes::sleep(0ms);
    co_await lanes::sleep(0ms);
    pending.cancel();
    EXPECT_THROW(co_await pending, lanes::CancelledError);
    // An outer timeout works the same way.
    EXPECT_THROW(co_await lanes::wait_for(lanes::open_connection("127.0.0.1", silent.port(),
                                                                 tls_client(client_context(), "localhost")),
                                          100ms),
                 lanes::TimeoutError);
    release.set();
    silent.close();
    silent.abort_clients();
    co_await silent.wait_closed();
  }());
}

TEST(SSL, CloseNotifyEndsTheStreamAndHalfCloseWorks) {
  lanes::run([]() -> lanes::Task<void> {
    std::string server_read;
    auto srv = co_await lanes::start_server(
        [&](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          server_read = co_await r.read(-1);  // until the client's close_notify
          w.write("got " + std::to_string(server_read.size()) + "\n");
          w.close();
          co_await w.wait_closed();
        },
        "127.0.0.1", 0, tls_server(server_context()));
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", srv.port(), tls_client(client_context(), "localhost"));
    EXPECT_TRUE(w.can_write_eof());
    w.write("abc");
    w.write_eof();
    EXPECT_THROW(w.write("more"), lanes::RuntimeError);
    EXPECT_EQ(co_await r.readline(), "got 3\n");
    EXPECT_EQ(co_await r.read(), "");  // the server's close_notify
    EXPECT_EQ(server_read, "abc");
    w.close();
    co_await w.wait_closed();
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST(SSL, ATcpEndWithoutCloseNotifyIsAnEndOfFile) {
  lanes::run([]() -> lanes::Task<void> {
    std::optional<std::string> server_read;
    lanes::Event done;
    auto srv = co_await lanes::start_server(
        [&](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          w.write(co_await r.readline());
          server_read = co_await r.read(-1);
          w.close();
          done.set();
        },
        "127.0.0.1", 0, tls_server(server_context()));
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", srv.port(), tls_client(client_context(), "localhost"));
    w.write("ping\n");
    EXPECT_EQ(co_await r.readline(), "ping\n");
    w.write("truncated?");
    // A quiet shutdown: OpenSSL sends no close_notify, only the TCP FIN follows.
    SSL_set_quiet_shutdown(static_cast<SSL*>(w.get_extra_info<lanes::SSLObject>("ssl_object")->native_handle()), 1);
    w.close();
    co_await lanes::wait_for(done.wait(), 30s);
    EXPECT_EQ(server_read, "truncated?");  // asyncio's behaviour: the end, not an error
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST(SSL, ShutdownTimeoutAbortsAPeerThatDoesNotRead) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::Event release;
    auto srv = co_await lanes::start_server(
        [&](lanes::StreamReader, lanes::StreamWriter) -> lanes::Task<void> { co_await release.wait(); },
        "127.0.0.1", 0, tls_server(server_context()));
    auto opts = tls_client(client_context(), "localhost");
    opts.ssl_shutdown_timeout = 200ms;
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", srv.port(), opts);
    w.write(std::string(32 << 20, 'x'));  // far more than the socket buffers hold
    EXPECT_GT(w.get_write_buffer_size(), 0u);
    w.close();
    co_await lanes::wait_for(w.wait_closed(), 30s);  // aborted by the shutdown timeout
    release.set();
    srv.close();
    srv.abort_clients();
    co_await srv.wait_closed();
  }());
}

TEST(SSL, ArgumentsThatDoNotFit) {
  lanes::run([]() -> lanes::Task<void> {
    auto srv = co_await lanes::start_server(echo_handler, "127.0.0.1", 0);
    lanes::ConnectOptions o;
    o.server_hostname = "x";
    EXPECT_THROW(co_await lanes::open_connection("127.0.0.1", srv.port(), o), lanes::ValueError);
    lanes::ConnectOptions t;
    t.ssl_handshake_timeout = 1s;
    EXPECT_THROW(co_await lanes::open_connection("127.0.0.1", srv.port(), t), lanes::ValueError);
    auto bad = tls_client(client_context(), "localhost");
    bad.ssl_handshake_timeout = -1s;
    EXPECT_THROW(co_await lanes::open_connection("127.0.0.1", srv.port(), bad), lanes::ValueError);
    EXPECT_THROW(co_await lanes::open_connection("127.0.0.1", srv.port(), tls_client(server_context())),
                 lanes::ValueError);
    EXPECT_THROW(co_await lanes::open_connection("127.0.0.1", srv.port(), tls_client(client_context(), "")),
                 lanes::ValueError);
    EXPECT_THROW(co_await lanes::start_server(echo_handler, "127.0.0.1", 0, tls_server(client_context())),
                 lanes::ValueError);
    lanes::ServerOptions so;
    so.ssl_shutdown_timeout = 1s;
    EXPECT_THROW(co_await lanes::start_server(echo_handler, "127.0.0.1", 0, so), lanes::ValueError);
    srv.close();
    co_await srv.wait_closed();
  }());
}

#endif  // LANES_WITH_TLS
