// tests/cli_test_support.hpp — running the `lanes` binary from a test: a private
// temporary directory, a child process with its stdout and stderr captured, and the
// `lanes lab` sizes that suit each build. Used by tests/test_lanes_cli.cpp.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef LANES_CLI_PATH
#error "LANES_CLI_PATH must name the lanes binary (set by tools/lanes/CMakeLists.txt)"
#endif

extern char** environ;

namespace lanes_cli_test {


struct Ran {
  int status = -1;  // exit code, or 128 + signal
  std::string out;
  std::string err;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A private directory for one test's files, removed with its content afterwards.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/lanes-cli-test-XXXXXX";
    if (!mkdtemp(path_.data())) std::abort();
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path_ + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", path_.c_str());
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Runs argv (argv[0] looked up on PATH), stdout and stderr captured, and waits for it.
inline Ran run(const std::vector<std::string>& argv) {
  TempDir dir;
  const std::string out = dir.file("out"), err = dir.file("err");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  Ran r;
  if (rc != 0) {
    r.err = std::string("cannot start: ") + std::strerror(rc);
    return r;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

inline Ran lanes(std::vector<std::string> args) {
  args.insert(args.begin(), LANES_CLI_PATH);
  return run(args);
}

inline int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  if (!s.empty() && s.back() != '\n') ++n;
  return n;
}

// Sizes for `lanes lab` in the tests: the real --quick in a plain build, smaller under
// sanitizers (which slow everything down several times and cap thread counts).
inline std::vector<std::string> lab_args() {
#if defined(LANES_SANITIZED)
  return {"lab",  "--quick",     "--no-python", "--tasks",     "2",     "--task-ms", "4",
          "--waits", "4",        "--wait-ms",   "5",           "--increments", "20000",
          "--waiters", "300",    "--threads-per-process", "1"};
#else
  return {"lab", "--quick"};
#endif
}

}  // namespace lanes_cli_test
