// tools/lanes/advise/wait_kind.cpp — classifying the system call a thread is blocked in
// (see wait_kind.hpp).
#include "advise/wait_kind.hpp"

#include <sys/syscall.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace lanes_cli::advise {

const char* wait_kind_name(WaitKind k) {
  switch (k) {
    case WaitKind::sleep: return "sleeping (a timer)";
    case WaitKind::poll: return "poll/epoll (sockets, pipes or timers)";
    case WaitKind::socket: return "socket calls (accept, connect, send, recv)";
    case WaitKind::read: return "read (a pipe, terminal, socket or file)";
    case WaitKind::write: return "write";
    case WaitKind::disk_sync: return "fsync (the disk)";
    case WaitKind::io_uring: return "io_uring";
    case WaitKind::lock: return "a lock or condition (futex)";
    case WaitKind::child: return "waiting for a child process";
    case WaitKind::other: return "other system calls";
  }
  return "?";
}

bool is_io_wait(WaitKind k) {
  switch (k) {
    case WaitKind::poll:
    case WaitKind::socket:
    case WaitKind::read:
    case WaitKind::write:
    case WaitKind::disk_sync:
    case WaitKind::io_uring:
      return true;
    default:
      return false;
  }
}

WaitKind classify_syscall(long nr) {
  // The SYS_ names each architecture has; the #ifdefs skip those it lacks.
  switch (nr) {
#ifdef SYS_nanosleep
    case SYS_nanosleep:
#endif
#ifdef SYS_pause
    case SYS_pause:
#endif
    case SYS_clock_nanosleep:
      return WaitKind::sleep;
#ifdef SYS_poll
    case SYS_poll:
#endif
#ifdef SYS_select
    case SYS_select:
#endif
#ifdef SYS_epoll_wait
    case SYS_epoll_wait:
#endif
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
#endif
    case SYS_ppoll:
    case SYS_pselect6:
    case SYS_epoll_pwait:
      return WaitKind::poll;
#ifdef SYS_accept
    case SYS_accept:
#endif
    case SYS_accept4:
    case SYS_connect:
    case SYS_recvfrom:
    case SYS_recvmsg:
    case SYS_recvmmsg:
    case SYS_sendto:
    case SYS_sendmsg:
    case SYS_sendmmsg:
      return WaitKind::socket;
    case SYS_read:
    case SYS_readv:
    case SYS_pread64:
    case SYS_preadv:
      return WaitKind::read;
    case SYS_write:
    case SYS_writev:
    case SYS_pwrite64:
    case SYS_pwritev:
      return WaitKind::write;
    case SYS_fsync:
    case SYS_fdatasync:
    case SYS_sync_file_range:
      return WaitKind::disk_sync;
#ifdef SYS_io_uring_enter
    case SYS_io_uring_enter:
      return WaitKind::io_uring;
#endif
    case SYS_futex:
      return WaitKind::lock;
    case SYS_wait4:
    case SYS_waitid:
      return WaitKind::child;
    default:
      return WaitKind::other;
  }
}

std::optional<WaitKind> blocked_in(pid_t pid, pid_t tid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/syscall");
  std::string first;
  // "running", or -1 (in user space, e.g. preempted), or the number and its arguments.
  if (!(in >> first) || first == "running" || first == "-1") return std::nullopt;
  char* end = nullptr;
  const long nr = std::strtol(first.c_str(), &end, 10);
  if (end == first.c_str() || *end != '\0') return std::nullopt;
  return classify_syscall(nr);
}

}  // namespace lanes_cli::advise
