// The process pool's supervisor: queue, dispatch, and the loop (on the io subsystem's
// Reactor) that reads answers, reaps workers and enforces timeouts. Spawning, answers,
// exits, crashes, kills and timeouts of single workers: worker_lifecycle.cpp.
#include "supervisor.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "lanes/detail/io/syscall.hpp"
#include "lanes/detail/threads/parker.hpp"
#include "lanes/errors.hpp"
#include "worker_spawn.hpp"

namespace lanes::detail {

std::shared_ptr<ProcessPoolCore> make_supervisor(ProcessPoolConfig config) {
  return std::make_shared<ProcessSupervisor>(std::move(config));
}

namespace {
constexpr double kTargetFrameNs = 2e6;  // a merged map frame should take ~2 ms
/// How long the supervisor watches the answer rings after a pass with ring traffic
/// before it sleeps in the reactor: a caller woken by a completion typically submits
/// again within microseconds, and an answer seen while spinning needs no wake-up of
/// this thread. Bounded, and only after traffic: an idle pool uses no CPU.
constexpr auto kAnswerSpin = std::chrono::microseconds(50);
}  // namespace

ProcessSupervisor::ProcessSupervisor(ProcessPoolConfig config) : config_(std::move(config)) {
  wake_watch_.on_ready = &ProcessSupervisor::on_watch;
  wake_watch_.owner = this;
  wake_watch_.source = ProcessWatcher::Source::wake;
  doorbell_watch_ = wake_watch_;
  doorbell_watch_.source = ProcessWatcher::Source::doorbell;
}

ProcessSupervisor::~ProcessSupervisor() { shutdown(true, false); }

void ProcessSupervisor::start_locked() {
  if (started_) return;
  std::unique_ptr<Reactor> reactor = Reactor::create();
  const int event = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event < 0) throw std::system_error(errno, std::generic_category(), "ProcessPoolExecutor: eventfd");
  const int doorbell = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (doorbell < 0) {
    const int err = errno;
    ::close(event);
    throw std::system_error(err, std::generic_category(), "ProcessPoolExecutor: eventfd");
  }
  try {
    reactor->add(event, kReadable, &wake_watch_);
    reactor->add(doorbell, kReadable, &doorbell_watch_);
    reactor_ = std::move(reactor);
    event_ = event;
    doorbell_ = doorbell;
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    reactor_.reset();
    event_ = -1;
    doorbell_ = -1;
    ::close(event);
    ::close(doorbell);
    throw;
  }
  started_ = true;
}

void ProcessSupervisor::wake_locked() noexcept {
  if (wake_pending_ || event_ < 0) return;
  wake_pending_ = true;
  poke_.store(true, std::memory_order_relaxed);
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(event_, &one, sizeof one);
}

void ProcessSupervisor::on_watch(IoWatcher* self, std::uint32_t events) noexcept {
  auto* watch = static_cast<ProcessWatcher*>(self);
  ProcessSupervisor& s = *watch->owner;
  try {
    s.ready_.push_back(ProcessEvent{watch->source, watch->worker, events});
  } catch (...) {
    s.ready_overflow_ = true;  // no memory to note it: every worker is looked at
  }
}

void ProcessSupervisor::watch_locked(ProcessWorker& w) {
  w.socket_watch.on_ready = &ProcessSupervisor::on_watch;
  w.socket_watch.owner = this;
  w.socket_watch.worker = w.id;
  w.socket_watch.source = ProcessWatcher::Source::socket;
  w.exit_watch = w.socket_watch;
  w.exit_watch.source = ProcessWatcher::Source::exit;
  reactor_->add(w.socket, kReadable, &w.socket_watch);
  w.polling_out = false;
  if (w.pidfd >= 0) reactor_->add(w.pidfd, kReadable, &w.exit_watch);
}

void ProcessSupervisor::update_interest_locked(ProcessWorker& w) {
  // A frame that did not fit in the socket at once is flushed as it drains. Only the
  // supervisor thread changes what the reactor watches (a submitting thread that left
  // a frame half-sent wakes it).
  const bool want_out = w.socket >= 0 && w.segment < w.segments.size();
  if (want_out == w.polling_out || w.socket < 0) return;
  reactor_->modify(w.socket, kReadable | (want_out ? kWritable : 0u), &w.socket_watch);
  w.polling_out = want_out;
}

