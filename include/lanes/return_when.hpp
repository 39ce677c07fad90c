// lanes/return_when.hpp — when wait() returns (concurrent.futures / asyncio's return_when).
//
// Shared by the blocking lanes::wait of plain threads (wait.hpp) and the awaitable
// one used inside tasks (combinators.hpp), so both spell it the same way.
#pragma once

namespace lanes {

/// The condition that ends a wait on a set of futures.
enum class ReturnWhen {
  /// As soon as any future is done (finished, failed or cancelled).
  FIRST_COMPLETED,
  /// As soon as any future ends with an exception, or when all are done.
  FIRST_EXCEPTION,
  /// When every future is done.
  ALL_COMPLETED,
};

/// Python's module-level spellings: lanes::FIRST_COMPLETED etc.
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

}  // namespace lanes
