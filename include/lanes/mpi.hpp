// lanes/mpi.hpp — MPIPoolExecutor and MPICommExecutor (mpi4py.futures): the process
// pool's API on the ranks of an MPI job, on one machine or many. Link lanes::mpi (built
// when CMake finds MPI; LANES_WITH_MPI). Not included by lanes.hpp: it needs <mpi.h>.
//
//     int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
//     LANES_REGISTER(fib);                      // the same registry as the process pool
//
//     int main(int argc, char** argv) {
//       lanes::mpi_init(argc, argv);            // ranks 1..N-1 serve here, never return
//       lanes::MPIPoolExecutor pool;            // rank 0: the other ranks are its workers
//       std::cout << pool.submit(fib, 30).result() << "\n";
//     }
//     $ mpirun -n 4 ./prog                      # 1 process runs main, 3 serve
//
// Everything else is ProcessPoolExecutor's: registered functions, the wire codec,
// lanes::Future<T> (co_await it, result(), wait, as_completed), map with chunking,
// shutdown(wait, cancel_futures), RemoteError. Moving a program from processes to MPI
// ranks changes the executor's type (and the include); mpi_init at the top of main is
// optional, the executor's constructor calls it, but then every rank runs main up to
// that line. In a program that runs MPI itself, use MPICommExecutor(comm, root).
//
// Where MPI differs from the process pool (a rank is not a child process):
//   - a per-task timeout fails the Future with TimeoutError, but the rank cannot be
//     interrupted: it finishes the call and its result is dropped; cancel() of a running
//     task likewise only completes the Future as cancelled. shutdown(wait=true) waits
//     for such calls too, since the ranks must be free for what comes next;
//   - a rank that crashes or exits takes the whole job down: Open MPI aborts every rank
//     and mpirun exits non-zero, printing which rank died and how (docs/distributed.md;
//     fault tolerance would need ULFM). There is no WorkerCrashedError and no respawn;
//   - max_tasks_per_child does not exist: ranks live as long as the job.
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

#include "lanes/detail/mpi/mpi_core.hpp"
#include "lanes/process_pool.hpp"

namespace lanes {

/// Initialises MPI (MPI_THREAD_MULTIPLE asked, MPI_THREAD_SERIALIZED needed) and
/// returns this process's rank, 0, in rank 0. In every other rank it serves calls for
/// rank 0's MPIPoolExecutors until rank 0 exits, then finalises MPI and exits the
/// process: it never returns there. Call it first in main. Idempotent. At rank 0's exit
/// the worker ranks are told to stop and MPI is finalised: the program must not call
/// MPI_Finalize itself (a program that manages MPI uses MPICommExecutor). Throws
/// RuntimeError if MPI fails to start or gives a lower thread level.
int mpi_init(int& argc, char**& argv);
int mpi_init(int* argc, char*** argv);
int mpi_init();

/// How to build an MPIPoolExecutor.
struct MPIPoolOptions {
  /// At most this many worker ranks (unset: every rank but the root).
  std::optional<std::size_t> max_workers;
  /// Runs first on every worker rank (make it with lanes::remote_call). If it throws,
  /// the pool is broken: queued tasks fail and submit() throws BrokenExecutor.
  std::optional<RemoteCall> initializer;
  /// A timeout for every submitted task; zero means none (see the header comment).
  std::chrono::nanoseconds task_timeout{0};
  /// Calls sent ahead to each rank: while it runs one the next is already there (>= 1).
  std::size_t in_flight_per_worker = 4;
};

class MPICommExecutor;

class MPIPoolExecutor {
 public:
  /// Rank 0's pool over the other ranks of the job started by mpi_init() (which this
  /// calls if the program has not: in ranks other than 0 it then never returns).
  /// Throws RuntimeError if the job has a single rank or the ranks serve another
  /// MPIPoolExecutor still running, ValueError if max_workers is 0.
  explicit MPIPoolExecutor(std::optional<std::size_t> max_workers = std::nullopt)
      : MPIPoolExecutor(options_with(max_workers)) {}
  /// Throws as above, and ValueError for an empty initializer, a negative timeout or
  /// in_flight_per_worker 0.
  explicit MPIPoolExecutor(MPIPoolOptions options);
  MPIPoolExecutor(MPIPoolExecutor&&) noexcept = default;
  MPIPoolExecutor& operator=(MPIPoolExecutor&&) = delete;
  MPIPoolExecutor(const MPIPoolExecutor&) = delete;
  MPIPoolExecutor& operator=(const MPIPoolExecutor&) = delete;
  /// shutdown(wait=true).
  ~MPIPoolExecutor() {
    if (core_) core_->shutdown(true, false);
  }

