// The errors of asynchronous files (lanes/file.hpp): Python's classes, the path as
// filename(), Python's what(). Run on whichever backend LANES_BACKEND picks (ctest
// runs this file on epoll and again on io_uring as uring.*).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lanes/errors.hpp>
#include <lanes/file.hpp>
#include <lanes/loop.hpp>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>
#include <typeinfo>

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/lanes_file_errors_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const char* name) const { return (path / name).string(); }
  std::string str() const { return path.string(); }
};

/// Python's str() of OSError(code, strerror, path) for a path without quotes or
/// escapes: "[Errno 2] No such file or directory: '/tmp/x'".
std::string python_text(int code, const std::string& path) {
  return "[Errno " + std::to_string(code) + "] " + std::generic_category().message(code) + ": '" +
         path + "'";
}

/// `op` must throw exactly E, with errno `code`, filename() `path`, strerror() the
/// system's text and what() Python's text. `label` names the case in failures.
template <class E, class T>
lanes::Task<void> expect_os_error(lanes::Task<T> op, int code, std::string path, std::string label) {
  try {
    (void)co_await std::move(op);
    ADD_FAILURE() << label << ": no exception";
  } catch (const E& e) {
    EXPECT_EQ(typeid(e), typeid(E)) << label << ": " << lanes::describe_exception(std::current_exception());
    EXPECT_EQ(e.errno_value(), code) << label;
    EXPECT_EQ(e.code(), std::error_code(code, std::system_category())) << label;
    EXPECT_EQ(e.filename(), path) << label;
    EXPECT_EQ(e.strerror(), std::generic_category().message(code)) << label;
    EXPECT_EQ(std::string(e.what()), python_text(code, path)) << label;
  } catch (...) {
    ADD_FAILURE() << label << ": threw " << lanes::describe_exception(std::current_exception());
  }
}

/// `op` must throw UnsupportedOperation with `code` and filename() `path`.
template <class T>
lanes::Task<void> expect_unsupported(lanes::Task<T> op, int code, std::string path, std::string label) {
  try {
    (void)co_await std::move(op);
    ADD_FAILURE() << label << ": no exception";
  } catch (const lanes::UnsupportedOperation& e) {
    EXPECT_EQ(e.errno_value(), code) << label;
    EXPECT_EQ(e.filename(), path) << label;
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << label << ": " << e.what();
  } catch (...) {
    ADD_FAILURE() << label << ": threw " << lanes::describe_exception(std::current_exception());
  }
}

/// `op` must throw ValueError with Python's closed-file text.
template <class T>
lanes::Task<void> expect_closed(lanes::Task<T> op, std::string label) {
  try {
    (void)co_await std::move(op);
    ADD_FAILURE() << label << ": no exception";
  } catch (const lanes::ValueError& e) {
    EXPECT_STREQ(e.what(), "I/O operation on closed file.") << label;
  } catch (...) {
    ADD_FAILURE() << label << ": threw " << lanes::describe_exception(std::current_exception());
  }
}

