// membarrier(2)-based asymmetric fence of the thread pool's wake-up protocol.
#include "lanes/detail/threads/asymmetric_fence.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>

namespace lanes::detail::asymmetric_fence {

std::atomic<bool> g_expedited{false};

namespace {
long membarrier(int cmd) noexcept { return ::syscall(SYS_membarrier, cmd, 0U, 0); }
}  // namespace

void init() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer does not model membarrier: keep the fences it understands.
    return;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
    return;
#endif
#endif
    const long supported = membarrier(MEMBARRIER_CMD_QUERY);
    if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
    if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0) return;
    g_expedited.store(true, std::memory_order_relaxed);
  });
}

void heavy() noexcept {
  if (g_expedited.load(std::memory_order_relaxed)) {
    // Once registered, the command fails only for a process that is not (the
    // registration is kept across fork and dropped by exec, which also resets
    // g_expedited): register again and retry rather than trust a lone fence.
    if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
    if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 &&
        membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) {
      return;
    }
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace lanes::detail::asymmetric_fence
