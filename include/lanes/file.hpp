// lanes/file.hpp — asynchronous files (Python's aiofiles, without the threads).
//
//   lanes::AsyncFile f = co_await lanes::open_file("data.bin", "r");
//   std::string head = co_await f.read(4096);         // from the position, advancing it
//   std::string page = co_await f.read_at(1 << 20, 4096);  // at an offset, position unchanged
//   co_await f.close();
//   co_await lanes::write_file("out.txt", "hello\n");
//   std::string all = co_await lanes::read_file("out.txt");
//
// On the io_uring backend (lanes/backend.hpp) each read, write and fsync is one
// operation in the loop's ring: no thread is involved. On epoll they run on the
// loop's default executor (to_thread), as aiofiles does.
//
// Differences from Python: bytes only ('b' and 't' are accepted and ignored: no
// decoding, no newline translation); read(n) returns fewer than n bytes only at
// the end of the file; write() writes everything. Several
// tasks may use one file at once; each read/write moves the shared position by
// what it transferred, in completion order, so concurrent users want read_at /
// write_at. Cancelling a task during an operation raises CancelledError in it;
// the kernel may still complete that operation (the position then moves by it).
//
// Errors, on both backends, are Python's: an OSError subclass picked from the errno
// (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError,
// PermissionError, else OSError) with filename() the path, strerror() the system's
// text and what() Python's "[Errno 2] No such file or directory: 'data.txt'";
// ValueError for a bad mode and for any operation on a closed file ("I/O operation
// on closed file."); UnsupportedOperation (an OSError: EBADF, ESPIPE) for reading a
// file opened for writing only, writing one opened for reading only, or seeking in
// a pipe, where Python raises io.UnsupportedOperation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lanes/task.hpp"

namespace lanes {

namespace detail {
class FileCore;
}

class AsyncFile {
 public:
  /// A closed file (what a moved-from AsyncFile is).
  AsyncFile() = default;
  explicit AsyncFile(std::shared_ptr<detail::FileCore> core) noexcept : core_(std::move(core)) {}

  /// Reads `n` bytes from the position (all that is left when n < 0), fewer only
  /// at the end of the file, and advances the position. Throws ValueError if the
  /// file is closed, UnsupportedOperation if it was not opened for reading, OSError
  /// (EIO...) naming the path, CancelledError.
  Task<std::string> read(std::ptrdiff_t n = -1) const;
  /// Reads up to `n` bytes at `offset` (fewer only at the end of the file); the
  /// position does not move (os.pread). Throws as read(), and OSError (ESPIPE) for
  /// a file that is not seekable.
  Task<std::string> read_at(std::uint64_t offset, std::size_t n) const;
  /// Writes all of `data` at the position (at the end in append mode) and advances
  /// it; returns data.size(). Throws ValueError if closed, UnsupportedOperation if
  /// not opened for writing, OSError (ENOSPC, EIO...) naming the path, CancelledError.
  Task<std::size_t> write(std::string_view data) const;
  /// Writes all of `data` at `offset`; the position does not move (os.pwrite).
  /// Throws as write(), and OSError (ESPIPE) for a file that is not seekable.
  Task<std::size_t> write_at(std::uint64_t offset, std::string_view data) const;
  /// Flushes the file's data and metadata to the device (os.fsync). Throws
  /// ValueError if closed, OSError (EINVAL for a device that cannot sync, EIO...)
  /// naming the path, CancelledError.
  Task<void> fsync() const;
  /// Closes the file (after the operations still in flight); harmless twice.
  /// Throws OSError naming the path if the kernel reports a deferred write error on
  /// close.
  Task<void> close() const;

  /// Moves the position (whence: SEEK_SET, SEEK_CUR, SEEK_END) and returns it.
  /// Throws ValueError if closed or for a negative result or bad whence,
  /// UnsupportedOperation (ESPIPE) for a pipe, FIFO, socket or terminal, OSError.
  std::uint64_t seek(std::int64_t offset, int whence = 0) const;
  /// The position. Throws ValueError if closed, UnsupportedOperation (ESPIPE) for a
  /// file that is not seekable.
  std::uint64_t tell() const;
  bool closed() const noexcept;
  /// The path given to open_file ("" for a default-constructed file).
  const std::string& name() const noexcept;
  /// The mode given to open_file.
  const std::string& mode() const noexcept;
  /// The descriptor, -1 once closed.
  int fileno() const noexcept;

 private:
  std::shared_ptr<detail::FileCore> core_;
};

/// Opens `path` with a Python mode: one of r, w, a, x, optionally + (read and
/// write), b or t (ignored). Throws ValueError for a bad mode or a path holding a
/// NUL byte; FileNotFoundError (no such file, or a missing directory on the way),
/// FileExistsError ('x' on an existing file), IsADirectoryError (a directory, in
/// any mode but 'x'), NotADirectoryError (a file used as a directory in the path),
/// PermissionError, OSError: each with filename() the path.
Task<AsyncFile> open_file(std::string path, std::string mode = "r");

/// The whole content of `path`. Throws as open_file and read (filename() the path).
Task<std::string> read_file(std::string path);
/// Replaces the content of `path` with `data` (creating it). Throws as open_file
/// and write (filename() the path).
Task<void> write_file(std::string path, std::string data);

}  // namespace lanes
