// lanes/detail/frame_allocator.hpp — where coroutine frames live.
//
// Spawning a task costs a frame and a task state, and both come in a few fixed
// sizes, so a per-thread cache of freed blocks by size class turns most
// allocations into a pop from a singly-linked list. Blocks may be freed on another
// thread than the one that made them: each thread's cache only keeps blocks the
// general allocator made, so any thread may keep or free any block. The cache is
// bounded, trimmed when a loop closes, and off under sanitizers so that they see
// every use after free.
#pragma once

#include <cstddef>
#include <new>

namespace lanes::detail {

#if defined(LANES_SANITIZED)
inline void* frame_allocate(std::size_t size) { return ::operator new(size); }
inline void frame_deallocate(void* p, std::size_t) noexcept { ::operator delete(p); }
inline void trim_frame_cache() noexcept {}
#else

class FrameCache {
 public:
  static constexpr std::size_t kGranule = 16;
  static constexpr std::size_t kClasses = 64;            // blocks up to 1 KiB
  static constexpr std::size_t kMaxBytesPerClass = 256u << 20;
  static constexpr std::size_t kTrimmedBytesPerClass = 1u << 20;

  static std::size_t size_class(std::size_t size) noexcept { return (size - 1) / kGranule; }

  void* allocate(std::size_t size) {
    const std::size_t c = size_class(size);
    if (c < kClasses) {
      if (FreeBlock* b = heads_[c]) {
        heads_[c] = b->next;
        --counts_[c];
        return b;
      }
      return ::operator new((c + 1) * kGranule);
    }
    return ::operator new(size);
  }

  void deallocate(void* p, std::size_t size) noexcept {
    const std::size_t c = size_class(size);
    if (c < kClasses && counts_[c] * (c + 1) * kGranule < kMaxBytesPerClass && alive_) {
      auto* b = static_cast<FreeBlock*>(p);
      b->next = heads_[c];
      heads_[c] = b;
      ++counts_[c];
      return;
    }
    ::operator delete(p);
  }

  /// Gives blocks back to the general allocator until each class holds at most
  /// `keep_bytes`.
  void trim(std::size_t keep_bytes) noexcept {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (heads_[c] && counts_[c] * (c + 1) * kGranule > keep_bytes) {
        FreeBlock* next = heads_[c]->next;
        ::operator delete(heads_[c]);
        heads_[c] = next;
        --counts_[c];
      }
    }
  }

  ~FrameCache() {
    alive_ = false;
    trim(0);
  }

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  FreeBlock* heads_[kClasses] = {};
  std::size_t counts_[kClasses] = {};
  bool alive_ = true;
};

inline thread_local FrameCache tls_frame_cache;

inline void* frame_allocate(std::size_t size) { return tls_frame_cache.allocate(size); }
inline void frame_deallocate(void* p, std::size_t size) noexcept {
  tls_frame_cache.deallocate(p, size);
}
/// Called when a loop closes: a burst of tasks should not pin its peak memory.
inline void trim_frame_cache() noexcept {
  tls_frame_cache.trim(FrameCache::kTrimmedBytesPerClass);
}
#endif

}  // namespace lanes::detail
