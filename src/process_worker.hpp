// Internal to the process pool (src/ only): the worker loop, and starting a worker.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "lanes/detail/process_core.hpp"

namespace lanes::detail {

/// The supervisor (process_supervisor.cpp) behind ProcessPoolCore::create.
std::shared_ptr<ProcessPoolCore> make_supervisor(ProcessPoolConfig config);

/// Environment variables that make a fresh exec of the program a worker. The start-up
/// hook (process_pool.cpp) removes both before it runs anything.
inline constexpr const char* kWorkerFdVariable = "LANES_WORKER_FD";
inline constexpr const char* kWorkerParentVariable = "LANES_WORKER_PARENT";
/// The descriptor a worker finds its socket on.
inline constexpr int kWorkerFd = 3;

/// Serves calls on `fd` until EOF; returns the exit status for the worker.
int run_process_worker(int fd);

/// A started worker: its pid, the pool's end of its socket (non-blocking,
/// close-on-exec) and a pidfd (-1 if the kernel has none).
struct SpawnedWorker {
  pid_t pid = -1;
  int socket = -1;
  int pidfd = -1;
};

/// Starts a worker: posix_spawn (no fork of this multi-threaded process) of
/// /proc/self/exe with only stdin (/dev/null), stdout, stderr and the socket open.
/// Throws std::system_error if that fails.
SpawnedWorker spawn_worker();

/// "was killed by signal 11 (SIGSEGV, Segmentation fault)" / "exited with status 3",
/// from a wait status; fills the signal (0 if none) and exit code (-1 if none).
std::string describe_wait_status(int status, int& signal, int& exit_code);

}  // namespace lanes::detail
