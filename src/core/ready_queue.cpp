// The ready queue's node pool: chunks of JobNodes for jobs that are not task steps.
#include "lanes/detail/core/ready_queue.hpp"

#include <new>

namespace lanes::detail {

namespace {
// The first chunk is small (a loop that runs a few callbacks maps little); each next
// one doubles the pool, up to a cap that keeps one allocation near 24 KiB.
constexpr std::size_t kFirstChunkNodes = 32;
constexpr std::size_t kMaxChunkNodes = 1024;
}  // namespace

ReadyQueue::~ReadyQueue() {
  while (chunks_ != nullptr) {
    ChunkHeader* next = chunks_->next;
    ::operator delete(static_cast<void*>(chunks_));
    chunks_ = next;
  }
}

ReadyQueue::JobNode* ReadyQueue::grow_pool() {
  std::size_t count = pooled_ == 0 ? kFirstChunkNodes : pooled_;
  if (count > kMaxChunkNodes) count = kMaxChunkNodes;
  static_assert(sizeof(ChunkHeader) % alignof(JobNode) == 0);
  // Allocated first: if it throws, nothing has changed.
  void* raw = ::operator new(sizeof(ChunkHeader) + count * sizeof(JobNode));
  auto* chunk = ::new (raw) ChunkHeader{chunks_, count};
  auto* nodes = reinterpret_cast<JobNode*>(reinterpret_cast<unsigned char*>(raw) + sizeof(ChunkHeader));
  for (std::size_t i = count; i-- > 0;) {
    JobNode* node = ::new (static_cast<void*>(nodes + i)) JobNode;
    node->next_free = free_;
    free_ = node;
  }
  chunks_ = chunk;
  pooled_ += count;
  return free_;
}

}  // namespace lanes::detail
