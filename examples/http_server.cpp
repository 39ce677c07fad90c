// A small HTTP/1.1 server on lanes streams: keep-alive, Content-Length, a few routes.
//
//   http_server            a demo: serves on a free port, GETs from itself, exits
//   http_server PORT       serves on 127.0.0.1:PORT until Ctrl-C
//
// Routes:  /             a greeting
//          /delay/MS     answers after MS milliseconds (an I/O-bound request: the
//                        loop serves others meanwhile)
//          /bytes/N      N bytes of 'x'
#include <lanes/lanes.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

struct Request {
  std::string method, target, version;
  bool keep_alive = true;
  std::size_t content_length = 0;
};

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
  req.keep_alive = req.version == "HTTP/1.1";
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
    if (name == "connection") req.keep_alive = lower(value) != "close" && (req.keep_alive || lower(value) == "keep-alive");
    if (name == "content-length") req.content_length = std::strtoul(std::string(value).c_str(), nullptr, 10);
  }
  return true;
}

lanes::Task<std::pair<int, std::string>> route(const Request& req) {
  if (req.method != "GET" && req.method != "HEAD") co_return std::pair{405, std::string("method not allowed\n")};
  const std::string& t = req.target;
  if (t == "/") co_return std::pair{200, std::string("Hello from lanes\n")};
  if (t.rfind("/delay/", 0) == 0) {
    const long ms = std::strtol(t.c_str() + 7, nullptr, 10);
    co_await lanes::sleep(std::chrono::milliseconds(ms));
    co_return std::pair{200, "waited " + std::to_string(ms) + " ms\n"};
  }
  if (t.rfind("/bytes/", 0) == 0) {
    const long n = std::strtol(t.c_str() + 7, nullptr, 10);
    co_return std::pair{200, std::string(static_cast<std::size_t>(n < 0 ? 0 : n), 'x')};
  }
  co_return std::pair{404, std::string("not found\n")};
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
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
        body = "bad request\n";
        req.keep_alive = false;
      } else {
        if (req.content_length > 0) co_await reader.readexactly(req.content_length);  // ignored
        std::tie(status, body) = co_await route(req);
      }
      std::string response = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                             "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                             (req.keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
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
      lanes::run(serve(static_cast<std::uint16_t>(std::atoi(argv[1]))));
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
