// lanes/errors.hpp — the exception types of lanes, named after Python's.
//
// Every error is a small type deriving from lanes::Error (itself a
// std::runtime_error), so `catch (const lanes::Error&)` catches all of them, except the
// OSError family, which is a std::system_error; `what()` always says what went wrong
// and what to do about it.
//
// CancelledError and KeyboardInterrupt are not errors: they derive from
// lanes::BaseException and not from std::exception (Python 3.8 moved CancelledError
// out of Exception for the same reason), so that `catch (const std::exception&)`
// inside a task does not swallow a cancellation. To catch "everything but
// cancellation", catch std::exception; `catch (...)` still sees them and must
// rethrow.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace lanes {

/// Base of every lanes error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Base of the exceptions that stop work instead of reporting a failure
/// (CancelledError, KeyboardInterrupt: Python's BaseException subclasses that are
/// not Exception). Deliberately not a std::exception, so that a generic
/// `catch (const std::exception&)` lets them through. what() gives the message.
class BaseException {
 public:
  explicit BaseException(const std::string& msg) : message_(msg) {}
  virtual ~BaseException() = default;
  /// The message; never null.
  virtual const char* what() const noexcept { return message_.what(); }

 private:
  std::runtime_error message_;  // a copy that cannot throw, as exceptions need
};

/// Thrown at a task's suspension point when the task is cancelled (asyncio.CancelledError).
/// A task may catch it; a task that lets it escape ends cancelled. Not a
/// std::exception (see BaseException): `catch (const std::exception&)` does not
/// catch it, `catch (const lanes::CancelledError&)` and `catch (...)` do.
class CancelledError : public BaseException {
 public:
  CancelledError() : BaseException("the operation was cancelled") {}
  explicit CancelledError(const std::string& msg) : BaseException(msg) {}
};

/// A deadline passed: wait_for, timeout scopes, Future::result(timeout).
class TimeoutError : public Error {
 public:
  TimeoutError() : Error("the operation timed out") {}
  explicit TimeoutError(const std::string& msg) : Error(msg) {}
};

/// An operation was called in a state that does not allow it (asyncio.InvalidStateError).
class InvalidStateError : public Error {
 public:
  using Error::Error;
};

/// Misuse at run time that Python reports as RuntimeError: no running loop, a loop
/// already running, a closed loop.
class RuntimeError : public Error {
 public:
  using Error::Error;
};

/// Several errors at once, as raised by TaskGroup (Python 3.11 ExceptionGroup).
class ExceptionGroup : public Error {
 public:
  ExceptionGroup(std::string message, std::vector<std::exception_ptr> errors)
      : Error(describe(message, errors)), message_(std::move(message)),
        exceptions_(std::move(errors)) {}

  /// The message given at construction, without the per-error summary.
  const std::string& message() const noexcept { return message_; }
  /// Every error, in the order they happened.
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  static std::string describe(const std::string& message,
                              const std::vector<std::exception_ptr>& errors);
  std::string message_;
  std::vector<std::exception_ptr> exceptions_;
};

/// get_nowait on an empty queue.
class QueueEmpty : public Error {
 public:
  QueueEmpty() : Error("the queue is empty: use co_await get() to wait for an item") {}
};

/// put_nowait on a queue that holds maxsize items.
class QueueFull : public Error {
 public:
  QueueFull() : Error("the queue is full: use co_await put() to wait for room") {}
};

/// put on a queue that was shut down, or get on one that was shut down and drained.
class QueueShutDown : public Error {
 public:
  QueueShutDown() : Error("the queue was shut down") {}
};

/// An argument with the right type but a wrong value (Python's ValueError): a
/// negative Semaphore value, a BoundedSemaphore released more times than acquired,
/// task_done() called more times than items were put.
class ValueError : public Error {
 public:
  using Error::Error;
};

/// A Barrier was aborted or reset while a task waited on it (asyncio.BrokenBarrierError).
class BrokenBarrierError : public Error {
 public:
  BrokenBarrierError() : Error("the barrier is broken: reset() it before using it again") {}
  explicit BrokenBarrierError(const std::string& msg) : Error(msg) {}
};

/// An executor can no longer run jobs (concurrent.futures.BrokenExecutor).
class BrokenExecutor : public Error {
 public:
  using Error::Error;
};

