// lanes/detail/core/exception_text.hpp — the type name and message of an exception, for
// the places that send an error elsewhere as text (a process-pool worker, an MPI rank)
// and for describe_exception.
#pragma once

#include <exception>
#include <string>

namespace lanes::detail {

/// What an exception is, as text: its demangled dynamic type and its what().
struct ExceptionText {
  std::string type;     ///< e.g. "std::out_of_range", "lanes::CancelledError"
  std::string message;  ///< what(), or a note when the type has none
};

/// Of `error` (std::exception, lanes::BaseException such as CancelledError, or any other
/// thrown type). Throws nothing: an exception while describing gives "unknown exception".
ExceptionText exception_text(const std::exception_ptr& error) noexcept;

}  // namespace lanes::detail
