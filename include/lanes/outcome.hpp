// lanes/outcome.hpp — lanes::Outcome<T>, what gather_settled returns per child
// (one element of Python's gather(..., return_exceptions=True) list), and lanes::Unit.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "lanes/detail/core/future_state.hpp"
#include "lanes/detail/core/task_state.hpp"
#include "lanes/errors.hpp"

namespace lanes {

/// The value of a void result wherever a value is needed: gather's tuple or vector
/// element for a Task<void> / Future<void>, what co_await of a Future<void> gives.
/// One type with detail::Unit, so both spellings mix freely.
using Unit = detail::Unit;

/// Either a value or the exception a child ended with (a cancelled child holds a
/// CancelledError). For T = void the value is a lanes::Unit.
template <class T>
class Outcome {
 public:
  using value_type = detail::StoredType<T>;

  /// An outcome holding a value.
  static Outcome from_value(value_type value) { return Outcome(std::move(value), nullptr); }
  /// An outcome holding an error. Throws InvalidStateError if `error` is null.
  static Outcome from_error(std::exception_ptr error) {
    if (!error) throw InvalidStateError("Outcome::from_error: the exception_ptr is null");
    return Outcome(std::nullopt, std::move(error));
  }

  /// True if the child produced a value.
  bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  /// True if the child was cancelled (its error is a CancelledError).
  bool cancelled() const noexcept { return error_ && detail::is_cancelled_error(error_); }

  /// The value; rethrows the child's exception if there is no value.
  value_type& value() & {
    if (error_) std::rethrow_exception(error_);
    return *value_;
  }
  const value_type& value() const& {
    if (error_) std::rethrow_exception(error_);
    return *value_;
  }
  value_type&& value() && {
    if (error_) std::rethrow_exception(error_);
    return std::move(*value_);
  }

  /// The child's exception, or null if it produced a value. Never throws.
  const std::exception_ptr& exception() const noexcept { return error_; }

 private:
  Outcome(std::optional<value_type> value, std::exception_ptr error)
      : value_(std::move(value)), error_(std::move(error)) {}

  std::optional<value_type> value_;
  std::exception_ptr error_;
};

}  // namespace lanes