void ProcessSupervisor::submit(ProcessJob* const* jobs, std::size_t n) {
  Lock lock(mutex_);
  if (stopping_)
    throw RuntimeError("ProcessPoolExecutor: cannot schedule new futures after shutdown");
  if (!broken_.empty()) throw BrokenProcessPool(broken_);
  start_locked();
  queue_.insert(queue_.end(), jobs, jobs + n);
  dispatch_locked();
  // Work left and room for another worker: only the supervisor thread spawns (a
  // worker's PR_SET_PDEATHSIG follows the thread that started it).
  if (!queue_.empty() && live_ < config_.max_workers) wake_locked();
}

void ProcessSupervisor::notify_cancel() noexcept {
  std::lock_guard lock(mutex_);
  cancel_scan_ = true;
  wake_locked();
}

std::vector<pid_t> ProcessSupervisor::worker_pids() const {
  std::lock_guard lock(mutex_);
  std::vector<pid_t> pids;
  for (const auto& [id, w] : workers_)
    if (w->state != ProcessWorker::State::dying) pids.push_back(w->pid);
  return pids;
}

void ProcessSupervisor::shutdown(bool wait, bool cancel_futures) {
  std::vector<ProcessJob*> cancelled;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (cancel_futures) {
      // A job queued again after its worker died has started: it is not cancelled.
      std::deque<ProcessJob*> kept;
      for (ProcessJob* job : queue_) (job->resends > 0 ? kept.push_back(job) : cancelled.push_back(job));
      queue_.swap(kept);
    }
    wake_locked();
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
          "ProcessPoolExecutor::shutdown(wait=true) called from a done callback on the pool's "
          "own supervisor thread would wait for itself: use shutdown(false) there");
    thread_.join();
  }
}

// ---- dispatch ---------------------------------------------------------------------------

std::size_t ProcessSupervisor::units_for(const ProcessJob& first) const noexcept {
  if (!first.group || first.group->fixed_units > 0) return 1;
  if (first.group->item_ns <= 0) return 1;  // nothing measured yet: one unit
  const double unit_ns = first.group->item_ns * static_cast<double>(first.items);
  auto want = static_cast<std::size_t>(kTargetFrameNs / std::max(unit_ns, 1.0));
  // Keep the tail balanced: never take more than a share of what is left.
  const std::size_t share = (queue_.size() + 1) / (2 * config_.max_workers);
  return std::max<std::size_t>(1, std::min(want, share));
}

bool ProcessSupervisor::take_locked(ProcessJob* job) noexcept {
  // A job sent again has started already: it goes unless cancelled meanwhile (a
  // cancelled running job is complete; the pool only lets go of it).
  if (job->resends > 0 ? !job->abandoned() : job->start()) return true;
  job->drop();  // cancelled before it started
  return false;
}

void ProcessSupervisor::dispatch_locked() {
  while (!queue_.empty() && !idle_.empty()) {
    ProcessJob* first = nullptr;
    while (!queue_.empty() && !first) {
      ProcessJob* job = queue_.front();
      queue_.pop_front();
      if (take_locked(job)) first = job;
    }
    if (!first) break;
    std::vector<ProcessJob*>& jobs = frame_jobs_;  // reused: no allocation per task
    jobs.assign(1, first);
    const std::size_t units = units_for(*first);
    // A merged frame stays far below the frame limit, and its item count within the
    // 32 bits it travels in (each unit alone was checked at submit).
    std::size_t bytes = first->args.size();
    std::size_t items = first->items;
    while (jobs.size() < units && !queue_.empty() && queue_.front()->group == first->group &&
           bytes + queue_.front()->args.size() < kMaxFramePayload / 2 &&
           items + queue_.front()->items <= UINT32_MAX) {
      ProcessJob* job = queue_.front();
      queue_.pop_front();
      if (!take_locked(job)) continue;
      bytes += job->args.size();
      items += job->items;
      jobs.push_back(job);
    }
    ProcessWorker* w = idle_.back();
    idle_.pop_back();
    send_frame_locked(*w, jobs, false);
  }
}

