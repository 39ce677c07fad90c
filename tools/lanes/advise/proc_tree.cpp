// tools/lanes/advise/proc_tree.cpp — reading a process tree from /proc (see proc_tree.hpp).
#include "advise/proc_tree.hpp"

#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace lanes_cli::advise {

namespace {

double ticks_per_second() {
  static const double hz = [] {
    long t = sysconf(_SC_CLK_TCK);
    return t > 0 ? static_cast<double>(t) : 100.0;
  }();
  return hz;
}

bool read_text(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return !out.empty();
}

/// The fields of a /proc/.../stat line after the command name; fields()[0] is field 3
/// (state), so field N of proc(5) is fields()[N - 3].
struct StatLine {
  std::string comm;
  std::vector<std::string> rest;
  bool ok = false;
  double field(int n) const {
    std::size_t i = static_cast<std::size_t>(n - 3);
    return i < rest.size() ? std::strtod(rest[i].c_str(), nullptr) : 0.0;
  }
};

StatLine read_stat(const std::string& path) {
  StatLine s;
  std::string text;
  if (!read_text(path, text)) return s;
  // The command name is in parentheses and may itself contain spaces or ')'.
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return s;
  s.comm = text.substr(open + 1, close - open - 1);
  std::istringstream fields(text.substr(close + 1));
  std::string f;
  while (fields >> f) s.rest.push_back(f);
  s.ok = s.rest.size() > 20;
  return s;
}

std::vector<pid_t> numeric_entries(const std::string& dir) {
  std::vector<pid_t> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long v = std::strtol(e->d_name, &end, 10);
    if (end && *end == '\0' && v > 0) out.push_back(static_cast<pid_t>(v));
  }
  closedir(d);
  return out;
}

/// `root` and every process whose chain of parents leads to it.
std::vector<pid_t> tree_of(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  for (pid_t pid : numeric_entries("/proc")) {
    StatLine s = read_stat("/proc/" + std::to_string(pid) + "/stat");
    if (s.ok) children.emplace(static_cast<pid_t>(s.field(4)), pid);
  }
  std::vector<pid_t> out = {root};
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto [lo, hi] = children.equal_range(out[i]);
    for (auto it = lo; it != hi; ++it) out.push_back(it->second);
  }
  return out;
}

std::int64_t status_field(const std::string& text, const char* key) {
  auto at = text.find(key);
  if (at == std::string::npos) return 0;
  return std::strtoll(text.c_str() + at + std::char_traits<char>::length(key), nullptr, 10);
}

}  // namespace

double boottime_now() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string process_name(pid_t pid) {
  std::string text;
  if (!read_text("/proc/" + std::to_string(pid) + "/comm", text)) return {};
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

TreeWatcher::TreeWatcher(pid_t root, bool root_is_new)
    : root_(root), start_(boottime_now()), root_is_new_(root_is_new) {}

void TreeWatcher::read_process(pid_t pid, double now, std::map<pid_t, ProcReading>& into,
                               int& threads, int& sockets) {
  const std::string base = "/proc/" + std::to_string(pid);
  StatLine st = read_stat(base + "/stat");
  if (!st.ok) return;
  const double hz = ticks_per_second();
  ProcReading r;
  r.user_s = (st.field(14) + st.field(16)) / hz;
  r.system_s = (st.field(15) + st.field(17)) / hz;
  r.cpu_s = r.user_s + r.system_s;
  threads += static_cast<int>(st.field(20));
  seen_.insert(pid);
  programs_.insert(st.comm);

  std::string io;
  if (read_text(base + "/io", io)) {
    r.rchar = status_field(io, "rchar:");
    r.wchar = status_field(io, "wchar:");
    r.syscr = status_field(io, "syscr:");
    r.syscw = status_field(io, "syscw:");
    r.read_bytes = status_field(io, "\nread_bytes:");
    r.write_bytes = status_field(io, "\nwrite_bytes:");
  } else {
    io_readable_ = false;
  }
  into[pid] = r;

  // Sockets: /proc/PID/io does not count send/recv, so at least see which are open.
  const std::string fd_dir = base + "/fd";
  if (DIR* d = opendir(fd_dir.c_str())) {
    char link[128];
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      const ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
      if (n <= 0) continue;
      const std::string target(link, static_cast<std::size_t>(n));
      if (target.rfind("socket:", 0) != 0) continue;
      ++sockets;
      sockets_seen_.insert(target);
    }
    closedir(d);
  }

  for (pid_t tid : numeric_entries(base + "/task")) {
    const std::string tdir = base + "/task/" + std::to_string(tid);
    std::string sched, status;
    if (!read_text(tdir + "/schedstat", sched)) continue;
    std::istringstream fields(sched);
    double cpu_ns = 0, runq_ns = 0;
    fields >> cpu_ns >> runq_ns;
    read_text(tdir + "/status", status);
    const std::int64_t vol = status_field(status, "voluntary_ctxt_switches:");
    const std::int64_t invol = status_field(status, "nonvoluntary_ctxt_switches:");
    const std::string key = std::to_string(pid) + "/" + std::to_string(tid);
    auto [it, fresh] = threads_.try_emplace(key);
    ThreadTrack& t = it->second;
    if (fresh) {
      StatLine ts = read_stat(tdir + "/stat");
      const double born = ts.ok ? ts.field(22) / hz : now;
      if (root_is_new_ || born >= start_) {
        t.begin = born;  // born while watched: all of its life counts
      } else {
        t.begin = now;  // alive before the watch: only what follows counts
        t.first_cpu = cpu_ns * 1e-9;
        t.first_runq = runq_ns * 1e-9;
        t.first_vol = vol;
        t.first_invol = invol;
      }
    }
    t.cpu = cpu_ns * 1e-9;
    t.runq = runq_ns * 1e-9;
    t.vol = vol;
    t.invol = invol;
    t.last_seen = now;

    // What it is blocked in, if it is: the state is the field after the name.
    StatLine now_st = read_stat(tdir + "/stat");
    if (now_st.ok && now_st.rest[0] != "R") {
      if (auto kind = blocked_in(pid, tid)) {
        ++waits_[static_cast<std::size_t>(*kind)];
      } else if (access((tdir + "/syscall").c_str(), R_OK) != 0) {
        waits_readable_ = false;
      }
    }
  }
}

