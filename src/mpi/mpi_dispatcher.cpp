// The root's progress thread, its sending half: the queue, the loop that sleeps when idle,
// and call frames to the worker ranks (mpi_answers.cpp takes the answers back).
#include "mpi_dispatcher.hpp"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "lanes/errors.hpp"
#include "mpi_backoff.hpp"

namespace lanes::detail {
namespace {
constexpr double kTargetFrameNs = 2e6;         // a merged map frame should take ~2 ms
constexpr std::size_t kCopySmallFrame = 1 << 14;  // smaller calls: copied, sent contiguous
constexpr std::size_t kDirectSegment = 1 << 16;   // larger arguments: sent where they lie
}  // namespace

std::shared_ptr<ProcessPoolCore> make_mpi_core(MPIPoolConfig config) {
  auto core = std::make_shared<MPIDispatcher>(std::move(config), nullptr);
  core->start();
  return core;
}

MPIDispatcher::MPIDispatcher(MPIPoolConfig config, std::function<void()> on_finished)
    : config_(std::move(config)), on_finished_(std::move(on_finished)) {
  for (int rank : config_.workers) workers_.push_back(MPIWorkerRank{rank, 0, false});
}

MPIDispatcher::~MPIDispatcher() { shutdown(true, false); }

void MPIDispatcher::start() { thread_ = std::thread([this] { run(); }); }

void MPIDispatcher::submit(ProcessJob* const* jobs, std::size_t n) {
  Lock lock(mutex_);
  if (stopping_) throw RuntimeError("MPIPoolExecutor: cannot schedule new futures after shutdown");
  if (!broken_.empty()) throw BrokenExecutor(broken_);
  queue_.insert(queue_.end(), jobs, jobs + n);
  queued_.store(true, std::memory_order_release);
  if (sleeping_) {
    sleeping_ = false;
    wake_.notify_one();
  }
}

void MPIDispatcher::shutdown(bool wait, bool cancel_futures) {
  std::vector<ProcessJob*> cancelled;
  {
    Lock lock(mutex_);
    stopping_ = true;
    if (cancel_futures) {
      cancelled.assign(queue_.begin(), queue_.end());
      queue_.clear();
      queued_.store(false, std::memory_order_relaxed);
    }
    sleeping_ = false;
    wake_.notify_one();
  }
  for (ProcessJob* job : cancelled) {
    job->cancel_pending();
    job->drop();
  }
  if (!wait) return;
  std::lock_guard join(join_mutex_);
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id())
      throw RuntimeError(
          "MPIPoolExecutor::shutdown(wait=true) called from a done callback on the pool's own "
          "progress thread would wait for itself: use shutdown(false) there");
    thread_.join();
  }
}

// ---- the progress thread ----------------------------------------------------------------

void MPIDispatcher::run() noexcept {
  try {
    loop();
  } catch (const std::exception& e) {
    break_pool(std::string("its progress thread failed: ") + e.what());
    fail_all_frames(std::make_exception_ptr(BrokenExecutor(broken_)));
  } catch (...) {
    break_pool("its progress thread failed");
    fail_all_frames(std::make_exception_ptr(BrokenExecutor(broken_)));
  }
  if (config_.owns_workers) stop_workers();
  if (on_finished_) on_finished_();
}

void MPIDispatcher::loop() {
  if (config_.initializer) {
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      auto frame = std::make_unique<MPIFrame>();
      frame->worker = i;
      send_frame(std::move(frame), true);
    }
  } else {
    for (auto& w : workers_) w.ready = true;
  }
  Backoff backoff;
  for (;;) {
    bool active = poll_answers();
    if (queued_.load(std::memory_order_acquire)) active |= dispatch();
    if (timed_frames_ > 0) active |= check_deadlines();
    if (active) {
      backoff.reset();
      continue;
    }
    // A large message under way needs this side's progress for every fragment: no sleep.
    const std::uint64_t ns = receives_.empty() && large_sends_.empty() ? backoff.next() : 0;
    if (ns == 0) {  // spinning, without the mutex: a next call or answer is likely close
      ::sched_yield();  // but a thread woken on this core (a waiting caller) runs first
      continue;
    }
    Lock lock(mutex_);
    const bool in_flight = !frames_.empty() || !receives_.empty();
    if (stopping_ && !in_flight && queue_.empty()) return;
    sleeping_ = true;       // submit() and shutdown() clear it and notify
    if (!in_flight && queue_.empty()) {
      wake_.wait(lock, [&] { return !sleeping_; });  // idle: no CPU at all
    } else {
      wake_.wait_for(lock, std::chrono::nanoseconds(ns), [&] { return !sleeping_; });
    }
    sleeping_ = false;
  }
}

std::size_t MPIDispatcher::units_for(const ProcessJob& first, std::size_t queued) const noexcept {
  if (!first.group || first.group->fixed_units > 0 || first.group->item_ns <= 0) return 1;
  const double unit_ns = first.group->item_ns * static_cast<double>(first.items);
  auto want = static_cast<std::size_t>(kTargetFrameNs / std::max(unit_ns, 1.0));
  // Keep the tail balanced: never more than a share of what is left.
  const std::size_t share = (queued + 1) / (2 * workers_.size() * config_.in_flight_per_worker);
  return std::max<std::size_t>(1, std::min(want, share));
}

