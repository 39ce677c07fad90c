// GETs a URL over HTTPS with lanes streams: http_client with TLS (ssl.hpp).
//
//   https_client                               a demo: starts a local HTTPS server with
//                                              a throwaway certificate (openssl CLI) and
//                                              GETs from it; never leaves the machine
//   https_client https://HOST[:PORT]/PATH [CAFILE]
//                                              GETs that URL, checking the server's
//                                              certificate against CAFILE (default: the
//                                              system's CA store) and its name against HOST
//
// It prints the TLS version, cipher, ALPN choice and certificate subject, then the
// response. The body is read by Content-Length, or to the end of the stream.
#include <lanes/lanes.hpp>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

struct Url {
  std::string host, path;
  std::uint16_t port = 443;
};

Url parse_url(const std::string& url) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) throw lanes::ValueError("only https:// URLs are supported: " + url);
  Url out;
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    out.port = static_cast<std::uint16_t>(std::atoi(authority.c_str() + colon + 1));
    authority.resize(colon);
  }
  if (authority.size() > 2 && authority.front() == '[') authority = authority.substr(1, authority.size() - 2);
  out.host = authority;
  return out;
}

lanes::Task<void> fetch(std::string url_text, std::string cafile) {
  const Url url = parse_url(url_text);
  // Python's create_default_context(): CERT_REQUIRED, the host name checked.
  lanes::SSLContext ctx = lanes::create_default_context(lanes::Purpose::SERVER_AUTH, cafile);
  ctx.set_alpn_protocols({"http/1.1"});
  auto [reader, writer] = co_await lanes::open_connection(url.host, url.port, {.ssl = &ctx});
  auto tls = writer.get_extra_info<lanes::SSLObject>("ssl_object");
  auto cert = tls->getpeercert();
  std::string subject;
  for (const auto& [field, value] : cert ? cert->subject : decltype(cert->subject){})
    subject += (subject.empty() ? "" : ", ") + field + "=" + value;
  std::printf("* %s, %s, ALPN %s\n* server certificate: %s\n", tls->version().c_str(), tls->cipher().name.c_str(),
              tls->selected_alpn_protocol().value_or("(none)").c_str(), subject.c_str());
  writer.write("GET " + url.path + " HTTP/1.1\r\nHost: " + url.host +
               "\r\nUser-Agent: lanes-https-client\r\nConnection: close\r\n\r\n");
  co_await writer.drain();
  std::string headers = co_await reader.readuntil("\r\n\r\n");
  std::string lower = headers;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto cl = lower.find("\r\ncontent-length:");
  std::string body;  // (not a ?: around co_await: g++ 12 miscompiles that)
  if (cl != std::string::npos) {
    body = co_await reader.readexactly(std::strtoul(headers.c_str() + cl + 17, nullptr, 10));
  } else {
    body = co_await reader.read();
  }
  std::printf("%s%s", headers.c_str(), body.c_str());
  if (!body.empty() && body.back() != '\n') std::printf("\n");
  writer.close();  // close_notify, then the TCP close
  co_await writer.wait_closed();
}

// The demo's server: one canned answer per connection.
lanes::Task<void> tiny_server(lanes::StreamReader reader, lanes::StreamWriter writer) {
  co_await reader.readuntil("\r\n\r\n");
  const std::string body = "hello over TLS on loopback\n";
  writer.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body);
  writer.close();
  co_await writer.wait_closed();
}

lanes::Task<void> demo(std::string dir) {
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
                          "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                          key + " -out " + cert + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) throw lanes::RuntimeError("the openssl CLI could not make a certificate");
  lanes::SSLContext server_ctx(lanes::PROTOCOL_TLS_SERVER);
  server_ctx.load_cert_chain(cert, key);
  server_ctx.set_alpn_protocols({"http/1.1"});
  auto server = co_await lanes::start_server(tiny_server, "127.0.0.1", 0, {.ssl = &server_ctx});
  const std::string url = "https://localhost:" + std::to_string(server.port()) + "/hello";
  std::printf("GET %s\n", url.c_str());
  co_await fetch(url, cert);
  server.close();
  co_await server.wait_closed();
}

}  // namespace

int main(int argc, char** argv) {
#if !LANES_WITH_TLS
  (void)argc;
  (void)argv;
  std::printf("%s: lanes was built without TLS (OpenSSL not found); nothing to show\n", "https_client");
  return 0;
#endif
  try {
    if (argc > 1) {
      lanes::run(fetch(argv[1], argc > 2 ? argv[2] : ""));
      return 0;
    }
    char tmpl[] = "/tmp/lanes_https_demo_XXXXXX";
    if (!::mkdtemp(tmpl)) throw lanes::RuntimeError("mkdtemp failed");
    try {
      lanes::run(demo(tmpl));
    } catch (...) {
      std::filesystem::remove_all(tmpl);
      throw;
    }
    std::filesystem::remove_all(tmpl);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "https_client: %s\n", e.what());
    return 1;
  }
  return 0;
}
