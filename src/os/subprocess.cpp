// Child processes: posix_spawn, pipes as streams, reaping through a pidfd
// (subprocess.hpp).
#include "lanes/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "lanes/detail/io/io_handle.hpp"
#include "lanes/detail/io/syscall.hpp"
#include "lanes/detail/sync/wait_list.hpp"
#include "lanes/errors.hpp"
#include "lanes/loop.hpp"

extern char** environ;

namespace lanes {
namespace detail {

class ChildWatcher;

/// Lets a waitpid thread (the fallback) reach the loop only while it exists.
struct LoopMailbox {
  std::mutex mutex;
  EventLoop* loop = nullptr;  // guarded by mutex; null once the loop closed
};

class ChildState : public std::enable_shared_from_this<ChildState> {
 public:
  struct ExitWatch : IoWaiter {
    ChildState* child;
  };

  pid_t pid = -1;
  std::optional<int> returncode;
  IoHandle pidfd;
  ExitWatch watch;
  LoopWaitList waiters;
  ChildWatcher* watcher = nullptr;
  bool threaded = false;  // reaped by a waitpid thread (no pidfd)

  /// Records the exit, wakes the waiters, and leaves the watcher's list.
  void exited(int status) noexcept;
  /// Reaps if the child has exited; true if it had.
  bool try_reap() noexcept {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      exited(status);
      return true;
    }
    if (r < 0 && errno == ECHILD) {
      exited(0);  // reaped elsewhere (a SIGCHLD handler set to SIG_IGN): unknown status
      return true;
    }
    return false;
  }
};

/// The children of one loop not yet reaped (a loop extension).
class ChildWatcher final : public LoopExtension {
 public:
  explicit ChildWatcher(EventLoop& loop) : mailbox(std::make_shared<LoopMailbox>()) {
    mailbox->loop = &loop;
  }
  ~ChildWatcher() override {
    {
      std::lock_guard<std::mutex> guard(mailbox->mutex);
      mailbox->loop = nullptr;
    }
    // The loop closes with children still running: a thread waits for each, so
    // that none is left a zombie.
    for (auto& [raw, child] : live) {
      child->watcher = nullptr;
      child->pidfd.close();
      if (child->returncode) continue;
      int status = 0;
      if (::waitpid(child->pid, &status, WNOHANG) == 0 && !child->threaded) {
        std::thread([pid = child->pid] {
          int s = 0;
          detail::retry_eintr([&] { return ::waitpid(pid, &s, 0); });
        }).detach();
      }
    }
  }
  std::unordered_map<ChildState*, std::shared_ptr<ChildState>> live;
  std::shared_ptr<LoopMailbox> mailbox;
};

namespace {
const char watcher_key = 0;

ChildWatcher& child_watcher(EventLoop& loop) {
  if (auto* ext = loop.extension(&watcher_key)) return static_cast<ChildWatcher&>(*ext);
  return static_cast<ChildWatcher&>(loop.set_extension(&watcher_key, std::make_unique<ChildWatcher>(loop)));
}

int decode_status(int status) noexcept {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return status;
}

bool pidfd_disabled() noexcept {
  const char* v = std::getenv("LANES_NO_PIDFD");
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}
}  // namespace

void ChildState::exited(int status) noexcept {
  if (returncode) return;
  returncode = decode_status(status);
  pidfd.close();
  waiters.wake_all();
  if (watcher) {
    // Erasing may drop the last reference: keep it until this function is done.
    auto self = shared_from_this();
    watcher->live.erase(this);
    watcher = nullptr;
  }
}

class ExitAwaiter : public ListAwaiter<ExitAwaiter> {
 public:
  explicit ExitAwaiter(ChildState& c) noexcept : ListAwaiter(c.waiters), child_(&c) {}
  bool await_ready() const noexcept { return child_->returncode.has_value(); }
  void await_resume() {
    if (resumed()) task->throw_if_cancelled();
  }

 private:
  ChildState* child_;
};

}  // namespace detail

// ---- Process -------------------------------------------------------------------

int Process::pid() const noexcept { return state_ ? state_->pid : -1; }

std::optional<int> Process::returncode() const noexcept {
  return state_ ? state_->returncode : std::nullopt;
}

