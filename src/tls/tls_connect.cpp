// The TLS handshake on a connected stream, and StreamWriter::start_tls
// (detail/tls/tls_handshake.hpp).
#include <cstdio>

#include "lanes/combinators.hpp"
#include "lanes/detail/tls/tls_handshake.hpp"
#include "lanes/detail/tls/tls_session.hpp"
#include "lanes/errors.hpp"
#include "lanes/streams.hpp"

namespace lanes::detail {
namespace {

constexpr std::chrono::duration<double> kHandshakeTimeout{60.0};  // Python's defaults
constexpr std::chrono::duration<double> kShutdownTimeout{30.0};

/// The whole handshake as one leaf operation: each readiness edge of the socket
/// advances it, and the task wakes only once it has completed or failed.
class HandshakeAwaiter : public IoAwaiter<HandshakeAwaiter> {
 public:
  HandshakeAwaiter(StreamCore& core, TlsSession& session) noexcept : core_(&core), session_(&session) {}
  bool attempt() noexcept {
    if (!core_->io().is_open() || !core_->io().loop()) {
      error_ = std::make_exception_ptr(
          ConnectionResetError(ECONNRESET, "TLS handshake: the connection was closed before it completed"));
      step_ = TlsSession::Step::failed;
      return true;
    }
    out_.clear();
    step_ = session_->handshake(out_, error_);
    if (!out_.empty()) {
      try {
        core_->send_bytes(out_.data(), out_.size());
      } catch (...) {
        if (step_ != TlsSession::Step::failed) {
          error_ = std::current_exception();
          step_ = TlsSession::Step::failed;
        }
      }
    }
    return step_ != TlsSession::Step::want_read;
  }
  bool is_write() const noexcept { return false; }
  IoHandle& handle() noexcept { return core_->io(); }
  void await_resume() {
    if (suspended()) check_cancelled();
    if (step_ == TlsSession::Step::failed) std::rethrow_exception(error_);
  }

 private:
  StreamCore* core_;
  TlsSession* session_;
  std::string out_;
  std::exception_ptr error_;
  TlsSession::Step step_ = TlsSession::Step::want_read;
};

std::string seconds_text(std::chrono::duration<double> d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d.count());
  return buf;
}

}  // namespace

Task<void> tls_handshake(std::shared_ptr<StreamCore> core, TlsParams params) {
  if (core->kind() != StreamCore::Kind::socket) throw RuntimeError("TLS needs a socket stream");
  if (core->layer()) throw RuntimeError("this stream already has TLS");
  if (core->is_closing()) throw RuntimeError("TLS on a closed or closing stream");
  core->use_readiness();  // the session reads the descriptor itself (io_uring: not the ring)
  auto session = std::make_shared<TlsSession>(params.context.core(), params.server_side,
                                              params.server_hostname, core->io());
  if (core->buffered() > 0) {
    session->prepend_input(core->rview());
    core->consume(core->buffered());
  }
  session->set_shutdown_timeout(params.shutdown_timeout.value_or(kShutdownTimeout));
  const auto limit = params.handshake_timeout.value_or(kHandshakeTimeout);
  try {
    co_await wait_for(HandshakeAwaiter(*core, *session),
                      std::chrono::duration_cast<std::chrono::nanoseconds>(limit));
  } catch (const TimeoutError&) {
    session->detach();
    core->abort();
    throw TimeoutError("TLS handshake took longer than " + seconds_text(limit) +
                       " s (ssl_handshake_timeout): the connection was aborted");
  } catch (const CancelledError&) {
    session->detach();
    core->abort();
    throw;
  } catch (...) {
    // A TLS refusal: its alert is on its way; the peer sees it, then the end.
    session->detach();
    core->close();
    throw;
  }
  core->set_layer(std::move(session));
}

}  // namespace lanes::detail

namespace lanes {

Task<void> StreamWriter::start_tls(SSLContext context, StartTLSOptions options) const {
  // Not a coroutine itself: the task holds the stream, not this writer.
  const bool server = context.is_server();
  detail::check_tls_arguments(&context, server, options.server_hostname, options.ssl_handshake_timeout,
                              options.ssl_shutdown_timeout);
  if (!server && context.check_hostname() && !options.server_hostname)
    throw ValueError("start_tls: give server_hostname (the context checks host names)");
  detail::TlsParams params{std::move(context), server, std::string(options.server_hostname.value_or("")),
                           options.ssl_handshake_timeout, options.ssl_shutdown_timeout};
  return detail::tls_handshake(core_ptr(), std::move(params));
}

}  // namespace lanes
