// The loop's timer structure: always yields the earliest deadline, ties in arming
// order, whatever mix of pushes, removals and pops; checked against a reference.
#include <gtest/gtest.h>

#include "counting_new.hpp"  // replaces operator new: counts (and refuses) allocations

#include <lanes/detail/core/timer_heap.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <new>
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

// A run entry's slot is its position, which stays put while the run grows block by
// block, so removing one afterwards takes out that node only.
TEST(TimerHeap, RunEntriesRemovedAfterTheRunGrew) {
  std::vector<std::unique_ptr<TimerNode>> nodes;
  TimerHeap timers;
  for (int i = 0; i < 50; ++i) timers.push(node_at(nodes, i));
  for (int i = 0; i < 20; ++i) timers.pop();  // the head moves off position 0
  for (int i = 50; i < 5000; ++i) timers.push(node_at(nodes, i));  // several blocks
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

// Pops everything, checking it comes out as `expected` and that size() follows.
void expect_pops(TimerHeap& timers, const std::vector<TimerNode*>& expected) {
  ASSERT_EQ(timers.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(timers.top(), expected[i]) << "at " << i;
    ASSERT_EQ(timers.pop(), expected[i]) << "at " << i;
    ASSERT_FALSE(expected[i]->queued());
  }
  EXPECT_TRUE(timers.empty());
}

// A run of many blocks (1024 entries each): removals at the front, the back, around
// block edges and through whole blocks leave exactly the others, in order.
TEST(TimerHeap, RunAcrossManyBlocksWithRemovalsAnywhere) {
  std::vector<std::unique_ptr<TimerNode>> nodes;
  TimerHeap timers;
  constexpr int kCount = 20'000;
  for (int i = 0; i < kCount; ++i) timers.push(node_at(nodes, i / 7));  // equal deadlines too
  std::vector<bool> removed(kCount, false);
  auto remove = [&](int i) {
    timers.remove(nodes[static_cast<std::size_t>(i)].get());
    removed[static_cast<std::size_t>(i)] = true;
  };
  for (int i = 0; i < 10; ++i) remove(i);                       // the front
  for (int i = kCount - 10; i < kCount; ++i) remove(i);         // the back
  for (int b = 1; b < 19; ++b) {                                // both sides of block edges
    remove(b * 1024 - 1);
    remove(b * 1024);
  }
  for (int i = 3 * 1024; i < 5 * 1024; ++i) remove(i);          // two whole blocks
  for (int i = 7000; i < 14000; i += 13) remove(i);             // scattered
  std::vector<TimerNode*> expected;
  for (int i = 0; i < kCount; ++i) {
    if (!removed[static_cast<std::size_t>(i)]) expected.push_back(nodes[static_cast<std::size_t>(i)].get());
  }
  expect_pops(timers, expected);
}

// Popping from the front while pushing at the back: the run's span moves along
// through many blocks (freed behind, added ahead) and keeps its order.
TEST(TimerHeap, RunSlidesThroughBlocks) {
  std::vector<std::unique_ptr<TimerNode>> nodes;
  TimerHeap timers;
  std::vector<bool> removed;
  std::size_t next_out = 0;
  for (int i = 0; i < 3000; ++i) timers.push(node_at(nodes, i));
  for (int i = 3000; i < 50'000; ++i) {
    timers.push(node_at(nodes, i));
    removed.resize(nodes.size(), false);
    while (removed[next_out]) ++next_out;
    ASSERT_EQ(timers.pop(), nodes[next_out++].get());
    if (i % 5 == 0) {  // a cancellation a little ahead of the front, and one more arm
      timers.remove(nodes[next_out + 100].get());
      removed[next_out + 100] = true;
      timers.push(node_at(nodes, i));
    }
  }
  std::vector<TimerNode*> expected;
  for (std::size_t i = next_out; i < nodes.size(); ++i) {
    if (nodes[i]->queued()) expected.push_back(nodes[i].get());
  }
  expect_pops(timers, expected);
}

// The run empties (by pops, or by removing its last entries) and fills again,
// across block boundaries each time; ties keep their arming order throughout.
TEST(TimerHeap, RunDrainsAndRefills) {
  std::vector<std::unique_ptr<TimerNode>> nodes;
  TimerHeap timers;
  for (int round = 0; round < 6; ++round) {
    const int count = 500 + round * 900;  // 500 .. 5000: within one block, then several
    const std::size_t first = nodes.size();
    for (int i = 0; i < count; ++i) timers.push(node_at(nodes, 100 + i / 50));
    std::vector<TimerNode*> expected;
    for (std::size_t i = first; i < nodes.size(); ++i) expected.push_back(nodes[i].get());
    if (round % 2 == 1) {
      // Emptied by removals, back to front: nothing left to pop.
      for (std::size_t i = nodes.size(); i-- > first;) timers.remove(nodes[i].get());
      EXPECT_TRUE(timers.empty());
      EXPECT_EQ(timers.size(), 0u);
    } else {
      expect_pops(timers, expected);
    }
  }
  // Refilled after the last drain, with a heap entry mixed in: still in order.
  const std::size_t first = nodes.size();
  for (int i = 0; i < 2000; ++i) timers.push(node_at(nodes, 10 + i / 100));
  timers.push(node_at(nodes, 12));  // earlier than the run's last: into the heap
  std::vector<TimerNode*> expected;
  for (std::size_t i = first; i < first + 300; ++i) expected.push_back(nodes[i].get());
  expected.push_back(nodes.back().get());  // after the 12s armed before it
  for (std::size_t i = first + 300; i < first + 2000; ++i) expected.push_back(nodes[i].get());
  expect_pops(timers, expected);
}

// A steady arm-and-fire loop allocates nothing once warm, whether its run slides
// through block after block without emptying (a block left behind is kept as the
// spare for the next one ahead) or empties and fills again every time.
TEST(TimerHeap, SteadyRunReusesItsSpareBlock) {
  std::vector<std::unique_ptr<TimerNode>> nodes;  // two halves of 64
  for (int i = 0; i < 128; ++i) node_at(nodes, 0);
  TimerHeap timers;
  int ms = 0;
  auto arm = [&](std::size_t half) {
    for (std::size_t i = half * 64; i < half * 64 + 64; ++i) {
      nodes[i]->when = Clock::time_point(std::chrono::milliseconds(++ms));
      timers.push(nodes[i].get());
    }
  };
  auto fire = [&](std::size_t half) {
    for (std::size_t i = half * 64; i < half * 64 + 64; ++i) ASSERT_EQ(timers.pop(), nodes[i].get());
  };
  // Sliding: one half is armed before the other fires, so the run never empties.
  std::size_t armed = 0;
  arm(armed);
  auto slide = [&](int steps) {
    for (int step = 0; step < steps; ++step) {
      arm(1 - armed);
      fire(armed);
      armed = 1 - armed;
    }
  };
  slide(100);  // warm: the block map, a block and the spare exist
  std::size_t before = counting_new::tls_allocations;
  slide(1000);  // 64k positions: through about 60 blocks
  if (counting_new::kActive) {
    EXPECT_EQ(counting_new::tls_allocations, before);
  }
  fire(armed);
  EXPECT_TRUE(timers.empty());
  // Emptying every time: positions restart in the same block.
  before = counting_new::tls_allocations;
  for (int round = 0; round < 1000; ++round) {
    arm(round % 2);
    fire(round % 2);
  }
  if (counting_new::kActive) {
    EXPECT_EQ(counting_new::tls_allocations, before);
  }
  EXPECT_TRUE(timers.empty());
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
