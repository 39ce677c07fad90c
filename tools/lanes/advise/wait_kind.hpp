// tools/lanes/advise/wait_kind.hpp — what a blocked thread is waiting for, read from the
// system call it sits in (/proc/PID/task/TID/syscall): a sleep, a socket, a pipe or
// file read, poll/epoll, a lock, a child. This is how advise sees network waits, which
// /proc/PID/io does not count (send/recv and accept bypass its read/write counters).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

namespace lanes_cli::advise {

enum class WaitKind {
  sleep,     // nanosleep, clock_nanosleep, pause: a timer
  poll,      // poll, select, epoll_wait: readiness of sockets, pipes or timers
  socket,    // accept, connect, recv*, send*
  read,      // read, readv, pread: a pipe, terminal, socket or file
  write,     // write, writev, pwrite
  disk_sync, // fsync, fdatasync, sync_file_range
  io_uring,  // io_uring_enter
  lock,      // futex: a mutex, condition variable or join
  child,     // wait4, waitid: a shell waiting for the programs it started
  other,
};
inline constexpr int kWaitKinds = static_cast<int>(WaitKind::other) + 1;

/// A few words for reports: "a sleep (timer)", "poll/epoll", ...
const char* wait_kind_name(WaitKind k);
/// True for the kinds that wait on I/O (poll, socket, read, write, disk sync, io_uring).
bool is_io_wait(WaitKind k);
/// The kind of the system call numbered `nr` on this architecture.
WaitKind classify_syscall(long nr);

/// What thread `tid` of `pid` is blocked in now; nullopt if it is running, gone, or its
/// syscall file is not readable (another user's process).
std::optional<WaitKind> blocked_in(pid_t pid, pid_t tid);

}  // namespace lanes_cli::advise