TEST(FileErrors, AMissingFileIsFileNotFoundError) {
  TempDir dir;
  const std::string missing = dir / "missing.txt";
  const std::string in_missing_dir = dir / "no-such-dir/f.txt";
  lanes::run([&]() -> lanes::Task<void> {
    for (const char* mode : {"r", "rb", "rt", "r+", "r+b"})
      co_await expect_os_error<lanes::FileNotFoundError>(lanes::open_file(missing, mode), ENOENT, missing,
                                                         std::string("open ") + mode);
    for (const char* mode : {"w", "a", "x", "w+", "ab"})
      co_await expect_os_error<lanes::FileNotFoundError>(lanes::open_file(in_missing_dir, mode), ENOENT,
                                                         in_missing_dir, std::string("open ") + mode);
    co_await expect_os_error<lanes::FileNotFoundError>(lanes::read_file(missing), ENOENT, missing, "read_file");
    co_await expect_os_error<lanes::FileNotFoundError>(lanes::write_file(in_missing_dir, "x"), ENOENT,
                                                       in_missing_dir, "write_file");
  }());
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST(FileErrors, ADirectoryIsIsADirectoryErrorInEveryModeButX) {
  TempDir dir;
  const std::string path = dir.str();
  lanes::run([&]() -> lanes::Task<void> {
    for (const char* mode : {"r", "rb", "r+", "w", "w+", "a", "a+"})
      co_await expect_os_error<lanes::IsADirectoryError>(lanes::open_file(path, mode), EISDIR, path,
                                                         std::string("open ") + mode);
    for (const char* mode : {"x", "x+"})
      co_await expect_os_error<lanes::FileExistsError>(lanes::open_file(path, mode), EEXIST, path,
                                                       std::string("open ") + mode);
    co_await expect_os_error<lanes::IsADirectoryError>(lanes::read_file(path), EISDIR, path, "read_file");
    co_await expect_os_error<lanes::IsADirectoryError>(lanes::write_file(path, "x"), EISDIR, path,
                                                       "write_file");
  }());
}

TEST(FileErrors, ModeXOnAnExistingFileIsFileExistsErrorAndLeavesItAlone) {
  TempDir dir;
  const std::string path = dir / "kept.txt";
  lanes::run([&]() -> lanes::Task<void> {
    co_await lanes::write_file(path, "kept");
    for (const char* mode : {"x", "xb", "x+", "x+b"})
      co_await expect_os_error<lanes::FileExistsError>(lanes::open_file(path, mode), EEXIST, path,
                                                       std::string("open ") + mode);
    EXPECT_EQ(co_await lanes::read_file(path), "kept");
    // 'x' makes a new file as Python's does.
    lanes::AsyncFile f = co_await lanes::open_file(dir / "new.txt", "x");
    co_await f.write("new");
    co_await f.close();
    EXPECT_EQ(co_await lanes::read_file(dir / "new.txt"), "new");
  }());
}

TEST(FileErrors, AFileUsedAsADirectoryIsNotADirectoryError) {
  TempDir dir;
  const std::string file = dir / "plain";
  const std::string child = dir / "plain/child";
  lanes::run([&]() -> lanes::Task<void> {
    co_await lanes::write_file(file, "");
    for (const char* mode : {"r", "w", "a", "x"})
      co_await expect_os_error<lanes::NotADirectoryError>(lanes::open_file(child, mode), ENOTDIR, child,
                                                          std::string("open ") + mode);
    co_await expect_os_error<lanes::NotADirectoryError>(lanes::read_file(child), ENOTDIR, child, "read_file");
    co_await expect_os_error<lanes::NotADirectoryError>(lanes::write_file(child, "x"), ENOTDIR, child,
                                                        "write_file");
  }());
}

TEST(FileErrors, PermissionDeniedIsPermissionError) {
  // Root reads and writes every ordinary file; a read-only sysctl refuses even root.
  TempDir dir;
  const bool root = ::geteuid() == 0;
  const std::string path = root ? std::string("/proc/sys/kernel/osrelease") : dir / "locked";
  const std::string mode(root ? "w" : "r");
  if (root) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    const int err = errno;
    if (fd >= 0) ::close(fd);
    if (fd >= 0 || err != EACCES) GTEST_SKIP() << "no file here refuses root with EACCES";
  }
  lanes::run([&]() -> lanes::Task<void> {
    if (mode == "r") {
      co_await lanes::write_file(path, "secret");
      ::chmod(path.c_str(), 0);
      co_await expect_os_error<lanes::PermissionError>(lanes::read_file(path), EACCES, path, "read_file");
    }
    co_await expect_os_error<lanes::PermissionError>(lanes::open_file(path, mode), EACCES, path, "open " + mode);
  }());
}

TEST(FileErrors, KernelErrorsOfReadWriteAndFsyncNameThePath) {
  const std::string full = "/dev/full";  // every write fails with ENOSPC
  const std::string mem = "/proc/self/mem";  // address 0 is never mapped: EIO
  if (::access(full.c_str(), W_OK) != 0 || ::access(mem.c_str(), R_OK) != 0)
    GTEST_SKIP() << "needs /dev/full and /proc/self/mem";
  lanes::run([&]() -> lanes::Task<void> {
    lanes::AsyncFile w = co_await lanes::open_file(full, "w");
    co_await expect_os_error<lanes::OSError>(w.write("data"), ENOSPC, full, "write");
    co_await expect_os_error<lanes::OSError>(w.write_at(0, "data"), ENOSPC, full, "write_at");
    // A character device has no fsync.
    co_await expect_os_error<lanes::OSError>(w.fsync(), EINVAL, full, "fsync");
    co_await w.close();
    co_await expect_os_error<lanes::OSError>(lanes::write_file(full, "data"), ENOSPC, full, "write_file");

    lanes::AsyncFile r = co_await lanes::open_file(mem, "rb");
    co_await expect_os_error<lanes::OSError>(r.read(16), EIO, mem, "read");
    co_await expect_os_error<lanes::OSError>(r.read(), EIO, mem, "read all");
    co_await expect_os_error<lanes::OSError>(r.read_at(0, 16), EIO, mem, "read_at");
    EXPECT_EQ(r.tell(), 0u);  // nothing was read
    co_await r.close();
  }());
}

