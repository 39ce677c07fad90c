// Asynchronous files (lanes/file.hpp): io_uring operations on that backend, the
// loop's default executor on epoll.
#include "lanes/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "lanes/detail/io/file_op.hpp"
#include "lanes/detail/io/syscall.hpp"
#include "lanes/errors.hpp"
#include "lanes/loop.hpp"
#include "lanes/to_thread.hpp"

namespace lanes {
namespace detail {
namespace {

constexpr std::uint64_t kAtPosition = ~std::uint64_t{0};
constexpr std::size_t kChunk = 1 << 20;  // one operation's most, for whole-file reads

constexpr const char* kClosed = "I/O operation on closed file.";  // Python's words

/// The OSError subclass for `err`, filename() `path`, what() as Python's.
[[noreturn]] void fail(int err, const std::string& path) { throw_os_error_with_filename(err, path); }

/// The outcome of one operation run on a thread: bytes or -errno.
struct ThreadResult {
  std::string data;
  long result = 0;
};

/// Runs `op` on the default executor; the file stays open until it is done.
Task<ThreadResult> on_thread(std::shared_ptr<FileCore> core, IoOp::Code code, std::uint64_t offset,
                             std::size_t n, std::string_view data) {
  core->begin();
  auto future = to_thread([fd = core->fd(), code, offset, n, bytes = std::string(data)] {
    ThreadResult r;
    long k = 0;
    switch (code) {
      case IoOp::Code::read:
        r.data.resize(n);
        k = retry_eintr([&] {
          return offset == kAtPosition ? ::read(fd, r.data.data(), n)
                                       : ::pread(fd, r.data.data(), n, static_cast<off_t>(offset));
        });
        r.data.resize(k > 0 ? static_cast<std::size_t>(k) : 0);
        break;
      case IoOp::Code::write:
        k = retry_eintr([&] {
          return offset == kAtPosition
                     ? ::write(fd, bytes.data(), bytes.size())
                     : ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
        });
        break;
      case IoOp::Code::fsync:
      case IoOp::Code::fdatasync:
        k = retry_eintr([&] { return code == IoOp::Code::fsync ? ::fsync(fd) : ::fdatasync(fd); });
        break;
      case IoOp::Code::recv:
      case IoOp::Code::send:
        k = -1;
        errno = EINVAL;
        break;
    }
    r.result = k < 0 ? -errno : k;
    return r;
  });
  // The descriptor is released when the thread is done with it, even if this task
  // is cancelled first.
  future.add_done_callback([core](Future<ThreadResult>) { core->end(); });
  co_return co_await future;
}

/// One operation: bytes transferred (reads: appended to `out`). Moves the
/// position by them when `advance`. Throws OSError naming the path, CancelledError.
/// An operation interrupted by a signal is run again (PEP 475), as the thread's
/// retry_eintr does on epoll.
Task<std::size_t> transfer(std::shared_ptr<FileCore> core, IoOp::Code code, std::uint64_t offset,
                           std::size_t n, std::string_view data, std::string* out, bool advance) {
  Reactor& reactor = get_running_loop().reactor();
  long result;
  bool cancelled = false;
  if (reactor.completes_operations()) {
    auto state = std::make_unique<FileOpState>();
    state->code = code;
    state->fd = core->fd();
    state->offset = offset;
    if (code == IoOp::Code::read) {
      state->bytes.resize(n);
    } else if (code == IoOp::Code::write) {
      state->bytes.assign(data);  // owned by the operation, not by the caller
    }
    state->buffer = state->bytes.data();
    state->length = state->bytes.size();
    core->begin();
    struct End {
      FileCore* c;
      ~End() { c->end(); }
    } end{core.get()};
    do {
      state = co_await FileOpAwaiter(reactor, std::move(state));
      result = state->result;
      cancelled = state->cancelled;
    } while (result == -EINTR && !cancelled);
    if (code == IoOp::Code::read && result > 0 && out)
      out->append(state->bytes.data(), static_cast<std::size_t>(result));
  } else {
    ThreadResult r = co_await on_thread(core, code, offset, n, data);
    result = r.result;
    if (out) out->append(r.data);
  }
  if (result < 0) {
    // The kernel took the operation back (or interrupted it for the cancel).
    if (cancelled && (result == -ECANCELED || result == -EINTR)) throw CancelledError();
    fail(static_cast<int>(-result), core->path());
  }
  if (advance) core->position += static_cast<std::uint64_t>(result);
  if (cancelled) throw CancelledError();
  co_return static_cast<std::size_t>(result);
}

/// Reads until `n` bytes or the end (n < 0: until the end).
Task<std::string> read_full(std::shared_ptr<FileCore> core, bool at_position, std::uint64_t offset,
                            std::ptrdiff_t n) {
  if (!core) throw ValueError(kClosed);  // a default-constructed AsyncFile
  core->check_open(false);
  if (!at_position && !core->seekable) fail(ESPIPE, core->path());
  std::string out;
  std::size_t want;
  if (n >= 0) {
    want = static_cast<std::size_t>(n);
  } else {
    struct stat st {};
    const std::uint64_t from = at_position ? core->position : offset;
    want = ::fstat(core->fd(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) > from
               ? static_cast<std::size_t>(static_cast<std::uint64_t>(st.st_size) - from)
               : 0;
  }
  out.reserve(want);
  for (;;) {
    if (n >= 0 && out.size() >= want) break;
    std::size_t ask = n >= 0 ? want - out.size() : (want > out.size() ? want - out.size() : 65536);
    if (ask > kChunk) ask = kChunk;
    const std::uint64_t at =
        !core->seekable ? kAtPosition : at_position ? core->position : offset + out.size();
    const std::size_t got = co_await transfer(core, IoOp::Code::read, at, ask, {}, &out, at_position);
    if (got == 0) break;  // the end of the file
  }
  co_return out;
}

Task<std::size_t> write_full(std::shared_ptr<FileCore> core, bool at_position, std::uint64_t offset,
                             std::string_view data) {
  if (!core) throw ValueError(kClosed);
  core->check_open(true);
  if (!at_position && !core->seekable) fail(ESPIPE, core->path());
  std::size_t done = 0;
  while (done < data.size()) {
    std::size_t ask = data.size() - done;
    if (ask > kChunk * 64) ask = kChunk * 64;
    const std::uint64_t at =
        at_position ? (core->appending() || !core->seekable ? kAtPosition : core->position)
                    : offset + done;
    const std::size_t put =
        co_await transfer(core, IoOp::Code::write, at, ask, data.substr(done, ask), nullptr, at_position);
    if (put == 0) fail(EIO, core->path());  // no progress
    done += put;
  }
  co_return done;
}

int parse_mode(const std::string& mode) {
  int kind = 0, plus = 0, other = 0;
  char which = 0;
  for (char c : mode) {
    if (c == 'r' || c == 'w' || c == 'a' || c == 'x') {
      ++kind;
      which = c;
    } else if (c == '+') {
      ++plus;
    } else if (c != 'b' && c != 't') {
      ++other;
    }
  }
  if (kind != 1 || plus > 1 || other > 0)
    throw ValueError("invalid mode: '" + mode +
                     "' (one of r, w, a, x, optionally + and b; e.g. 'rb', 'w', 'a+')");
  int flags = O_CLOEXEC;
  const bool rw = plus == 1;
  switch (which) {
    case 'r':
      flags |= rw ? O_RDWR : O_RDONLY;
      break;
    case 'w':
      flags |= (rw ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC;
      break;
    case 'a':
      flags |= (rw ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND;
      break;
    default:
      flags |= (rw ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL;
      break;
  }
  return flags;
}

}  // namespace
}  // namespace detail

Task<std::string> AsyncFile::read(std::ptrdiff_t n) const {
  return detail::read_full(core_, true, 0, n);
}

Task<std::string> AsyncFile::read_at(std::uint64_t offset, std::size_t n) const {
  return detail::read_full(core_, false, offset, static_cast<std::ptrdiff_t>(n));
}

Task<std::size_t> AsyncFile::write(std::string_view data) const {
  return detail::write_full(core_, true, 0, data);
}

Task<std::size_t> AsyncFile::write_at(std::uint64_t offset, std::string_view data) const {
  return detail::write_full(core_, false, offset, data);
}

Task<void> AsyncFile::fsync() const {
  if (!core_ || core_->closed()) throw ValueError(detail::kClosed);
  auto core = core_;
  co_await detail::transfer(core, detail::IoOp::Code::fsync, 0, 0, {}, nullptr, false);
}

Task<void> AsyncFile::close() const {
  if (!core_) co_return;
  const int err = core_->close();
  if (err != 0) detail::fail(err, core_->path());
}

std::uint64_t AsyncFile::seek(std::int64_t offset, int whence) const {
  if (!core_ || core_->closed()) throw ValueError(detail::kClosed);
  core_->check_seekable("seek");
  std::int64_t base;
  if (whence == SEEK_SET) {
    base = 0;
  } else if (whence == SEEK_CUR) {
    base = static_cast<std::int64_t>(core_->position);
  } else if (whence == SEEK_END) {
    struct stat st {};
    if (::fstat(core_->fd(), &st) != 0) detail::fail(errno, core_->path());
    base = st.st_size;
  } else {
    throw ValueError("seek: whence must be SEEK_SET (0), SEEK_CUR (1) or SEEK_END (2), not " +
                     std::to_string(whence));
  }
  if (base + offset < 0)
    throw ValueError("seek: negative position " + std::to_string(base + offset) + " in '" +
                     core_->path() + "'");
  core_->position = static_cast<std::uint64_t>(base + offset);
  return core_->position;
}

std::uint64_t AsyncFile::tell() const {
  if (!core_ || core_->closed()) throw ValueError(detail::kClosed);
  core_->check_seekable("tell");
  return core_->position;
}

bool AsyncFile::closed() const noexcept { return !core_ || core_->closed(); }

const std::string& AsyncFile::name() const noexcept {
  static const std::string none;
  return core_ ? core_->path() : none;
}

const std::string& AsyncFile::mode() const noexcept {
  static const std::string none;
  return core_ ? core_->mode() : none;
}

int AsyncFile::fileno() const noexcept { return core_ ? core_->fd() : -1; }

Task<AsyncFile> open_file(std::string path, std::string mode) {
  const int flags = detail::parse_mode(mode);
  // The system would see only the part before it, a file other than the one named.
  if (path.find('\0') != std::string::npos)
    throw ValueError("open_file: embedded null byte in the path (" + std::to_string(path.size()) +
                     " bytes): a path ends at its first NUL");
  // open() can block (a network file system, a slow disk): off the loop thread,
  // as aiofiles does.
  // The future is made outside the co_await expression: g++ 12 destroys a
  // lambda temporary inside one twice.
  auto opening = to_thread([path, flags]() -> int {
    const int fd = detail::retry_eintr([&] { return ::open(path.c_str(), flags, 0666); });
    if (fd < 0) return -errno;
    // Linux opens a directory for reading; Python's open() refuses it there and then.
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      return -EISDIR;
    }
    return fd;
  });
  const int fd = co_await opening;
  if (fd < 0) detail::fail(-fd, path);
  auto core = std::make_shared<detail::FileCore>(fd, std::move(path), std::move(mode), flags);
  core->seekable = ::lseek(fd, 0, SEEK_CUR) >= 0;  // not a pipe, FIFO, socket or tty
  if (flags & O_APPEND) {
    struct stat st {};
    if (::fstat(fd, &st) == 0) core->position = static_cast<std::uint64_t>(st.st_size);
  }
  co_return AsyncFile(std::move(core));
}

Task<std::string> read_file(std::string path) {
  AsyncFile f = co_await open_file(std::move(path), "rb");
  std::string data = co_await f.read();
  co_await f.close();
  co_return data;
}

Task<void> write_file(std::string path, std::string data) {
  AsyncFile f = co_await open_file(std::move(path), "wb");
  co_await f.write(data);
  co_await f.close();
}

}  // namespace lanes
