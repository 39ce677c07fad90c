// A worker rank that dies: Open MPI aborts the whole job. This test (a plain program,
// not under mpirun) starts `mpirun -n 3 test_mpi --lanes-test-die=<how>` and checks that
// the job ends by itself within seconds, with a non-zero status and Open MPI's message
// naming the rank that died. Nothing may hang: the child runs under timeout(1).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <string>

#ifndef LANES_MPIEXEC
#error "LANES_MPIEXEC (mpirun and its flags) and LANES_TEST_MPI (the test_mpi program) are set by CMake"
#endif

namespace {

struct Outcome {
  int status = -1;  // the exit status of timeout(1) running mpirun
  std::string output;
  double seconds = 0;
};

Outcome run_job(const std::string& how) {
  const std::string command = "timeout -k 5 120 " LANES_MPIEXEC " -n 3 " LANES_TEST_MPI
                              " --lanes-test-die=" + how + " 2>&1";
  const auto start = std::chrono::steady_clock::now();
  Outcome o;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return o;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) o.output.append(buf, n);
  const int raw = ::pclose(p);
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return o;
}

}  // namespace

class MPIRankDeath : public ::testing::TestWithParam<const char*> {};

TEST_P(MPIRankDeath, JobEndsNonZeroWithOpenMPIsMessage) {
  const char* how = GetParam();
  const Outcome o = run_job(how);
  EXPECT_NE(o.status, 0) << o.output;
  // timeout(1) stops mpirun after 120 s: a job that got that far hung (a dead rank ends
  // it in about two seconds here). 137 alone is no hang: mpirun exits 128 + the signal
  // that killed the rank.
  EXPECT_LT(o.seconds, 110.0) << "mpirun hung: timeout(1) stopped it\n" << o.output;
  // Open MPI names the rank that died and how: "process rank 1 ... exited on signal 6
  // (Aborted)", or for an exit() inside the task "Process name: [[job,1],1] Exit code: 5".
  const bool named = o.output.find("exited on signal") != std::string::npos ||
                     o.output.find("Exit code:") != std::string::npos;
  EXPECT_TRUE(named) << o.output;
  EXPECT_NE(o.output.find("the job has been aborted"), std::string::npos) << o.output;
  std::printf("[%s] mpirun exited with %d after %.1f s; it printed:\n%s\n", how, o.status, o.seconds,
              o.output.c_str());
}

// 0: abort() (SIGABRT), 1: SIGKILL, 2: exit(5) inside the task.
INSTANTIATE_TEST_SUITE_P(Ways, MPIRankDeath, ::testing::Values("0", "1", "2"));
