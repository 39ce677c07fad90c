// lanes/detail/threads/asymmetric_fence.hpp — a Dekker fence paid by the rare side only.
//
// The thread pool's wake-up protocol is a Dekker pattern: a submitter stores a job,
// then loads the sleeper count; a worker about to park stores itself as a sleeper,
// then loads the queues. Each side needs a store-load fence between its store and
// its load, or both may miss the other's store (a lost wake-up). Submits happen
// millions of times a second, parking rarely, so the submitter's side is a compiler
// barrier only (light()) and the parking side pays for both with membarrier(2)'s
// MEMBARRIER_CMD_PRIVATE_EXPEDITED (heavy()), which runs a full memory barrier on
// every CPU that runs a thread of this process before it returns: either a
// submitter's load came before that barrier (and its store, drained by it, is seen
// by the parker's load after it), or it comes after (and sees the sleeper).
// Where membarrier is missing or refused (old kernels, seccomp), both sides use a
// seq_cst fence. The code is in src/threads/asymmetric_fence.cpp.
#pragma once

#include <atomic>

namespace lanes::detail::asymmetric_fence {

/// Registers this process for expedited membarrier, once; call before any thread
/// that uses light() or heavy() is started. Never throws; on failure both sides
/// fall back to seq_cst fences.
void init() noexcept;

// Invariant: set (at most once, false -> true) by the first init(), before the
// threads that read it exist or have been handed anything to synchronize with.
extern std::atomic<bool> g_expedited;

/// The frequent side: a compiler barrier when the heavy side uses membarrier.
inline void light() noexcept {
  if (g_expedited.load(std::memory_order_relaxed)) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

/// The rare side: a barrier on every CPU running this process (a system call).
void heavy() noexcept;

}  // namespace lanes::detail::asymmetric_fence