void ProcessSupervisor::send_frame_locked(ProcessWorker& w, const std::vector<ProcessJob*>& jobs,
                                   bool initializer) {
  w.frame_id = next_frame_id_++;
  w.prefix.clear();
  const std::size_t start = begin_frame(w.prefix, FrameKind::call, w.frame_id);
  WireWriter out(w.prefix);
  std::size_t args_bytes = 0;
  if (initializer) {
    write_call_prefix(out, CallMode::single, config_.initializer->name,
                      config_.initializer->signature);
    args_bytes = config_.initializer_args.size();
  } else {
    const ProcessJob& first = *jobs.front();
    const bool batch = first.items > 0;
    write_call_prefix(out, batch ? CallMode::batch : CallMode::single, first.fn->name,
                      first.fn->signature);
    std::size_t items = 0;
    for (ProcessJob* j : jobs) {
      items += j->items;
      args_bytes += j->args.size();
    }
    if (batch) out.pod(static_cast<std::uint32_t>(items));  // ≤ UINT32_MAX: dispatch_locked
  }
  // The length covers the prefix and the argument bytes that follow it unchanged.
  // Submit checked each job against the limit and merging stays under half of it; a
  // frame over it anyway fails its jobs rather than send a length that wrapped.
  const std::size_t payload = w.prefix.size() - start - kFrameHeaderSize + args_bytes;
  if (payload > kMaxFramePayload && !initializer) {
    w.inflight.assign(jobs.begin(), jobs.end());
    fail_inflight_locked(w, std::make_exception_ptr(WireFormatError(
                                "a call frame of " + std::to_string(payload) +
                                " bytes exceeds the frame limit; nothing was sent")));
    make_idle_locked(w);
    wake_locked();  // the supervisor thread completes them
    return;
  }
  const auto length = static_cast<std::uint32_t>(payload);
  std::memcpy(w.prefix.data() + start + 4, &length, sizeof length);
  w.segments.clear();
  w.segments.push_back(w.prefix.view());
  if (initializer) {
    w.segments.push_back(config_.initializer_args);
  } else {
    for (ProcessJob* j : jobs) w.segments.push_back(j->args.view());
  }
  w.segment = 0;
  w.segment_offset = 0;
  w.inflight.assign(jobs.begin(), jobs.end());
  if (initializer) {
    w.state = ProcessWorker::State::initializing;
  } else {
    w.state = ProcessWorker::State::busy;
    w.timeout = w.inflight.front()->items == 0 ? w.inflight.front()->timeout
                                               : std::chrono::nanoseconds(0);
    if (w.timeout.count() > 0) {
      w.deadline = ProcessClock::now() + w.timeout;
      if (w.deadline < sleep_until_) wake_locked();
    }
  }
  put_frame_locked(w);
}

void ProcessSupervisor::put_frame_locked(ProcessWorker& w) {
  ShmRing& ring = w.shared.get()->requests;
  std::size_t size = 0;
  for (std::string_view part : w.segments) size += part.size();
  const bool fits = size <= kRingSlot;
  bool put = false;
  if (fits) {
    put = ring_put(ring, RingRecord::frame, w.segments.data(), w.segments.size(), size);
  } else {
    // The bytes go first and the record that announces them after: the worker reads the
    // socket only once it sees the record, and then finds the frame (or as much as fit)
    // there instead of blocking in read() for it (one wake-up fewer per large frame).
    flush_locked(w);
    put = ring_put(ring, RingRecord::via_socket, nullptr, 0, 0);
  }
  if (!put) {
    // One frame in flight per worker leaves the ring empty at every send, so this is
    // a broken worker (it never took the last one): kill it; its exit (seen by the
    // supervisor thread, which alone touches the reactor) retires it.
    w.segments.clear();
    ::kill(w.pid, SIGKILL);
    w.killed = true;
    fail_inflight_locked(w, std::make_exception_ptr(WireFormatError(
                                "the request ring of worker " + std::to_string(w.pid) +
                                " was full; the worker was killed and replaced")));
    w.deadline = ProcessClock::time_point::max();
    wake_locked();  // the supervisor thread completes the jobs
    return;
  }
  if (ring_should_wake(ring)) ring_futex_wake(ring);
  if (fits) {
    // The answer will likely come through the ring too: spin for it after this pass,
    // and have a sleeping supervisor wake now (see asleep_). Not for a frame through
    // the socket: its answer is large too, comes through the socket, which the spin
    // does not watch, and would wait for the spin's end.
    ring_traffic_ = true;
    if (asleep_.load(std::memory_order_relaxed)) wake_locked();
    w.segments.clear();
    if (w.prefix.capacity() > 4096) w.prefix.release_memory();
  }
}

