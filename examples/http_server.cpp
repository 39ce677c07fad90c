// A small HTTP/1.1 server on lanes streams: keep-alive, Content-Length, a few routes.
//
//   http_server            a demo: serves on a free port, GETs from itself, exits
//   http_server PORT       serves on 127.0.0.1:PORT until Ctrl-C (PORT 0: a free port,
//                          printed on the first line)
//
// Routes:  /             a greeting
//          /delay/MS     answers after MS milliseconds, MS <= 10000 (an I/O-bound
//                        request: the loop serves others meanwhile)
//          /bytes/N      N bytes of 'x', N <= 1 MiB
//
// Whatever a client sends is bounded: a request head by the reader's limit (64 KiB,
// answered 431), a body by kMaxBody (answered 413), the numbers in the routes as above
// (answered 400). Keep those bounds if you start from this file.
// Keep-alive: HTTP/1.1 keeps the connection unless the client says `Connection: close`;
// HTTP/1.0 closes it unless the client says `Connection: keep-alive`, and then the answer
// says `Connection: keep-alive` too (clients such as `ab -k` wait for that).
#include <lanes/lanes.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

constexpr std::size_t kMaxBody = 1 << 20;        // bytes of a request body we accept
constexpr std::size_t kMaxBytesRoute = 1 << 20;  // largest N of /bytes/N
constexpr long kMaxDelayMs = 10'000;             // largest MS of /delay/MS

struct Request {
  std::string method, target, version;
  bool keep_alive = true;  // after parse: whether the connection stays open
  std::size_t content_length = 0;
  bool bad_length = false;  // Content-Length not a number, or more than kMaxBody
};

// A decimal number made of digits only ("12"; not "", "-1", "1e3", "12abc"), or nothing.
std::optional<std::size_t> to_size(std::string_view s) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Parses "GET /path HTTP/1.1\r\nName: value\r\n...\r\n\r\n". False if malformed.
bool parse(std::string_view head, Request& req) {
  const auto line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return false;
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  req.version = line.substr(sp2 + 1);
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0") return false;
  req.keep_alive = req.version == "HTTP/1.1";
  bool said_close = false, said_keep_alive = false;
  std::size_t pos = line_end + 2;
  while (pos < head.size()) {
    const auto end = head.find("\r\n", pos);
    const std::string_view h = head.substr(pos, end - pos);
    pos = end == std::string_view::npos ? head.size() : end + 2;
    const auto colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = lower(h.substr(0, colon));
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (name == "connection") {
      // A list of tokens: "keep-alive", "close", "Upgrade"...
      const std::string tokens = lower(value);
      std::size_t start = 0;
      while (start <= tokens.size()) {
        auto comma = tokens.find(',', start);
        if (comma == std::string::npos) comma = tokens.size();
        std::string_view token = std::string_view(tokens).substr(start, comma - start);
        while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
        while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
        if (token == "close") said_close = true;
        if (token == "keep-alive") said_keep_alive = true;
        start = comma + 1;
      }
    }
    if (name == "content-length") {
      const auto n = to_size(value);
      req.bad_length = !n || *n > kMaxBody;
      req.content_length = n && *n <= kMaxBody ? *n : 0;
    }
  }
  if (said_close) req.keep_alive = false;
  else if (said_keep_alive) req.keep_alive = true;  // an HTTP/1.0 client asking for it
  return true;
}

lanes::Task<std::pair<int, std::string>> route(const Request& req) {
  if (req.method != "GET" && req.method != "HEAD") co_return std::pair{405, std::string("method not allowed\n")};
  const std::string& t = req.target;
  if (t == "/") co_return std::pair{200, std::string("Hello from lanes\n")};
  if (t.rfind("/delay/", 0) == 0) {
    const auto ms = to_size(std::string_view(t).substr(7));
    if (!ms || *ms > static_cast<std::size_t>(kMaxDelayMs))
      co_return std::pair{400, "/delay/MS: MS must be a number of milliseconds from 0 to " +
                                   std::to_string(kMaxDelayMs) + "\n"};
    co_await lanes::sleep(std::chrono::milliseconds(*ms));
    co_return std::pair{200, "waited " + std::to_string(*ms) + " ms\n"};
  }
  if (t.rfind("/bytes/", 0) == 0) {
    const auto n = to_size(std::string_view(t).substr(7));
    if (!n || *n > kMaxBytesRoute)
      co_return std::pair{400, "/bytes/N: N must be a number of bytes from 0 to " +
                                   std::to_string(kMaxBytesRoute) + "\n"};
    co_return std::pair{200, std::string(*n, 'x')};
  }
  co_return std::pair{404, std::string("not found\n")};
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    default: return "Error";
  }
}

lanes::Task<void> handle_http(lanes::StreamReader reader, lanes::StreamWriter writer) {
  try {
    for (;;) {
      std::string head;
      try {
        head = co_await reader.readuntil("\r\n\r\n");
      } catch (const lanes::IncompleteReadError&) {
        break;  // the client closed the connection between requests
      }
      Request req;
      int status;
      std::string body;
      if (!parse(head, req)) {
        status = 400;
        body = "bad request: expected \"METHOD /path HTTP/1.1\" and header lines\n";
        req.keep_alive = false;
      } else if (req.bad_length) {
        // Unread, the body would be taken for the next request: close after answering.
        status = 413;
        body = "Content-Length must be a number of bytes up to " + std::to_string(kMaxBody) + "\n";
        req.keep_alive = false;
      } else {
        if (req.content_length > 0) co_await reader.readexactly(req.content_length);  // ignored
        std::tie(status, body) = co_await route(req);
      }
      const char* connection = !req.keep_alive ? "Connection: close\r\n"
                               : req.version == "HTTP/1.0" ? "Connection: keep-alive\r\n"
                                                           : "";
      std::string response = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                             "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\n" + connection + "\r\n";
      if (req.method != "HEAD") response += body;
      writer.write(response);
      co_await writer.drain();
      if (!req.keep_alive) break;
    }
  } catch (const lanes::ConnectionError&) {
    // The client went away: nothing to answer.
  } catch (const lanes::LimitOverrunError&) {
    writer.write("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  }
  writer.close();
}

// The demo's client: one GET over a fresh connection, the response printed.
lanes::Task<void> get(std::uint16_t port, std::string path) {
  auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", port);
  writer.write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  const std::string response = co_await reader.read();  // until the server closes
  std::printf("GET %s ->\n%s\n", path.c_str(), response.c_str());
}

lanes::Task<void> demo() {
  auto server = co_await lanes::start_server(handle_http, "127.0.0.1", 0);
  std::printf("serving on http://%s/\n", server.sockets().at(0).to_string().c_str());
  co_await get(server.port(), "/");
  co_await get(server.port(), "/delay/50");
  co_await get(server.port(), "/nowhere");
  server.close();
  co_await server.wait_closed();
}

lanes::Task<void> serve(std::uint16_t port) {
  auto server = co_await lanes::start_server(handle_http, "127.0.0.1", port);
  std::printf("serving on http://%s/ (Ctrl-C to stop)\n", server.sockets().at(0).to_string().c_str());
  co_await server.serve_forever();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1) {
      const auto port = to_size(argv[1]);
      if (!port || *port > 65535) {
        std::fprintf(stderr, "http_server: PORT must be a number from 0 to 65535, not '%s'\n", argv[1]);
        return 2;
      }
      lanes::run(serve(static_cast<std::uint16_t>(*port)));
    } else {
      lanes::run(demo());
    }
  } catch (const lanes::KeyboardInterrupt&) {
    std::printf("\ninterrupted: server closed\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
