// lanes::OSError and its subclasses are std::system_error with a real std::error_code.
#include <lanes/errors.hpp>

#include <gtest/gtest.h>
#include <netdb.h>

#include <cerrno>
#include <exception>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace {

template <class E>
E caught(int code) {
  try {
    lanes::throw_os_error(code, "doing a thing");
  } catch (const E& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "errno " << code << " threw the wrong type: " << e.what();
  }
  throw std::logic_error("unreachable: throw_os_error returned");
}

}  // namespace

TEST(OSError, IsASystemErrorWithTheErrnoInTheSystemCategory) {
  const lanes::OSError e(EADDRINUSE, "bind 127.0.0.1:80: in use");
  const std::system_error& se = e;
  EXPECT_EQ(se.code().value(), EADDRINUSE);
  EXPECT_EQ(&se.code().category(), &std::system_category());
  EXPECT_EQ(se.code(), std::errc::address_in_use);
  EXPECT_EQ(e.errno_value(), EADDRINUSE);
  // what() is the message given, not the message with code().message() appended.
  EXPECT_STREQ(e.what(), "bind 127.0.0.1:80: in use");
}

TEST(OSError, ThrowOsErrorPicksTheSubclassAndKeepsTheCode) {
  EXPECT_EQ(caught<lanes::ConnectionRefusedError>(ECONNREFUSED).code(), std::errc::connection_refused);
  EXPECT_EQ(caught<lanes::ConnectionResetError>(ECONNRESET).code(), std::errc::connection_reset);
  EXPECT_EQ(caught<lanes::ConnectionAbortedError>(ECONNABORTED).code(), std::errc::connection_aborted);
  EXPECT_EQ(caught<lanes::BrokenPipeError>(EPIPE).code(), std::errc::broken_pipe);
  EXPECT_EQ(caught<lanes::FileNotFoundError>(ENOENT).code(), std::errc::no_such_file_or_directory);
  EXPECT_EQ(caught<lanes::PermissionError>(EACCES).code(), std::errc::permission_denied);
  EXPECT_EQ(caught<lanes::ProcessLookupError>(ESRCH).code(), std::errc::no_such_process);
  EXPECT_EQ(caught<lanes::OSError>(EMFILE).code(), std::errc::too_many_files_open);
}

/// The class throw_os_error picks for `code`, demangled.
std::string class_of(int code, bool with_filename) {
  try {
    if (with_filename) lanes::throw_os_error_with_filename(code, "f");
    lanes::throw_os_error(code, "doing a thing");
  } catch (...) {
    const std::string d = lanes::describe_exception(std::current_exception());
    return d.substr(0, d.find(": "));
  }
  return "nothing thrown";
}

TEST(OSError, ErrnosMapToPythonsClasses) {
  // Python 3.11: {n: type(OSError(n, 'x')).__name__ for n in errno.errorcode}, the
  // entries that are not plain OSError; ETIMEDOUT is the one deviation (see errors.hpp).
  const std::pair<int, const char*> table[] = {
      {EPERM, "lanes::PermissionError"},        {ENOENT, "lanes::FileNotFoundError"},
      {ESRCH, "lanes::ProcessLookupError"},     {EINTR, "lanes::InterruptedError"},
      {ECHILD, "lanes::ChildProcessError"},     {EAGAIN, "lanes::BlockingIOError"},
      {EWOULDBLOCK, "lanes::BlockingIOError"},  {EACCES, "lanes::PermissionError"},
      {EEXIST, "lanes::FileExistsError"},       {ENOTDIR, "lanes::NotADirectoryError"},
      {EISDIR, "lanes::IsADirectoryError"},     {EPIPE, "lanes::BrokenPipeError"},
      {ECONNABORTED, "lanes::ConnectionAbortedError"}, {ECONNRESET, "lanes::ConnectionResetError"},
      {ESHUTDOWN, "lanes::BrokenPipeError"},    {ECONNREFUSED, "lanes::ConnectionRefusedError"},
      {EALREADY, "lanes::BlockingIOError"},     {EINPROGRESS, "lanes::BlockingIOError"},
      {ETIMEDOUT, "lanes::OSError"},            {EIO, "lanes::OSError"},
      {ENOSPC, "lanes::OSError"},               {ESPIPE, "lanes::OSError"}};
  for (const auto& [code, name] : table) {
    EXPECT_EQ(class_of(code, false), name) << "errno " << code;
    EXPECT_EQ(class_of(code, true), name) << "errno " << code << " with a filename";
  }
  EXPECT_EQ(caught<lanes::OSError>(ETIMEDOUT).code(), std::errc::timed_out);
}

