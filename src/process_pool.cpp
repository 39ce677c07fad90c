// How a process-pool worker starts, and how it knows it is one.
//
// The pool never forks its own (multi-threaded) process: it posix_spawn()s a fresh exec
// of /proc/self/exe with LANES_WORKER_FD set. In that new process the constructor below
// runs during static initialisation, after the program's own static objects of default
// priority that were linked before the library (and after every LANES_REGISTER, which
// has priority 200), serves calls until the pool closes the socket, and _exit()s: the
// worker never reaches main(). This file also holds ProcessPoolCore::create, which every
// program that makes a pool calls, so the linker always keeps the hook.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "lanes/detail/process_core.hpp"
#include "lanes/process_pool.hpp"
#include "process_worker.hpp"

extern char** environ;

namespace lanes::detail {
namespace {

// Set once by the start-up hook of a worker, before any other thread exists.
int g_worker_socket = -1;

[[noreturn]] void throw_errno(int err, const char* what) {
  throw std::system_error(err, std::generic_category(),
                          std::string("ProcessPoolExecutor: could not start a worker: ") + what);
}

/// Closes a descriptor on scope exit unless released.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
  int release() noexcept { return std::exchange(fd, -1); }
};

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
  g_worker_socket = fd;
  const int status = run_process_worker(fd);
  std::fflush(nullptr);
  ::_exit(status);
}

}  // namespace

int current_worker_socket() noexcept { return g_worker_socket; }

std::shared_ptr<ProcessPoolCore> ProcessPoolCore::create(ProcessPoolConfig config) {
  return make_supervisor(std::move(config));
}

SpawnedWorker spawn_worker() {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) != 0)
    throw_errno(errno, "socketpair");
  FdGuard ours{pair[0]};
  FdGuard theirs{pair[1]};
  // The child's end must become descriptor 3 in the worker; dup2 onto 3 only clears
  // close-on-exec if the source is another number, so move it out of the way first.
  FdGuard high{::fcntl(pair[1], F_DUPFD_CLOEXEC, 10)};
  if (high.fd < 0) throw_errno(errno, "fcntl(F_DUPFD_CLOEXEC)");
  {
    // The worker blocks on its socket; only the pool's end is non-blocking.
    const int flags = ::fcntl(high.fd, F_GETFL);
    ::fcntl(high.fd, F_SETFL, flags & ~O_NONBLOCK);
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, high.fd, kWorkerFd);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&actions, kWorkerFd + 1);

  // Signals back to their defaults and none blocked: whatever the caller's threads set
  // up (SIGPIPE ignored, signals blocked for a signal thread) is not the worker's.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> added{std::string(kWorkerFdVariable) + "=" + std::to_string(kWorkerFd),
                                 std::string(kWorkerParentVariable) + "=" +
                                     std::to_string(::getpid())};
  std::vector<char*> env;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "LANES_WORKER_", 13) != 0) env.push_back(*e);
  }
  for (auto& a : added) env.push_back(a.data());
  env.push_back(nullptr);
  std::string name = program_invocation_name ? program_invocation_name : "lanes-worker";
  std::string marker = "--lanes-worker";  // shows in ps; the environment decides
  char* argv[] = {name.data(), marker.data(), nullptr};

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", &actions, &attr, argv, env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw_errno(rc, "posix_spawn(/proc/self/exe)");

  SpawnedWorker w;
  w.pid = pid;
  w.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (w.pidfd >= 0) ::fcntl(w.pidfd, F_SETFD, FD_CLOEXEC);
  w.socket = ours.release();
  return w;
}

std::string describe_wait_status(int status, int& signal, int& exit_code) {
  signal = 0;
  exit_code = -1;
  if (WIFSIGNALED(status)) {
    signal = WTERMSIG(status);
    const char* abbrev = ::sigabbrev_np(signal);
    const char* text = ::sigdescr_np(signal);
    return "was killed by signal " + std::to_string(signal) + " (SIG" +
           (abbrev ? abbrev : "?") + ", " + (text ? text : "unknown signal") + ")";
  }
  if (WIFEXITED(status)) {
    exit_code = WEXITSTATUS(status);
    return "exited with status " + std::to_string(exit_code);
  }
  return "ended with wait status " + std::to_string(status);
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