TEST(FileErrors, AnOperationTheModeForbidsIsUnsupportedOperation) {
  TempDir dir;
  const std::string path = dir / "data.txt";
  lanes::run([&]() -> lanes::Task<void> {
    co_await lanes::write_file(path, "unchanged");
    lanes::AsyncFile r = co_await lanes::open_file(path, "r");
    co_await expect_unsupported(r.write("x"), EBADF, path, "write on r");
    co_await expect_unsupported(r.write_at(0, "x"), EBADF, path, "write_at on r");
    co_await r.close();
    for (const char* mode : {"a", "w"}) {
      lanes::AsyncFile w = co_await lanes::open_file(path, mode);
      co_await expect_unsupported(w.read(), EBADF, path, std::string("read on ") + mode);
      co_await expect_unsupported(w.read_at(0, 4), EBADF, path, std::string("read_at on ") + mode);
      co_await w.close();
    }
    // Still an OSError, caught as one.
    lanes::AsyncFile again = co_await lanes::open_file(path, "rb");
    EXPECT_THROW(co_await again.write("x"), lanes::OSError);
    co_await again.close();
  }());
  EXPECT_EQ(std::filesystem::file_size(path), 0u);  // 'w' truncated it; nothing was written
}

TEST(FileErrors, OffsetsOnAFifoAreRefused) {
  TempDir dir;
  const std::string path = dir / "fifo";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  lanes::run([&]() -> lanes::Task<void> {
    lanes::AsyncFile f = co_await lanes::open_file(path, "r+");  // O_RDWR: the open does not block
    try {
      f.seek(0);
      ADD_FAILURE() << "seek on a FIFO should throw";
    } catch (const lanes::UnsupportedOperation& e) {
      EXPECT_EQ(e.errno_value(), ESPIPE);
      EXPECT_EQ(e.filename(), path);
    }
    EXPECT_THROW(f.tell(), lanes::UnsupportedOperation);
    co_await expect_os_error<lanes::OSError>(f.read_at(0, 1), ESPIPE, path, "read_at");
    co_await expect_os_error<lanes::OSError>(f.write_at(0, "z"), ESPIPE, path, "write_at");
    EXPECT_EQ(co_await f.write("z"), 1u);  // in order it works
    EXPECT_EQ(co_await f.read(1), "z");
    co_await f.close();
  }());
}

TEST(FileErrors, EveryOperationOnAClosedFileIsValueError) {
  TempDir dir;
  const std::string path = dir / "closed.txt";
  lanes::run([&]() -> lanes::Task<void> {
    lanes::AsyncFile f = co_await lanes::open_file(path, "w+");
    co_await f.close();
    lanes::AsyncFile never;  // default-constructed: closed too
    for (lanes::AsyncFile* file : {&f, &never}) {
      EXPECT_TRUE(file->closed());
      EXPECT_EQ(file->fileno(), -1);
      co_await expect_closed(file->read(), "read");
      co_await expect_closed(file->read_at(0, 1), "read_at");
      co_await expect_closed(file->write("x"), "write");
      co_await expect_closed(file->write_at(0, "x"), "write_at");
      co_await expect_closed(file->fsync(), "fsync");
      EXPECT_THROW(file->seek(0), lanes::ValueError);
      EXPECT_THROW(file->tell(), lanes::ValueError);
      co_await file->close();  // harmless again
    }
  }());
}

TEST(FileErrors, BadModesAndPathsAreValueErrors) {
  TempDir dir;
  lanes::run([&]() -> lanes::Task<void> {
    for (const char* mode : {"", "rw", "q", "r++", "rx", "wz", "U"}) {
      try {
        co_await lanes::open_file(dir / "never", mode);
        ADD_FAILURE() << "mode '" << mode << "' should throw";
      } catch (const lanes::ValueError& e) {
        // Python's words first: "invalid mode: 'q'".
        EXPECT_EQ(std::string(e.what()).rfind("invalid mode: '" + std::string(mode) + "'", 0), 0u) << e.what();
      }
    }
    std::string with_nul = dir / "a";
    with_nul += std::string("\0b", 2);
    EXPECT_THROW(co_await lanes::open_file(with_nul, "w"), lanes::ValueError);
  }());
  EXPECT_FALSE(std::filesystem::exists(dir / "never"));
  EXPECT_FALSE(std::filesystem::exists(dir / "a"));  // not created under the cut name
}

}  // namespace