/// A ThreadPoolExecutor whose thread initializer threw: its queued jobs fail with
/// this error and submit() throws it (concurrent.futures.thread.BrokenThreadPool).
/// Make a new executor, after fixing the initializer.
class BrokenThreadPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

/// Bytes that do not follow lanes' wire format: a malformed frame on a worker's socket,
/// a truncated value, a length larger than the bytes that follow, a bad enum or variant
/// index. The message says what was wrong and at which offset.
class WireFormatError : public Error {
 public:
  using Error::Error;
};

/// ProcessPoolExecutor::submit/map of a function that was never registered with
/// LANES_REGISTER (or that another function's registration shadows). Names the function.
class UnregisteredFunctionError : public Error {
 public:
  using Error::Error;
};

/// An exception thrown by a function running in a process-pool worker, carried back:
/// type_name() is the original type (demangled), message() its what().
class RemoteError : public Error {
 public:
  RemoteError(std::string type_name, std::string message, const std::string& function)
      : Error(type_name + " raised in a process-pool worker running `" + function +
              "`: " + message),
        type_name_(std::move(type_name)), message_(std::move(message)) {}
  /// The demangled type of the exception thrown in the worker, e.g. "std::out_of_range".
  const std::string& type_name() const noexcept { return type_name_; }
  /// The what() of the exception thrown in the worker.
  const std::string& message() const noexcept { return message_; }

 private:
  std::string type_name_;
  std::string message_;
};

/// A process-pool worker died while it ran this task: a signal (SIGSEGV, SIGABRT,
/// SIGKILL from outside or the OOM killer) or an exit() inside the task. Only that
/// task fails; the pool replaces the worker and goes on.
class WorkerCrashedError : public Error {
 public:
  WorkerCrashedError(const std::string& msg, int signal, int exit_code)
      : Error(msg), signal_(signal), exit_code_(exit_code) {}
  /// The signal that killed the worker, or 0 if it exited.
  int signal() const noexcept { return signal_; }
  /// The worker's exit status if it exited, or -1 if a signal killed it.
  int exit_code() const noexcept { return exit_code_; }

 private:
  int signal_;
  int exit_code_;
};

/// A process pool that cannot run tasks: its initializer failed, or a worker could not
/// be started (Python's BrokenProcessPool). Create a new pool after fixing the cause.
class BrokenProcessPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

/// The std::error_category of getaddrinfo's EAI_* codes (message: gai_strerror).
const std::error_category& gai_category() noexcept;

/// An operating system call failed (Python's OSError). It is a std::system_error, so
/// code() is a std::error_code: the errno value in std::system_category(), comparable
/// with std::errc (`e.code() == std::errc::address_in_use`); errno_value() is the bare
/// number (Python's OSError.errno), strerror() the system's text for it and filename()
/// the path the failed call was given ("" when none). The subclasses below are
/// Python's (PEP 3151): throw_os_error picks the one that fits the errno, so that
/// errors can be caught by type. Unlike the other lanes errors it is not a lanes::Error
/// (a type cannot be both without two std::exception bases): catch std::exception, or
/// lanes::Error and lanes::OSError.
///
/// Deviation from Python: ETIMEDOUT is a plain OSError (code() == std::errc::timed_out),
/// not a TimeoutError. lanes::TimeoutError is the deadline error of wait_for and
/// timeout (asyncio's, a lanes::Error), and one type cannot also be a std::system_error.
class OSError : public std::system_error {
 public:
  /// `code` is an errno value; `msg` is the whole message what() returns. strerror()
  /// is the system's text for `code`; filename() is "".
  OSError(int code, const std::string& msg)
      : OSError(std::error_code(code, std::system_category()), msg) {}
  OSError(std::error_code code, const std::string& msg)
      : OSError(code, msg, code.message(), std::string()) {}
  /// Python's OSError(errno, strerror, filename): what() is Python's str() of it,
  /// "[Errno 2] No such file or directory: '/tmp/data.txt'" (the name quoted as
  /// Python's repr() quotes a str, undecodable bytes as os.fsdecode makes them).
  OSError(int code, const std::string& strerror, const std::string& filename);

