// Internal to src/mpi/: the root's side of an MPI pool.
//
// One progress thread per pool makes every MPI call of the pool (so MPI needs only
// MPI_THREAD_SERIALIZED). Submitting threads only queue jobs under mutex_ and wake the
// thread if it sleeps. The thread keeps up to in_flight_per_worker frames on each worker
// rank (pipelining: the next call is already there when one finishes), receives answers
// in whatever order they come, and completes the futures with no lock held (a done
// callback may submit again). With nothing to do it sleeps on a condition variable;
// with calls in flight it polls, backing off to 1 ms sleeps (mpi_backoff.hpp).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "lanes/detail/mpi/mpi_core.hpp"
#include "lanes/detail/process/wire_frame.hpp"

namespace lanes::detail {

/// One message to a worker: a call frame for one job or several map units (or the
/// initializer), alive until its answer came back and its send completed.
struct MPIFrame {
  std::uint64_t id = 0;
  std::size_t worker = 0;          // index into MPIDispatcher::workers_
  std::vector<ProcessJob*> jobs;   // empty for the initializer
  ByteBuffer prefix;               // frame header and call prefix; the jobs' args follow
  std::vector<ByteBuffer> copies;  // a large frame's small arguments, gathered
  std::vector<MPI_Request> sends;  // one message, or a large frame's pieces in order
  std::uint64_t deadline_ns = 0;   // 0: no timeout
  bool expired = false;            // timed out: its jobs already failed
};

struct MPIWorkerRank {
  int rank = -1;
  std::size_t in_flight = 0;
  bool ready = false;  // false until its initializer (if any) answered
};

class MPIDispatcher final : public ProcessPoolCore {
 public:
  explicit MPIDispatcher(MPIPoolConfig config, std::function<void()> on_finished);
  ~MPIDispatcher() override;

  void submit(ProcessJob* const* jobs, std::size_t n) override;
  void shutdown(bool wait, bool cancel_futures) override;
  void notify_cancel() noexcept override {}  // a rank cannot be interrupted: see mpi.hpp
  std::size_t max_workers() const noexcept override { return config_.workers.size(); }
  std::vector<pid_t> worker_pids() const override { return {}; }  // ranks, not children

  /// Starts the progress thread (and the initializer on every worker).
  void start();

 private:
  using Lock = std::unique_lock<std::mutex>;
  struct Receive {  // a large answer being received with MPI_Imrecv
    MPI_Request request = MPI_REQUEST_NULL;
    ByteBuffer bytes;
    int source = -1;
  };

  void run() noexcept;
  void loop();
  bool poll_answers();
  bool dispatch();
  std::size_t units_for(const ProcessJob& first, std::size_t queued) const noexcept;
  void send_frame(std::unique_ptr<MPIFrame> frame, bool initializer);
  void take_answer(const ByteBuffer& bytes, int source);
  void complete_frame(MPIFrame& frame, const FrameHeader& h, std::string_view payload) noexcept;
  bool check_deadlines();
  void break_pool(const std::string& reason);
  void fail_all_frames(std::exception_ptr error) noexcept;
  void stop_workers() noexcept;

  const MPIPoolConfig config_;
  std::function<void()> on_finished_;

  // Guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<ProcessJob*> queue_;
  bool stopping_ = false;
  bool sleeping_ = false;  // the progress thread waits on wake_: submit must notify
  std::string broken_;     // why the pool is broken; empty while it is not
  // Invariant: true whenever queue_ is non-empty (written under mutex_), so the
  // progress thread, while it spins, looks for work without taking the mutex that
  // submitting threads need.
  std::atomic<bool> queued_{false};

  // The progress thread's own (no lock).
  std::vector<MPIWorkerRank> workers_;
  std::unordered_map<std::uint64_t, std::unique_ptr<MPIFrame>> frames_;
  std::vector<Receive> receives_;
  // Large calls whose send has not completed. Without a single-copy transport, Open MPI
  // moves a large message in fragments that each need a progress call on both sides,
  // so while any is under way the loop polls without sleeping.
  std::vector<std::uint64_t> large_sends_;
  std::uint64_t next_frame_id_ = 1;
  std::size_t timed_frames_ = 0;  // frames in flight with a deadline not yet expired

  std::thread thread_;
  std::mutex join_mutex_;
};

}  // namespace lanes::detail
