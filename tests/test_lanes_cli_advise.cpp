// tests/test_lanes_cli_advise.cpp — `lanes advise`, run as a user runs it: its bad uses,
// and its verdicts on programs whose nature is known: a busy loop (CPU-bound), a sleep
// (idle), `true` (too short to judge), two threads talking over a socket (I/O-bound,
// although /proc/PID/io sees none of it), the small-system-calls hint only for small calls,
// and valid UTF-8 JSON whatever the arguments.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_test_support.hpp"

namespace {

using Json = nlohmann::json;
using namespace lanes_cli_test;

// ---------------------------------------------------------------------------------------
// Bad use: one clear line on stderr, exit status 2, before anything runs.
// ---------------------------------------------------------------------------------------

TEST(LanesCliAdviseParsing, PidMustBeAPositiveProcessId) {
  for (const char* bad : {"0", "-3"}) {
    Ran r = lanes({"advise", "--pid", bad});
    expect_usage_error(r, "must be a positive process id");
    EXPECT_LT(r.err.size(), 120u) << "no 309-digit range: " << r.err;
  }
  expect_usage_error(lanes({"advise", "--pid", "abc"}), "expects a process id");
}

TEST(LanesCliAdviseParsing, UnwritableAdviseOutputIsBadUseBeforeTheCommandRuns) {
  TempDir dir;
  const std::string marker = dir.file("ran");
  Ran r = lanes({"advise", "--output", "/nonexistent-dir/lanes/advice.txt", "--", "touch", marker});
  expect_usage_error(r, "/nonexistent-dir/lanes/advice.txt");
  EXPECT_TRUE(read_file(marker).empty() && access(marker.c_str(), F_OK) != 0)
      << "the command ran although its report could not be written";
}

TEST(LanesCliAdviseParsing, AdviseWithoutCommandIsBadUse) {
  expect_usage_error(lanes({"advise"}), "advise");
}

TEST(LanesCliAdviseParsing, AdviseOfMissingProgramIsBadUse) {
  expect_usage_error(lanes({"advise", "--", "/nonexistent/lanes-no-such-program", "x"}),
                     "no such program");
  expect_usage_error(lanes({"advise", "--", "lanes-no-such-program-on-path"}), "no such program");
}

TEST(LanesCliAdviseParsing, AdviseOfGonePidIsBadUse) {
  // A pid that surely ended: a child we started and reaped ourselves.
  Ran done = run({"true"});
  ASSERT_EQ(done.status, 0);
  pid_t pid = -1;
  char arg0[] = "true";
  char* argv[] = {arg0, nullptr};
  ASSERT_EQ(posix_spawnp(&pid, "true", nullptr, nullptr, argv, environ), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  expect_usage_error(lanes({"advise", "--pid", std::to_string(pid), "--seconds", "1"}),
                     std::to_string(pid));
}

TEST(LanesCliAdviseParsing, AdvisePidAndCommandTogetherIsBadUse) {
  expect_usage_error(lanes({"advise", "--pid", "1", "--", "true"}), "not both");
}


// ---------------------------------------------------------------------------------------
// lanes advise
// ---------------------------------------------------------------------------------------

Json advise_json(const std::vector<std::string>& command, int expect_status = 0) {
  TempDir dir;
  std::vector<std::string> args = {"advise", "--json", "--output", dir.file("report.json"), "--"};
  args.insert(args.end(), command.begin(), command.end());
  Ran r = lanes(args);
  EXPECT_EQ(r.status, expect_status) << r.err;
  return Json::parse(read_file(dir.file("report.json")));
}

TEST(LanesCliAdvise, BusyLoopChildIsCpuBound) {
  Json report =
      advise_json({"sh", "-c", "i=0; while [ \"$i\" -lt 400000 ]; do i=$((i+1)); done"});
  EXPECT_EQ(report.at("verdict").get<std::string>(), "CPU-bound") << report.at("evidence").size();
  EXPECT_GT(report.at("cpu_s").get<double>(), 0.0);
  EXPECT_NE(report.at("executor").get<std::string>().find("ThreadPoolExecutor"), std::string::npos);
}

TEST(LanesCliAdvise, SleepingChildIsIdle) {
  // Sleeping is waiting without I/O: nothing for concurrency to overlap. Whatever the
  // machine's load or however slowly the child starts (time waiting for a core counts
  // neither way), it is not CPU-bound or mixed.
  Json report = advise_json({"sleep", "0.5"});
  EXPECT_EQ(report.at("verdict").get<std::string>(), "idle") << report.dump(2);
  EXPECT_GE(report.at("wall_s").get<double>(), 0.5);
  EXPECT_GT(report.at("blocked_in").at("sleep").get<long>(), 0) << report.dump(2);
}

TEST(LanesCliAdvise, AnInstantCommandIsTooShortToJudge) {
  Json report = advise_json({"true"});
  EXPECT_EQ(report.at("verdict").get<std::string>(), "too short to judge") << report.dump(2);
}

TEST(LanesCliAdvise, SocketWaitsAreSeenAsIo) {
  // Two threads of one process talk over a socket pair: send/recv, which /proc/PID/io
  // does not count. The report sees the socket, the waits in it, and the wake-ups. The
  // answering side takes 2 ms in select() each time, as a server waiting on its own
  // backend would (a sleep() there would be a wait that is not I/O).
  if (run({"python3", "-c", "pass"}).status != 0) GTEST_SKIP() << "no python3 on PATH";
  const char* script =
      "import select, socket, threading\n"
      "a, b = socket.socketpair()\n"
      "def echo():\n"
      "    while True:\n"
      "        d = b.recv(4096)\n"
      "        if not d: break\n"
      "        select.select([], [], [], 0.002)\n"
      "        b.sendall(d)\n"
      "t = threading.Thread(target=echo); t.start()\n"
      "for i in range(250):\n"
      "    a.sendall(b'x' * 512); a.recv(4096)\n"
      "a.close(); t.join()\n";
  Json report = advise_json({"python3", "-c", script});
  EXPECT_EQ(report.at("verdict").get<std::string>(), "I/O-bound") << report.dump(2);
  EXPECT_GE(report.at("sockets_seen").get<int>(), 1) << report.dump(2);
  EXPECT_GT(report.at("blocked_in").at("socket").get<long>() +
                report.at("blocked_in").at("read").get<long>() +
                report.at("blocked_in").at("poll").get<long>(),
            0)
      << report.dump(2);
  bool mentions_sockets = false;
  for (const auto& line : report.at("evidence")) mentions_sockets |= line.get<std::string>().find("sockets") != std::string::npos;
  EXPECT_TRUE(mentions_sockets) << report.dump(2);
}

bool evidence_mentions(const Json& report, const std::string& words) {
  for (const auto& line : report.at("evidence"))
    if (line.get<std::string>().find(words) != std::string::npos) return true;
  return false;
}

TEST(LanesCliAdvise, TheSmallSystemCallsHintChecksBytesPerCall) {
  // Both spend their CPU time in the kernel; only the first does it in tiny calls.
  // A million 1-byte copies: long enough (>100 ms) to be judged on any machine; 200k
  // ran in 42 ms on a quiet one and was called "too short to judge".
  Json tiny = advise_json({"dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=1000000", "status=none"});
  EXPECT_TRUE(evidence_mentions(tiny, "many small system calls")) << tiny.dump(2);
  Json big = advise_json({"dd", "if=/dev/urandom", "of=/dev/null", "bs=1M", "count=100", "status=none"});
  EXPECT_FALSE(evidence_mentions(big, "many small system calls")) << big.dump(2);
  EXPECT_TRUE(evidence_mentions(big, "not many small ones")) << big.dump(2);
}

TEST(LanesCliAdvise, JsonIsValidUtf8WhateverTheArguments) {
  // An argument that is not UTF-8 (0xff 0xfe) reaches the report's "command": the JSON
  // stays valid (nlohmann's parser rejects invalid UTF-8), the bytes replaced.
  Json report = advise_json({"printf", "\xff\xfe%s", ""});
  EXPECT_EQ(report.at("schema").get<int>(), 2);
  EXPECT_EQ(report.at("tool").get<std::string>(), "lanes advise");
  EXPECT_NE(report.at("command").get<std::string>().find("\xEF\xBF\xBD"), std::string::npos)
      << "U+FFFD in place of the invalid bytes";
}

TEST(LanesCliAdvise, ExitStatusIsTheCommandsOwn) {
  advise_json({"sh", "-c", "exit 7"}, 7);
  advise_json({"sh", "-c", "kill -9 $$"}, 128 + 9);
}

TEST(LanesCliAdvise, TextReportGoesToStderrAndStdoutIsTheCommands) {
  Ran r = lanes({"advise", "--", "sh", "-c", "echo hello"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_NE(r.err.find("verdict: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("expected speed-up on this machine"), std::string::npos) << r.err;
}

TEST(LanesCliAdvise, WatchesARunningProcessByPid) {
  pid_t pid = -1;
  char arg0[] = "sleep", arg1[] = "30";
  char* argv[] = {arg0, arg1, nullptr};
  ASSERT_EQ(posix_spawnp(&pid, "sleep", nullptr, nullptr, argv, environ), 0);
  TempDir dir;
  Ran r = lanes({"advise", "--pid", std::to_string(pid), "--seconds", "0.5", "--json", "--output",
                 dir.file("r.json")});
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_EQ(r.status, 0) << r.err;
  Json report = Json::parse(read_file(dir.file("r.json")));
  EXPECT_EQ(report.at("verdict").get<std::string>(), "idle");
  EXPECT_NE(report.at("command").get<std::string>().find(std::to_string(pid)), std::string::npos);
}

}  // namespace
