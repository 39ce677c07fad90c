// Ctrl-C on a program shaped like the README's first example ends as Python's
// KeyboardInterrupt does: one line on stderr and death by SIGINT (the shell's
// status 130), never std::terminate's SIGABRT. Runs tests/helpers/sigint_child.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

extern char** environ;

namespace {

/// Reads `fd` to its end.
std::string read_all(int fd) {
  std::string out;
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      return out;
    }
  }
}

/// Reads one line from `fd` (unbuffered: the child writes it in one go).
std::string read_line(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

TEST(SigintExit, CtrlCEndsTheFirstProgramWithOneLineAndStatus130) {
  int out[2], err[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  // SIGINT at its default and unblocked in the child, whatever the test runner did.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  char path[] = LANES_SIGINT_CHILD;
  char* argv[] = {path, nullptr};
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, path, &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out[1]);
  ::close(err[1]);
  ASSERT_EQ(spawned, 0) << "cannot start " << path;

  EXPECT_EQ(read_line(out[0]), "ready");
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  const std::string errors = read_all(err[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(out[0]);
  ::close(err[0]);

  ASSERT_TRUE(WIFSIGNALED(status)) << "exited with " << WEXITSTATUS(status) << "; stderr: " << errors;
  EXPECT_EQ(WTERMSIG(status), SIGINT) << "stderr: " << errors;  // the shell shows 130
  // One line, naming the interrupt (sanitizer runtimes add nothing on SIGINT).
  EXPECT_NE(errors.find("KeyboardInterrupt"), std::string::npos) << errors;
  EXPECT_EQ(errors.find("terminate"), std::string::npos) << errors;
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.find('\n'), errors.size() - 1) << errors;
}

}  // namespace
