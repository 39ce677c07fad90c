// lanes/detail/threads/thread_wait.hpp — a plain thread waiting on many futures at once: the
// engine of the blocking WaitOp::result() (lanes::wait(...).result(), the
// concurrent.futures form of wait).
#pragma once

#include <chrono>
#include <span>

#include "lanes/detail/core/future_state.hpp"
#include "lanes/return_when.hpp"

namespace lanes::detail {

/// Blocks the calling thread until `when` holds for `states` — FIRST_COMPLETED: one
/// is done; FIRST_EXCEPTION: one failed (a cancellation does not count) or all are
/// done; ALL_COMPLETED: all are done — or until `deadline`. Returns true if the
/// condition holds. On a pool worker it runs the pool's jobs while it waits.
/// Throws InvalidStateError, rather than block, on a thread that runs an event loop.
bool block_until_condition(std::span<FutureStateBase* const> states, ReturnWhen when,
                           std::chrono::steady_clock::time_point deadline);

}  // namespace lanes::detail
