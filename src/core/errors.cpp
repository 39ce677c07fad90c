// Descriptions of errors for messages and reports.
#include "lanes/errors.hpp"

#include "lanes/detail/core/exception_text.hpp"

#include <cxxabi.h>
#include <netdb.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
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

namespace {

/// The system's text for an errno value. GNU strerror_r returns the text (maybe not
/// in buf) and never fails.
std::string errno_text(int code) {
  char buf[128];
  return ::strerror_r(code, buf, sizeof buf);
}

/// The one place where an errno value becomes a class, as Python's OSError.__new__
/// picks one (PEP 3151), except ETIMEDOUT (see OSError in errors.hpp). `args` are the
/// constructor's after the code.
template <class... Args>
std::exception_ptr os_error_for(int code, const Args&... args) {
  switch (code) {
    case ECONNRESET:
      return std::make_exception_ptr(ConnectionResetError(code, args...));
    case ECONNREFUSED:
      return std::make_exception_ptr(ConnectionRefusedError(code, args...));
    case ECONNABORTED:
      return std::make_exception_ptr(ConnectionAbortedError(code, args...));
    case EPIPE:
    case ESHUTDOWN:
      return std::make_exception_ptr(BrokenPipeError(code, args...));
    case ENOENT:
      return std::make_exception_ptr(FileNotFoundError(code, args...));
    case EEXIST:
      return std::make_exception_ptr(FileExistsError(code, args...));
    case EISDIR:
      return std::make_exception_ptr(IsADirectoryError(code, args...));
    case ENOTDIR:
      return std::make_exception_ptr(NotADirectoryError(code, args...));
    case EACCES:
    case EPERM:
      return std::make_exception_ptr(PermissionError(code, args...));
    case ESRCH:
      return std::make_exception_ptr(ProcessLookupError(code, args...));
    case ECHILD:
      return std::make_exception_ptr(ChildProcessError(code, args...));
    case EINTR:
      return std::make_exception_ptr(InterruptedError(code, args...));
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EALREADY:
    case EINPROGRESS:
      return std::make_exception_ptr(BlockingIOError(code, args...));
    default:
      return std::make_exception_ptr(OSError(code, args...));
  }
}

/// Appends code point `c` to `out`, as UTF-8.
void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  }
}

/// The code point of the valid UTF-8 sequence at s[i] (its length in `len`), or
/// -1: a stray or truncated byte, an overlong form, a surrogate, past U+10FFFF.
long decode_utf8(std::string_view s, std::size_t i, std::size_t& len) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  if (b < 0x80) {
    len = 1;
    return b;
  }
  std::size_t n;
  long c;
  long min;
  if (b >= 0xc2 && b <= 0xdf) {
    n = 2, c = b & 0x1f, min = 0x80;
  } else if (b >= 0xe0 && b <= 0xef) {
    n = 3, c = b & 0x0f, min = 0x800;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4, c = b & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + n > s.size()) return -1;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return -1;
    c = (c << 6) | (byte(i + k) & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return -1;
  len = n;
  return c;
}

/// Whether Python's str.isprintable() is false for a non-ASCII code point: the
/// controls, separators other than the space, format characters, surrogates and
/// private use (Unicode categories Cc Zs Zl Zp Cf Cs Co). Unassigned code points
/// (Cn) are not known here and count as printable.
bool unprintable(char32_t c) {
  // Unicode 14 (Python 3.11's), generated with unicodedata.
  static constexpr char32_t ranges[][2] = {
      {0x80, 0xa0},       {0xad, 0xad},       {0x600, 0x605},     {0x61c, 0x61c},
      {0x6dd, 0x6dd},     {0x70f, 0x70f},     {0x890, 0x891},     {0x8e2, 0x8e2},
      {0x1680, 0x1680},   {0x180e, 0x180e},   {0x2000, 0x200f},   {0x2028, 0x202f},
      {0x205f, 0x2064},   {0x2066, 0x206f},   {0x3000, 0x3000},   {0xd800, 0xf8ff},
      {0xfeff, 0xfeff},   {0xfff9, 0xfffb},   {0x110bd, 0x110bd}, {0x110cd, 0x110cd},
      {0x13430, 0x13438}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001},
      {0xe0020, 0xe007f}, {0xf0000, 0xffffd}, {0x100000, 0x10fffd}};
  for (const auto& r : ranges)
    if (c >= r[0] && c <= r[1]) return true;
  return false;
}

void append_escape(std::string& out, char32_t c) {
  static constexpr char hex[] = "0123456789abcdef";
  const int digits = c <= 0xff ? 2 : c <= 0xffff ? 4 : 8;
  out += '\\';
  out += digits == 2 ? 'x' : digits == 4 ? 'u' : 'U';
  for (int k = digits - 1; k >= 0; --k) out += hex[(c >> (4 * k)) & 0xf];
}

/// `name` as Python's repr() shows the str os.fsdecode makes of it: single quotes
/// (double if it holds a single quote and no double one), backslash escapes for
/// the quote, the backslash and unprintable characters, and each byte that is not
/// UTF-8 as the surrogate escape \udcXX.
std::string python_repr(std::string_view name) {
  const bool dq = name.find('\'') != std::string_view::npos &&
                  name.find('"') == std::string_view::npos;
  const char quote = dq ? '"' : '\'';
  std::string out(1, quote);
  for (std::size_t i = 0; i < name.size();) {
    std::size_t len = 1;
    const long decoded = decode_utf8(name, i, len);
    const char32_t c = decoded < 0
                           ? static_cast<char32_t>(0xdc00 + static_cast<unsigned char>(name[i]))
                           : static_cast<char32_t>(decoded);
    i += len;
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && unprintable(c))) {
      append_escape(out, c);
    } else {
      append_utf8(out, c);
    }
  }
  out += quote;
  return out;
}

}  // namespace

OSError::OSError(std::error_code code, std::string message, std::string strerror,
                 std::string filename)
    : std::system_error(code),
      details_(std::make_shared<const Details>(
          Details{std::move(message), std::move(strerror), std::move(filename)})) {}

OSError::OSError(int code, const std::string& strerror, const std::string& filename)
    : OSError(std::error_code(code, std::system_category()),
              "[Errno " + std::to_string(code) + "] " + strerror + ": " + python_repr(filename),
              strerror, filename) {}

std::exception_ptr make_os_error(int code, const std::string& what) {
  return os_error_for(code, what + ": " + errno_text(code) + " (errno " + std::to_string(code) + ")");
}

void throw_os_error(int code, const std::string& what) {
  std::rethrow_exception(make_os_error(code, what));
}

std::exception_ptr make_os_error_with_filename(int code, const std::string& filename) {
  return os_error_for(code, errno_text(code), filename);
}

void throw_os_error_with_filename(int code, const std::string& filename) {
  std::rethrow_exception(make_os_error_with_filename(code, filename));
}

}  // namespace lanes
