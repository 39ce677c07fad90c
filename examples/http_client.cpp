// GETs a URL over HTTP/1.1 with lanes streams (the seeds' "send a network request").
//
//   http_client                          a demo: GETs from a tiny server it starts itself
//   http_client http://127.0.0.1:8080/   GETs that URL and prints status, headers, body
//
// Only plain http:// (https_client.cpp does TLS); the body is read by Content-Length, or to the end.
#include <lanes/lanes.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

struct Url {
  std::string host, path;
  std::uint16_t port = 80;
};

Url parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) throw lanes::ValueError("only http:// URLs are supported: " + url);
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

struct Response {
  int status = 0;
  std::string headers, body;
};

lanes::Task<Response> http_get(Url url) {
  auto [reader, writer] = co_await lanes::open_connection(url.host, url.port);
  writer.write("GET " + url.path + " HTTP/1.1\r\nHost: " + url.host +
               "\r\nUser-Agent: lanes-http-client\r\nConnection: close\r\n\r\n");
  co_await writer.drain();
  Response r;
  r.headers = co_await reader.readuntil("\r\n\r\n");
  r.status = std::atoi(r.headers.c_str() + r.headers.find(' ') + 1);
  std::string lower = r.headers;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto cl = lower.find("\r\ncontent-length:");
  if (cl != std::string::npos) {
    r.body = co_await reader.readexactly(std::strtoul(r.headers.c_str() + cl + 17, nullptr, 10));
  } else {
    r.body = co_await reader.read();
  }
  writer.close();
  co_return r;
}

lanes::Task<void> fetch(std::string url) {
  const Response r = co_await http_get(parse_url(url));
  std::printf("%s%s", r.headers.c_str(), r.body.c_str());
  if (!r.body.empty() && r.body.back() != '\n') std::printf("\n");
}

// The demo's server: one canned answer per connection.
lanes::Task<void> tiny_server(lanes::StreamReader reader, lanes::StreamWriter writer) {
  co_await reader.readuntil("\r\n\r\n");
  const std::string body = "hello over loopback\n";
  writer.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body);
  co_await writer.drain();
  writer.close();
}

lanes::Task<void> demo() {
  auto server = co_await lanes::start_server(tiny_server, "127.0.0.1", 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/hello";
  std::printf("GET %s\n", url.c_str());
  co_await fetch(url);
  server.close();
  co_await server.wait_closed();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    lanes::run(argc > 1 ? fetch(argv[1]) : demo());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_client: %s\n", e.what());
    return 1;
  }
  return 0;
}