bool TreeWatcher::sample() {
  const double now = boottime_now();
  if (access(("/proc/" + std::to_string(root_)).c_str(), F_OK) != 0) return false;
  std::map<pid_t, ProcReading> readings;
  int threads = 0, sockets = 0;
  for (pid_t pid : tree_of(root_)) read_process(pid, now, readings, threads, sockets);
  sockets_peak_ = std::max(sockets_peak_, sockets);
  if (readings.empty()) return false;
  if (!first_sample_done_) {
    first_sample_done_ = true;
    if (!root_is_new_) baseline_ = readings;
  }
  latest_ = std::move(readings);
  if (threads > peak_threads_) peak_threads_ = threads;
  return true;
}

TreeFigures TreeWatcher::figures() const {
  TreeFigures f;
  auto add = [&](const ProcReading& r, double sign) {
    f.cpu_s += sign * r.cpu_s;
    f.user_s += sign * r.user_s;
    f.system_s += sign * r.system_s;
    f.read_bytes += static_cast<std::int64_t>(sign) * r.rchar;
    f.write_bytes += static_cast<std::int64_t>(sign) * r.wchar;
    f.read_calls += static_cast<std::int64_t>(sign) * r.syscr;
    f.write_calls += static_cast<std::int64_t>(sign) * r.syscw;
    f.disk_read_bytes += static_cast<std::int64_t>(sign) * r.read_bytes;
    f.disk_write_bytes += static_cast<std::int64_t>(sign) * r.write_bytes;
  };
  for (const auto& [pid, r] : latest_) add(r, 1);
  for (const auto& [pid, r] : baseline_) add(r, -1);
  double lifetime = 0;
  for (const auto& [key, t] : threads_) {
    f.on_cpu_s += t.cpu - t.first_cpu;
    f.runqueue_s += t.runq - t.first_runq;
    lifetime += std::max(0.0, t.last_seen - t.begin);
    f.voluntary_switches += t.vol - t.first_vol;
    f.involuntary_switches += t.invol - t.first_invol;
  }
  f.blocked_s = std::max(0.0, lifetime - f.on_cpu_s - f.runqueue_s);
  f.peak_threads = peak_threads_;
  f.processes_seen = static_cast<int>(seen_.size());
  f.io_readable = io_readable_;
  f.waits = waits_;
  f.waits_readable = waits_readable_;
  f.sockets_peak = sockets_peak_;
  f.sockets_seen = static_cast<int>(sockets_seen_.size());
  f.programs = programs_;
  return f;
}

}  // namespace lanes_cli::advise
