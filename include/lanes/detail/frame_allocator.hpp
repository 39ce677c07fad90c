// lanes/detail/frame_allocator.hpp — where coroutine frames live.
//
// Spawning a task costs one frame allocation, and frames of one coroutine are all
// the same size, so a per-thread cache of freed blocks by size class turns most
// allocations into a pop from a singly-linked list. Blocks may be freed on another
// thread than the one that made them: each thread's cache only keeps blocks the
// general allocator made, so any thread may keep or free any block. The cache is
// bounded, and off under sanitizers so that they see every use after free.
#pragma once

#include <cstddef>
#include <new>

namespace lanes::detail {

#if defined(LANES_SANITIZED)
inline void* frame_allocate(std::size_t size) { return ::operator new(size); }
inline void frame_deallocate(void* p, std::size_t) noexcept { ::operator delete(p); }
#else

class FrameCache {
 public:
  static constexpr std::size_t kGranule = 64;
  static constexpr std::size_t kClasses = 16;           // blocks up to 1 KiB
  static constexpr std::size_t kMaxBytesPerClass = 4u << 20;

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

  ~FrameCache() {
    alive_ = false;
    for (auto*& head : heads_) {
      while (head) {
        FreeBlock* next = head->next;
        ::operator delete(head);
        head = next;
      }
    }
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
#endif

}  // namespace lanes::detail
