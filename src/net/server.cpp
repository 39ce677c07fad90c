// Listening sockets and the accept loop behind lanes::Server (net.hpp).
//
// A listening socket is registered once; its acceptor is a reactor callback, not a
// task: on each edge it accepts up to a batch of connections and starts a handler
// task for each. A full batch leaves the rest for the next loop iteration (so one
// busy listener cannot starve the loop); running out of descriptors (EMFILE) backs
// off on a timer instead of spinning on a socket that stays readable.
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <unordered_set>

#include "lanes/detail/io/syscall.hpp"
#include "lanes/detail/net/ring_acceptor.hpp"
#include "lanes/detail/net/socket.hpp"
#include "lanes/detail/sync/wait_list.hpp"
#include "lanes/detail/tls/tls_handshake.hpp"
#include "lanes/errors.hpp"
#include "lanes/loop.hpp"
#include "lanes/net.hpp"

namespace lanes {
namespace detail {
namespace {
constexpr int kAcceptBatch = 64;
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
}  // namespace

class ServerCore final : public ConnectionTracker, public std::enable_shared_from_this<ServerCore> {
 public:
  struct Listener : IoWaiter {
    ServerCore* server = nullptr;
    IoHandle io;
    ServerSocket socket;
    Handle retry;
    std::unique_ptr<RingAcceptor> ring;  // io_uring: accepts by completion
  };

  ServerCore(EventLoop& loop, ConnectionHandler handler, ServerOptions options)
      : loop_(&loop), handler_(std::move(handler)), options_(options) {
    if (options.ssl) {
      // The server's own handle: the caller's context need not outlive start_server.
      ssl_.emplace(*options.ssl);
      options_.ssl = &*ssl_;
    }
  }
  ~ServerCore() { close(); }

