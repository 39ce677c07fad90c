// The supervisor's worker life cycle: spawning, answers, exits, crashes, kills and
// timeouts, and completing the futures once the mutex is released.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

#include "lanes/detail/io/syscall.hpp"
#include "lanes/errors.hpp"
#include "supervisor.hpp"
#include "worker_spawn.hpp"

namespace lanes::detail {
namespace {

constexpr auto kExitGrace = std::chrono::seconds(5);
/// How often a job is sent again after workers died before taking it in: enough for a
/// worker killed from outside while idle, not an endless loop when every fresh worker
/// dies at start-up.
constexpr std::uint8_t kMaxResends = 3;

std::string millis(std::chrono::nanoseconds d) {
  const double ms = static_cast<double>(d.count()) / 1e6;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g ms", ms);
  return buf;
}

const char* function_of(const ProcessWorker& w, const ProcessPoolConfig& config) {
  if (!w.inflight.empty()) return w.inflight.front()->fn->name;
  return config.initializer ? config.initializer->name : "?";
}

/// The error for a call a worker refused because it has no such function. When the
/// caller's entry lives in a library loaded at run time, that is why: say so.
std::exception_ptr unregistered_error(const RemoteFunction& fn, std::string worker_message) {
  std::string library;
  try {
    library = library_of(&fn);
  } catch (...) {
  }
  if (library.empty()) return std::make_exception_ptr(UnregisteredFunctionError(std::move(worker_message)));
  // Appended piece by piece (g++ 12 warns falsely on a chain of + here).
  std::string message = "`";
  message.append(fn.name);
  message.append("` is registered only in ");
  message.append(library);
  message.append(
      ", a library this process loaded at run time (dlopen); a worker is a fresh run of the "
      "program and does not load it. Register the function in the program itself or in a "
      "library it links, or load the library in every worker from an initializer "
      "(ProcessPoolOptions::initializer)");
  return std::make_exception_ptr(UnregisteredFunctionError(std::move(message)));
}

}  // namespace

void ProcessSupervisor::spawn_locked() {
  std::size_t ready = idle_.size() + starting_;
  while (queue_.size() > ready && live_ < config_.max_workers && broken_.empty()) {
    SpawnedWorker s;
    try {
      s = spawn_worker(doorbell_);
    } catch (const std::exception& e) {
      break_pool_locked(e.what());
      return;
    }
    auto w = std::make_unique<ProcessWorker>();
    w->id = next_worker_id_++;
    w->pid = s.pid;
    w->socket = s.socket;
    w->pidfd = s.pidfd;
    w->shared = std::move(s.shared);
    try {
      watch_locked(*w);
    } catch (const std::exception& e) {
      reactor_->remove(w->socket);
      ::close(w->socket);
      ::kill(w->pid, SIGKILL);
      int status = 0;
      ::waitpid(w->pid, &status, 0);
      if (w->pidfd >= 0) ::close(w->pidfd);
      break_pool_locked(std::string("could not watch a new worker: ") + e.what());
      return;
    }
    ++live_;
    ProcessWorker& ref = *w;
    workers_.emplace(w->id, std::move(w));
    if (config_.initializer) {
      ++starting_;
      send_frame_locked(ref, {}, true);
    } else {
      make_idle_locked(ref);
    }
    ++ready;
  }
}

void ProcessSupervisor::make_idle_locked(ProcessWorker& w) {
  w.state = ProcessWorker::State::idle;
  w.deadline = ProcessClock::time_point::max();
  idle_.push_back(&w);
}

void ProcessSupervisor::read_locked(ProcessWorker& w) {
  while (w.socket >= 0 && !w.answered_this_pass) {
    FrameHeader header;
    std::string_view payload;
    try {
      auto [room, size] = w.in.prepare();
      const ssize_t r = retry_eintr([&] { return ::recv(w.socket, room, size, MSG_DONTWAIT); });
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (r <= 0) {  // EOF or a reset: the worker is gone, or going
        if (w.state == ProcessWorker::State::initializing && !w.killed)
          break_pool_locked("a worker closed its socket while running the initializer `" +
                            std::string(config_.initializer->name) + "`");
        close_socket_locked(w);
        // A busy worker stays busy until its exit status names the crash.
        if (w.state != ProcessWorker::State::busy) retire_locked(w);
        w.exit_deadline = std::min(w.exit_deadline, ProcessClock::now() + kExitGrace);
        if (w.pidfd < 0) on_exit_locked(w);  // no pidfd: the exit is near, wait for it
        return;
      }
      w.in.commit(static_cast<std::size_t>(r));
      if (w.in.next(header, payload)) take_answer_locked(w, header, payload);
    } catch (const WireFormatError& e) {
      kill_locked(w, std::make_exception_ptr(WireFormatError(
                         std::string(e.what()) + "; the worker (pid " + std::to_string(w.pid) +
                         ") was killed and replaced")));
      return;
    }
  }
}

void ProcessSupervisor::read_ring_locked(ProcessWorker& w) {
  if (w.answered_this_pass || !w.shared.get()) return;
  ShmRing& ring = w.shared.get()->answers;
  if (!ring_ready(ring)) return;
  try {
    const RingTake took = ring_take(ring, [&](const char* body, std::size_t size) {
      auto [room, room_size] = w.ring_in.prepare();  // ≥ 64 KiB > kRingSlot
      std::memcpy(room, body, std::min(size, room_size));
      w.ring_in.commit(std::min(size, room_size));
    });
    if (took == RingTake::corrupt || took == RingTake::via_socket)
      throw WireFormatError("the answer ring holds a malformed record");
    FrameHeader header;
    std::string_view payload;
    if (took == RingTake::frame) {
      if (!w.ring_in.next(header, payload))
        throw WireFormatError("an answer ring record held part of a frame, not a whole one");
      ring_traffic_ = true;
      take_answer_locked(w, header, payload);
    }
  } catch (const WireFormatError& e) {
    kill_locked(w, std::make_exception_ptr(WireFormatError(
                       std::string(e.what()) + "; the worker (pid " + std::to_string(w.pid) +
                       ") was killed and replaced")));
  }
}

void ProcessSupervisor::take_answer_locked(ProcessWorker& w, const FrameHeader& h, std::string_view payload) {
  w.answered_this_pass = true;
  if (h.kind == FrameKind::call || h.task_id != w.frame_id ||
      (w.inflight.empty() && w.state != ProcessWorker::State::initializing)) {
    throw WireFormatError("a worker sent an unexpected frame (kind " +
                          std::to_string(static_cast<int>(h.kind)) + ", task " +
                          std::to_string(h.task_id) + ", expected an answer to task " +
                          std::to_string(w.frame_id) + ")");
  }
  if (w.state == ProcessWorker::State::initializing) {
    --starting_;
    if (h.kind == FrameKind::result) {
      make_idle_locked(w);
      return;
    }
    std::string why = "malformed error frame";
    try {
      WireReader r(payload);
      const ErrorView e = parse_error(r);
      why = e.type_name + ": " + e.message;
    } catch (const WireFormatError&) {
    }
    w.state = ProcessWorker::State::busy;  // so retire_locked counts it once
    break_pool_locked("the initializer `" + std::string(config_.initializer->name) +
                      "` failed in a worker: " + why);
    retire_locked(w);
    return;
  }
  ProcessCompletion c;
  c.first = done_jobs_.size();
  c.count = w.inflight.size();
  std::uint32_t items = 0;
  for (ProcessJob* j : w.inflight) items += j->items;
  if (h.kind == FrameKind::result) {
    std::uint64_t spent = 0;
    if (payload.size() < sizeof spent)
      throw WireFormatError("a result frame without its timing prefix");
    std::memcpy(&spent, payload.data(), sizeof spent);
    c.payload = payload.substr(sizeof spent);
    c.kind = items > 0 ? ProcessCompletion::Kind::batch : ProcessCompletion::Kind::value;
    if (auto& group = w.inflight.front()->group; group && items > 0) {
      const double per_item = static_cast<double>(spent) / items;
      group->item_ns = group->item_ns > 0 ? 0.5 * group->item_ns + 0.5 * per_item : per_item;
    }
  } else {
    c.kind = ProcessCompletion::Kind::error_frame;
    c.payload = payload;
  }
  done_jobs_.insert(done_jobs_.end(), w.inflight.begin(), w.inflight.end());
  completions_.push_back(c);
  w.tasks_done += w.inflight.size();
  w.inflight.clear();
  w.deadline = ProcessClock::time_point::max();
  if (config_.max_tasks_per_child > 0 && w.tasks_done >= config_.max_tasks_per_child) {
    retire_locked(w);
  } else {
    make_idle_locked(w);
  }
}

void ProcessSupervisor::close_socket_locked(ProcessWorker& w) noexcept {
  if (w.socket < 0) return;
  reactor_->remove(w.socket);
  ::close(w.socket);
  w.socket = -1;
  w.segments.clear();
  w.polling_out = false;
}

void ProcessSupervisor::retire_locked(ProcessWorker& w) noexcept {
  if (w.state == ProcessWorker::State::dying) return;
  if (w.state == ProcessWorker::State::idle) std::erase(idle_, &w);
  if (w.state == ProcessWorker::State::initializing) --starting_;
  w.state = ProcessWorker::State::dying;
  --live_;
  if (WorkerSharedState* shared = w.shared.get()) {
    // No more calls: a worker waiting on its ring sees it closed and exits.
    shared->requests.closed.store(1, std::memory_order_seq_cst);
    if (ring_should_wake(shared->requests)) ring_futex_wake(shared->requests);
  }
  close_socket_locked(w);  // a worker reading a large frame sees EOF and exits
  w.exit_deadline = ProcessClock::now() + kExitGrace;
}

void ProcessSupervisor::fail_inflight_locked(ProcessWorker& w, std::exception_ptr error) {
  if (w.inflight.empty()) return;
  ProcessCompletion c;
  c.kind = ProcessCompletion::Kind::failure;
  c.first = done_jobs_.size();
  c.count = w.inflight.size();
  c.error = std::move(error);
  done_jobs_.insert(done_jobs_.end(), w.inflight.begin(), w.inflight.end());
  completions_.push_back(std::move(c));
  w.inflight.clear();
}

void ProcessSupervisor::kill_locked(ProcessWorker& w, std::exception_ptr error) noexcept {
  ::kill(w.pid, SIGKILL);
  w.killed = true;
  try {
    fail_inflight_locked(w, std::move(error));
  } catch (...) {
  }
  w.deadline = ProcessClock::time_point::max();
  retire_locked(w);
}

void ProcessSupervisor::on_exit_locked(ProcessWorker& w) {
  read_ring_locked(w);  // its last answer first
  if (w.socket >= 0 && !w.answered_this_pass) read_locked(w);
  int status = 0;
  const pid_t r = ::waitpid(w.pid, &status, w.pidfd >= 0 ? WNOHANG : 0);
  if (r == 0) return;  // not yet
  const bool initializing = w.state == ProcessWorker::State::initializing;
  if (!initializing && !w.inflight.empty()) resend_locked(w);
  if (!w.inflight.empty() || initializing) {
    int sig = 0;
    int code = -1;
    const std::string how =
        r == w.pid ? describe_wait_status(status, sig, code)
                   : std::string("ended (its exit status was collected by someone else)");
    const std::string fn = function_of(w, config_);
    if (initializing) {
      break_pool_locked("a worker " + how + " while running the initializer `" + fn + "`");
    } else {
      fail_inflight_locked(
          w, std::make_exception_ptr(WorkerCrashedError(
                 "process-pool worker " + std::to_string(w.pid) + " " + how +
                     " while running `" + fn + "`; the pool replaced it and goes on",
                 sig, code)));
    }
  }
  retire_locked(w);
  close_socket_locked(w);
  if (w.pidfd >= 0) {
    reactor_->remove(w.pidfd);
    ::close(w.pidfd);
    w.pidfd = -1;
  }
  forget_locked(w);
}

bool ProcessSupervisor::resend_locked(ProcessWorker& w) {
  // The worker died (from outside: the pool's own kills fail their jobs first) before
  // it took in its frame, or before the frame was even sent whole: the call never
  // began there, so it runs on another worker, ahead of the queue.
  const WorkerSharedState* shared = w.shared.get();
  if (!shared || shared->taken_frame.load(std::memory_order_acquire) == w.frame_id) return false;
  for (const ProcessJob* job : w.inflight)
    if (job->resends >= kMaxResends) return false;
  for (auto it = w.inflight.rbegin(); it != w.inflight.rend(); ++it) {
    ++(*it)->resends;
    queue_.push_front(*it);
  }
  w.inflight.clear();
  return true;
}

void ProcessSupervisor::forget_locked(ProcessWorker& w) {
  auto it = workers_.find(w.id);
  if (it == workers_.end()) return;
  graveyard_.push_back(std::move(it->second));  // its frame views outlive this pass
  workers_.erase(it);
}

void ProcessSupervisor::kill_abandoned_locked() {
  // The supervisor's half of cancelling a running job (the job's half is
  // ProcessJobState::cancel): once every job of a worker's frame is cancelled, the
  // worker is killed and replaced. Jobs still queued are dropped by dispatch instead.
  if (!std::exchange(cancel_scan_, false)) return;
  for (auto& [id, wp] : workers_) {
    ProcessWorker& w = *wp;
    if (w.state == ProcessWorker::State::busy && !w.inflight.empty() &&
        std::all_of(w.inflight.begin(), w.inflight.end(),
                    [](ProcessJob* j) { return j->abandoned(); })) {
      kill_locked(w, std::make_exception_ptr(CancelledError("the task was cancelled")));
    }
  }
}

void ProcessSupervisor::check_deadlines_locked(ProcessClock::time_point now) {
  for (auto& [id, wp] : workers_) {
    ProcessWorker& w = *wp;
    if (w.state == ProcessWorker::State::busy && !w.inflight.empty() && w.deadline <= now) {
      kill_locked(w, std::make_exception_ptr(TimeoutError(
                         "process-pool task `" + std::string(function_of(w, config_)) +
                         "` ran longer than its timeout of " + millis(w.timeout) +
                         "; its worker (pid " + std::to_string(w.pid) +
                         ") was killed and will be replaced")));
    }
    if (w.state == ProcessWorker::State::dying && w.exit_deadline <= now) {
      ::kill(w.pid, SIGKILL);  // it closed its socket but does not exit
      w.exit_deadline = ProcessClock::time_point::max();
    }
  }
}

void ProcessSupervisor::break_pool_locked(const std::string& reason) {
  if (!broken_.empty()) return;
  broken_ = "ProcessPoolExecutor is broken: " + reason +
            ". Its queued tasks failed; create a new pool once the cause is fixed";
  if (queue_.empty()) return;
  ProcessCompletion c;
  c.kind = ProcessCompletion::Kind::failure;
  c.first = done_jobs_.size();
  c.count = queue_.size();
  c.error = std::make_exception_ptr(BrokenProcessPool(broken_));
  done_jobs_.insert(done_jobs_.end(), queue_.begin(), queue_.end());
  completions_.push_back(std::move(c));
  queue_.clear();
}

void ProcessSupervisor::complete(const std::vector<ProcessCompletion>& work,
                          const std::vector<ProcessJob*>& jobs) noexcept {
  for (const ProcessCompletion& c : work) {
    ProcessJob* const* js = jobs.data() + c.first;
    std::size_t done = 0;
    try {
      switch (c.kind) {
        case ProcessCompletion::Kind::value: {
          WireReader r(c.payload);
          js[0]->deliver(r);
          done = 1;
          break;
        }
        case ProcessCompletion::Kind::batch: {
          WireReader r(c.payload);
          std::size_t expected = 0;
          for (std::size_t i = 0; i < c.count; ++i) expected += js[i]->items;
          if (r.length(1, "batch result") != expected)
            r.fail("a batch answer with another number of results than inputs");
          for (; done < c.count; ++done) js[done]->deliver(r);
          r.expect_end("batch result");
          break;
        }
        case ProcessCompletion::Kind::error_frame: {
          WireReader r(c.payload);
          ErrorView e = parse_error(r);
          std::exception_ptr error;
          if (e.kind == ErrorKind::exception)
            error = std::make_exception_ptr(
                RemoteError(std::move(e.type_name), std::move(e.message), js[0]->fn->name));
          else if (e.kind == ErrorKind::bad_arguments)
            error = std::make_exception_ptr(WireFormatError(e.message));
          else if (e.kind == ErrorKind::unregistered)
            error = unregistered_error(*js[0]->fn, std::move(e.message));
          else
            error = std::make_exception_ptr(UnregisteredFunctionError(e.message));
          for (; done < c.count; ++done) js[done]->fail(error);
          break;
        }
        case ProcessCompletion::Kind::failure:
          for (; done < c.count; ++done) js[done]->fail(c.error);
          break;
      }
    } catch (...) {
      const std::exception_ptr error = std::current_exception();
      for (; done < c.count; ++done) js[done]->fail(error);
    }
    for (std::size_t i = 0; i < c.count; ++i) js[i]->drop();
  }
}

}  // namespace lanes::detail
