// Child processes: output capture, input, exit codes, signals, reaping.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <lanes/combinators.hpp>
#include <lanes/loop.hpp>
#include <lanes/subprocess.hpp>
#include <lanes/time.hpp>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(Subprocess, CapturesStdout) {
  lanes::run([]() -> lanes::Task<void> {
    const std::vector<std::string> args{"hello", "world"};  // (g++ 12: no braced list in co_await)
    auto proc = co_await lanes::create_subprocess_exec("echo", args, {.std_out = lanes::PIPE});
    EXPECT_GT(proc.pid(), 0);
    auto [out, err] = co_await proc.communicate();
    EXPECT_EQ(out, "hello world\n");
    EXPECT_EQ(err, "");
    EXPECT_EQ(proc.returncode(), 0);
    EXPECT_EQ(co_await proc.wait(), 0);
  }());
}

TEST(Subprocess, ExitCodes) {
  lanes::run([]() -> lanes::Task<void> {
    auto proc = co_await lanes::create_subprocess_shell("exit 3");
    EXPECT_EQ(co_await proc.wait(), 3);
    auto ok = co_await lanes::create_subprocess_exec("true");
    EXPECT_EQ(co_await ok.wait(), 0);
  }());
}

TEST(Subprocess, KillAndTerminateGiveNegativeSignal) {
  lanes::run([]() -> lanes::Task<void> {
    auto a = co_await lanes::create_subprocess_exec("sleep", "30");
    auto b = co_await lanes::create_subprocess_exec("sleep", "30");
    EXPECT_FALSE(a.returncode().has_value());
    a.kill();
    b.terminate();
    EXPECT_EQ(co_await a.wait(), -SIGKILL);
    EXPECT_EQ(co_await b.wait(), -SIGTERM);
    EXPECT_THROW(a.send_signal(SIGTERM), lanes::ProcessLookupError);
  }());
}

TEST(Subprocess, FeedsStdinAndReadsBothPipes) {
  lanes::run([]() -> lanes::Task<void> {
    auto proc = co_await lanes::create_subprocess_shell(
        "cat; echo oops >&2", {.std_in = lanes::PIPE, .std_out = lanes::PIPE, .std_err = lanes::PIPE});
    auto [out, err] = co_await proc.communicate("line one\nline two\n");
    EXPECT_EQ(out, "line one\nline two\n");
    EXPECT_EQ(err, "oops\n");
    EXPECT_EQ(proc.returncode(), 0);
  }());
}

TEST(Subprocess, LargeOutputDoesNotDeadlock) {
  lanes::run([]() -> lanes::Task<void> {
    const std::string input(2 << 20, 'x');
    auto proc = co_await lanes::create_subprocess_shell(
        "cat; head -c 1048576 /dev/zero >&2", {.std_in = lanes::PIPE, .std_out = lanes::PIPE, .std_err = lanes::PIPE});
    auto [out, err] = co_await proc.communicate(input);
    EXPECT_EQ(out.size(), input.size());
    EXPECT_EQ(err.size(), 1u << 20);
  }());
}

TEST(Subprocess, StderrToStdoutAndDevnull) {
  lanes::run([]() -> lanes::Task<void> {
    auto merged = co_await lanes::create_subprocess_shell("echo out; echo err >&2",
                                                          {.std_out = lanes::PIPE, .std_err = lanes::STDOUT});
    auto [out, err] = co_await merged.communicate();
    EXPECT_EQ(out, "out\nerr\n");
    auto quiet = co_await lanes::create_subprocess_shell("echo gone; read x; echo \"[$x]\"",
                                                         {.std_in = lanes::DEVNULL, .std_out = lanes::PIPE});
    auto [out2, err2] = co_await quiet.communicate();
    EXPECT_EQ(out2, "gone\n[]\n");
  }());
}

