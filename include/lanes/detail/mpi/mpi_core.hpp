// lanes/detail/mpi/mpi_core.hpp — what MPIPoolExecutor's header needs of the MPI side.
//
// The pool's core is a ProcessPoolCore (the process pool's interface), so the header
// queues the very same job objects (ProcessCallJob, ProcessMapUnitJob) and hands out the
// same Future<T> and MapResults<T>; src/mpi/ implements it over MPI messages.
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "lanes/detail/process/process_core.hpp"
#include "lanes/detail/process/process_registry.hpp"

namespace lanes::detail {

/// Message tags on a pool's communicator (a duplicate: no clash with the program's own).
inline constexpr int kMPITagCall = 0x4c31;    // root -> worker: a call frame
inline constexpr int kMPITagAnswer = 0x4c32;  // worker -> root: a result or error frame
inline constexpr int kMPITagStop = 0x4c33;    // root -> worker: leave the serving loop

struct MPIPoolConfig {
  MPI_Comm comm = MPI_COMM_NULL;  // the pool's own communicator
  int root = 0;                   // this process's rank in comm
  std::vector<int> workers;       // the ranks that serve this pool
  std::vector<int> spare_ranks;   // ranks left idle (max_workers), stopped with the rest
  /// MPICommExecutor: at the end the pool sends the workers kMPITagStop and frees comm.
  /// The world pool of mpi_init() leaves both to the program's exit.
  bool owns_workers = false;
  std::size_t in_flight_per_worker = 2;
  const RemoteFunction* initializer = nullptr;
  std::string initializer_args;
  std::chrono::nanoseconds task_timeout{0};
};

/// The dispatcher behind an MPIPoolExecutor: its progress thread starts on first use.
std::shared_ptr<ProcessPoolCore> make_mpi_core(MPIPoolConfig config);

/// The world pool's configuration (mpi_init()'s communicator, ranks 1..N-1, at most
/// max_workers of them). Throws RuntimeError if this is not rank 0 of a job of at least
/// two ranks, or if another world pool is still running.
MPIPoolConfig world_pool_config(std::size_t max_workers);
/// The world pool's dispatcher, started; at exit it is shut down (waiting) before the
/// workers are stopped and MPI is finalised. Throws std::system_error if no thread starts.
std::shared_ptr<ProcessPoolCore> make_world_core(MPIPoolConfig config);

/// Serves calls from `root` on `comm` until it sends kMPITagStop (a worker rank's loop).
/// Returns 0, or non-zero after a malformed message (printed to stderr).
int serve_mpi_calls(MPI_Comm comm, int root);

/// Throws RuntimeError naming `what` if an MPI call failed.
void check_mpi(int rc, const char* what);

}  // namespace lanes::detail
