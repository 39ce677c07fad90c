// tools/lanes/lab/http_server.hpp — the io experiment's network: a loopback HTTP server
// that answers `GET /wait?ms=L` after L ms (an event loop of its own, on its own
// thread, built on lanes::start_server), and a blocking client for the ways that
// block (sequential, threads, pools).
#pragma once

#include <cstdint>
#include <string>
#include <thread>

#include "lanes/future.hpp"

namespace lanes_cli::lab {

class LoopbackHttpServer {
 public:
  /// Starts listening on 127.0.0.1, any free port. Throws std::runtime_error if the
  /// server cannot start (the loop's error, e.g. no free port).
  LoopbackHttpServer();
  /// Stops the server and joins its thread.
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  /// Requests answered so far.
  long served() const;

 private:
  lanes::Future<void> stop_ = lanes::create_future<void>();
  std::thread thread_;
  std::uint16_t port_ = 0;
};

/// The request line the server understands: GET /wait?ms=<ms>.
std::string wait_request(int ms);

/// GET /wait?ms=<ms> on 127.0.0.1:<port> with blocking sockets; returns when the whole
/// answer arrived. Throws std::runtime_error if the connection fails or the answer is
/// not 200.
void http_get_blocking(std::uint16_t port, int ms);

/// Writes 4 KiB to `path`, fsyncs, reads it back, checks it, removes the file: the
/// tutorial's "reading/writing data from disk". Throws std::runtime_error on any failure.
void file_round_trip(const std::string& path);

/// True if `response` is a complete HTTP 200 answer from the server.
bool is_ok_response(const std::string& response);

}  // namespace lanes_cli::lab
