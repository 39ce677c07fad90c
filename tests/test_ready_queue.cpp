// The loop's ready queue: one FIFO order across task steps (linked through the tasks)
// and other jobs (in pooled nodes), whatever the mix; the pool grows over several
// chunks and recycles its nodes; a failed allocation leaves the queue as it was.
#include <gtest/gtest.h>

#include "counting_new.hpp"  // replaces operator new: counts (and refuses) allocations

#include <lanes/detail/core/ready_queue.hpp>
#include <lanes/lanes.hpp>

#include <cstddef>
#include <cstdlib>
#include <deque>
#include <memory>
#include <new>
#include <random>
#include <vector>


namespace {

using lanes::detail::FutureStateBase;
using lanes::detail::ReadyJob;
using lanes::detail::ReadyQueue;
using lanes::detail::TaskCoreBase;

// What ran, in order: a task's id, or -1 - id for a callback.
std::vector<int>* g_ran = nullptr;

// Stands for a task: a future state first and the scheduling half after it, as in
// TaskState; its step records its id.
class FakeTask final : public FutureStateBase, public TaskCoreBase {
 public:
  FakeTask(lanes::EventLoop& loop, int id) : TaskCoreBase(loop, *this), id_(id) {}
  ~FakeTask() override = default;

 private:
  void act_as_task(TaskAct act) noexcept override {
    if (act == TaskAct::step) g_ran->push_back(id_);
  }

  int id_;
};

struct Callback {
  int id;
  static void run(void* self) noexcept { g_ran->push_back(-1 - static_cast<Callback*>(self)->id); }
};

class ReadyQueueTest : public testing::Test {
 protected:
  ReadyQueueTest() { g_ran = &ran; }
  ~ReadyQueueTest() override { g_ran = nullptr; }

  FakeTask& task(int id) {
    tasks.push_back(std::make_unique<FakeTask>(loop, id));
    return *tasks.back();
  }
  ReadyJob callback(int id) {
    callbacks.push_back(std::make_unique<Callback>(Callback{id}));
    return {&Callback::run, callbacks.back().get()};
  }
  void run_all(ReadyQueue& queue) {
    while (!queue.empty()) {
      const ReadyJob job = queue.pop();
      job.run(job.arg);
    }
  }

  lanes::EventLoop loop;
  std::vector<std::unique_ptr<FakeTask>> tasks;
  std::vector<std::unique_ptr<Callback>> callbacks;
  std::vector<int> ran;
};

TEST_F(ReadyQueueTest, TasksAndCallbacksInterleavedKeepOneFifoOrder) {
  std::mt19937 rng(7);
  ReadyQueue queue;
  std::vector<int> expected;
  for (int i = 0; i < 20'000; ++i) {
    if (rng() % 3 == 0) {
      queue.push(callback(i));
      expected.push_back(-1 - i);
    } else {
      queue.push(ReadyQueue::task_step(task(i)));
      expected.push_back(i);
    }
  }
  EXPECT_EQ(queue.size(), expected.size());
  run_all(queue);
  EXPECT_EQ(ran, expected);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.size(), 0u);
}

// Pops and pushes mixed, as the loop does: a task popped may be queued again at once,
// and the queue empties and refills many times.
TEST_F(ReadyQueueTest, PushesAndPopsMixedMatchAReference) {
  std::mt19937 rng(11);
  for (int i = 0; i < 300; ++i) task(i);
  std::vector<bool> queued(tasks.size(), false);
  std::deque<int> reference;
  ReadyQueue queue;
  int next_callback = 0;
  for (int step = 0; step < 200'000; ++step) {
    const unsigned op = rng() % 8;
    if (op < 3) {
      const int id = static_cast<int>(rng() % tasks.size());
      if (queued[static_cast<std::size_t>(id)]) continue;  // at most once, as scheduled_ ensures
      queued[static_cast<std::size_t>(id)] = true;
      queue.push(ReadyQueue::task_step(*tasks[static_cast<std::size_t>(id)]));
      reference.push_back(id);
    } else if (op < 5) {
      const int id = next_callback++;
      queue.push(callback(id));
      reference.push_back(-1 - id);
    } else if (!reference.empty()) {
      const ReadyJob job = queue.pop();
      job.run(job.arg);
      ASSERT_EQ(ran.back(), reference.front()) << "at step " << step;
      if (reference.front() >= 0) queued[static_cast<std::size_t>(reference.front())] = false;
      reference.pop_front();
    }
    ASSERT_EQ(queue.size(), reference.size());
    ASSERT_EQ(queue.empty(), reference.empty());
  }
}