  /// The message given, unchanged (std::system_error would append code().message()).
  const char* what() const noexcept override { return details_->message.c_str(); }
  /// The errno value the system call gave (for GAIError, the EAI_* value).
  int errno_value() const noexcept { return code().value(); }
  /// The system's text for the code, without the operation or the path (Python's
  /// OSError.strerror): "No such file or directory".
  const std::string& strerror() const noexcept { return details_->strerror; }
  /// The path the failed call was about (Python's OSError.filename); "" when none.
  const std::string& filename() const noexcept { return details_->filename; }

 protected:
  /// Every part given: what() is `message` unchanged.
  OSError(std::error_code code, std::string message, std::string strerror, std::string filename);

 private:
  struct Details {
    std::string message;
    std::string strerror;
    std::string filename;
  };
  std::shared_ptr<const Details> details_;  // shared: copying must not throw
};

/// Base of the errors of a connection (Python's ConnectionError).
class ConnectionError : public OSError {
 public:
  using OSError::OSError;
};
/// The peer reset the connection (ECONNRESET).
class ConnectionResetError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
/// Nothing listens at the address (ECONNREFUSED).
class ConnectionRefusedError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
/// The connection was aborted (ECONNABORTED).
class ConnectionAbortedError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
/// Writing to a pipe or socket whose other end is closed (EPIPE, ESHUTDOWN).
class BrokenPipeError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
/// A file or program does not exist (ENOENT).
class FileNotFoundError : public OSError {
 public:
  using OSError::OSError;
};
/// The file exists already (EEXIST): open_file(path, "x") on an existing file.
class FileExistsError : public OSError {
 public:
  using OSError::OSError;
};
/// A directory where a file was needed (EISDIR): open_file on a directory.
class IsADirectoryError : public OSError {
 public:
  using OSError::OSError;
};
/// A file where a directory was needed (ENOTDIR): "a/b" where "a" is a file.
class NotADirectoryError : public OSError {
 public:
  using OSError::OSError;
};
/// The OS refused for lack of rights (EACCES, EPERM).
class PermissionError : public OSError {
 public:
  using OSError::OSError;
};
/// No such process (ESRCH): a signal sent to a process that is gone.
class ProcessLookupError : public OSError {
 public:
  using OSError::OSError;
};
/// No child process to wait for (ECHILD).
class ChildProcessError : public OSError {
 public:
  using OSError::OSError;
};
/// A system call was interrupted by a signal (EINTR). lanes retries interrupted calls
/// itself (PEP 475), so it comes only from throw_os_error called with EINTR.
class InterruptedError : public OSError {
 public:
  using OSError::OSError;
};
/// An operation would block on a non-blocking object (EAGAIN, EWOULDBLOCK, EALREADY,
/// EINPROGRESS). Python's characters_written attribute has no counterpart.
class BlockingIOError : public OSError {
 public:
  using OSError::OSError;
};
/// An operation the object does not support (Python's io.UnsupportedOperation):
/// writing to an AsyncFile opened for reading only, reading one opened for writing
/// only, seeking in a pipe. code() is what the system would have said (EBADF,
/// ESPIPE) and filename() the file's path. Unlike Python's it is not also a ValueError
/// (one base class only): catch it as UnsupportedOperation or OSError.
class UnsupportedOperation : public OSError {
 public:
  /// `msg` is the whole message what() returns; `filename` the file's path.
  UnsupportedOperation(int code, const std::string& msg, const std::string& filename)
      : OSError(std::error_code(code, std::system_category()), msg,
                std::error_code(code, std::system_category()).message(), filename) {}
};
/// A host name could not be resolved (Python's socket.gaierror); code() is the
/// getaddrinfo error (EAI_*) in gai_category(), not an errno.
class GAIError : public OSError {
 public:
  GAIError(int eai_code, const std::string& msg)
      : OSError(std::error_code(eai_code, gai_category()), msg) {}
  /// For EAI_SYSTEM, whose cause is an errno value: std::error_code(errno, system_category()).
  GAIError(std::error_code code, const std::string& msg) : OSError(code, msg) {}
};

/// A TLS failure reported by OpenSSL (ssl.SSLError, an OSError as in Python):
/// reason() is OpenSSL's reason string ("wrong version number"), library() where it
/// came from ("SSL routines"); code() is OpenSSL's packed error code, not an errno;
/// strerror() is the whole message, as Python's SSLError.strerror is.
class SSLError : public OSError {
 public:
  SSLError(int code, const std::string& msg, std::string reason = {}, std::string library = {})
      : OSError(std::error_code(code, std::system_category()), msg, msg, std::string()),
        reason_(std::move(reason)), library_(std::move(library)) {}
  const std::string& reason() const noexcept { return reason_; }
  const std::string& library() const noexcept { return library_; }

