// The io_uring backend's provided buffers (src/io/uring_reactor.hpp): one ring of
// kBufCount buffers of kBufSize bytes per loop, registered with the kernel the
// first time a stream asks (IoOp with a null buffer). A recv that waits for data
// holds no memory: the kernel picks a buffer only when bytes arrive, the
// completion lends it to the operation's callback, and it goes back to the ring
// as soon as that callback returns. So 10,000 idle connections cost no receive
// buffers, and the pool is touched only as far as traffic needs.
//
// A kernel without provided-buffer rings (before 5.19) refuses the registration:
// provides_buffers() is then false and streams receive into buffers of their own.
// A recv that finds the ring empty fails with ENOBUFS; its owner retries with its
// own buffer (src/net/uring_stream_transport.cpp).
#include <sys/mman.h>

#include <cerrno>
#include <cstdlib>

#if defined(LANES_HAVE_LIBURING)
#include "uring_reactor.hpp"

namespace lanes::detail::uring {
namespace {

constexpr std::size_t ring_bytes() noexcept { return kBufCount * sizeof(io_uring_buf); }

}  // namespace

bool UringReactor::provides_buffers() noexcept {
  if (buf_state_ != 0) return buf_state_ > 0;
  buf_state_ = -1;
  // The ring of descriptors must be page-aligned memory of its own.
  void* ring = ::mmap(nullptr, ring_bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ring == MAP_FAILED) return false;
  // The buffers themselves: reserved, and touched only as the kernel fills them.
  void* memory = ::mmap(nullptr, std::size_t{kBufCount} * kBufSize, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    ::munmap(ring, ring_bytes());
    return false;
  }
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(ring);
  reg.ring_entries = kBufCount;
  reg.bgid = kBufGroup;
  if (io_uring_register_buf_ring(&ring_, &reg, 0) != 0) {
    ::munmap(ring, ring_bytes());
    ::munmap(memory, std::size_t{kBufCount} * kBufSize);
    return false;
  }
  buf_ring_ = static_cast<io_uring_buf_ring*>(ring);
  buf_memory_ = static_cast<char*>(memory);
  io_uring_buf_ring_init(buf_ring_);
  const int mask = io_uring_buf_ring_mask(kBufCount);
  for (unsigned i = 0; i < kBufCount; ++i)
    io_uring_buf_ring_add(buf_ring_, buf_memory_ + std::size_t{i} * kBufSize, kBufSize,
                          static_cast<unsigned short>(i), mask, static_cast<int>(i));
  io_uring_buf_ring_advance(buf_ring_, kBufCount);
  buf_state_ = 1;
  return true;
}

void UringReactor::complete(IoOp* op, const Cqe& c) noexcept {
  if ((c.flags & IORING_CQE_F_BUFFER) == 0 || buf_ring_ == nullptr) {
    op->on_complete(op, c.res);  // may free op
    return;
  }
  const auto bid = static_cast<unsigned short>(c.flags >> IORING_CQE_BUFFER_SHIFT);
  char* buffer = buf_memory_ + std::size_t{bid} * kBufSize;
  op->selected = buffer;
  op->on_complete(op, c.res);  // copies the bytes out; may free op
  io_uring_buf_ring_add(buf_ring_, buffer, kBufSize, bid, io_uring_buf_ring_mask(kBufCount), 0);
  io_uring_buf_ring_advance(buf_ring_, 1);
}

void UringReactor::free_buffers() noexcept {
  if (buf_ring_ == nullptr) return;
  io_uring_unregister_buf_ring(&ring_, kBufGroup);
  ::munmap(buf_ring_, ring_bytes());
  ::munmap(buf_memory_, std::size_t{kBufCount} * kBufSize);
  buf_ring_ = nullptr;
  buf_memory_ = nullptr;
}

}  // namespace lanes::detail::uring

#endif
