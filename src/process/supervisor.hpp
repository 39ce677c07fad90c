// Internal to the process pool (src/process/ only): the supervisor's state.
//
// One mutex guards everything below. The supervisor thread (started on first submit)
// waits in a Reactor (lanes/detail/io/reactor.hpp, whichever backend Reactor::create
// picks) on the worker sockets, their pidfds, a wake-up eventfd and the doorbell
// eventfd; it alone spawns, reads, reaps and kills workers, and it alone touches the
// reactor. Frames travel through a shared-memory ring per worker and direction
// (shm_ring.hpp; the socket carries frames over a ring slot and tells of a worker's
// end). A submitting thread may put a frame in an idle worker's ring itself (one
// thread hop fewer on the round trip). After a pass that saw ring traffic the
// supervisor thread watches the answer rings for a bounded time before it sleeps in
// the reactor; asleep, a worker with an answer rings the doorbell. Futures are
// completed by the supervisor thread with the mutex released, so a done callback may
// submit again.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "lanes/detail/io/reactor.hpp"
#include "lanes/detail/process/process_core.hpp"
#include "lanes/detail/process/wire_frame.hpp"
#include "worker_spawn.hpp"

namespace lanes::detail {

using ProcessClock = std::chrono::steady_clock;

class ProcessSupervisor;

/// One descriptor the supervisor watches. Its callback only notes the event (by worker
/// id, so a worker freed meanwhile is skipped); the events are handled once poll()
/// has returned and the mutex is held again.
struct ProcessWatcher : IoWatcher {
  enum class Source : std::uint8_t { wake, socket, exit, doorbell };
  ProcessSupervisor* owner = nullptr;
  std::uint64_t worker = 0;  // the worker's id; 0 for the two eventfds
  Source source = Source::wake;
};

/// An event noted during poll().
struct ProcessEvent {
  ProcessWatcher::Source source;
  std::uint64_t worker;
  std::uint32_t events;  // IoEvents bits
};

struct ProcessWorker {
  enum class State { initializing, idle, busy, dying };

  std::uint64_t id = 0;
  pid_t pid = -1;
  int socket = -1;  // -1 once closed
  int pidfd = -1;
  SharedStateMapping shared;  // whether it took in its frame before dying; the rings
  State state = State::idle;

  // The frame being sent: the prefix below, then the jobs' argument bytes.
  ByteBuffer prefix;
  std::vector<std::string_view> segments;
  std::size_t segment = 0;
  std::size_t segment_offset = 0;
  bool polling_out = false;  // the reactor watches its socket for writability too
  ProcessWatcher socket_watch;
  ProcessWatcher exit_watch;  // its pidfd

  std::vector<ProcessJob*> inflight;  // the jobs of the frame it runs
  std::uint64_t frame_id = 0;
  ProcessClock::time_point deadline = ProcessClock::time_point::max();
  std::chrono::nanoseconds timeout{0};
  std::size_t tasks_done = 0;

  FrameReceiver in;       // answers over a ring slot, from the socket
  FrameReceiver ring_in;  // answers copied out of the answer ring
  bool answered_this_pass = false;  // its frame views must live until completions ran
  bool killed = false;              // SIGKILLed by the pool: its exit is no crash
  ProcessClock::time_point exit_deadline = ProcessClock::time_point::max();
};

/// Work for the supervisor thread once the mutex is released.
struct ProcessCompletion {
  enum class Kind { value, batch, error_frame, failure };
  Kind kind = Kind::failure;
  std::size_t first = 0;  // the jobs: done_jobs[first, first + count)
  std::size_t count = 0;
  std::string_view payload;  // value / batch: after the timing; error_frame: the error
  std::exception_ptr error;  // failure
};

class ProcessSupervisor final : public ProcessPoolCore {
 public:
  explicit ProcessSupervisor(ProcessPoolConfig config);
  ~ProcessSupervisor() override;

  void submit(ProcessJob* const* jobs, std::size_t n) override;
  void shutdown(bool wait, bool cancel_futures) override;
  void notify_cancel() noexcept override;
  std::size_t max_workers() const noexcept override { return config_.max_workers; }
  std::vector<pid_t> worker_pids() const override;

 private:
  using Lock = std::unique_lock<std::mutex>;

  void start_locked();
  void run() noexcept;
  void loop(Lock& lock);
  void wake_locked() noexcept;
  void watch_locked(ProcessWorker& w);
  void update_interest_locked(ProcessWorker& w);
  void handle_locked(const ProcessEvent& e);
  static void on_watch(IoWatcher* self, std::uint32_t events) noexcept;

