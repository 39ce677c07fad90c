// Internal to the process pool (src/process/ only): starting a worker from the pool's
// side, and how the fresh exec knows it is one.
#pragma once

#include <sys/types.h>

#include <string>

namespace lanes::detail {

/// Environment variables that make a fresh exec of the program a worker. The start-up
/// hook (executor.cpp) removes both before it runs anything.
inline constexpr const char* kWorkerFdVariable = "LANES_WORKER_FD";
inline constexpr const char* kWorkerParentVariable = "LANES_WORKER_PARENT";
/// The descriptor a worker finds its socket on.
inline constexpr int kWorkerFd = 3;

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