namespace {

Task<int> wait_child(std::shared_ptr<detail::ChildState> child) {
  while (!child->returncode) co_await detail::ExitAwaiter(*child);
  co_return *child->returncode;
}

Task<void> feed_stdin(StreamWriter w, std::string input) {
  try {
    if (!input.empty()) {
      w.write(input);
      co_await w.drain();
    }
  } catch (const BrokenPipeError&) {
    // The child exited without reading its input: not an error (Python's rule).
  } catch (const ConnectionResetError&) {
  }
  w.close();
}

Task<std::string> read_all(StreamReader r) { co_return co_await r.read(); }

}  // namespace

Task<int> Process::wait() {
  if (!state_) throw InvalidStateError("wait() on a moved-from Process");
  return wait_child(state_);
}

Task<std::pair<std::string, std::string>> Process::communicate(std::string input) {
  if (!state_) throw InvalidStateError("communicate() on a moved-from Process");
  // Each pipe is served by its own task, so that a child blocked writing stderr
  // while we feed its stdin cannot deadlock us.
  std::optional<Future<void>> feeder;
  std::optional<Future<std::string>> err_reader;
  if (std_in) feeder = create_task(feed_stdin(*std_in, std::move(input)));
  if (std_err) err_reader = create_task(read_all(*std_err));
  std::pair<std::string, std::string> out;
  std::exception_ptr error;
  try {
    if (std_out) out.first = co_await std_out->read();
    if (err_reader) out.second = co_await *err_reader;
    if (feeder) co_await *feeder;
    co_await wait_child(state_);
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    // Cancelled (or a pipe failed): stop the helpers and wait for them to end.
    if (feeder && !feeder->done()) feeder->cancel();
    if (err_reader && !err_reader->done()) err_reader->cancel();
    if (feeder) {
      try {
        co_await *feeder;
      } catch (...) {
      }
    }
    if (err_reader) {
      try {
        co_await *err_reader;
      } catch (...) {
      }
    }
    std::rethrow_exception(error);
  }
  co_return out;
}

void Process::send_signal(int sig) {
  if (!state_ || state_->returncode)
    throw ProcessLookupError(ESRCH, "send_signal: the process has exited and was reaped");
  if (state_->pidfd.is_open()) {
    // Through the pidfd: never a recycled pid.
    if (::syscall(SYS_pidfd_send_signal, state_->pidfd.fd(), sig, nullptr, 0) == 0) return;
  } else if (::kill(state_->pid, sig) == 0) {
    return;
  }
  throw_os_error(errno, "sending signal " + std::to_string(sig) + " to process " + std::to_string(state_->pid));
}

// ---- spawning --------------------------------------------------------------------

namespace {

/// Descriptors made for one spawn; what is not handed over is closed.
struct SpawnFds {
  int parent[3] = {-1, -1, -1};
  std::vector<int> child_side;
  ~SpawnFds() {
    for (int fd : child_side) ::close(fd);
    for (int fd : parent)
      if (fd >= 0) ::close(fd);
  }
};

class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&fa_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&fa_); }
  posix_spawn_file_actions_t* get() noexcept { return &fa_; }

 private:
  posix_spawn_file_actions_t fa_;
};