  void spawn_locked();
  void dispatch_locked();
  bool take_locked(ProcessJob* job) noexcept;
  bool resend_locked(ProcessWorker& w);
  std::size_t units_for(const ProcessJob& first) const noexcept;
  void send_frame_locked(ProcessWorker& w, const std::vector<ProcessJob*>& jobs,
                         bool initializer);
  void flush_locked(ProcessWorker& w) noexcept;
  void read_locked(ProcessWorker& w);
  void read_ring_locked(ProcessWorker& w);
  // Sends the frame of w.segments: into w's request ring, or (over a ring slot) into
  // the socket, followed by a ring record saying so.
  void put_frame_locked(ProcessWorker& w);
  bool spin_for_answers() noexcept;
  bool arm_doorbell() noexcept;
  void take_answer_locked(ProcessWorker& w, const FrameHeader& h, std::string_view payload);
  void on_exit_locked(ProcessWorker& w);
  void close_socket_locked(ProcessWorker& w) noexcept;
  void retire_locked(ProcessWorker& w) noexcept;
  void kill_locked(ProcessWorker& w, std::exception_ptr error) noexcept;
  void fail_inflight_locked(ProcessWorker& w, std::exception_ptr error);
  void make_idle_locked(ProcessWorker& w);
  void forget_locked(ProcessWorker& w);
  void check_deadlines_locked(ProcessClock::time_point now);
  void kill_abandoned_locked();
  void break_pool_locked(const std::string& reason);
  std::chrono::nanoseconds poll_timeout_locked(ProcessClock::time_point now);
  void complete(const std::vector<ProcessCompletion>& work, const std::vector<ProcessJob*>& jobs) noexcept;

  const ProcessPoolConfig config_;
  mutable std::mutex mutex_;
  std::deque<ProcessJob*> queue_;
  std::unordered_map<std::uint64_t, std::unique_ptr<ProcessWorker>> workers_;
  std::vector<ProcessWorker*> idle_;
  std::size_t live_ = 0;      // workers not dying: they count toward max_workers
  std::size_t starting_ = 0;  // workers running the initializer
  std::uint64_t next_worker_id_ = 1;
  std::uint64_t next_frame_id_ = 1;
  std::unique_ptr<Reactor> reactor_;  // the supervisor thread's alone
  int event_ = -1;                     // the wake-up eventfd
  ProcessWatcher wake_watch_;
  int doorbell_ = -1;  // the eventfd workers write when an answer waits and we sleep
  ProcessWatcher doorbell_watch_;
  // Invariant: true from a wake_locked() that wrote the wake-up eventfd until the
  // supervisor thread has read it (both under the mutex); read without the mutex by
  // the supervisor's spin, which then stops (relaxed: the eventfd itself carries the
  // news, this only cuts the spin short).
  std::atomic<bool> poke_{false};
  // The answer rings of every worker, copied under the mutex before the supervisor
  // thread lets go of it to spin or sleep; the supervisor thread's alone (it alone
  // frees workers, and only after the next pass).
  std::vector<ShmRing*> answer_rings_;
  // Invariant: true only while the supervisor thread is in (or about to enter) a
  // reactor poll that may block; written by it alone. A thread that puts a frame in a
  // ring while it is true wakes it, so that it wakes up while the worker runs the call
  // and spins for the answer, instead of being woken by the doorbell once the answer
  // is there (one wake-up fewer in series on a cold round trip). Only a hint: the
  // doorbell handshake is what guarantees the answer is seen.
  std::atomic<bool> asleep_{false};
  bool ring_traffic_ = false;  // this pass sent or took a ring frame: spin before sleeping
  // Filled by on_watch during poll(), read after it; the supervisor thread's alone.
  std::vector<ProcessEvent> ready_;
  bool ready_overflow_ = false;  // an event could not be noted: look at every worker
  std::thread thread_;
  bool started_ = false;
  bool stopping_ = false;  // shutdown() was called
  bool finished_ = false;  // the supervisor thread has cleaned up
  bool wake_pending_ = false;
  bool cancel_scan_ = false;
  std::string broken_;  // why the pool is broken; empty while it is not
  ProcessClock::time_point sleep_until_ = ProcessClock::time_point::max();

  std::vector<ProcessJob*> frame_jobs_;  // dispatch_locked's scratch list
  std::vector<ProcessCompletion> completions_;
  std::vector<ProcessJob*> done_jobs_;
  std::vector<std::unique_ptr<ProcessWorker>> graveyard_;  // freed after completions ran

  std::mutex join_mutex_;
};

/// The supervisor behind ProcessPoolCore::create. Nothing is opened until the first
/// submit, which throws std::system_error if the reactor or eventfd cannot be made.
std::shared_ptr<ProcessPoolCore> make_supervisor(ProcessPoolConfig config);

}  // namespace lanes::detail
