// lanes/detail/core/ready_queue.hpp — the loop's ready queue: one intrusive FIFO of
// task steps and other jobs.
//
// Single-threaded (the loop's own thread). FIFO across every kind of job, so tasks
// and callbacks run in the order they became ready, as in asyncio.
//
// Nearly every job is a task's step, and a task is queued at most once at a time
// (its scheduled_ flag), so a step is linked through the task itself
// (TaskCoreBase::ready_next_): queueing a task allocates nothing and costs no slot
// in any ring, whatever the number of ready tasks. Any other (function, argument)
// pair sits in a JobNode taken from a pool the queue owns: chunks of nodes that
// never move, recycled through a free list, so once the pool has grown to the
// working set a callback allocates nothing either.
//
// A link is a word: the address of the next task, or of the next JobNode with
// kJobTag set (both are at least 8-aligned, so bit 0 is free). 0 ends the list.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lanes/detail/core/task_core.hpp"

namespace lanes::detail {

class ReadyQueue {
 public:
  ReadyQueue() = default;
  ReadyQueue(const ReadyQueue&) = delete;
  ReadyQueue& operator=(const ReadyQueue&) = delete;
  /// Frees the node pool. Jobs still queued are dropped unrun (tasks are not owned).
  ~ReadyQueue();

  bool empty() const noexcept { return head_ == 0; }
  std::size_t size() const noexcept { return size_; }

  /// The job that runs one step of `task`.
  static ReadyJob task_step(TaskCoreBase& task) noexcept { return {&TaskCoreBase::step_thunk, &task}; }

  /// Queues `job` after every job queued so far. A task's step (a task that is not
  /// queued already) never throws. Any other job takes a pooled node: throws
  /// std::bad_alloc if the pool must grow and cannot, leaving the queue unchanged.
  void push(ReadyJob job) {
    std::uintptr_t link;
    if (job.run == &TaskCoreBase::step_thunk) {
      auto* task = static_cast<TaskCoreBase*>(job.arg);
      task->ready_next_ = nullptr;
      link = reinterpret_cast<std::uintptr_t>(task);
    } else {
      JobNode* node = free_ != nullptr ? free_ : grow_pool();  // the only throw
      free_ = node->next_free;
      node->job = job;
      node->next = 0;
      link = reinterpret_cast<std::uintptr_t>(node) | kJobTag;
    }
    if (head_ == 0) {
      head_ = link;
    } else if (tail_ & kJobTag) {
      as_node(tail_)->next = link;
    } else {
      reinterpret_cast<TaskCoreBase*>(tail_)->ready_next_ = reinterpret_cast<TaskCoreBase*>(link);
    }
    tail_ = link;
    ++size_;
  }

  /// Removes and returns the oldest job; the queue must not be empty.
  ReadyJob pop() noexcept {
    const std::uintptr_t link = head_;
    --size_;
    if (link & kJobTag) {
      JobNode* node = as_node(link);
      head_ = node->next;
      const ReadyJob job = node->job;
      node->next_free = free_;  // most recently used first: still in cache
      free_ = node;
      return job;
    }
    auto* task = reinterpret_cast<TaskCoreBase*>(link);
    head_ = reinterpret_cast<std::uintptr_t>(task->ready_next_);
    return task_step(*task);
  }

 private:
  static constexpr std::uintptr_t kJobTag = 1;

  struct JobNode {
    ReadyJob job;
    union {
      std::uintptr_t next;  // while queued: the link to the next job
      JobNode* next_free;   // while in the free list
    };
  };
  // A chunk is this header followed by its nodes; chunks are freed only with the queue.
  struct ChunkHeader {
    ChunkHeader* next;
    std::size_t nodes;
  };

  static JobNode* as_node(std::uintptr_t link) noexcept {
    return reinterpret_cast<JobNode*>(link & ~kJobTag);
  }
  /// Allocates a chunk, puts all its nodes but one on the free list and returns that
  /// one (still on the list's front: push takes it off). Throws std::bad_alloc.
  JobNode* grow_pool();

  std::uintptr_t head_ = 0;  // the oldest job's link, 0 when empty
  std::uintptr_t tail_ = 0;  // the newest job's link (meaningless when empty)
  std::size_t size_ = 0;
  JobNode* free_ = nullptr;
  ChunkHeader* chunks_ = nullptr;  // newest first
  std::size_t pooled_ = 0;         // nodes in all chunks: the next chunk doubles it
};

}  // namespace lanes::detail
