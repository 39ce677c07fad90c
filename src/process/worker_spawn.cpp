// Starting a worker (the pool's side): posix_spawn of a fresh exec of this program with
// its socket on descriptor 3, the memory it shares with the pool (state and rings) on 4
// and the pool's doorbell eventfd on 5; the worker's side of that memory; and the words
// for how a worker ended.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "worker_spawn.hpp"

extern char** environ;

namespace lanes::detail {
namespace {

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

/// A memfd holding one zeroed WorkerSharedState, and the pool's mapping of it.
std::pair<int, WorkerSharedState*> make_shared_state() {
  FdGuard fd{::memfd_create("lanes-worker-state", MFD_CLOEXEC)};
  if (fd.fd < 0) throw_errno(errno, "memfd_create");
  if (::ftruncate(fd.fd, sizeof(WorkerSharedState)) != 0) throw_errno(errno, "ftruncate");
  void* p = ::mmap(nullptr, sizeof(WorkerSharedState), PROT_READ | PROT_WRITE, MAP_SHARED, fd.fd, 0);
  if (p == MAP_FAILED) throw_errno(errno, "mmap");
  auto* state = new (p) WorkerSharedState;
  // Above the numbers the worker's descriptors take (as for the socket below).
  const int high = ::fcntl(fd.fd, F_DUPFD_CLOEXEC, 10);
  if (high < 0) {
    const int err = errno;
    ::munmap(p, sizeof(WorkerSharedState));
    throw_errno(err, "fcntl(F_DUPFD_CLOEXEC)");
  }
  return {high, state};
}

}  // namespace

void SharedStateMapping::reset() noexcept {
  if (state_) ::munmap(std::exchange(state_, nullptr), sizeof(WorkerSharedState));
}

WorkerSharedState* map_worker_shared_state() noexcept {
  void* p = ::mmap(nullptr, sizeof(WorkerSharedState), PROT_READ | PROT_WRITE, MAP_SHARED,
                   kWorkerStateFd, 0);
  ::close(kWorkerStateFd);  // the mapping stays; programs a task starts do not inherit it
  // The pool constructed the object in the memfd; this process only uses it.
  return p == MAP_FAILED ? nullptr : static_cast<WorkerSharedState*>(p);
}

SpawnedWorker spawn_worker(int doorbell) {
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

  auto [state_fd, state] = make_shared_state();
  FdGuard state_guard{state_fd};
  SharedStateMapping shared(state);

  static_assert(kWorkerStateFd == kWorkerFd + 1 && kWorkerDoorbellFd == kWorkerStateFd + 1);
  // The doorbell too goes above the worker's numbers before the dup2 onto 5.
  FdGuard bell{::fcntl(doorbell, F_DUPFD_CLOEXEC, 10)};
  if (bell.fd < 0) throw_errno(errno, "fcntl(F_DUPFD_CLOEXEC)");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, high.fd, kWorkerFd);
  posix_spawn_file_actions_adddup2(&actions, state_guard.fd, kWorkerStateFd);
  posix_spawn_file_actions_adddup2(&actions, bell.fd, kWorkerDoorbellFd);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&actions, kWorkerDoorbellFd + 1);

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
  w.shared = std::move(shared);
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

}  // namespace lanes::detail
