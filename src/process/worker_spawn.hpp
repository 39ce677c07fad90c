// Internal to the process pool (src/process/ only): starting a worker from the pool's
// side, how the fresh exec knows it is one, and the page the two share.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

#include "lanes/detail/process/shm_ring.hpp"

namespace lanes::detail {

/// Environment variables that make a fresh exec of the program a worker. The start-up
/// hook (executor.cpp) removes both before it runs anything.
inline constexpr const char* kWorkerFdVariable = "LANES_WORKER_FD";
inline constexpr const char* kWorkerParentVariable = "LANES_WORKER_PARENT";
/// The descriptor a worker finds its socket on.
inline constexpr int kWorkerFd = 3;
/// The descriptor of the memory a worker shares with the pool (a memfd holding one
/// WorkerSharedState); the worker maps it and closes the descriptor.
inline constexpr int kWorkerStateFd = 4;
/// The descriptor of the pool's doorbell eventfd: a worker that put an answer in its
/// ring while the supervisor sleeps writes to it (the supervisor's reactor watches it).
inline constexpr int kWorkerDoorbellFd = 5;

/// What a worker and the pool share: the state a worker killed from outside leaves
/// behind (whether it had taken in the frame it was sent), and the two rings frames
/// travel through (shm_ring.hpp).
struct WorkerSharedState {
  // Invariant: the id of the last call frame the worker read whole, stored (release)
  // before it runs anything of that call; 0 before the first. Read by the pool
  // (acquire) once the worker has exited: an id other than the frame in flight means
  // the worker never began that call, so its jobs may run elsewhere.
  std::atomic<std::uint64_t> taken_frame{0};
  ShmRing requests;  // call frames, pool to worker: the pool produces, the worker consumes
  ShmRing answers;   // answer frames, worker to pool: the worker produces, the supervisor consumes
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "the shared page needs an address-free atomic");

/// The pool's mapping of a worker's WorkerSharedState (unmapped on destruction).
class SharedStateMapping {
 public:
  SharedStateMapping() noexcept = default;
  explicit SharedStateMapping(WorkerSharedState* state) noexcept : state_(state) {}
  SharedStateMapping(SharedStateMapping&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
  SharedStateMapping& operator=(SharedStateMapping&& o) noexcept {
    if (this != &o) {
      reset();
      state_ = std::exchange(o.state_, nullptr);
    }
    return *this;
  }
  ~SharedStateMapping() { reset(); }
  WorkerSharedState* get() const noexcept { return state_; }

 private:
  void reset() noexcept;
  WorkerSharedState* state_ = nullptr;
};

/// A started worker: its pid, the pool's end of its socket (non-blocking,
/// close-on-exec), a pidfd (-1 if the kernel has none) and its shared state.
struct SpawnedWorker {
  pid_t pid = -1;
  int socket = -1;
  int pidfd = -1;
  SharedStateMapping shared;
};

/// In a worker: maps the shared state the pool passed on kWorkerStateFd and closes
/// that descriptor; null if there is none (then the pool cannot resend a lost frame).
WorkerSharedState* map_worker_shared_state() noexcept;

/// Starts a worker: posix_spawn (no fork of this multi-threaded process) of
/// /proc/self/exe with only stdin (/dev/null), stdout, stderr, the socket, the shared
/// state and the pool's doorbell eventfd (`doorbell`, as kWorkerDoorbellFd) open.
/// Throws std::system_error if that fails.
SpawnedWorker spawn_worker(int doorbell);

/// "was killed by signal 11 (SIGSEGV, Segmentation fault)" / "exited with status 3",
/// from a wait status; fills the signal (0 if none) and exit code (-1 if none).
std::string describe_wait_status(int status, int& signal, int& exit_code);

}  // namespace lanes::detail
