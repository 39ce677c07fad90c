// lanes/detail/core/frame_allocator.hpp — where coroutine frames and task states live.
//
// Spawning a task costs a frame and a task state, and both come in a few fixed
// sizes, so a per-thread cache of freed blocks by size class turns most
// allocations into a pop from a singly-linked list. Blocks may be freed on another
// thread than the one that made them: each thread's cache only keeps blocks the
// general allocator made, so any thread may keep or free any block.
//
// The cache keeps up to kMaxCachedBytes per thread, across loops: a program that
// spawns a burst of a million tasks again and again (a server, a benchmark) reuses
// the same blocks instead of paying malloc and free for each. It is given back when
// the thread ends. Sanitizer builds bypass it so that they see every use after free.
#pragma once

#include <cstddef>
#include <new>

namespace lanes::detail {

/// Which lists of the cache a block goes to. Coroutine frames and the states of tasks
/// and jobs are kept apart even when their sizes match: after a burst of a million
/// tasks, a deep chain of awaits would otherwise build its frames from the freed task
/// states, spread over twice the memory (they were interleaved with the tasks'
/// frames), and walk it 1.6x slower.
enum class BlockKind : unsigned char { frame = 0, state = 1 };

#if defined(LANES_SANITIZED)
inline void* frame_allocate(std::size_t size, BlockKind = BlockKind::frame) {
  return ::operator new(size);
}
inline void frame_deallocate(void* p, std::size_t, BlockKind = BlockKind::frame) noexcept {
  ::operator delete(p);
}
#else

/// The cache's lists. Trivially destructible on purpose: a thread_local with a
/// destructor costs an initialisation check on every access; the destructor lives
/// in FrameCacheReaper, touched only when the first block is cached.
struct FrameCache {
  // 8, not 16: glibc serves a request of 16k+8 bytes from a chunk of 16k+16 with
  // nothing wasted, so a 136-byte task state costs 144 bytes, not 160.
  static constexpr std::size_t kGranule = 8;
  static constexpr std::size_t kClasses = 128;  // blocks up to 1 KiB
  static constexpr std::size_t kMaxCachedBytes = 512u << 20;

  struct FreeBlock {
    FreeBlock* next;
  };
  FreeBlock* heads[2][kClasses];  // by BlockKind, then size class
  std::size_t cached_bytes;
  bool reaper_armed;
  bool thread_ending;

  static std::size_t size_class(std::size_t size) noexcept { return (size - 1) / kGranule; }
  void release_all() noexcept;
  void arm_reaper() noexcept;
};

inline thread_local FrameCache tls_frame_cache{};

/// Gives the cached blocks back when the thread ends.
struct FrameCacheReaper {
  ~FrameCacheReaper() {
    tls_frame_cache.thread_ending = true;
    tls_frame_cache.release_all();
  }
};
inline thread_local FrameCacheReaper tls_frame_cache_reaper;

inline void FrameCache::release_all() noexcept {
  for (auto& kind : heads) {
    for (auto*& head : kind) {
      while (head) {
        FreeBlock* next = head->next;
        ::operator delete(head);
        head = next;
      }
    }
  }
  cached_bytes = 0;
}

inline void FrameCache::arm_reaper() noexcept {
  reaper_armed = true;
  [[maybe_unused]] volatile auto* touch = &tls_frame_cache_reaper;  // registers its destructor
}

inline void* frame_allocate(std::size_t size, BlockKind kind = BlockKind::frame) {
  FrameCache& cache = tls_frame_cache;
  const std::size_t c = FrameCache::size_class(size);
  if (c < FrameCache::kClasses) {
    FrameCache::FreeBlock*& head = cache.heads[static_cast<unsigned char>(kind)][c];
    if (FrameCache::FreeBlock* b = head) {
      head = b->next;
      cache.cached_bytes -= (c + 1) * FrameCache::kGranule;
      return b;
    }
    return ::operator new((c + 1) * FrameCache::kGranule);
  }
  return ::operator new(size);
}

inline void frame_deallocate(void* p, std::size_t size, BlockKind kind = BlockKind::frame) noexcept {
  FrameCache& cache = tls_frame_cache;
  const std::size_t c = FrameCache::size_class(size);
  const std::size_t block = (c + 1) * FrameCache::kGranule;
  if (c < FrameCache::kClasses && !cache.thread_ending &&
      cache.cached_bytes + block <= FrameCache::kMaxCachedBytes) {
    if (!cache.reaper_armed) cache.arm_reaper();
    FrameCache::FreeBlock*& head = cache.heads[static_cast<unsigned char>(kind)][c];
    auto* b = static_cast<FrameCache::FreeBlock*>(p);
    b->next = head;
    head = b;
    cache.cached_bytes += block;
    return;
  }
  ::operator delete(p);
}
#endif

}  // namespace lanes::detail
