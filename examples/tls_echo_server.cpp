// A TLS echo server: each line a client sends comes back. An HTTP request instead
// gets a 200 response whose body is the request itself, so that https_client (or
// `curl --cacert`) can talk to it too.
//
//   tls_echo_server                          a demo: makes a throwaway certificate
//                                            (with the openssl CLI), serves one client
//                                            of its own over TLS, and exits
//   tls_echo_server CERT KEY [PORT] [N]      serves on 127.0.0.1:PORT (0 = any free
//                                            port; printed first) until N clients have
//                                            been served (default: forever)
#include <lanes/lanes.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

lanes::Task<void> serve_client(lanes::StreamReader reader, lanes::StreamWriter writer) {
  std::string first = co_await reader.readline();
  if (first.find(" HTTP/1.") != std::string::npos) {
    std::string request = first + co_await reader.readuntil("\r\n\r\n");
    writer.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
                 std::to_string(request.size()) + "\r\n\r\n" + request);
  } else {
    for (std::string line = first; !line.empty(); line = co_await reader.readline()) {
      writer.write(line);
      co_await writer.drain();
    }
  }
  co_await writer.drain();
  writer.close();  // sends close_notify, then closes
  co_await writer.wait_closed();
}

lanes::Task<void> serve(std::string cert, std::string key, std::uint16_t port, long clients) {
  lanes::SSLContext ctx = lanes::create_default_context(lanes::Purpose::CLIENT_AUTH);
  ctx.load_cert_chain(cert, key);
  lanes::Semaphore served(0);
  auto server = co_await lanes::start_server(
      [&](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
        co_await serve_client(std::move(r), std::move(w));
        served.release();
      },
      "127.0.0.1", port, {.ssl = &ctx});
  std::printf("listening on 127.0.0.1:%u\n", server.port());
  std::fflush(stdout);
  if (clients <= 0) co_await server.serve_forever();
  for (long i = 0; i < clients; ++i) co_await served.acquire();
  server.close();
  co_await server.wait_closed();
}

lanes::Task<void> demo(std::string dir) {
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
                          "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                          key + " -out " + cert + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) throw lanes::RuntimeError("the openssl CLI could not make a certificate");
  lanes::SSLContext server_ctx(lanes::PROTOCOL_TLS_SERVER);
  server_ctx.load_cert_chain(cert, key);
  auto server = co_await lanes::start_server(serve_client, "127.0.0.1", 0, {.ssl = &server_ctx});
  // The client trusts exactly that certificate and checks the name "localhost".
  lanes::SSLContext client_ctx = lanes::create_default_context(lanes::Purpose::SERVER_AUTH, cert);
  auto [reader, writer] =
      co_await lanes::open_connection("localhost", server.port(), {.ssl = &client_ctx});
  auto cipher = writer.get_extra_info<lanes::CipherInfo>("cipher");
  std::printf("connected over %s with %s\n", cipher->protocol.c_str(), cipher->name.c_str());
  for (const char* line : {"hello\n", "over TLS\n"}) {
    writer.write(line);
    std::printf("echoed: %s", (co_await reader.readline()).c_str());
  }
  writer.close();
  co_await writer.wait_closed();
  server.close();
  co_await server.wait_closed();
}

}  // namespace

int main(int argc, char** argv) {
#if !LANES_WITH_TLS
  (void)argc;
  (void)argv;
  std::printf("%s: lanes was built without TLS (OpenSSL not found); nothing to show\n", "tls_echo_server");
  return 0;
#endif
  try {
    if (argc >= 3) {
      const auto port = static_cast<std::uint16_t>(argc > 3 ? std::atoi(argv[3]) : 8443);
      const long clients = argc > 4 ? std::atol(argv[4]) : 0;
      lanes::run(serve(argv[1], argv[2], port, clients));
    } else {
      char tmpl[] = "/tmp/lanes_tls_demo_XXXXXX";
      if (!::mkdtemp(tmpl)) throw lanes::RuntimeError("mkdtemp failed");
      try {
        lanes::run(demo(tmpl));
      } catch (...) {
        std::filesystem::remove_all(tmpl);
        throw;
      }
      std::filesystem::remove_all(tmpl);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tls_echo_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