void ProcessSupervisor::flush_locked(ProcessWorker& w) noexcept {
  while (w.socket >= 0 && w.segment < w.segments.size()) {
    iovec iov[16];
    int n = 0;
    for (std::size_t s = w.segment; s < w.segments.size() && n < 16; ++s, ++n) {
      const std::size_t skip = s == w.segment ? w.segment_offset : 0;
      iov[n].iov_base = const_cast<char*>(w.segments[s].data() + skip);
      iov[n].iov_len = w.segments[s].size() - skip;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(n);
    const ssize_t sent =
        retry_eintr([&] { return ::sendmsg(w.socket, &msg, MSG_NOSIGNAL | MSG_DONTWAIT); });
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      // The worker is gone: its EOF and exit come through epoll and fail its jobs.
      w.segment = w.segments.size();
      break;
    }
    auto left = static_cast<std::size_t>(sent);
    while (left > 0) {
      const std::size_t rest = w.segments[w.segment].size() - w.segment_offset;
      if (left >= rest) {
        left -= rest;
        ++w.segment;
        w.segment_offset = 0;
      } else {
        w.segment_offset += left;
        left = 0;
      }
    }
    while (w.segment < w.segments.size() && w.segment_offset == w.segments[w.segment].size()) {
      ++w.segment;
      w.segment_offset = 0;
    }
  }
  if (w.socket >= 0 && w.segment < w.segments.size()) {
    if (!w.polling_out) wake_locked();  // the supervisor watches for room to write
    return;
  }
  w.segments.clear();
  if (w.prefix.capacity() > 4096) w.prefix.release_memory();
}

// ---- the supervisor thread ----------------------------------------------------------------

bool ProcessSupervisor::spin_for_answers() noexcept {
  const auto until = ProcessClock::now() + kAnswerSpin;
  for (unsigned i = 1;; ++i) {
    for (const ShmRing* ring : answer_rings_)
      if (ring_ready(*ring)) return true;
    if (poke_.load(std::memory_order_relaxed)) return true;  // a submit or shutdown wants us
    cpu_relax();
    // Yield often: with the worker and the supervisor both spinning, the caller just
    // woken by a completion would otherwise wait for a core (2 cores: seen as 200 µs
    // round trips without it).
    if (i % 8 == 0) ::sched_yield();
    if (i % 64 == 0 && ProcessClock::now() >= until) return false;
  }
}

bool ProcessSupervisor::arm_doorbell() noexcept {
  // Each ring's waiter goes up before we look at it for the last time: a worker that
  // publishes after our look sees it raised and rings (ShmRing's handshake).
  bool empty = true;
  for (ShmRing* ring : answer_rings_)
    if (!ring_prepare_sleep(*ring)) empty = false;
  return empty;
}

void ProcessSupervisor::run() noexcept {
  Lock lock(mutex_);
  try {
    loop(lock);
  } catch (const std::exception& e) {
    break_pool_locked(std::string("its supervisor thread failed: ") + e.what());
  } catch (...) {
    break_pool_locked("its supervisor thread failed");
  }
  // After a normal end no worker is left; after a failure, kill and reap the rest.
  for (auto& [id, w] : workers_) {
    try {
      fail_inflight_locked(*w, std::make_exception_ptr(BrokenProcessPool(broken_)));
    } catch (...) {
    }
    close_socket_locked(*w);
    ::kill(w->pid, SIGKILL);
    int status = 0;
    ::waitpid(w->pid, &status, 0);
    if (w->pidfd >= 0) {
      reactor_->remove(w->pidfd);
      ::close(w->pidfd);
    }
  }
  // Completions noted in the last pass may still view the workers' buffers: the
  // workers are freed only after those ran.
  std::vector<std::unique_ptr<ProcessWorker>> ended;
  for (auto& [id, w] : workers_) ended.push_back(std::move(w));
  workers_.clear();
  idle_.clear();
  std::vector<ProcessCompletion> work;
  std::vector<ProcessJob*> jobs;
  work.swap(completions_);
  jobs.swap(done_jobs_);
  reactor_.reset();
  ::close(std::exchange(event_, -1));
  ::close(std::exchange(doorbell_, -1));
  finished_ = true;
  lock.unlock();
  complete(work, jobs);
}

std::chrono::nanoseconds ProcessSupervisor::poll_timeout_locked(ProcessClock::time_point now) {
  auto until = ProcessClock::time_point::max();
  for (const auto& [id, w] : workers_) {
    until = std::min(until, w->deadline);
    until = std::min(until, w->exit_deadline);
  }
  sleep_until_ = until;
  if (until == ProcessClock::time_point::max()) return std::chrono::nanoseconds(-1);  // no limit
  if (until <= now) return std::chrono::nanoseconds(0);
  return std::min<std::chrono::nanoseconds>(until - now, std::chrono::seconds(60));
}

