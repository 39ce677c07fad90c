// lanes::OSError and its subclasses are std::system_error with a real std::error_code.
#include <lanes/errors.hpp>

#include <gtest/gtest.h>
#include <netdb.h>

#include <cerrno>
#include <exception>
#include <string>
#include <system_error>
#include <type_traits>

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