  void listen_on(int fd, const ResolvedAddress& addr) {
    auto l = std::make_unique<Listener>();
    l->server = this;
    l->ready = &ServerCore::accept_thunk;
    // On a ring backend the listening socket is not watched: a multishot accept
    // reports each connection (src/net/ring_accept.cpp).
    const bool ring = loop_->reactor().completes_operations();
    l->io.open(*loop_, fd, !ring);
    if (ring) {
      try {
        l->ring = std::make_unique<RingAcceptor>(loop_->reactor(), fd, &ServerCore::ring_accepted, l.get());
      } catch (...) {
        l->io.close();
        throw;
      }
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    static_cast<SocketAddress&>(l->socket) = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    l->socket.descriptor = fd;
    (void)addr;
    listeners_.push_back(std::move(l));
  }

  void start_serving() {
    if (closed_) throw RuntimeError("start_serving: the server is closed");
    if (serving_) return;
    serving_ = true;
    for (auto& l : listeners_) {
      if (::listen(l->io.fd(), options_.backlog) != 0) throw_os_error(errno, "listen()");
      accept(*l);
    }
  }

  void close() noexcept {
    if (closed_) return;
    closed_ = true;
    serving_ = false;
    for (auto& l : listeners_) {
      l->retry.cancel();
      if (l->ring) l->ring->stop();  // cancels the armed accept: the port is let go
      l->io.read_waiter = nullptr;
      l->io.close();
    }
    listeners_.clear();
    if (!unix_path_.empty()) {
      // Remove the socket file only if it is still the one this server made.
      struct stat st {};
      if (::stat(unix_path_.c_str(), &st) == 0 && st.st_ino == unix_inode_) ::unlink(unix_path_.c_str());
    }
    forever_waiters_.wake_all();
    maybe_closed();
  }

  void close_clients(bool abort) noexcept {
    // Closing one may close others synchronously (never), so copy first.
    std::vector<std::weak_ptr<StreamCore>> all;
    for (StreamCore* c : connections_) all.push_back(c->weak_from_this());
    for (auto& w : all) {
      if (auto c = w.lock()) abort ? c->abort() : c->close();
    }
  }

  void connection_opened(StreamCore& core) noexcept override {
    try {
      connections_.insert(&core);
    } catch (...) {
    }
  }
  void connection_closed(StreamCore& core) noexcept override {
    connections_.erase(&core);
    maybe_closed();
  }

  void set_unix_path(std::string path, ino_t inode) {
    unix_path_ = std::move(path);
    unix_inode_ = inode;
  }

  EventLoop& loop() const noexcept { return *loop_; }
  const ConnectionHandler& handler() const noexcept { return handler_; }
  const ServerOptions& options() const noexcept { return options_; }
  bool closed() const noexcept { return closed_; }
  bool serving() const noexcept { return serving_; }
  bool fully_closed() const noexcept { return closed_ && connections_.empty(); }
  std::vector<std::unique_ptr<Listener>>& listeners() noexcept { return listeners_; }
  LoopWaitList& closed_waiters() noexcept { return closed_waiters_; }
  LoopWaitList& forever_waiters() noexcept { return forever_waiters_; }
  bool serving_forever = false;

 private:
  static void ring_accepted(void* context, int result) noexcept {
    auto* l = static_cast<Listener*>(context);
    l->server->ring_result(*l, result);
  }
  void ring_result(Listener& l, int result) noexcept;
  /// Reports an accept failure and tries again in 100 ms (a pending connection
  /// stays queued; retrying at once would spin).
  void accept_failed(Listener& l, int err) noexcept;
  static void accept_thunk(IoWaiter* w) noexcept {
    auto* l = static_cast<Listener*>(w);
    l->server->accept(*l);
  }
  void maybe_closed() noexcept {
    if (fully_closed()) closed_waiters_.wake_all();
  }
  void accept(Listener& l) noexcept;
  void start_connection(int fd) noexcept;

  EventLoop* loop_;
  ConnectionHandler handler_;
  ServerOptions options_;
  std::optional<SSLContext> ssl_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_set<StreamCore*> connections_;
  LoopWaitList closed_waiters_;
  LoopWaitList forever_waiters_;
  std::string unix_path_;
  ino_t unix_inode_ = 0;
  bool serving_ = false;
  bool closed_ = false;
};

/// Shared by the Server handles (and a running serve_forever): the last one gone
/// closes the server.
class ServerGuard {
 public:
  explicit ServerGuard(std::shared_ptr<ServerCore> core) noexcept : core(std::move(core)) {}
  ~ServerGuard() { core->close(); }
  std::shared_ptr<ServerCore> core;
};

namespace {

Task<void> run_connection(std::shared_ptr<ServerCore> server, StreamReader reader, StreamWriter writer) {
  try {
    co_await server->handler()(std::move(reader), std::move(writer));
  } catch (const CancelledError&) {
    throw;
  } catch (...) {
    server->loop().call_exception_handler(
        {"a connection handler of a lanes::Server threw (the server goes on)", std::current_exception()});
  }
}

/// A TLS connection: the handshake first, then the handler. A failed handshake
/// closes the connection; as asyncio does, it is only reported in debug mode (a
/// port scanner or a client that gives up is not the server's error).
Task<void> run_tls_connection(std::shared_ptr<ServerCore> server, std::shared_ptr<StreamCore> core) {
  const ServerOptions& o = server->options();
  TlsParams params{*o.ssl, true, std::string(), o.ssl_handshake_timeout, o.ssl_shutdown_timeout};
  try {
    co_await tls_handshake(core, std::move(params));
  } catch (const CancelledError&) {
    throw;
  } catch (...) {
    if (server->loop().get_debug())
      server->loop().call_exception_handler(
          {"lanes::Server: a client's TLS handshake failed (the connection was closed)",
           std::current_exception()});
    co_return;
  }
  StreamReader reader(core);
  co_await run_connection(server, std::move(reader), StreamWriter(std::move(core)));
}

}  // namespace

void ServerCore::start_connection(int fd) noexcept {
  try {
    auto core = std::make_shared<StreamCore>(options_.limit);
    core->attach(*loop_, fd, StreamCore::Kind::socket);
    int one = 1;
    // Fails harmlessly on Unix sockets.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    core->set_tracker(shared_from_this());
    if (options_.ssl) {
      loop_->create_task(run_tls_connection(shared_from_this(), std::move(core)));
      return;
    }
    StreamReader reader(core);
    StreamWriter writer(std::move(core));
    // The task owns itself; its Future is not needed (errors are reported above).
    loop_->create_task(run_connection(shared_from_this(), std::move(reader), std::move(writer)));
  } catch (...) {
    loop_->call_exception_handler({"lanes::Server could not start a connection", std::current_exception()});
  }
}

void ServerCore::ring_result(Listener& l, int result) noexcept {
  if (result >= 0) {
    if (closed_) {
      ::close(result);
      return;
    }
    start_connection(result);
    return;
  }
  const int err = -result;
  if (err == ECONNABORTED || err == EPROTO || err == EPERM || err == EAGAIN || err == EINTR) {
    if (serving_ && !closed_) accept(l);  // armed again (if the error ended it)
    return;
  }
  accept_failed(l, err);
}

void ServerCore::accept_failed(Listener& l, int err) noexcept {
  loop_->call_exception_handler({"lanes::Server: accept() failed; retrying in 100 ms",
                                 make_os_error(err, "accept()")});
  if (closed_) return;  // the exception handler closed the server
  try {
    std::weak_ptr<ServerCore> weak = weak_from_this();
    Listener* lp = &l;
    l.retry = loop_->call_later(kAcceptRetry, [weak, lp] {
      if (auto self = weak.lock()) self->accept(*lp);
    });
  } catch (...) {
  }
}

void ServerCore::accept(Listener& l) noexcept {
  if (!serving_ || !l.io.is_open()) return;
  if (l.ring) {
    try {
      l.ring->arm();
    } catch (const std::system_error& e) {
      accept_failed(l, e.code().value());
    } catch (...) {
      accept_failed(l, ENOMEM);
    }
    return;
  }
  for (int i = 0; i < kAcceptBatch; ++i) {
    const int fd = retry_eintr(
        [&] { return ::accept4(l.io.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC); });
    if (fd >= 0) {
      start_connection(fd);
      if (closed_) return;  // a handler's first step cannot run here, but be safe
      continue;
    }
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      l.io.readable = false;
      l.io.read_waiter = &l;
      return;
    }
    if (err == ECONNABORTED || err == EPROTO || err == EPERM) continue;
    // Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM...).
    accept_failed(l, err);
    return;
  }
  // A full batch: more may wait, and no new edge will say so. Continue next round.
  try {
    std::weak_ptr<ServerCore> weak = weak_from_this();
    Listener* lp = &l;
    l.retry = loop_->call_soon([weak, lp] {
      if (auto self = weak.lock()) self->accept(*lp);
    });
  } catch (...) {
  }
}

}  // namespace detail

// ---- Server ----------------------------------------------------------------------

detail::ServerCore& Server::core() const {
  if (!guard_) throw InvalidStateError("this Server is empty (default made or moved from)");
  return *guard_->core;
}

void Server::close() noexcept {
  if (guard_) guard_->core->close();
}

void Server::close_clients() noexcept {
  if (guard_) guard_->core->close_clients(false);
}

void Server::abort_clients() noexcept {
  if (guard_) guard_->core->close_clients(true);
}

void Server::start_serving() { core().start_serving(); }

bool Server::is_serving() const noexcept { return guard_ && guard_->core->serving(); }

std::vector<ServerSocket> Server::sockets() const {
  std::vector<ServerSocket> out;
  if (!guard_) return out;
  for (auto& l : guard_->core->listeners()) out.push_back(l->socket);
  return out;
}

std::uint16_t Server::port() const {
  if (!guard_ || guard_->core->listeners().empty()) return 0;
  return guard_->core->listeners().front()->socket.port;
}

namespace {

class ServerWait : public detail::ListAwaiter<ServerWait> {
 public:
  ServerWait(detail::LoopWaitList& list, bool done) noexcept : ListAwaiter(list), done_(done) {}
  bool await_ready() const noexcept { return done_; }
  void await_resume() {
    if (resumed()) task->throw_if_cancelled();
  }