bool MPIDispatcher::dispatch() {
  bool active = false;
  for (;;) {
    // The least loaded ready worker with room; a call with a timeout waits for an idle
    // one so that its deadline, counted from the send, is counted from its start.
    std::size_t best = workers_.size();
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      const auto& w = workers_[i];
      if (!w.ready || w.in_flight >= config_.in_flight_per_worker) continue;
      if (best == workers_.size() || w.in_flight < workers_[best].in_flight) best = i;
    }
    if (best == workers_.size()) return active;
    auto frame = std::make_unique<MPIFrame>();
    {
      Lock lock(mutex_);
      if (!broken_.empty()) return active;
      ProcessJob* first = nullptr;
      while (!queue_.empty() && !first) {
        ProcessJob* job = queue_.front();
        if (job->items == 0 && job->timeout.count() > 0 && workers_[best].in_flight > 0)
          return active;  // wait for an idle rank
        queue_.pop_front();
        if (job->start())
          first = job;
        else
          job->drop();  // cancelled before it started
      }
      if (!first) {
        queued_.store(false, std::memory_order_relaxed);
        return active;
      }
      frame->jobs.push_back(first);
      const std::size_t units = units_for(*first, queue_.size());
      std::size_t bytes = first->args.size();
      while (frame->jobs.size() < units && !queue_.empty() && queue_.front()->group == first->group &&
             bytes + queue_.front()->args.size() < kMaxFramePayload / 2) {
        ProcessJob* job = queue_.front();
        queue_.pop_front();
        if (!job->start()) {
          job->drop();
          continue;
        }
        bytes += job->args.size();
        frame->jobs.push_back(job);
      }
      queued_.store(!queue_.empty(), std::memory_order_relaxed);
    }
    frame->worker = best;
    send_frame(std::move(frame), false);
    active = true;
  }
}

void MPIDispatcher::send_frame(std::unique_ptr<MPIFrame> frame, bool initializer) {
  MPIFrame& f = *frame;
  f.id = next_frame_id_++;
  const std::size_t start = begin_frame(f.prefix, FrameKind::call, f.id);
  WireWriter out(f.prefix);
  std::vector<std::string_view> segments;
  std::size_t args_bytes = 0;
  if (initializer) {
    write_call_prefix(out, CallMode::single, config_.initializer->name, config_.initializer->signature);
    segments.push_back(config_.initializer_args);
  } else {
    const ProcessJob& first = *f.jobs.front();
    const bool batch = first.items > 0;
    write_call_prefix(out, batch ? CallMode::batch : CallMode::single, first.fn->name,
                      first.fn->signature);
    std::uint32_t items = 0;
    for (ProcessJob* j : f.jobs) {
      items += j->items;
      segments.push_back(j->args.view());
    }
    if (batch) out.pod(items);
    if (first.items == 0 && first.timeout.count() > 0) {
      f.deadline_ns = monotonic_ns() + static_cast<std::uint64_t>(first.timeout.count());
      ++timed_frames_;
    }
  }
  for (auto s : segments) args_bytes += s.size();
  const std::size_t payload = f.prefix.size() - start - kFrameHeaderSize + args_bytes;
  if (payload > kMaxFramePayload) {
    auto error = std::make_exception_ptr(WireFormatError(
        "a task's encoded arguments take " + std::to_string(payload) +
        " bytes, more than the frame limit of " + std::to_string(kMaxFramePayload) +
        ": pass a file name instead of the data"));
    if (f.deadline_ns) --timed_frames_;
    for (ProcessJob* j : f.jobs) {
      j->fail(error);
      j->drop();
    }
    return;
  }
  const auto length = static_cast<std::uint32_t>(payload);
  std::memcpy(f.prefix.data() + start + 4, &length, sizeof length);
  const int rank = workers_[f.worker].rank;
  if (payload + kFrameHeaderSize <= kCopySmallFrame) {
    // Small: one message, copied together.
    for (auto seg : segments) f.prefix.append(seg.data(), seg.size());
    f.sends.resize(1);
    check_mpi(MPI_Isend(f.prefix.data(), static_cast<int>(f.prefix.size()), MPI_BYTE, rank,
                        kMPITagCall, config_.comm, &f.sends[0]),
              "MPI_Isend");
    ++workers_[f.worker].in_flight;
    frames_.emplace(f.id, std::move(frame));
    return;
  }
  // Large: the frame goes as several messages in order (MPI keeps their order), each
  // contiguous so that Open MPI can copy it in one go (single-copy shared memory, or
  // RDMA) instead of packing a non-contiguous datatype fragment by fragment. A big
  // argument buffer is sent where it lies; runs of small ones are gathered first. The
  // worker reassembles the frame by its length.
  std::vector<std::string_view> pieces;
  ByteBuffer* gather = &f.prefix;
  std::size_t gathered_from = 0;  // where the pending gathered run starts in *gather
  auto flush = [&] {
    if (gather->size() > gathered_from) pieces.push_back(gather->view().substr(gathered_from));
  };
  for (auto seg : segments) {
    if (seg.size() < kDirectSegment) {
      gather->append(seg.data(), seg.size());
      continue;
    }
    flush();
    pieces.push_back(seg);
    gather = &f.copies.emplace_back();
    gathered_from = 0;
  }
  flush();
  // The views into copies stay valid: no ByteBuffer moves from here on (emplace_back
  // above may have moved earlier ones, but a move keeps the heap block).
  f.sends.resize(pieces.size());
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    check_mpi(MPI_Isend(pieces[i].data(), static_cast<int>(pieces[i].size()), MPI_BYTE, rank,
                        kMPITagCall, config_.comm, &f.sends[i]),
              "MPI_Isend");
  }
  ++workers_[f.worker].in_flight;
  large_sends_.push_back(f.id);
  frames_.emplace(f.id, std::move(frame));
}

}  // namespace lanes::detail
