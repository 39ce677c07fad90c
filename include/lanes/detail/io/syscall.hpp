// lanes/detail/io/syscall.hpp — the system-call primitives every descriptor user
// shares: one EINTR-retry helper, and non-blocking read_some / write_some that
// return one small result type instead of a hand-written errno loop at each site.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace lanes::detail {

/// Calls `call()` again for as long as it fails with EINTR (a signal handler ran
/// before the call did anything); returns the first other result, errno intact.
/// `call` returns a signed integer where a negative value means "failed, see errno"
/// (read, write, accept4, waitpid, ...).
template <class Call>
auto retry_eintr(Call&& call) noexcept(noexcept(call())) -> decltype(call()) {
  for (;;) {
    auto r = call();
    if (!(r < 0 && errno == EINTR)) return r;
  }
}

/// What one non-blocking transfer did.
struct IoResult {
  enum class Status : std::uint8_t {
    done,         ///< `bytes` (> 0, or 0 for an empty request) were transferred
    would_block,  ///< nothing transferred: wait for readiness in the call's direction
    eof,          ///< a read found the end of the stream
    error,        ///< the call failed with `error` (an errno value)
  };
  Status status = Status::done;
  std::size_t bytes = 0;
  int error = 0;

  static constexpr IoResult transferred(std::size_t n) noexcept { return {Status::done, n, 0}; }
  static constexpr IoResult blocked() noexcept { return {Status::would_block, 0, 0}; }
  static constexpr IoResult end() noexcept { return {Status::eof, 0, 0}; }
  static constexpr IoResult failed(int err) noexcept { return {Status::error, 0, err}; }

  bool done() const noexcept { return status == Status::done; }
  bool would_block() const noexcept { return status == Status::would_block; }
  bool eof() const noexcept { return status == Status::eof; }
  bool failed() const noexcept { return status == Status::error; }
};

/// Maps a read-like call's return value (and errno) onto an IoResult: 0 is the end
/// of the stream, EAGAIN/EWOULDBLOCK is would_block.
IoResult read_result(ssize_t k) noexcept;
/// The same for a write-like call: 0 bytes is a transfer of nothing, not an end.
IoResult write_result(ssize_t k) noexcept;

/// One read(2) on a non-blocking descriptor, retried on EINTR.
IoResult read_some(int fd, char* dst, std::size_t size) noexcept;
/// One send(2) with MSG_NOSIGNAL|MSG_DONTWAIT (`socket`), or write(2), retried on
/// EINTR. A broken connection is an error (EPIPE), never a SIGPIPE.
IoResult write_some(int fd, const char* src, std::size_t size, bool socket) noexcept;

}  // namespace lanes::detail
