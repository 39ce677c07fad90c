// lanes/net.hpp — TCP and Unix connections and servers (asyncio's open_connection,
// start_server and their Unix variants), on top of streams.hpp; UDP endpoints are
// in datagram.hpp, included here.
//
//   lanes::Task<void> echo(lanes::StreamReader reader, lanes::StreamWriter writer) {
//     while (true) {
//       std::string data = co_await reader.read(4096);
//       if (data.empty()) break;
//       writer.write(data);
//       co_await writer.drain();
//     }
//   }
//   auto server = co_await lanes::start_server(echo, "127.0.0.1", 8888);
//   co_await server.serve_forever();
//
// Sockets are non-blocking and registered once with the loop's reactor; TCP
// sockets have TCP_NODELAY set (as Python does). Host names are resolved on
// another thread; numeric addresses and "localhost" are not.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lanes/address.hpp"
#include "lanes/datagram.hpp"
#include "lanes/ssl.hpp"
#include "lanes/streams.hpp"
#include "lanes/task.hpp"

namespace lanes {

namespace detail {
class ServerCore;
class ServerGuard;
}  // namespace detail

struct ConnectOptions {
  /// The reader's limit for readline / readuntil.
  std::size_t limit = StreamReader::kDefaultLimit;
  /// TLS (Python's ssl=ctx): the handshake is done before open_connection returns
  /// (ssl.hpp). A pointer, so that the options stay a plain value (see
  /// docs/networking.md, Caveats); the context need only live during the call.
  const SSLContext* ssl = nullptr;
  /// The name sent in SNI and checked against the certificate; default: `host`
  /// (required with open_unix_connection). "" sends none (then the context's
  /// check_hostname must be off). Only with `ssl`; read during the call only.
  std::optional<std::string_view> server_hostname = std::nullopt;
  /// How long the TLS handshake may take (default 60 s): then TimeoutError. Only with `ssl`.
  std::optional<std::chrono::duration<double>> ssl_handshake_timeout = std::nullopt;
  /// How long close() may wait to send the last bytes and close_notify (default
  /// 30 s): then the connection is aborted. Only with `ssl`.
  std::optional<std::chrono::duration<double>> ssl_shutdown_timeout = std::nullopt;
};

struct ServerOptions {
  /// Length of the queue of connections not yet accepted (listen()'s backlog).
  int backlog = 100;
  /// SO_REUSEADDR: rebinding a port whose old connections linger in TIME_WAIT.
  bool reuse_address = true;
  /// SO_REUSEPORT: several sockets (processes) share one port.
  bool reuse_port = false;
  /// Each connection's reader limit.
  std::size_t limit = StreamReader::kDefaultLimit;
  /// Accept at once (else call start_serving() or serve_forever()).
  bool start_serving = true;
  /// TLS (a PROTOCOL_TLS_SERVER context with load_cert_chain done): each
  /// connection's handshake runs before its handler; a connection whose handshake
  /// fails or times out is closed without running the handler (and, as in asyncio,
  /// reported only when the loop is in debug mode). The server keeps its own
  /// handle on the context: it need only live during start_server.
  const SSLContext* ssl = nullptr;
  /// How long a client's handshake may take (default 60 s). Only with `ssl`.
  std::optional<std::chrono::duration<double>> ssl_handshake_timeout = std::nullopt;
  /// How long closing a connection may wait to send close_notify (default 30 s).
  /// Only with `ssl`.
  std::optional<std::chrono::duration<double>> ssl_shutdown_timeout = std::nullopt;
};

/// The handler a server runs, as a new task, for each connection.
using ConnectionHandler = std::function<Task<void>(StreamReader, StreamWriter)>;

/// One listening socket of a Server: its address (it is a SocketAddress), and
/// getsockname() / fd() as Python's socket objects have.
struct ServerSocket : SocketAddress {
  int descriptor = -1;
  SocketAddress getsockname() const { return *this; }
  int fd() const noexcept { return descriptor; }
};

/// What start_server returns (asyncio.Server). A handle: copies share the server;
/// when the last copy (and the last serve_forever) is gone, it closes.
class Server {
 public:
  Server() = default;
  explicit Server(std::shared_ptr<detail::ServerGuard> guard) noexcept : guard_(std::move(guard)) {}

  /// Stops listening (the listening sockets are closed); connections already
  /// accepted go on. serve_forever() then returns. Never throws.
  void close() noexcept;
  /// Waits until close() was called and every connection has closed. Throws
  /// CancelledError only.
  Task<void> wait_closed() const;
  /// Starts accepting, if start_serving was false. Throws RuntimeError if closed.
  void start_serving();
  /// Accepts until close() is called, then returns. Cancelled (CancelledError),
  /// it closes the server first. Throws RuntimeError if the server is closed or
  /// already serving forever.
  Task<void> serve_forever() const;
  bool is_serving() const noexcept;
  /// The listening sockets (empty once closed).
  std::vector<ServerSocket> sockets() const;
  /// The port of the first listening socket (0 if none): handy after binding port 0.
  std::uint16_t port() const;
  /// Closes every connection the server accepted (after flushing what they wrote).
  void close_clients() noexcept;
  /// Closes every accepted connection at once (their peers see a reset).
  void abort_clients() noexcept;

 private:
  detail::ServerCore& core() const;
  std::shared_ptr<detail::ServerGuard> guard_;
};

/// Connects to `host`:`port` over TCP (IPv4 or IPv6; each address of a name is
/// tried in turn) and returns the connection's reader and writer. Throws
/// ConnectionRefusedError (or the OSError of the last address tried), GAIError
/// if the name does not resolve, CancelledError; with `ssl`: SSLCertVerificationError,
/// SSLError, TimeoutError (handshake timeout), ValueError for TLS options that do
/// not fit (see ConnectOptions).
Task<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, std::uint16_t port,
                                                            ConnectOptions options = {});

/// Listens on `host`:`port` ("" = every interface, port 0 = any free port) and runs
/// `handler(reader, writer)` as a new task for each connection. An error escaping
/// a handler goes to the loop's exception handler and the server goes on. Throws
/// OSError (address in use: errno EADDRINUSE...), GAIError, CancelledError,
/// ValueError for TLS options that do not fit (a client context, timeouts without ssl).
Task<Server> start_server(ConnectionHandler handler, std::string host, std::uint16_t port,
                          ServerOptions options = {});

/// Connects to the Unix socket at `path` ('\0' first: abstract namespace). Throws
/// FileNotFoundError, ConnectionRefusedError, OSError, CancelledError, and with
/// `ssl` what open_connection throws (server_hostname is required).
Task<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path,
                                                                 ConnectOptions options = {});

/// Listens on the Unix socket at `path` (a stale socket file there is replaced;
/// the file is removed when the server closes). Throws OSError, ValueError for a
/// bad path.
Task<Server> start_unix_server(ConnectionHandler handler, std::string path,
                               ServerOptions options = {});

}  // namespace lanes
