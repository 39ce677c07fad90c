// lanes/detail/process/process_core.hpp — the process pool's supervisor, as the header sees it.
//
// The implementation (src/process/supervisor.cpp) owns the workers, their sockets and
// the supervisor thread; ProcessPoolExecutor only queues jobs and shuts it down.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "lanes/detail/process/process_job.hpp"
#include "lanes/detail/process/process_registry.hpp"

namespace lanes::detail {

struct ProcessPoolConfig {
  std::size_t max_workers = 1;
  std::size_t max_tasks_per_child = 0;         // 0: workers live as long as the pool
  const RemoteFunction* initializer = nullptr;  // run first in every worker
  std::string initializer_args;                // its encoded argument tuple
  std::chrono::nanoseconds task_timeout{0};    // default per-task timeout; 0: none
};

class ProcessPoolCore {
 public:
  /// Starts nothing yet: the supervisor thread and the workers start on first use.
  /// Throws std::system_error if the pool's descriptors cannot be made.
  static std::shared_ptr<ProcessPoolCore> create(ProcessPoolConfig config);
  virtual ~ProcessPoolCore() = default;

  /// Queues `n` jobs, taking the pool's reference of each, and starts them as workers
  /// free up. Takes none of them and throws RuntimeError after shutdown, or
  /// BrokenProcessPool if the pool is broken.
  virtual void submit(ProcessJob* const* jobs, std::size_t n) = 0;
  /// See ProcessPoolExecutor::shutdown.
  virtual void shutdown(bool wait, bool cancel_futures) = 0;
  /// A running job was cancelled: the supervisor looks for it and kills its worker.
  virtual void notify_cancel() noexcept = 0;
  virtual std::size_t max_workers() const noexcept = 0;
  /// The process ids of the live workers (for tests and monitoring).
  virtual std::vector<pid_t> worker_pids() const = 0;
};

/// In a worker process: the descriptor of its socket to the pool; -1 elsewhere.
int current_worker_socket() noexcept;

}  // namespace lanes::detail