 private:
  std::string reason_;
  std::string library_;
};

/// The peer's certificate was refused (ssl.SSLCertVerificationError): verify_code()
/// is OpenSSL's X509_V_ERR_* value, verify_message() says why ("certificate has
/// expired", "self-signed certificate", "Hostname mismatch, certificate is not valid
/// for 'x'."). Unlike Python it is not also a ValueError (one base class only).
class SSLCertVerificationError : public SSLError {
 public:
  SSLCertVerificationError(const std::string& msg, long verify_code, std::string verify_message)
      : SSLError(1, msg, "certificate verify failed", "SSL routines"),
        verify_code_(verify_code), verify_message_(std::move(verify_message)) {}
  long verify_code() const noexcept { return verify_code_; }
  const std::string& verify_message() const noexcept { return verify_message_; }

 private:
  long verify_code_;
  std::string verify_message_;
};

/// The end of a stream came before the data asked for (Python's EOFError).
class EOFError : public Error {
 public:
  using Error::Error;
};

/// readexactly / readuntil met the end of the stream first
/// (asyncio.IncompleteReadError). partial() holds the bytes read before it.
class IncompleteReadError : public EOFError {
 public:
  IncompleteReadError(std::string partial, std::size_t expected, bool expected_known = true)
      : EOFError(describe(partial.size(), expected, expected_known)),
        partial_(std::move(partial)), expected_(expected), expected_known_(expected_known) {}
  /// The bytes read before the end of the stream.
  const std::string& partial() const noexcept { return partial_; }
  /// How many bytes were asked for (readexactly); 0 when unknown (readuntil).
  std::size_t expected() const noexcept { return expected_known_ ? expected_ : 0; }

 private:
  static std::string describe(std::size_t got, std::size_t expected, bool known) {
    return std::to_string(got) + " bytes read on a total of " +
           (known ? std::to_string(expected) : std::string("undefined")) +
           " expected bytes: the stream ended first (the partial data is in partial())";
  }
  std::string partial_;
  std::size_t expected_;
  bool expected_known_;
};

/// readuntil / readline found no separator within the reader's limit
/// (asyncio.LimitOverrunError). It is also a ValueError, which is what Python's
/// readline raises in that case. consumed() is how many bytes were looked at.
class LimitOverrunError : public ValueError {
 public:
  LimitOverrunError(const std::string& msg, std::size_t consumed)
      : ValueError(msg), consumed_(consumed) {}
  std::size_t consumed() const noexcept { return consumed_; }

 private:
  std::size_t consumed_;
};

/// lanes::run was interrupted by SIGINT (Ctrl-C): the main task was cancelled, its
/// clean-up ran, and run() throws this (Python's KeyboardInterrupt). Not a
/// std::exception (see BaseException). Left uncaught out of main(), it prints one
/// line on stderr and ends the process by SIGINT (shell status 130), as Python does.
class KeyboardInterrupt : public BaseException {
 public:
  KeyboardInterrupt() : BaseException("interrupted by SIGINT (Ctrl-C): the main task was cancelled") {}
};

/// Throws the OSError subclass that fits `code` (an errno value), as Python maps
/// errnos to classes (PEP 3151; ETIMEDOUT excepted, see OSError), with a message made
/// of `what` and the system's text for the code.
[[noreturn]] void throw_os_error(int code, const std::string& what);
/// The exception throw_os_error would throw, without throwing it.
std::exception_ptr make_os_error(int code, const std::string& what);
/// Throws the OSError subclass that fits `code` for a call about a file: filename()
/// is `filename`, strerror() the system's text, and what() Python's
/// "[Errno 2] No such file or directory: 'path'".
[[noreturn]] void throw_os_error_with_filename(int code, const std::string& filename);
/// The exception throw_os_error_with_filename would throw, without throwing it.
std::exception_ptr make_os_error_with_filename(int code, const std::string& filename);

/// The one-line description of any exception_ptr: "TypeName: what()" (also for
/// CancelledError and KeyboardInterrupt). Never throws; unknown exception types are
/// described by their type name.
std::string describe_exception(const std::exception_ptr& error) noexcept;

}  // namespace lanes