  /// Runs fn(args...) on a worker rank. Throws UnregisteredFunctionError if fn is not
  /// registered with LANES_REGISTER, RuntimeError after shutdown(), BrokenExecutor if
  /// the initializer failed. The Future fails with RemoteError (the function threw),
  /// TimeoutError, or WireFormatError (a result over 1 GiB); arguments over 1 GiB throw
  /// WireFormatError here, before anything is sent.
  template <class R, class... P, class... A>
  Future<R> submit(R (*fn)(P...), A&&... args) {
    return submit_impl(options_.task_timeout, fn, std::forward<A>(args)...);
  }

  /// As submit(), with this task's own timeout (counted from its send to an idle rank).
  template <class Rep, class Period, class R, class... P, class... A>
  Future<R> submit_with_timeout(std::chrono::duration<Rep, Period> timeout, R (*fn)(P...),
                                A&&... args) {
    return submit_impl(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout), fn,
                       std::forward<A>(args)...);
  }

  /// ProcessPoolExecutor::map on the ranks: results in input order; chunksize 0 picks
  /// the chunking from the measured time per call (frames of about 2 ms). Throws as
  /// submit() does.
  template <class R, class... P, std::ranges::input_range Range>
  MapResults<detail::StoredType<std::remove_cvref_t<R>>> map(
      R (*fn)(P...), Range&& inputs, std::optional<std::chrono::nanoseconds> timeout = std::nullopt,
      std::size_t chunksize = 0) {
    return detail::map_remote(core_, "MPIPoolExecutor::map", fn, std::forward<Range>(inputs),
                              timeout, chunksize);
  }

  /// As ProcessPoolExecutor::shutdown. The world pool's ranks then serve the next
  /// MPIPoolExecutor; an MPICommExecutor's ranks return from its constructor. Throws
  /// RuntimeError if wait is true and it is called from a done callback on the pool's
  /// own progress thread.
  void shutdown(bool wait = true, bool cancel_futures = false) { core_->shutdown(wait, cancel_futures); }

  /// The number of worker ranks.
  std::size_t max_workers() const noexcept { return core_->max_workers(); }

 private:
  friend class MPICommExecutor;
  MPIPoolExecutor(MPIPoolOptions options, std::shared_ptr<detail::ProcessPoolCore> core)
      : options_(std::move(options)), core_(std::move(core)) {}

  static MPIPoolOptions options_with(std::optional<std::size_t> max_workers) {
    MPIPoolOptions o;
    o.max_workers = max_workers;
    return o;
  }

  template <class R, class... P, class... A>
  Future<R> submit_impl(std::chrono::nanoseconds timeout, R (*fn)(P...), A&&... args) {
    return detail::submit_remote(core_, "MPIPoolExecutor::submit", timeout, fn,
                                 std::forward<A>(args)...);
  }

  MPIPoolOptions options_;
  std::shared_ptr<detail::ProcessPoolCore> core_;
};

/// mpi4py.futures.MPICommExecutor: an executor inside a program that runs MPI itself.
/// Collective over `comm`: every rank constructs it. At `root` it holds an
/// MPIPoolExecutor over the other ranks of comm; every other rank serves calls inside
/// the constructor until the root's executor shuts down, then returns, and executor()
/// is null there:
///
///     lanes::MPICommExecutor mpi(MPI_COMM_WORLD, 0);
///     if (lanes::MPIPoolExecutor* pool = mpi.executor()) { ... pool->submit(...) ... }
///
/// The program must have initialised MPI with at least MPI_THREAD_SERIALIZED (and
/// MPI_THREAD_MULTIPLE to make MPI calls of its own while the root's executor runs).
class MPICommExecutor {
 public:
  /// Throws ValueError if comm is MPI_COMM_NULL, has fewer than 2 ranks or root is not
  /// one of them, or for bad options; RuntimeError if MPI is not initialised or gives a
  /// lower thread level, or an MPI call fails. All ranks check the same things, so they
  /// all throw alike.
  explicit MPICommExecutor(MPI_Comm comm = MPI_COMM_WORLD, int root = 0, MPIPoolOptions options = {});
  MPICommExecutor(const MPICommExecutor&) = delete;
  MPICommExecutor& operator=(const MPICommExecutor&) = delete;
  /// At the root: shutdown(wait=true), which releases the other ranks.
  ~MPICommExecutor() = default;

  /// The executor at the root; null at every other rank.
  MPIPoolExecutor* executor() noexcept { return pool_ ? &*pool_ : nullptr; }
  explicit operator bool() const noexcept { return pool_.has_value(); }

 private:
  std::optional<MPIPoolExecutor> pool_;
};

}  // namespace lanes