TEST(Subprocess, StreamsCanBeUsedDirectly) {
  lanes::run([]() -> lanes::Task<void> {
    const std::vector<std::string> no_args;
    auto proc = co_await lanes::create_subprocess_exec("cat", no_args, {.std_in = lanes::PIPE, .std_out = lanes::PIPE});
    for (int i = 0; i < 3; ++i) {
      proc.std_in->write("ping " + std::to_string(i) + "\n");
      co_await proc.std_in->drain();
      EXPECT_EQ(co_await proc.std_out->readline(), "ping " + std::to_string(i) + "\n");
    }
    proc.std_in->close();
    EXPECT_EQ(co_await proc.std_out->read(), "");
    EXPECT_EQ(co_await proc.wait(), 0);
  }());
}

TEST(Subprocess, CwdAndEnv) {
  lanes::run([]() -> lanes::Task<void> {
    const std::vector<std::string> env{"LANES_TEST_VAR=42"};
    auto proc = co_await lanes::create_subprocess_shell(
        "pwd; echo $LANES_TEST_VAR", {.std_out = lanes::PIPE, .cwd = "/tmp", .env = &env});
    auto [out, err] = co_await proc.communicate();
    EXPECT_EQ(out, "/tmp\n42\n");
  }());
}

TEST(Subprocess, MissingProgramIsFileNotFound) {
  lanes::run([]() -> lanes::Task<void> {
    EXPECT_THROW(co_await lanes::create_subprocess_exec("lanes-no-such-program-xyz"), lanes::FileNotFoundError);
    try {
      co_await lanes::create_subprocess_exec("lanes-no-such-program-xyz");
      ADD_FAILURE() << "a missing program started";
    } catch (const lanes::FileNotFoundError& e) {  // Python names the program, as filename
      EXPECT_EQ(e.filename(), "lanes-no-such-program-xyz");
      EXPECT_STREQ(e.what(), "[Errno 2] No such file or directory: 'lanes-no-such-program-xyz'");
    }
  }());
}

TEST(Subprocess, CancelledWaitLeavesTheChildRunning) {
  lanes::run([]() -> lanes::Task<void> {
    auto proc = co_await lanes::create_subprocess_exec("sleep", "30");
    EXPECT_THROW(co_await lanes::wait_for(proc.wait(), 10ms), lanes::TimeoutError);
    EXPECT_FALSE(proc.returncode().has_value());
    proc.kill();
    EXPECT_EQ(co_await proc.wait(), -SIGKILL);
  }());
}

TEST(Subprocess, DroppedProcessIsStillReaped) {
  lanes::run([]() -> lanes::Task<void> {
    int pid;
    {
      auto proc = co_await lanes::create_subprocess_exec("sleep", "30");
      pid = proc.pid();
    }
    ::kill(pid, SIGKILL);
    // Reaped by the loop: the pid disappears (a zombie would still answer kill 0).
    bool gone = false;
    for (int i = 0; i < 500 && !gone; ++i) {
      co_await lanes::sleep(10ms);
      gone = ::kill(pid, 0) != 0 && errno == ESRCH;
    }
    EXPECT_TRUE(gone);
  }());
}

TEST(Subprocess, ThreadedWatcherWithoutPidfd) {
  ::setenv("LANES_NO_PIDFD", "1", 1);
  lanes::run([]() -> lanes::Task<void> {
    auto proc = co_await lanes::create_subprocess_shell("echo threaded; exit 7", {.std_out = lanes::PIPE});
    auto [out, err] = co_await proc.communicate();
    EXPECT_EQ(out, "threaded\n");
    EXPECT_EQ(proc.returncode(), 7);
    auto sleeper = co_await lanes::create_subprocess_exec("sleep", "30");
    sleeper.kill();
    EXPECT_EQ(co_await sleeper.wait(), -SIGKILL);
  }());
  ::unsetenv("LANES_NO_PIDFD");
}

TEST(Subprocess, ChildStillRunningAtLoopCloseIsReapedLater) {
  int pid = 0;
  lanes::run([](int& pid) -> lanes::Task<void> {
    auto proc = co_await lanes::create_subprocess_exec("sleep", "0.05");
    pid = proc.pid();
  }(pid));
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    std::this_thread::sleep_for(10ms);  // no loop to await on here; polled, bounded
    gone = ::kill(pid, 0) != 0 && errno == ESRCH;
  }
  EXPECT_TRUE(gone);
}

}  // namespace
