// The executors' constructors: checking the options, and the two ways to get worker
// ranks (the world of mpi_init, or a communicator the program hands to MPICommExecutor).
#include <string>

#include "lanes/errors.hpp"
#include "lanes/mpi.hpp"
#include "mpi_dispatcher.hpp"

namespace lanes {
namespace {

void check_options(const MPIPoolOptions& o, const char* who) {
  if (o.max_workers && *o.max_workers == 0)
    throw ValueError(std::string(who) + ": max_workers must be greater than 0");
  if (o.initializer && !o.initializer->function)
    throw ValueError(std::string(who) + ": the initializer is empty: make it with lanes::remote_call");
  if (o.task_timeout.count() < 0) throw ValueError(std::string(who) + ": task_timeout must not be negative");
  if (o.in_flight_per_worker == 0)
    throw ValueError(std::string(who) + ": in_flight_per_worker must be at least 1");
}

void apply_options(detail::MPIPoolConfig& c, const MPIPoolOptions& o) {
  c.in_flight_per_worker = o.in_flight_per_worker;
  if (o.initializer) {
    c.initializer = o.initializer->function;
    c.initializer_args = o.initializer->arguments;
  }
  c.task_timeout = o.task_timeout;
}

}  // namespace

MPIPoolExecutor::MPIPoolExecutor(MPIPoolOptions options) : options_(std::move(options)) {
  check_options(options_, "MPIPoolExecutor");
  mpi_init();  // no-op if the program called it; in a worker rank it never returns
  detail::MPIPoolConfig config = detail::world_pool_config(options_.max_workers.value_or(SIZE_MAX));
  apply_options(config, options_);
  core_ = detail::make_world_core(std::move(config));
}

MPICommExecutor::MPICommExecutor(MPI_Comm comm, int root, MPIPoolOptions options) {
  check_options(options, "MPICommExecutor");
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized)
    throw RuntimeError("MPICommExecutor: MPI is not initialised (call MPI_Init_thread first, or use "
                       "lanes::mpi_init and MPIPoolExecutor)");
  int provided = MPI_THREAD_SINGLE;
  MPI_Query_thread(&provided);
  if (provided < MPI_THREAD_SERIALIZED)
    throw RuntimeError("MPICommExecutor: MPI was initialised with thread level " +
                       std::to_string(provided) +
                       "; the executor's progress thread needs MPI_THREAD_SERIALIZED or "
                       "MPI_THREAD_MULTIPLE (use MPI_Init_thread)");
  if (comm == MPI_COMM_NULL) throw ValueError("MPICommExecutor: comm is MPI_COMM_NULL");
  int size = 0, rank = 0;
  detail::check_mpi(MPI_Comm_size(comm, &size), "MPI_Comm_size");
  detail::check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  if (size < 2)
    throw ValueError("MPICommExecutor: the communicator has a single rank, so no worker: run with "
                     "`mpirun -n N` (N >= 2)");
  if (root < 0 || root >= size)
    throw ValueError("MPICommExecutor: root " + std::to_string(root) + " is not a rank of the " +
                     std::to_string(size) + "-rank communicator");
  // The executor's messages travel on a duplicate: they never match the program's own.
  MPI_Comm own = MPI_COMM_NULL;
  detail::check_mpi(MPI_Comm_dup(comm, &own), "MPI_Comm_dup");
  if (rank != root) {
    const int status = detail::serve_mpi_calls(own, root);
    std::fflush(nullptr);
    if (status != 0) MPI_Abort(comm, status);  // the root would wait for this rank forever
    MPI_Comm_free(&own);
    return;
  }
  detail::MPIPoolConfig config;
  config.comm = own;
  config.root = root;
  std::size_t n = options.max_workers.value_or(SIZE_MAX);
  for (int r = 0; r < size && n > 0; ++r) {
    if (r == root) continue;
    config.workers.push_back(r);
    --n;
  }
  // Ranks beyond max_workers wait in the constructor too: they get no work, only the stop.
  for (int r = 0, k = 0; r < size; ++r)
    if (r != root && ++k > static_cast<int>(config.workers.size())) config.spare_ranks.push_back(r);
  config.owns_workers = true;
  apply_options(config, options);
  pool_.emplace(MPIPoolExecutor(std::move(options), detail::make_mpi_core(std::move(config))));
}

}  // namespace lanes
