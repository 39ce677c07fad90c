// tests/cli_test_support.hpp — running the `lanes` binary from a test: a private
// temporary directory, a child process with its stdout and stderr captured, and the
// `lanes lab` sizes that suit each build. Used by tests/test_lanes_cli.cpp.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

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

/// Bad use of the command line: exit status 2, one line on stderr that starts with
/// "lanes: " and mentions `mentions`, nothing on stdout.
inline void expect_usage_error(const Ran& r, const std::string& mentions) {
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("lanes: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(mentions), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

/// What a program drew on a terminal `columns` wide: runs argv with stderr on a fresh
/// pseudo-terminal of that size (stdout to /dev/null, stdin from /dev/null), and returns
/// every byte it wrote there. `status` gets its exit status.
inline std::string run_on_terminal(const std::vector<std::string>& argv, int columns, int& status) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) std::abort();
  const std::string slave_name = ptsname(master);
  winsize ws{};
  ws.ws_row = 24;
  ws.ws_col = static_cast<unsigned short>(columns);
  ioctl(master, TIOCSWINSZ, &ws);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, slave_name.c_str(), O_RDWR | O_NOCTTY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  std::string out;
  status = -1;
  if (rc != 0) {
    close(master);
    return out;
  }
  // Drain the terminal while the program runs (it would block on a full one). Our own
  // descriptor of the terminal keeps it open, so poll never reports a hang-up; once the
  // program has ended, what it wrote is all in the buffer.
  const int slave = open(slave_name.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  char buf[4096];
  bool ended = false;
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, ended ? 0 : 100) > 0) {
      const ssize_t n = read(master, buf, sizeof buf);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
    }
    if (ended) break;
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      ended = true;
      status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
  }
  if (slave >= 0) close(slave);
  close(master);
  return out;
}

/// The screen a terminal `columns` wide shows after `bytes`, as a VT100 would: text
/// wraps at the right edge (deferred, as xterm does), "\r" returns to column 0, "\n"
/// moves down, ESC[2K erases the line and ESC[K to its end; other escapes are ignored.
/// A UTF-8 character takes one column.
inline std::vector<std::string> terminal_screen(const std::string& bytes, std::size_t columns) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(columns, " "));
  std::size_t row = 0, col = 0;
  bool wrap_pending = false;
  auto down = [&] {
    ++row;
    if (row == rows.size()) rows.emplace_back(columns, " ");
  };
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') {
      col = 0;
      wrap_pending = false;
    } else if (c == '\n') {
      down();
      wrap_pending = false;
    } else if (c == 0x1b && i + 1 < bytes.size() && bytes[i + 1] == '[') {
      std::size_t j = i + 2;
      std::string param;
      while (j < bytes.size() && (std::isdigit(static_cast<unsigned char>(bytes[j])) || bytes[j] == ';'))
        param += bytes[j++];
      if (j < bytes.size() && bytes[j] == 'K') {
        const std::size_t from = param == "2" ? 0 : col;
        for (std::size_t x = from; x < columns; ++x) rows[row][x] = " ";
      }
      i = j;
    } else if (c >= 0x20 && (c & 0xC0) != 0x80) {
      if (wrap_pending) {
        down();
        col = 0;
        wrap_pending = false;
      }
      std::string ch(1, static_cast<char>(c));
      while (i + 1 < bytes.size() && (static_cast<unsigned char>(bytes[i + 1]) & 0xC0) == 0x80)
        ch += bytes[++i];
      rows[row][col] = ch;
      if (col + 1 == columns) {
        wrap_pending = true;
      } else {
        ++col;
      }
    }
  }
  std::vector<std::string> screen;
  for (const auto& r : rows) {
    std::string line;
    for (const auto& ch : r) line += ch;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    screen.push_back(line);
  }
  return screen;
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
