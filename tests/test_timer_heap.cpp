// The loop's timer structure: always yields the earliest deadline, ties in arming
// order, whatever mix of pushes, removals and pops; checked against a reference.
#include <gtest/gtest.h>

#include <lanes/detail/core/timer_heap.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <tuple>
#include <vector>

namespace {

using lanes::detail::TimerHeap;
using lanes::detail::TimerNode;
using Clock = std::chrono::steady_clock;

TimerNode* node_at(std::vector<std::unique_ptr<TimerNode>>& nodes, int ms) {
  nodes.push_back(std::make_unique<TimerNode>());
  nodes.back()->when = Clock::time_point(std::chrono::milliseconds(ms));
  return nodes.back().get();
}

TEST(TimerHeap, IncreasingDeadlinesFireInOrder) {
  std::vector<std::unique_ptr<TimerNode>> nodes;
  TimerHeap timers;
  for (int i = 0; i < 1000; ++i) timers.push(node_at(nodes, i));
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(timers.pop(), nodes[static_cast<std::size_t>(i)].get());
  }
  EXPECT_TRUE(timers.empty());
}

TEST(TimerHeap, EqualDeadlinesFireInArmingOrder) {
  std::vector<std::unique_ptr<TimerNode>> nodes;
  TimerHeap timers;
  timers.push(node_at(nodes, 10));  // the run
  timers.push(node_at(nodes, 5));   // the heap
  timers.push(node_at(nodes, 5));   // the heap, after the first 5
  timers.push(node_at(nodes, 10));  // the run, after the first 10
  EXPECT_EQ(timers.pop(), nodes[1].get());
  EXPECT_EQ(timers.pop(), nodes[2].get());
  EXPECT_EQ(timers.pop(), nodes[0].get());
  EXPECT_EQ(timers.pop(), nodes[3].get());
}

TEST(TimerHeap, RemovedNodesNeverComeOut) {
  std::vector<std::unique_ptr<TimerNode>> nodes;
  TimerHeap timers;
  for (int i = 0; i < 10; ++i) timers.push(node_at(nodes, i));
  timers.push(node_at(nodes, 3));  // into the heap
  timers.remove(nodes[0].get());
  timers.remove(nodes[10].get());
  timers.remove(nodes[5].get());
  timers.remove(nodes[5].get());  // twice is harmless
  EXPECT_FALSE(nodes[5]->queued());
  EXPECT_EQ(timers.size(), 8u);
  std::vector<TimerNode*> out;
  while (!timers.empty()) out.push_back(timers.pop());
  std::vector<TimerNode*> expected{nodes[1].get(), nodes[2].get(), nodes[3].get(),
                                   nodes[4].get(), nodes[6].get(), nodes[7].get(),
                                   nodes[8].get(), nodes[9].get()};
  EXPECT_EQ(out, expected);
}

// A run entry's slot is its index in the ring; when the ring grows, every queued
// node gets its new index, so removing one afterwards takes out that node only.
TEST(TimerHeap, RunEntriesRemovedAfterTheRingGrew) {
  std::vector<std::unique_ptr<TimerNode>> nodes;
  TimerHeap timers;
  for (int i = 0; i < 50; ++i) timers.push(node_at(nodes, i));
  for (int i = 0; i < 20; ++i) timers.pop();  // the head moves: positions wrap in the ring
  for (int i = 50; i < 5000; ++i) timers.push(node_at(nodes, i));  // grows several times
  std::vector<TimerNode*> expected;
  for (std::size_t i = 20; i < nodes.size(); ++i) {
    if (i % 3 == 0) {
      timers.remove(nodes[i].get());
      EXPECT_FALSE(nodes[i]->queued());
    } else {
      expected.push_back(nodes[i].get());
    }
  }
  ASSERT_EQ(timers.size(), expected.size());
  std::vector<TimerNode*> out;
  while (!timers.empty()) out.push_back(timers.pop());
  EXPECT_EQ(out, expected);
}

TEST(TimerHeap, RandomOperationsMatchAReference) {
  std::mt19937 rng(12345);
  std::vector<std::unique_ptr<TimerNode>> nodes;
  TimerHeap timers;
  // Reference: ordered by (deadline, arming order).
  std::set<std::tuple<Clock::time_point, std::uint64_t, TimerNode*>> reference;
  std::vector<TimerNode*> queued;
  int base = 0;
  for (int step = 0; step < 200'000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 5 || queued.empty()) {
      // Mostly increasing deadlines, sometimes earlier ones.
      base += static_cast<int>(rng() % 3);
      const int ms = rng() % 4 == 0 ? base - static_cast<int>(rng() % 50) : base;
      TimerNode* n = node_at(nodes, ms);
      timers.push(n);
      reference.emplace(n->when, n->sequence, n);
      queued.push_back(n);
    } else if (op < 7) {
      const std::size_t k = rng() % queued.size();
      TimerNode* n = queued[k];
      timers.remove(n);
      reference.erase({n->when, n->sequence, n});
      queued[k] = queued.back();
      queued.pop_back();
    } else {
      TimerNode* expected = std::get<2>(*reference.begin());
      ASSERT_EQ(timers.top(), expected) << "at step " << step;
      ASSERT_EQ(timers.pop(), expected);
      reference.erase(reference.begin());
      for (auto& q : queued) {
        if (q == expected) {
          q = queued.back();
          queued.pop_back();
          break;
        }
      }
    }
    ASSERT_EQ(timers.size(), reference.size());
  }
}

}  // namespace