TEST(OSError, WithAFilenameItReadsAsPythons) {
  try {
    lanes::throw_os_error_with_filename(ENOENT, "/tmp/data.txt");
  } catch (const lanes::FileNotFoundError& e) {
    EXPECT_STREQ(e.what(), "[Errno 2] No such file or directory: '/tmp/data.txt'");
    EXPECT_EQ(e.filename(), "/tmp/data.txt");
    EXPECT_EQ(e.strerror(), "No such file or directory");
    EXPECT_EQ(e.errno_value(), ENOENT);
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
  }
  const lanes::IsADirectoryError direct(EISDIR, "Is a directory", "/tmp");
  EXPECT_STREQ(direct.what(), "[Errno 21] Is a directory: '/tmp'");
  const lanes::OSError copy = direct;  // the parts survive a copy
  EXPECT_EQ(copy.filename(), "/tmp");
  EXPECT_EQ(copy.strerror(), "Is a directory");
}

TEST(OSError, TheFilenameIsQuotedAsPythonsReprQuotesIt) {
  // Each right side is Python 3.11's str(OSError(2, 'No such file or directory',
  // os.fsdecode(left))).
  const std::pair<std::string, const char*> cases[] = {
      {"/tmp/a b", R"py([Errno 2] No such file or directory: '/tmp/a b')py"},
      {"it's", R"py([Errno 2] No such file or directory: "it's")py"},
      {"say \"hi\"", R"py([Errno 2] No such file or directory: 'say "hi"')py"},
      {"both ' and \"", R"py([Errno 2] No such file or directory: 'both \' and "')py"},
      {"back\\slash", R"py([Errno 2] No such file or directory: 'back\\slash')py"},
      {"line\nbreak\ttab\r", R"py([Errno 2] No such file or directory: 'line\nbreak\ttab\r')py"},
      {"del\x7f bell\x07", R"py([Errno 2] No such file or directory: 'del\x7f bell\x07')py"},
      {"bad \xff byte", R"py([Errno 2] No such file or directory: 'bad \udcff byte')py"},
      {"caf\xc3\xa9", "[Errno 2] No such file or directory: 'caf\xc3\xa9'"},
      {"nb\xc2\xa0sp", R"py([Errno 2] No such file or directory: 'nb\xa0sp')py"},
      {"zw\xe2\x80\x8bsp", R"py([Errno 2] No such file or directory: 'zw\u200bsp')py"},
      {"", R"py([Errno 2] No such file or directory: '')py"},
      {"trunc \xe2\x82", R"py([Errno 2] No such file or directory: 'trunc \udce2\udc82')py"},
      {"overlong \xc0\xaf", R"py([Errno 2] No such file or directory: 'overlong \udcc0\udcaf')py"},
      {"surrogate \xed\xa0\x80",
       R"py([Errno 2] No such file or directory: 'surrogate \udced\udca0\udc80')py"},
      {"emoji \xf0\x9f\x98\x80", "[Errno 2] No such file or directory: 'emoji \xf0\x9f\x98\x80'"},
      {"private \xf3\xb0\x80\x80", R"py([Errno 2] No such file or directory: 'private \U000f0000')py"},
      {"c1 \xc2\x85", R"py([Errno 2] No such file or directory: 'c1 \x85')py"}};
  for (const auto& [name, text] : cases) {
    const lanes::FileNotFoundError e(ENOENT, "No such file or directory", name);
    EXPECT_STREQ(e.what(), text);
    EXPECT_EQ(e.filename(), name);  // the bytes given, unquoted
  }
}

TEST(OSError, WithoutAFilenameStrerrorIsTheSystemsText) {
  const lanes::OSError e(EADDRINUSE, "bind 127.0.0.1:80: in use");
  EXPECT_EQ(e.strerror(), std::generic_category().message(EADDRINUSE));
  EXPECT_EQ(e.filename(), "");
  const lanes::GAIError g(EAI_NONAME, "cannot resolve host name 'nowhere.invalid'");
  EXPECT_EQ(g.strerror(), std::string(::gai_strerror(EAI_NONAME)));
  const lanes::SSLError s(1, "TLS handshake: wrong version number", "wrong version number", "SSL routines");
  EXPECT_EQ(s.strerror(), "TLS handshake: wrong version number");  // as Python's SSLError
  const lanes::UnsupportedOperation u(EBADF, "write: 'f' was opened for reading only", "f");
  EXPECT_STREQ(u.what(), "write: 'f' was opened for reading only");
  EXPECT_EQ(u.filename(), "f");
  EXPECT_EQ(u.code(), std::errc::bad_file_descriptor);
  EXPECT_EQ(u.strerror(), std::generic_category().message(EBADF));
  const lanes::OSError& base = u;
  EXPECT_EQ(base.errno_value(), EBADF);
}

TEST(OSError, MakeOsErrorWithFilenameDoesNotThrow) {
  const std::exception_ptr p = lanes::make_os_error_with_filename(EEXIST, "/tmp/x");
  ASSERT_TRUE(p);
  EXPECT_THROW(std::rethrow_exception(p), lanes::FileExistsError);
}

TEST(OSError, MessageNamesTheOperationAndTheSystemText) {
  const auto e = caught<lanes::FileNotFoundError>(ENOENT);
  const std::string what = e.what();
  EXPECT_NE(what.find("doing a thing"), std::string::npos) << what;
  EXPECT_NE(what.find(std::generic_category().message(ENOENT)), std::string::npos) << what;
  EXPECT_NE(what.find("errno " + std::to_string(ENOENT)), std::string::npos) << what;
}

TEST(OSError, CaughtAsStdExceptionAndSystemError) {
  EXPECT_THROW(lanes::throw_os_error(ECONNREFUSED, "connect"), std::system_error);
  EXPECT_THROW(lanes::throw_os_error(ECONNREFUSED, "connect"), lanes::ConnectionError);
  EXPECT_THROW(lanes::throw_os_error(EPIPE, "write"), std::exception);
}

TEST(OSError, GaiErrorUsesTheGetaddrinfoCategory) {
  const lanes::GAIError e(EAI_NONAME, "cannot resolve host name 'nowhere.invalid'");
  EXPECT_EQ(&e.code().category(), &lanes::gai_category());
  EXPECT_EQ(e.errno_value(), EAI_NONAME);
  EXPECT_STREQ(e.code().category().name(), "getaddrinfo");
  EXPECT_EQ(e.code().message(), std::string(::gai_strerror(EAI_NONAME)));
  EXPECT_STREQ(e.what(), "cannot resolve host name 'nowhere.invalid'");
  const lanes::OSError& base = e;  // still caught as an OSError
  EXPECT_EQ(base.code().value(), EAI_NONAME);
}

TEST(OSError, CopiesShareTheMessage) {
  const lanes::OSError a(EIO, "read: I/O error");
  const lanes::OSError b = a;  // nothrow copy, as exceptions should be
  static_assert(std::is_nothrow_copy_constructible_v<lanes::OSError>);
  EXPECT_STREQ(b.what(), a.what());
  EXPECT_EQ(b.code(), a.code());
}
