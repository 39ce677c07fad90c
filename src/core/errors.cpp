// Descriptions of errors for messages and reports.
#include "lanes/errors.hpp"

#include "lanes/detail/core/exception_text.hpp"

#include <cxxabi.h>
#include <netdb.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <typeinfo>

namespace lanes {
namespace {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

}  // namespace

std::string describe_exception(const std::exception_ptr& error) noexcept {
  if (!error) return "no exception";
  try {
    detail::ExceptionText text = detail::exception_text(error);
    return text.message.empty() ? text.type : text.type + ": " + text.message;
  } catch (...) {
    return "unknown exception";
  }
}

namespace detail {

ExceptionText exception_text(const std::exception_ptr& error) noexcept {
  try {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      return {demangle(typeid(e).name()), e.what()};
    } catch (const BaseException& e) {  // CancelledError, KeyboardInterrupt
      return {demangle(typeid(e).name()), e.what()};
    } catch (...) {
      const std::type_info* type = abi::__cxa_current_exception_type();
      return {type ? demangle(type->name()) : std::string("unknown exception"),
              "(an exception not derived from std::exception)"};
    }
  } catch (...) {
    return {"unknown exception", ""};
  }
}

}  // namespace detail

std::string ExceptionGroup::describe(const std::string& message,
                                      const std::vector<std::exception_ptr>& errors) {
  std::string text = message + " (" + std::to_string(errors.size()) + " sub-exception" +
                     (errors.size() == 1 ? "" : "s") + ")";
  for (const auto& e : errors) text += "\n  - " + describe_exception(e);
  return text;
}

namespace {

class GaiCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};

}  // namespace

const std::error_category& gai_category() noexcept {
  static const GaiCategory category;
  return category;
}

std::exception_ptr make_os_error(int code, const std::string& what) {
  char buf[128];
  // GNU strerror_r returns the text (maybe not in buf); never fails.
  const char* text = ::strerror_r(code, buf, sizeof buf);
  const std::string msg = what + ": " + text + " (errno " + std::to_string(code) + ")";
  switch (code) {
    case ECONNRESET:
      return std::make_exception_ptr(ConnectionResetError(code, msg));
    case ECONNREFUSED:
      return std::make_exception_ptr(ConnectionRefusedError(code, msg));
    case ECONNABORTED:
      return std::make_exception_ptr(ConnectionAbortedError(code, msg));
    case EPIPE:
    case ESHUTDOWN:
      return std::make_exception_ptr(BrokenPipeError(code, msg));
    case ENOENT:
      return std::make_exception_ptr(FileNotFoundError(code, msg));
    case EACCES:
    case EPERM:
      return std::make_exception_ptr(PermissionError(code, msg));
    case ESRCH:
      return std::make_exception_ptr(ProcessLookupError(code, msg));
    default:
      return std::make_exception_ptr(OSError(code, msg));
  }
}

void throw_os_error(int code, const std::string& what) {
  std::rethrow_exception(make_os_error(code, what));
}

}  // namespace lanes