 private:
  bool done_;
};

Task<void> wait_server_closed(std::shared_ptr<detail::ServerCore> core) {
  while (!core->fully_closed()) co_await ServerWait(core->closed_waiters(), false);
}

Task<void> serve(std::shared_ptr<detail::ServerGuard> guard) {
  auto& core = *guard->core;
  if (core.closed()) throw RuntimeError("serve_forever: the server is closed");
  if (core.serving_forever) throw RuntimeError("serve_forever: the server is already serving forever");
  core.start_serving();
  core.serving_forever = true;
  try {
    while (!core.closed()) co_await ServerWait(core.forever_waiters(), false);
  } catch (...) {
    core.serving_forever = false;
    core.close();
    throw;
  }
  core.serving_forever = false;
}

}  // namespace

Task<void> Server::wait_closed() const {
  core();  // throws on an empty handle
  return wait_server_closed(guard_->core);
}

Task<void> Server::serve_forever() const {
  core();  // throws on an empty handle
  return serve(guard_);
}

// ---- start_server --------------------------------------------------------------

Task<Server> start_server(ConnectionHandler handler, std::string host, std::uint16_t port,
                          ServerOptions options) {
  if (!handler) throw ValueError("start_server: the handler is empty");
  detail::check_tls_arguments(options.ssl, true, std::nullopt, options.ssl_handshake_timeout,
                              options.ssl_shutdown_timeout);
  EventLoop& loop = get_running_loop();
  auto addrs = co_await detail::resolve(host, port, SOCK_STREAM, true);
  auto core = std::make_shared<detail::ServerCore>(loop, std::move(handler), options);
  std::uint16_t bound_port = port;
  for (const auto& a : addrs) {
    detail::ResolvedAddress addr = a;
    if (port == 0 && bound_port != 0) {
      // Every family on the same free port, not one free port each.
      if (addr.family == AF_INET) reinterpret_cast<sockaddr_in*>(&addr.storage)->sin_port = htons(bound_port);
      if (addr.family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&addr.storage)->sin6_port = htons(bound_port);
    }
    int fd;
    try {
      fd = detail::make_socket(addr.family, SOCK_STREAM);
    } catch (const OSError&) {
      if (addrs.size() > 1 && addr.family == AF_INET6) continue;  // no IPv6 here
      throw;
    }
    try {
      if (options.reuse_address) detail::set_option(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
      if (options.reuse_port) detail::set_option(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
      // With both families listening, the IPv6 socket must leave IPv4 to the other.
      if (addr.family == AF_INET6) detail::set_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
      if (::bind(fd, addr.get(), addr.length) != 0) {
        const int err = errno;
        if (addrs.size() > 1 && addr.family == AF_INET6 && err == EADDRNOTAVAIL) {
          ::close(fd);
          continue;
        }
        throw_os_error(err, "bind() to " + addr.to_address().to_string());
      }
    } catch (...) {
      ::close(fd);
      throw;
    }
    core->listen_on(fd, addr);
    if (bound_port == 0) bound_port = core->listeners().back()->socket.port;
  }
  if (options.start_serving) core->start_serving();
  co_return Server(std::make_shared<detail::ServerGuard>(std::move(core)));
}

Task<Server> start_unix_server(ConnectionHandler handler, std::string path, ServerOptions options) {
  if (!handler) throw ValueError("start_unix_server: the handler is empty");
  detail::check_tls_arguments(options.ssl, true, std::nullopt, options.ssl_handshake_timeout,
                              options.ssl_shutdown_timeout);
  EventLoop& loop = get_running_loop();
  const auto addr = detail::unix_address(path);
  if (path[0] != '\0') {
    // A socket file left by a server that is gone: replace it (as Python does).
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
  }
  const int fd = detail::make_socket(AF_UNIX, SOCK_STREAM);
  if (::bind(fd, addr.get(), addr.length) != 0) {
    const int err = errno;
    ::close(fd);
    throw_os_error(err, "bind() to Unix socket " + path);
  }
  auto core = std::make_shared<detail::ServerCore>(loop, std::move(handler), options);
  core->listen_on(fd, addr);
  if (path[0] != '\0') {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) core->set_unix_path(path, st.st_ino);
  }
  if (options.start_serving) core->start_serving();
  co_return Server(std::make_shared<detail::ServerGuard>(std::move(core)));
}

}  // namespace lanes
