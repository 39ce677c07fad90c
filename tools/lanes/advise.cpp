// tools/lanes/advise.cpp — `lanes advise -- CMD [ARGS...]` runs CMD and watches its whole
// process tree; `lanes advise --pid N [--seconds S]` watches a running process. Then it
// says whether the program is CPU-bound, I/O-bound, mixed or idle, with the evidence, which
// lanes executor fits, and the speed-up to expect on this machine.
//
// The report goes to stderr (the command's own stdout stays clean for pipes), or to
// --output FILE. With a command, lanes exits with the command's own status.
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "advise/proc_tree.hpp"
#include "advise/verdict.hpp"
#include "cli.hpp"
#include "validators.hpp"

extern char** environ;

namespace lanes_cli {

namespace {

struct AdviseOptions {
  std::vector<std::string> command;
  int pid = 0;
  double seconds = 5;
  int interval_ms = 50;
  bool json = false;
  std::string output;
  CLI::Option* seconds_opt = nullptr;
};

/// The executable `name` resolves to, as execvp would find it; empty if none.
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string quote_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_of(" \t\"'\\$`;&|<>(){}*?!") == std::string::npos;
    out += plain ? a : "'" + a + "'";
  }
  return out;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return fmt::format("killed by signal {}{}", sig, name ? fmt::format(" (SIG{})", name) : "");
  }
  return "ended";
}

void emit(const AdviseOptions& o, const advise::Evidence& e) {
  advise::Advice a = advise::judge(e);
  const std::string text = o.json ? advise::render_json(e, a) : advise::render_text(e, a);
  if (o.output.empty()) {
    std::fputs(text.c_str(), stderr);
    return;
  }
  std::ofstream out(o.output, std::ios::trunc | std::ios::binary);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(fmt::format("advise: cannot write the report to {}", o.output));
}

/// Says now, before anything runs, if the report cannot be written.
void check_output(const AdviseOptions& o) {
  if (o.output.empty()) return;
  std::ofstream out(o.output, std::ios::trunc | std::ios::binary);
  if (!out)
    throw UsageError(fmt::format("advise: cannot write the report to {}: {}", o.output,
                                 std::strerror(errno)));
}

/// Waits up to `ms` for the child behind `pidfd` (or `pid` without one) to end,
/// without reaping it. Returns true once it has ended.
bool wait_end(int pidfd, pid_t pid, int ms) {
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int r = poll(&p, 1, ms);
    return r > 0;
  }
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
      info.si_pid == pid)
    return true;
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return false;
}

int run_command(const AdviseOptions& o) {
  const std::string exe = resolve_program(o.command[0]);
  if (exe.empty())
    throw UsageError(fmt::format("advise: no such program: '{}' (not found{})", o.command[0],
                                 o.command[0].find('/') == std::string::npos ? " on PATH" : ""));

  // Like `time`: ^C and ^\ go to the command; we stay to report on it.
  struct sigaction ignore{}, old_int{}, old_quit{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ignore, &old_int);
  sigaction(SIGQUIT, &ignore, &old_quit);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGQUIT);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (const auto& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe.c_str(), nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGQUIT, &old_quit, nullptr);
    throw UsageError(fmt::format("advise: cannot run '{}': {}", o.command[0], std::strerror(rc)));
  }

  // The moment it ends, taken by a thread that does nothing else: the sampling below
  // reads all of /proc and may notice the end late (slowly under a sanitizer or a
  // loaded machine), which would stretch a short command's wall time.
  std::chrono::steady_clock::time_point t_end;
  std::thread end_clock([pid, &t_end] {
    siginfo_t info{};
    // WNOWAIT: not reaped, so /proc keeps its final counters for the last sample.
    while (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
    t_end = std::chrono::steady_clock::now();
  });

  advise::TreeWatcher watcher(pid, true);
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  for (;;) {
    watcher.sample();
    if (wait_end(pidfd, pid, o.interval_ms)) break;
  }
  // Ended but not reaped: /proc still shows it (a zombie) with its final counters.
  watcher.sample();
  end_clock.join();  // it has returned: the child has ended
  const double wall = std::chrono::duration<double>(t_end - t0).count();
  if (pidfd >= 0) close(pidfd);

  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGQUIT, &old_quit, nullptr);

  advise::Evidence e;
  e.command = quote_command(o.command);
  e.wall_s = wall;
  e.tree = watcher.figures();
  e.have_rusage = true;
  e.ru_user_s = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) * 1e-6;
  e.ru_system_s = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) * 1e-6;
  e.ru_voluntary = ru.ru_nvcsw;
  e.ru_involuntary = ru.ru_nivcsw;
  e.ru_maxrss_kb = ru.ru_maxrss;
  e.cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  e.ended = describe_status(status);
  emit(o, e);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int watch_pid(const AdviseOptions& o) {
  const pid_t pid = o.pid;
  if (kill(pid, 0) != 0 && errno == ESRCH)
    throw UsageError(fmt::format("advise: no process with pid {}", pid));
  const std::string name = advise::process_name(pid);
  if (name.empty()) throw UsageError(fmt::format("advise: no process with pid {}", pid));

  advise::TreeWatcher watcher(pid, false);
  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(o.seconds);
  bool alive = watcher.sample();
  while (alive && std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        left, std::chrono::milliseconds(o.interval_ms)));
    alive = watcher.sample();
  }
  advise::Evidence e;
  e.command = fmt::format("pid {} ({})", pid, name);
  e.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  e.tree = watcher.figures();
  e.cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  e.ended = alive ? fmt::format("watched {:.1f} s, still running", e.wall_s)
                  : fmt::format("it exited after {:.1f} s of watching", e.wall_s);
  emit(o, e);
  return 0;
}

int run_advise(const AdviseOptions& o) {
  if (o.pid != 0 && !o.command.empty())
    throw UsageError("advise: give either --pid N or a command after --, not both");
  if (o.pid == 0 && o.command.empty())
    throw UsageError("advise: say what to watch: `lanes advise -- CMD [ARGS...]` or "
                     "`lanes advise --pid N`");
  if (o.pid == 0 && o.seconds_opt && o.seconds_opt->count() > 0)
    throw UsageError("advise: --seconds goes with --pid; a command is watched until it ends");
  check_output(o);
  return o.pid != 0 ? watch_pid(o) : run_command(o);
}

}  // namespace

Subcommand add_advise_command(CLI::App& parent, const std::vector<std::string>& command) {
  auto opts = std::make_shared<AdviseOptions>();
  opts->command = command;
  CLI::App* app = parent.add_subcommand(
      "advise",
      "Is a program CPU-bound, I/O-bound, mixed or idle? Runs it (lanes advise -- CMD "
      "[ARGS...]) or watches it (--pid N), over its whole process tree, then says which lanes "
      "executor fits and the speed-up to expect (a run under 0.1 s is too short to judge). The "
      "report goes to stderr; the exit status is the command's own.");
  app->add_option("--pid", opts->pid, "Watch this running process and its children")
      ->check(process_id());
  opts->seconds_opt = app->add_option("--seconds", opts->seconds,
                                      "With --pid: how long to watch (default 5)")
                          ->check(number_from_to<double>(0.05, 86400.0));
  app->add_option("--interval-ms", opts->interval_ms, "How often to sample /proc (default 50)")
      ->check(number_from_to<int>(5, 10000));
  app->add_flag("--json", opts->json, "Report as JSON");
  app->add_option("--output", opts->output, "Write the report to FILE instead of stderr")
      ->type_name("FILE");
  return {app, [opts] { return run_advise(*opts); }};
}

}  // namespace lanes_cli
