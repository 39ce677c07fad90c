// tools/lanes/validators.hpp — CLI11 validators whose messages a person can act on:
// "expects a whole number, got 'abc'", "must be from 1 to 1000, got 0", "must be a
// positive process id, got 0" (CLI11's own Range prints "not in range" with a
// 309-digit bound for a positive number, and the same for a word).
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace lanes_cli {

namespace detail {
/// Parses the whole of `text` as a T; false if it is not one (or overflows).
template <class T>
bool parse_number(const std::string& text, T& out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  if constexpr (std::is_integral_v<T>) {
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (errno || *end != '\0' || v < static_cast<long long>(std::numeric_limits<T>::min()) ||
        v > static_cast<long long>(std::numeric_limits<T>::max()))
      return false;
    out = static_cast<T>(v);
  } else {
    const double v = std::strtod(text.c_str(), &end);
    if (errno || *end != '\0' || !std::isfinite(v)) return false;
    out = static_cast<T>(v);
  }
  return true;
}
}  // namespace detail

/// A number of type T from `lo` to `hi` inclusive.
template <class T>
CLI::Validator number_from_to(T lo, T hi) {
  constexpr const char* kind = std::is_integral_v<T> ? "a whole number" : "a number";
  return CLI::Validator(
      [lo, hi, kind](std::string& text) -> std::string {
        T v{};
        if (!detail::parse_number(text, v)) return fmt::format("expects {}, got '{}'", kind, text);
        if (v < lo || v > hi) return fmt::format("must be from {} to {}, got {}", lo, hi, text);
        return {};
      },
      fmt::format("{}..{}", lo, hi));
}

/// A process id: a whole number above 0.
inline CLI::Validator process_id() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        int v = 0;
        if (!detail::parse_number(text, v))
          return fmt::format("expects a process id (a whole number), got '{}'", text);
        if (v <= 0) return fmt::format("must be a positive process id, got {}", text);
        return {};
      },
      "PID");
}

}  // namespace lanes_cli