TEST_F(ReadyQueueTest, TaskStepsAllocateNothing) {
  for (int i = 0; i < 10'000; ++i) task(i);
  ReadyQueue queue;
  const std::size_t before = counting_new::tls_allocations;
  for (auto& t : tasks) queue.push(ReadyQueue::task_step(*t));
  if (counting_new::kActive) {
    EXPECT_EQ(counting_new::tls_allocations, before);
  }
  EXPECT_EQ(queue.size(), tasks.size());
  run_all(queue);
  ASSERT_EQ(ran.size(), tasks.size());
  for (std::size_t i = 0; i < ran.size(); ++i) ASSERT_EQ(ran[i], static_cast<int>(i));
}

// Thousands of callbacks queued at once take several chunks; once drained, the same
// number (and fewer) reuse the nodes without allocating again.
TEST_F(ReadyQueueTest, CallbackNodesSpanSeveralChunksAndAreRecycled) {
  ReadyQueue queue;
  for (int i = 0; i < 5000; ++i) callback(i);
  const std::size_t before = counting_new::tls_allocations;
  for (int i = 0; i < 5000; ++i) queue.push({&Callback::run, callbacks[static_cast<std::size_t>(i)].get()});
  const std::size_t chunks = counting_new::tls_allocations - before;
  if (counting_new::kActive) {
    EXPECT_GE(chunks, 4u);   // 32, 32, 64, ... nodes: several chunks
    EXPECT_LE(chunks, 16u);  // but growing, not one per callback
  }
  run_all(queue);
  for (int round = 0; round < 3; ++round) {
    const std::size_t again = counting_new::tls_allocations;
    for (int i = 0; i < 5000; ++i) {
      queue.push({&Callback::run, callbacks[static_cast<std::size_t>(4999 - i)].get()});
    }
    if (counting_new::kActive) {
      EXPECT_EQ(counting_new::tls_allocations, again) << "round " << round;
    }
    run_all(queue);
  }
  ASSERT_EQ(ran.size(), 20'000u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(ran[static_cast<std::size_t>(i)], -1 - i);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(ran[static_cast<std::size_t>(5000 + i)], -1 - (4999 - i));
}

TEST_F(ReadyQueueTest, RefusedAllocationLeavesTheQueueAsItWas) {
  if (!counting_new::kActive) GTEST_SKIP() << "allocations cannot be refused under TSan";
  ReadyQueue queue;
  std::vector<int> expected;
  // Fill the pool's nodes exactly: each push that allocates starts a new chunk.
  int id = 0;
  for (;; ++id) {
    const ReadyJob job = callback(id);  // allocates the Callback: before the count
    const std::size_t before = counting_new::tls_allocations;
    queue.push(job);
    expected.push_back(-1 - id);
    if (id > 0 && counting_new::tls_allocations != before) break;  // a second chunk began with this one
  }
  // Use up the rest of that chunk.
  std::size_t filled = 0;
  for (;;) {
    const ReadyJob job = callback(++id);
    const std::size_t before = counting_new::tls_allocations;
    counting_new::tls_refuse = true;
    bool refused = false;
    try {
      queue.push(job);
    } catch (const std::bad_alloc&) {
      refused = true;
    }
    counting_new::tls_refuse = false;
    if (refused) {
      EXPECT_EQ(counting_new::tls_allocations, before);
      break;
    }
    expected.push_back(-1 - id);
    ++filled;
  }
  EXPECT_GT(filled, 0u);
  ASSERT_EQ(queue.size(), expected.size());
  // Task steps still go in while allocations are refused; the refused callback is not there.
  FakeTask& late = task(1'000'000);
  counting_new::tls_refuse = true;
  queue.push(ReadyQueue::task_step(late));
  counting_new::tls_refuse = false;
  expected.push_back(1'000'000);
  queue.push(callback(++id));
  expected.push_back(-1 - id);
  ASSERT_EQ(queue.size(), expected.size());
  run_all(queue);
  EXPECT_EQ(ran, expected);
}

// A queue destroyed with jobs in it frees its pool and touches no task (the loop
// drains it in close(); this is the queue's own guarantee; leak checkers see the rest).
TEST_F(ReadyQueueTest, DestroyedWithJobsQueued) {
  {
    ReadyQueue queue;
    for (int i = 0; i < 3000; ++i) {
      queue.push(callback(i));
      queue.push(ReadyQueue::task_step(task(i)));
    }
    EXPECT_EQ(queue.size(), 6000u);
  }
  EXPECT_TRUE(ran.empty());
}

}  // namespace
