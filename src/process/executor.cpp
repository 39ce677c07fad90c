// The process pool's front door: the executor's constructor, the start-up hook that
// turns a fresh exec of the program into a worker, and the checks every submit makes
// (registered function, frame size).
//
// The pool never forks its own (multi-threaded) process: it posix_spawn()s a fresh exec
// of /proc/self/exe with LANES_WORKER_FD set. In that new process the constructor below
// runs during static initialisation, after the program's own static objects of default
// priority that were linked before the library (and after every LANES_REGISTER, which
// has priority 200), serves calls until the pool closes the socket, and _exit()s: the
// worker never reaches main(). The hook sits beside ProcessPoolCore::create, which every
// program that makes a pool calls, so the linker always keeps it.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "lanes/detail/process/process_core.hpp"
#include "lanes/detail/process/wire_frame.hpp"
#include "lanes/process_pool.hpp"
#include "supervisor.hpp"
#include "worker_loop.hpp"
#include "worker_spawn.hpp"

namespace lanes::detail {
namespace {

// Set once by the start-up hook of a worker, before any other thread exists.
int g_worker_socket = -1;

__attribute__((constructor)) void lanes_process_worker_hook() {
  const char* fd_text = std::getenv(kWorkerFdVariable);
  if (!fd_text) return;  // an ordinary start of the program
  const char* parent_text = std::getenv(kWorkerParentVariable);
  const int fd = std::atoi(fd_text);
  const pid_t parent = parent_text ? static_cast<pid_t>(std::atol(parent_text)) : 0;
  // The worker's own children (a task may run a program) must not think they are workers.
  ::unsetenv(kWorkerFdVariable);
  ::unsetenv(kWorkerParentVariable);
  // Die with the pool: SIGKILL when the spawning thread (the supervisor) ends; and if it
  // ended before this line, the parent is already someone else.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent != 0 && ::getppid() != parent) ::_exit(0);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // not inherited by programs a task starts
  ::fcntl(kWorkerDoorbellFd, F_SETFD, FD_CLOEXEC);
  g_worker_socket = fd;
  WorkerSharedState* shared = map_worker_shared_state();
  if (!shared) {
    // The pool sends its calls through the shared rings: without them, nothing to do.
    std::fprintf(stderr, "lanes worker %d: could not map the memory shared with the pool\n",
                 static_cast<int>(::getpid()));
    ::_exit(3);
  }
  const int status = run_process_worker(fd, *shared, kWorkerDoorbellFd);
  std::fflush(nullptr);
  ::_exit(status);
}

}  // namespace

int current_worker_socket() noexcept { return g_worker_socket; }

std::shared_ptr<ProcessPoolCore> ProcessPoolCore::create(ProcessPoolConfig config) {
  return make_supervisor(std::move(config));
}

void notify_process_cancel(const std::weak_ptr<ProcessPoolCore>& core) noexcept {
  if (auto pool = core.lock()) pool->notify_cancel();
}

const RemoteFunction& require_registered(AnyFunction fn, const char* caller) {
  const RemoteFunction* entry = find_remote(fn);
  if (!entry) {
    throw UnregisteredFunctionError(
        std::string(caller) + ": `" + describe_function(fn) +
        "` is not registered for process-pool workers: add LANES_REGISTER(<its name>); at "
        "namespace scope in the file that defines it (a worker is a fresh run of this program "
        "and finds functions by their registered name)");
  }
  if (find_remote(std::string_view(entry->name)) != entry) {
    throw UnregisteredFunctionError(
        std::string(caller) + ": two different functions are registered under the name `" +
        entry->name + "`: give one of them another name with LANES_REGISTER_AS");
  }
  return *entry;
}

void check_frame_size(const RemoteFunction& fn, std::size_t args_bytes, bool batch,
                      const char* caller) {
  // The call payload: mode, name (length and bytes), signature, [item count,] arguments.
  const std::size_t prefix = 1 + 4 + std::strlen(fn.name) + 8 + (batch ? 4 : 0);
  if (args_bytes <= kMaxFramePayload - prefix) return;
  throw WireFormatError(std::string(caller) + ": the encoded arguments of `" + fn.name +
                        "` take " + std::to_string(args_bytes) +
                        " bytes, more than a worker frame carries (" +
                        std::to_string(kMaxFramePayload - prefix) +
                        " bytes, 1 GiB in all); nothing was sent: pass a file name or shared "
                        "memory instead of the data" +
                        (batch ? " (or a smaller map chunk size)" : ""));
}

}  // namespace lanes::detail

namespace lanes {

bool in_worker_process() noexcept {
  return detail::g_worker_socket >= 0 || std::getenv(detail::kWorkerFdVariable) != nullptr;
}

ProcessPoolExecutor::ProcessPoolExecutor(ProcessPoolOptions options) : options_(std::move(options)) {
  if (options_.max_workers && *options_.max_workers == 0)
    throw ValueError("ProcessPoolExecutor: max_workers must be greater than 0");
  if (options_.initializer && !options_.initializer->function)
    throw ValueError("ProcessPoolExecutor: the initializer is empty: make it with lanes::remote_call");
  if (options_.task_timeout.count() < 0)
    throw ValueError("ProcessPoolExecutor: task_timeout must not be negative");
  detail::ProcessPoolConfig config;
  config.max_workers = options_.max_workers.value_or(std::thread::hardware_concurrency());
  if (config.max_workers == 0) config.max_workers = 1;  // hardware_concurrency() may not know
  config.max_tasks_per_child = options_.max_tasks_per_child;
  if (options_.initializer) {
    config.initializer = options_.initializer->function;
    config.initializer_args = options_.initializer->arguments;
  }
  config.task_timeout = options_.task_timeout;
  core_ = detail::ProcessPoolCore::create(std::move(config));
}

}  // namespace lanes
