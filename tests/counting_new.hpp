// tests/counting_new.hpp — the global allocation functions, counted per thread and
// refused on demand, for tests of code that must allocate only when it says so.
//
// Include it in exactly ONE .cpp of a test executable: it replaces every replaceable
// operator new and delete (all of them, so that a sanitizer runtime's own set is not
// linked in beside them). The blocks come from malloc, which sanitizers still watch.
// Under ThreadSanitizer, whose runtime links its own operator new whatever the
// program defines, nothing is replaced: kActive is false and tests check that.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define COUNTING_NEW_ACTIVE 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define COUNTING_NEW_ACTIVE 0
#endif
#endif
#ifndef COUNTING_NEW_ACTIVE
#define COUNTING_NEW_ACTIVE 1
#endif

#include <cstddef>
#include <cstdlib>
#include <new>

namespace counting_new {

/// True if this program's allocations are counted (and can be refused).
inline constexpr bool kActive = COUNTING_NEW_ACTIVE != 0;

/// Allocations made by this thread through operator new (every form).
inline thread_local std::size_t tls_allocations = 0;
/// While true, this thread's operator new throws std::bad_alloc (the nothrow forms
/// return null) without allocating.
inline thread_local bool tls_refuse = false;

inline void* allocate(std::size_t size, std::size_t alignment) noexcept {
  if (tls_refuse) return nullptr;
  if (size == 0) size = 1;
  void* p = nullptr;
  if (alignment <= alignof(std::max_align_t)) {
    p = std::malloc(size);
  } else {
    const std::size_t rounded = (size + alignment - 1) / alignment * alignment;
    p = std::aligned_alloc(alignment, rounded);
  }
  if (p != nullptr) ++tls_allocations;
  return p;
}
inline void* allocate_or_throw(std::size_t size, std::size_t alignment) {
  if (void* p = allocate(size, alignment)) return p;
  throw std::bad_alloc();
}
constexpr std::size_t kPlain = alignof(std::max_align_t);

}  // namespace counting_new

#if COUNTING_NEW_ACTIVE
void* operator new(std::size_t n) { return counting_new::allocate_or_throw(n, counting_new::kPlain); }
void* operator new[](std::size_t n) { return counting_new::allocate_or_throw(n, counting_new::kPlain); }
void* operator new(std::size_t n, std::align_val_t a) {
  return counting_new::allocate_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return counting_new::allocate_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return counting_new::allocate(n, counting_new::kPlain);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return counting_new::allocate(n, counting_new::kPlain);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counting_new::allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counting_new::allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
#endif  // COUNTING_NEW_ACTIVE
