// lanes::mpi_init: the `mpirun -n N ./prog` way to start (mpi4py's `python -m
// mpi4py.futures`). Every rank initialises MPI and duplicates MPI_COMM_WORLD; rank 0
// returns to main, ranks 1..N-1 serve calls on the duplicate until rank 0 exits, then
// finalise MPI and exit. At rank 0's exit an atexit handler shuts down a world pool still
// running, tells every worker rank to stop, and finalises MPI (so mpirun ends cleanly).
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "lanes/detail/mpi/mpi_core.hpp"
#include "lanes/errors.hpp"
#include "lanes/mpi.hpp"
#include "mpi_backoff.hpp"
#include "mpi_dispatcher.hpp"

namespace lanes::detail {
namespace {

struct World {
  std::mutex mutex;
  bool started = false;        // mpi_init ran in this process
  bool we_initialized = false;  // and called MPI_Init_thread (so it finalises)
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  std::weak_ptr<ProcessPoolCore> pool;  // the world pool, while one exists
  bool pool_running = false;            // its progress thread has not finished
};

World& world() {
  static World* w = new World;  // never destroyed: the atexit handler uses it
  return *w;
}

void finish_world() noexcept {
  World& w = world();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) {
    // The program finalised MPI itself, against mpi_init's rule: no MPI call is allowed
    // now, and the worker ranks cannot be told to stop.
    std::fprintf(stderr, "lanes::mpi_init: MPI was finalised by the program; the worker ranks "
                         "were not stopped (leave MPI_Finalize to lanes)\n");
    return;
  }
  std::shared_ptr<ProcessPoolCore> pool;
  {
    std::lock_guard lock(w.mutex);
    pool = w.pool.lock();
  }
  if (pool) {
    try {
      pool->shutdown(true, false);  // a pool in a static object: finish its work first
    } catch (...) {
    }
  }
  for (int r = 1; r < w.size; ++r) MPI_Send(nullptr, 0, MPI_BYTE, r, kMPITagStop, w.comm);
  MPI_Comm_free(&w.comm);
  if (w.we_initialized) MPI_Finalize();
}

}  // namespace

void check_mpi(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int n = 0;
  MPI_Error_string(rc, text, &n);
  throw RuntimeError(std::string(what) + " failed: " + std::string(text, static_cast<std::size_t>(n)));
}

int mpi_world_rank() noexcept {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) return -1;
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

MPIPoolConfig world_pool_config(std::size_t max_workers) {
  World& w = world();
  std::lock_guard lock(w.mutex);
  if (!w.started)
    throw RuntimeError("MPIPoolExecutor: MPI is not started: call lanes::mpi_init(argc, argv) first "
                       "in main (or use MPICommExecutor in a program that starts MPI itself)");
  if (w.size < 2)
    throw RuntimeError("MPIPoolExecutor: this MPI job has a single rank, so no worker: start the "
                       "program with `mpirun -n N` (N >= 2; rank 0 runs main, the others serve)");
  if (w.pool_running)
    throw RuntimeError("MPIPoolExecutor: the worker ranks already serve another MPIPoolExecutor: "
                       "shut it down first (one world pool at a time)");
  MPIPoolConfig c;
  c.comm = w.comm;
  c.root = 0;
  const std::size_t n = std::min<std::size_t>(max_workers, static_cast<std::size_t>(w.size - 1));
  for (std::size_t r = 1; r <= n; ++r) c.workers.push_back(static_cast<int>(r));
  c.owns_workers = false;
  w.pool_running = true;  // until the pool's progress thread ends (register_world_pool)
  return c;
}

std::shared_ptr<ProcessPoolCore> make_world_core(MPIPoolConfig config) {
  World& w = world();
  std::shared_ptr<MPIDispatcher> core;
  try {
    core = std::make_shared<MPIDispatcher>(std::move(config), [&w] {
      std::lock_guard lock(w.mutex);
      w.pool_running = false;
    });
    core->start();
  } catch (...) {
    std::lock_guard lock(w.mutex);
    w.pool_running = false;  // no progress thread: the ranks are free
    throw;
  }
  std::lock_guard lock(w.mutex);
  w.pool = core;
  return core;
}

}  // namespace lanes::detail

namespace lanes {

int mpi_init(int* argc, char*** argv) {
  auto& w = detail::world();
  {
    std::lock_guard lock(w.mutex);
    if (w.started) return w.rank;
    int initialized = 0;
    MPI_Initialized(&initialized);
    int provided = MPI_THREAD_SINGLE;
    if (!initialized) {
      detail::check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
      w.we_initialized = true;
    } else {
      MPI_Query_thread(&provided);
    }
    if (provided < MPI_THREAD_SERIALIZED)
      throw RuntimeError("lanes::mpi_init: this MPI gives thread level " + std::to_string(provided) +
                         ", the pool's progress thread needs MPI_THREAD_SERIALIZED or more");
    detail::check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &w.comm), "MPI_Comm_dup");
    MPI_Comm_rank(w.comm, &w.rank);
    MPI_Comm_size(w.comm, &w.size);
    w.started = true;
  }
  if (w.rank == 0) {
    std::atexit(detail::finish_world);
    return 0;
  }
  // A worker rank: serve until rank 0 exits, then leave without running the rest of main.
  const int status = detail::serve_mpi_calls(w.comm, 0);
  std::fflush(nullptr);
  // A malformed message: rank 0 would wait for this rank forever, so end the whole job.
  if (status != 0) MPI_Abort(MPI_COMM_WORLD, status);
  MPI_Comm_free(&w.comm);
  if (w.we_initialized) MPI_Finalize();
  std::_Exit(status);
}

int mpi_init() { return mpi_init(nullptr, nullptr); }

int mpi_init(int& argc, char**& argv) { return mpi_init(&argc, &argv); }

}  // namespace lanes