class SpawnAttr {
 public:
  SpawnAttr() { posix_spawnattr_init(&attr_); }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr_); }
  posix_spawnattr_t* get() noexcept { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

// A plain function, not a coroutine: nothing here waits.
Process spawn_now(std::vector<std::string> argv, const SubprocessOptions& options, bool search_path) {
  EventLoop& loop = get_running_loop();
  detail::ignore_sigpipe();
  SpawnFds fds;
  FileActions actions;
  const Redirect redirects[3] = {options.std_in, options.std_out, options.std_err};
  for (int i = 0; i < 3; ++i) {
    const Redirect& r = redirects[i];
    switch (r.kind) {
      case Redirect::Kind::inherit:
        break;
      case Redirect::Kind::pipe: {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) throw_os_error(errno, "pipe2()");
        const int child = i == 0 ? p[0] : p[1];
        fds.parent[i] = i == 0 ? p[1] : p[0];
        fds.child_side.push_back(child);
        posix_spawn_file_actions_adddup2(actions.get(), child, i);
        break;
      }
      case Redirect::Kind::devnull: {
        const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0) throw_os_error(errno, "open(/dev/null)");
        fds.child_side.push_back(fd);
        posix_spawn_file_actions_adddup2(actions.get(), fd, i);
        break;
      }
      case Redirect::Kind::to_stdout:
        if (i != 2) throw ValueError("lanes::STDOUT is only valid for std_err");
        posix_spawn_file_actions_adddup2(actions.get(), 1, 2);
        break;
      case Redirect::Kind::fd:
        posix_spawn_file_actions_adddup2(actions.get(), r.fd, i);
        break;
    }
  }
  const std::string cwd(options.cwd);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(actions.get(), cwd.c_str());

  // The child starts with SIGPIPE at its default (lanes ignores it here) and no
  // signal blocked.
  SpawnAttr attr;
  sigset_t defaults, empty;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(attr.get(), &defaults);
  posix_spawnattr_setsigmask(attr.get(), &empty);
  posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<char*> envp;
  if (options.env) {
    for (const auto& e : *options.env) envp.push_back(const_cast<char*>(e.c_str()));  // execve's type
    envp.push_back(nullptr);
  }
  char** env = options.env ? envp.data() : environ;
  const bool use_path = search_path && argv[0].find('/') == std::string::npos;

  pid_t pid = -1;
  const int rc = use_path ? ::posix_spawnp(&pid, args[0], actions.get(), attr.get(), args.data(), env)
                          : ::posix_spawn(&pid, args[0], actions.get(), attr.get(), args.data(), env);
  if (rc != 0) throw_os_error_with_filename(rc, argv[0]);  // Python names the program as filename

  auto child = std::make_shared<detail::ChildState>();
  child->pid = pid;
  child->watch.child = child.get();
  child->watch.ready = [](detail::IoWaiter* w) noexcept {
    auto* c = static_cast<detail::ChildState::ExitWatch*>(w)->child;
    if (!c->try_reap()) c->pidfd.read_waiter = w;  // not yet: wait for the next edge
  };
  auto& watcher = detail::child_watcher(loop);
  watcher.live.emplace(child.get(), child);
  child->watcher = &watcher;

  const int pidfd = detail::pidfd_disabled() ? -1 : static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    child->pidfd.open(loop, pidfd);
    child->pidfd.read_waiter = &child->watch;
    child->try_reap();  // it may have exited already
  } else {
    // No pidfd here: one thread per child blocks in waitpid and reports through
    // the loop (Python's ThreadedChildWatcher).
    child->threaded = true;
    std::weak_ptr<detail::ChildState> weak = child;
    std::thread([pid, weak, mailbox = watcher.mailbox] {
      int status = 0;
      detail::retry_eintr([&] { return ::waitpid(pid, &status, 0); });
      std::lock_guard<std::mutex> guard(mailbox->mutex);
      if (!mailbox->loop) return;
      try {
        mailbox->loop->call_soon_threadsafe([weak, status] {
          if (auto c = weak.lock()) c->exited(status);
        });
      } catch (...) {
      }
    }).detach();
  }

  Process proc(child);
  if (fds.parent[0] >= 0) {
    auto core = std::make_shared<detail::StreamCore>(options.limit);
    const int fd = std::exchange(fds.parent[0], -1);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    core->attach(loop, fd, detail::StreamCore::Kind::pipe);
    proc.std_in.emplace(std::move(core));
  }
  for (int i = 1; i < 3; ++i) {
    if (fds.parent[i] < 0) continue;
    auto core = std::make_shared<detail::StreamCore>(options.limit);
    const int fd = std::exchange(fds.parent[i], -1);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    core->attach(loop, fd, detail::StreamCore::Kind::pipe);
    (i == 1 ? proc.std_out : proc.std_err).emplace(std::move(core));
  }
  return proc;
}

Task<Process> spawn(std::vector<std::string> argv, SubprocessOptions options, bool search_path) {
  co_return spawn_now(std::move(argv), options, search_path);
}

}  // namespace

Task<Process> create_subprocess_exec(std::string program, std::vector<std::string> args,
                                     SubprocessOptions options) {
  if (program.empty()) throw ValueError("create_subprocess_exec: the program name is empty");
  args.insert(args.begin(), std::move(program));
  return spawn(std::move(args), std::move(options), true);
}

Task<Process> create_subprocess_shell(std::string command, SubprocessOptions options) {
  return spawn({"/bin/sh", "-c", std::move(command)}, std::move(options), false);
}

}  // namespace lanes
