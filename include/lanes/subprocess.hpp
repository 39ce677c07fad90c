// lanes/subprocess.hpp — child processes with pipes (asyncio.subprocess).
//
//   auto proc = co_await lanes::create_subprocess_exec(
//       "ls", {"-l", "/tmp"}, {.std_out = lanes::PIPE});
//   auto [out, err] = co_await proc.communicate();
//   int code = co_await proc.wait();
//
// Children start with posix_spawn (vfork + exec: safe in a threaded parent, never
// a plain fork), their PATH searched for the program. Each child is watched by
// a pidfd registered with the loop's reactor (or, where pidfd_open is missing, by
// a thread blocked in waitpid), and reaped as soon as it exits: no zombies, even
// when the Process object is dropped first. The pipes are a StreamWriter (its
// stdin) and StreamReaders (stdout, stderr).
//
// The members are named std_in / std_out / std_err: stdin, stdout and stderr are
// macros of <cstdio>.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "lanes/streams.hpp"
#include "lanes/task.hpp"

namespace lanes {

/// Where a child's standard stream goes.
struct Redirect {
  enum class Kind { inherit, pipe, devnull, to_stdout, fd };
  Kind kind = Kind::inherit;
  int fd = -1;
};
/// A pipe to the parent: Process::std_in / std_out / std_err.
inline constexpr Redirect PIPE{Redirect::Kind::pipe};
/// /dev/null.
inline constexpr Redirect DEVNULL{Redirect::Kind::devnull};
/// The parent's own stream (the default).
inline constexpr Redirect INHERIT{Redirect::Kind::inherit};
/// For std_err only: wherever std_out goes.
inline constexpr Redirect STDOUT{Redirect::Kind::to_stdout};
/// An open descriptor of the parent (the child gets a copy).
inline constexpr Redirect redirect_fd(int fd) { return Redirect{Redirect::Kind::fd, fd}; }

struct SubprocessOptions {
  Redirect std_in = INHERIT;
  Redirect std_out = INHERIT;
  Redirect std_err = INHERIT;
  /// The child's working directory ("" = the parent's), read when the Task first
  /// runs. The options are plain values on purpose: g++ 12 destroys members of a
  /// braced temporary inside a co_await expression wrongly (strings, vectors).
  std::string_view cwd{};
  /// The child's environment as "NAME=value" strings (null = the parent's); read
  /// when the Task first runs.
  const std::vector<std::string>* env = nullptr;
  /// The limit of the stdout / stderr readers (readline, readuntil).
  std::size_t limit = StreamReader::kDefaultLimit;
};

namespace detail {
class ChildState;
}

/// A running (or finished) child (asyncio.subprocess.Process). Move-only.
class Process {
 public:
  explicit Process(std::shared_ptr<detail::ChildState> state) noexcept : state_(std::move(state)) {}
  Process(Process&&) noexcept = default;
  Process& operator=(Process&&) noexcept = default;
  /// The child goes on running if it has not exited; it is still reaped.
  ~Process() = default;

  /// The pipe to the child's stdin (set when std_in was PIPE).
  std::optional<StreamWriter> std_in;
  /// The pipes from the child's stdout / stderr (set when PIPE).
  std::optional<StreamReader> std_out;
  std::optional<StreamReader> std_err;

  int pid() const noexcept;
  /// The exit status once the child has been reaped: its exit code, or -N when
  /// signal N killed it (as Python). Empty while it runs.
  std::optional<int> returncode() const noexcept;
  /// Waits for the child to exit and returns returncode(). With std_out/std_err
  /// piped and not read, a child that fills the pipe never exits: use
  /// communicate(). Throws CancelledError (the child keeps running).
  Task<int> wait();
  /// Writes `input` to stdin (if piped) and closes it, reads stdout and stderr (if
  /// piped) to their end, waits for the exit, and returns {stdout, stderr} (empty
  /// strings for streams that are not piped). A child that exits without reading
  /// its input is not an error. Throws CancelledError (the child keeps running),
  /// and the pipes' errors.
  Task<std::pair<std::string, std::string>> communicate(std::string input = {});
  /// Sends `sig`. Throws ProcessLookupError if the child was already reaped.
  void send_signal(int sig);
  /// SIGTERM.
  void terminate() { send_signal(15); }
  /// SIGKILL.
  void kill() { send_signal(9); }

 private:
  std::shared_ptr<detail::ChildState> state_;
};

/// Starts `program` (searched in PATH unless it contains '/') with `args`. Throws
/// FileNotFoundError if there is no such program, PermissionError if it cannot be
/// executed, OSError, RuntimeError outside a running loop.
Task<Process> create_subprocess_exec(std::string program, std::vector<std::string> args = {},
                                     SubprocessOptions options = {});

/// create_subprocess_exec("echo", "hello", "world"): the arguments one by one, as
/// in Python, with the default options. (g++ 12 cannot compile a braced list such
/// as {"a", "b"} inside a co_await expression; this form, or a vector made before
/// the co_await, avoids it.) Throws as above.
template <class... Args>
  requires(sizeof...(Args) > 0 && (std::is_convertible_v<Args, std::string> && ...))
Task<Process> create_subprocess_exec(std::string program, Args&&... args) {
  std::vector<std::string> list;
  list.reserve(sizeof...(Args));
  (list.emplace_back(std::forward<Args>(args)), ...);
  return create_subprocess_exec(std::move(program), std::move(list), SubprocessOptions{});
}

/// Runs `command` with /bin/sh -c. Throws as create_subprocess_exec.
Task<Process> create_subprocess_shell(std::string command, SubprocessOptions options = {});

}  // namespace lanes