void ProcessSupervisor::handle_locked(const ProcessEvent& e) {
  if (e.source == ProcessWatcher::Source::wake) {
    std::uint64_t count = 0;
    [[maybe_unused]] auto r = ::read(event_, &count, sizeof count);
    wake_pending_ = false;
    poke_.store(false, std::memory_order_relaxed);
    return;
  }
  if (e.source == ProcessWatcher::Source::doorbell) {
    std::uint64_t count = 0;
    [[maybe_unused]] auto r = ::read(doorbell_, &count, sizeof count);
    return;  // the pass reads every answer ring
  }
  auto it = workers_.find(e.worker);
  if (it == workers_.end()) return;  // freed earlier in this batch
  ProcessWorker& w = *it->second;
  if (e.source == ProcessWatcher::Source::exit) {
    on_exit_locked(w);
    return;
  }
  if (e.events & kWritable) flush_locked(w);
  if (e.events & (kReadable | kHangup | kError)) read_locked(w);
}

void ProcessSupervisor::loop(Lock& lock) {
  std::vector<ProcessCompletion> work;
  std::vector<ProcessJob*> jobs;
  std::vector<ProcessEvent> events;
  for (;;) {
    if (broken_.empty()) spawn_locked();
    dispatch_locked();
    if (stopping_ && queue_.empty()) {
      bool busy = false;
      for (auto& [id, w] : workers_) {
        if (w->state == ProcessWorker::State::busy || w->state == ProcessWorker::State::initializing)
          busy = true;
      }
      if (!busy) {
        for (auto& [id, w] : workers_) retire_locked(*w);  // EOF: each worker exits
        if (workers_.empty()) return;
      }
    }
    for (auto& [id, w] : workers_) update_interest_locked(*w);
    poll_timeout_locked(ProcessClock::now());
    const ProcessClock::time_point until = sleep_until_;
    answer_rings_.clear();
    for (auto& [id, w] : workers_) answer_rings_.push_back(&w->shared.get()->answers);
    const bool spin = std::exchange(ring_traffic_, false);
    // Room for one event per watched descriptor: on_watch then never allocates.
    ready_.clear();
    ready_.reserve(2 * workers_.size() + 1);
    work.swap(completions_);
    jobs.swap(done_jobs_);
    lock.unlock();
    // The futures complete with the mutex released and right before the poll, so
    // that a thread woken by one (which typically submits again at once) finds the
    // mutex free: taking it back here first would often make that thread sleep on
    // it and cost one more wake-up per round trip. The views in `work` point into
    // the answering workers' buffers, which stay as they are until the next pass
    // (answered_this_pass) and workers freed meanwhile wait in graveyard_.
    if (!work.empty()) {
      complete(work, jobs);
      work.clear();
      jobs.clear();
    }
    std::chrono::nanoseconds timeout(-1);  // no limit
    if (until != ProcessClock::time_point::max()) {
      const auto now = ProcessClock::now();
      timeout = until <= now ? std::chrono::nanoseconds(0)
                             : std::min<std::chrono::nanoseconds>(until - now, std::chrono::seconds(60));
    }
    // An answer found while spinning, or one that came while the doorbell was being
    // armed: look without sleeping (the reactor may hold exits and wake-ups too).
    if ((spin && spin_for_answers()) || !arm_doorbell()) timeout = std::chrono::nanoseconds(0);
    if (timeout.count() != 0) asleep_.store(true, std::memory_order_relaxed);
    reactor_->poll(timeout);
    asleep_.store(false, std::memory_order_relaxed);
    // Awake: workers need not ring any more (saves them the write).
    for (ShmRing* ring : answer_rings_) ring->waiter.store(0, std::memory_order_relaxed);
    lock.lock();
    for (auto& [id, w] : workers_) w->answered_this_pass = false;
    graveyard_.clear();
    events.swap(ready_);
    if (std::exchange(ready_overflow_, false)) {
      // Some event went unnoted: look at every worker (reads and reaps do not block).
      events.push_back(ProcessEvent{ProcessWatcher::Source::wake, 0, kReadable});
      for (auto& [id, w] : workers_) {
        events.push_back(ProcessEvent{ProcessWatcher::Source::socket, id, kReadable | kWritable});
        if (w->pidfd >= 0) events.push_back(ProcessEvent{ProcessWatcher::Source::exit, id, kReadable});
      }
    }
    for (const ProcessEvent& e : events) handle_locked(e);
    events.clear();
    for (auto& [id, w] : workers_) read_ring_locked(*w);
    kill_abandoned_locked();
    check_deadlines_locked(ProcessClock::now());
    // A worker that answered goes back to work before its futures complete: the
    // next frame does not wait for the callbacks and wake-ups of the last one.
    dispatch_locked();
  }
}

}  // namespace lanes::detail
