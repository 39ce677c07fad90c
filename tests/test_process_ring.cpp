// Tests for the process pool's shared-memory rings (lanes/detail/process/shm_ring.hpp):
// the ring itself in one process, then the pool over it — frames around the slot size
// (larger ones fall back to the socket), a worker killed while its ring holds its job,
// concurrency at 1, 2 and 4 workers, cancellation, shutdown(wait=false), and an idle
// pool using no CPU after a burst of round trips (the spins are bounded).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lanes/detail/process/shm_ring.hpp"
#include "lanes/process_pool.hpp"
#include "pool_test_support.hpp"
#include "process_test_jobs.hpp"

namespace {

using lanes::detail::kRingBytes;
using lanes::detail::kRingSlot;
using lanes::detail::RingRecord;
using lanes::detail::RingTake;
using lanes::detail::ShmRing;
using lanes_test::wait_until;

// ---- the functions the workers run -------------------------------------------------------

int ring_square(int x) { return x * x; }
LANES_REGISTER(ring_square);

std::vector<char> ring_echo(const std::vector<char>& in) { return in; }
LANES_REGISTER(ring_echo);

std::string ring_make(std::size_t n) { return std::string(n, 'z'); }
LANES_REGISTER(ring_make);

int ring_pid() { return static_cast<int>(::getpid()); }
LANES_REGISTER(ring_pid);

// ---- the ring alone -------------------------------------------------------------------------

std::string take_frame(ShmRing& ring, RingTake& what) {
  std::string got;
  what = lanes::detail::ring_take(ring, [&](const char* p, std::size_t n) { got.assign(p, n); });
  return got;
}

TEST(ShmRing, RecordsOfEverySizeWrapAroundIntact) {
  auto ring = std::make_unique<ShmRing>();
  std::size_t published = 0;
  // Sizes that do not divide the ring: records land at every offset and wrap many times.
  for (std::size_t i = 0; i < 3000; ++i) {
    const std::size_t size = (i * 7919) % (kRingSlot + 1);
    std::string body(size, '\0');
    for (std::size_t k = 0; k < size; ++k) body[k] = static_cast<char>('a' + (i + k) % 26);
    // Split in two parts, as the pool puts a prefix and argument bytes.
    const std::string_view parts[2] = {std::string_view(body).substr(0, size / 3),
                                       std::string_view(body).substr(size / 3)};
    ASSERT_TRUE(lanes::detail::ring_put(*ring, RingRecord::frame, parts, 2, size)) << i;
    ASSERT_TRUE(lanes::detail::ring_ready(*ring));
    RingTake what{};
    ASSERT_EQ(take_frame(*ring, what), body) << "record " << i << " of " << size << " bytes";
    ASSERT_EQ(what, RingTake::frame);
    EXPECT_FALSE(lanes::detail::ring_ready(*ring));
    published += size;
  }
  EXPECT_GT(ring->head.load(), 10 * kRingBytes) << "the test never wrapped the ring";
  EXPECT_EQ(ring->head.load(), ring->tail.load());
  EXPECT_GT(published, 0u);
}

TEST(ShmRing, SeveralRecordsQueueUntilFullThenComeOutInOrder) {
  auto ring = std::make_unique<ShmRing>();
  int put = 0;
  for (;; ++put) {
    const std::string body(kRingSlot / 2, static_cast<char>('a' + put));
    const std::string_view part = body;
    if (!lanes::detail::ring_put(*ring, RingRecord::frame, &part, 1, body.size())) break;
  }
  EXPECT_GE(put, 3);  // a full ring says so instead of overwriting
  int taken = 0;
  for (;; ++taken) {
    RingTake what{};
    const std::string body = take_frame(*ring, what);
    if (what == RingTake::empty) break;
    ASSERT_EQ(what, RingTake::frame);
    EXPECT_EQ(body, std::string(kRingSlot / 2, static_cast<char>('a' + taken)));
  }
  EXPECT_EQ(taken, put);
}

TEST(ShmRing, AFrameOverTheSlotIsRefused) {
  auto ring = std::make_unique<ShmRing>();
  const std::string body(kRingSlot + 1, 'y');
  const std::string_view part = body;
  EXPECT_FALSE(lanes::detail::ring_put(*ring, RingRecord::frame, &part, 1, body.size()));
  EXPECT_FALSE(lanes::detail::ring_ready(*ring));
}

TEST(ShmRing, ViaSocketRecordIsReportedAsSuch) {
  auto ring = std::make_unique<ShmRing>();
  ASSERT_TRUE(lanes::detail::ring_put(*ring, RingRecord::via_socket, nullptr, 0, 0));
  RingTake what{};
  take_frame(*ring, what);
  EXPECT_EQ(what, RingTake::via_socket);
  take_frame(*ring, what);
  EXPECT_EQ(what, RingTake::empty);
}

TEST(ShmRing, ImpossibleRecordsAreReportedNotRead) {
  auto ring = std::make_unique<ShmRing>();
  // A length past the slot, as a worker that scribbled on the ring could leave.
  const std::uint32_t length = kRingSlot + 64;
  const auto kind = static_cast<std::uint32_t>(RingRecord::frame);
  std::memcpy(ring->data, &length, 4);
  std::memcpy(ring->data + 4, &kind, 4);
  ring->head.store(64);
  RingTake what{};
  take_frame(*ring, what);
  EXPECT_EQ(what, RingTake::corrupt);
  EXPECT_EQ(ring->tail.load(), 0u);  // left as it was
  // A head past what the ring can hold.
  auto other = std::make_unique<ShmRing>();
  other->head.store(kRingBytes + 8);
  take_frame(*other, what);
  EXPECT_EQ(what, RingTake::corrupt);
  // An unknown kind.
  auto third = std::make_unique<ShmRing>();
  const std::uint32_t zero = 0, bad = 77;
  std::memcpy(third->data, &zero, 4);
  std::memcpy(third->data + 4, &bad, 4);
  third->head.store(8);
  take_frame(*third, what);
  EXPECT_EQ(what, RingTake::corrupt);
}

class ShmRingSleep : public lanes_test::WorkerCountTest {};

// The sleep handshake: a consumer that announced sleep is always woken by a record put
// after it, however the two interleave (no record is ever left unseen while it sleeps).
TEST_P(ShmRingSleep, ASleepingConsumerIsWokenByEveryRecord) {
  auto ring = std::make_unique<ShmRing>();
  const int records = 2000 / lanes_test::kScale;
  std::atomic<int> seen{0};  // invariant: records the consumer has taken so far
  std::thread consumer([&] {
    for (int got = 0; got < records;) {
      std::string body;
      RingTake what{};
      body = take_frame(*ring, what);
      if (what == RingTake::frame) {
        EXPECT_EQ(body, std::to_string(got));
        seen.store(++got, std::memory_order_release);
        continue;
      }
      if (lanes::detail::ring_prepare_sleep(*ring)) {
        lanes::detail::ring_futex_wait(*ring);
        ring->waiter.store(0, std::memory_order_relaxed);
      }
    }
  });
  // GetParam() records in flight at most (1, 2 or 4).
  for (int i = 0; i < records; ++i) {
    ASSERT_TRUE(wait_until([&] { return i - seen.load(std::memory_order_acquire) < static_cast<int>(GetParam()); }));
    const std::string body = std::to_string(i);
    const std::string_view part = body;
    ASSERT_TRUE(lanes::detail::ring_put(*ring, RingRecord::frame, &part, 1, body.size()));
    if (lanes::detail::ring_should_wake(*ring)) lanes::detail::ring_futex_wake(*ring);
  }
  consumer.join();
  EXPECT_EQ(seen.load(), records);
}

INSTANTIATE_TEST_SUITE_P(InFlight, ShmRingSleep, ::testing::Values(1, 2, 4),
                         lanes_test::worker_count_name);

// ---- the pool over the rings ----------------------------------------------------------------

class ProcessRingWorkers : public lanes_test::WorkerCountTest {};

// Arguments and results from tiny to several slots, around the slot size in both
// directions: the small ones travel in the rings, the rest through the socket, and
// every one comes back whole.
TEST_P(ProcessRingWorkers, FramesAroundTheSlotSizeBothWays) {
  lanes::ProcessPoolExecutor pool(workers());
  std::vector<std::size_t> sizes = {0, 1, 100, kRingSlot / 2, 3 * kRingSlot, 40 * kRingSlot};
  for (std::size_t s = kRingSlot - 80; s <= kRingSlot + 80; s += 8) sizes.push_back(s);
  std::vector<lanes::Future<std::vector<char>>> echoes;
  std::vector<lanes::Future<std::string>> made;
  for (std::size_t size : sizes) {
    std::vector<char> in(size);
    for (std::size_t k = 0; k < size; ++k) in[k] = static_cast<char>(k * 31 + size);
    echoes.push_back(pool.submit(ring_echo, in));
    made.push_back(pool.submit(ring_make, size));
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const std::vector<char> out = echoes[i].result();
    ASSERT_EQ(out.size(), sizes[i]);
    for (std::size_t k = 0; k < out.size(); ++k)
      ASSERT_EQ(out[k], static_cast<char>(k * 31 + sizes[i])) << sizes[i] << " at " << k;
    EXPECT_EQ(made[i].result(), std::string(sizes[i], 'z'));
  }
}

// Many threads, each doing submit().result() one after the other (the round trip the
// rings are for) mixed with maps and large frames.
TEST_P(ProcessRingWorkers, ManyThreadsRoundTripsAndMaps) {
  lanes::ProcessPoolExecutor pool(workers());
  const int per_thread = 300 / lanes_test::kScale;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};  // invariant: wrong or failed results seen so far
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < per_thread; ++i) {
          if (pool.submit(ring_square, t * 1000 + i).result() != (t * 1000 + i) * (t * 1000 + i))
            failures.fetch_add(1);
          if (i % 50 == 0 && pool.submit(ring_make, 2 * kRingSlot + static_cast<std::size_t>(i)).result().size() !=
                                 2 * kRingSlot + static_cast<std::size_t>(i))
            failures.fetch_add(1);
        }
        std::vector<int> inputs(500);
        for (int i = 0; i < 500; ++i) inputs[static_cast<std::size_t>(i)] = i;
        int i = 0;
        for (int r : pool.map(ring_square, inputs)) {
          if (r != i * i) failures.fetch_add(1);
          ++i;
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// A running job cancelled: its worker is killed; a worker killed while its ring holds
// a request that it never took gets that request run elsewhere.
TEST_P(ProcessRingWorkers, CancelWhileRunningThenMoreRoundTrips) {
  lanes::ProcessPoolExecutor pool(workers());
  auto f = pool.submit(block_forever, 0);
  ASSERT_TRUE(wait_until([&] { return f.running(); }));
  EXPECT_TRUE(f.cancel());
  EXPECT_THROW(f.result(), lanes::CancelledError);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(pool.submit(ring_square, i).result(), i * i);
}

TEST_P(ProcessRingWorkers, ShutdownWithoutWaitStillRunsWhatWasQueued) {
  std::vector<lanes::Future<int>> futures;
  {
    lanes::ProcessPoolExecutor pool(workers());
    for (int i = 0; i < 100; ++i) futures.push_back(pool.submit(ring_square, i));
    pool.shutdown(false);
    EXPECT_THROW(pool.submit(ring_square, 1), lanes::RuntimeError);
  }  // the destructor waits
  for (int i = 0; i < 100; ++i) EXPECT_EQ(futures[static_cast<std::size_t>(i)].result(), i * i);
}

INSTANTIATE_TEST_SUITE_P(Workers, ProcessRingWorkers, ::testing::Values(1, 2, 4),
                         lanes_test::worker_count_name);

/// The state letter of process `pid` (R, S, T, Z...) from /proc/<pid>/stat.
char process_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

// The worker is stopped (SIGSTOP) so that its request ring holds the job it never
// takes; killed then, the job runs on a replacement instead of failing.
TEST(ProcessRing, WorkerKilledWhileItsRingHoldsTheJob) {
  lanes::ProcessPoolExecutor pool(1);
  const int first = pool.submit(ring_pid).result();
  ASSERT_EQ(::kill(first, SIGSTOP), 0);
  ASSERT_TRUE(wait_until([&] { return process_state(first) == 'T'; }));
  auto f = pool.submit(ring_square, 12);  // into the stopped worker's ring
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  EXPECT_EQ(f.result(), 144);
  EXPECT_NE(pool.submit(ring_pid).result(), first);
}

// Killed after it took the job: the job fails with WorkerCrashedError, as over the
// socket, and the pool goes on.
TEST(ProcessRing, WorkerKilledWhileRunningFailsItsJob) {
  lanes::ProcessPoolExecutor pool(1);
  const int first = pool.submit(ring_pid).result();
  const std::string marker = marker_path();
  auto f = pool.submit(mark_then_block, marker);
  wait_marked(marker);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  try {
    f.result();
    ADD_FAILURE() << "the job of a killed worker succeeded";
  } catch (const lanes::WorkerCrashedError& e) {
    EXPECT_EQ(e.signal(), SIGKILL) << e.what();
  }
  EXPECT_EQ(pool.submit(ring_square, 5).result(), 25);
}

/// CPU seconds (user + system) process `pid` has used so far.
double cpu_s(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Round trips one after the other make both the worker and the supervisor spin
// between calls; the spins are bounded, so right after the burst the pool sleeps:
// over a 2 s window it uses no measurable CPU (a generous bound, not a speed check).
TEST(ProcessRing, IdleAfterABurstOfRoundTripsUsesNoCpu) {
  lanes::ProcessPoolExecutor pool(2);
  for (int i = 0; i < 2000 / lanes_test::kScale; ++i) ASSERT_EQ(pool.submit(ring_square, i).result(), i * i);
  const std::vector<pid_t> pids = pool.worker_pids();
  ASSERT_FALSE(pids.empty());
  auto total = [&] {
    double s = cpu_s(::getpid());
    for (pid_t pid : pids) s += cpu_s(pid);
    return s;
  };
  const double before = total();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the window measured, no sync
  const double used = total() - before;
  EXPECT_LT(used, 0.05) << "an idle pool used " << used << " s of CPU in 2 s";
  for (pid_t pid : pids) EXPECT_EQ(process_state(pid), 'S') << "worker " << pid;
}

}  // namespace
