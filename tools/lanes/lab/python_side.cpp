// tools/lanes/lab/python_side.cpp — finding python3 and running the embedded scripts
// (see python_side.hpp).
#include "lab/python_side.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "lab/ways.hpp"

extern char** environ;

namespace lanes_cli::lab {

namespace {

std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::stringstream ss(dirs);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    std::string candidate = dir.empty() ? std::string("./") : dir + "/";
    candidate += name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  return out;
}

/// Runs argv with stdout read line by line into `on_line` and stderr written to
/// `stderr_path`. Returns the exit status as waitpid gives it; throws
/// std::runtime_error if the program cannot start.
int run_lines(const std::vector<std::string>& argv, const std::string& stderr_path,
              const std::function<void(const std::string&)>& on_line) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(fmt::format("cannot make a pipe: {}", std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error(fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)));
  }
  std::string pending;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      on_line(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  }
  if (!pending.empty()) on_line(pending);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

bool known_way(std::string_view way) {
  for (const auto& [py, name] : python_ways())
    if (name == way) return true;
  return false;
}

std::string last_line_of(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

}  // namespace

PythonSide::PythonSide(std::string exe, std::string version, std::string dir)
    : exe_(std::move(exe)), version_(std::move(version)), dir_(std::move(dir)) {}

PythonSide::~PythonSide() {
  for (const char* name : {"lab_cpu.py", "lab_io.py", "lab_ways.py", "stderr.txt"})
    unlink((dir_ + "/" + name).c_str());
  rmdir(dir_.c_str());
}

std::unique_ptr<PythonSide> PythonSide::find() {
  std::string exe = find_on_path("python3");
  if (exe.empty()) return nullptr;
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/lanes-lab-XXXXXX";
  if (!mkdtemp(templ.data())) return nullptr;
  std::unique_ptr<PythonSide> side(new PythonSide(exe, "", templ));
  std::string version;
  int status = 0;
  try {
    status = run_lines({exe, "-c", "import platform; print('Python', platform.python_version())"},
                       templ + "/stderr.txt", [&](const std::string& line) { version = line; });
  } catch (const std::exception&) {
    return nullptr;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || version.empty()) return nullptr;
  side->version_ = version;
  return side;
}

PythonSide::Output PythonSide::run(std::string_view name, const std::vector<std::string>& args,
                                   const std::function<void(std::string_view)>& on_progress) {
  std::string_view text = embedded_python_script(name);
  if (text.empty()) throw std::logic_error(fmt::format("no embedded Python script {}", name));
  const std::string script = dir_ + "/" + std::string(name);
  auto write = [](const std::string& path, std::string_view content) {
    std::ofstream out(path, std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error(fmt::format("cannot write {}", path));
  };
  write(script, text);
  // The row names the scripts import, from the constants the claims read.
  std::string names = "# Written by lanes lab from tools/lanes/lab/ways.hpp.\n";
  for (const auto& [py, way] : python_ways()) names += fmt::format("{} = \"{}\"\n", py, way);
  write(dir_ + "/lab_ways.py", names);
  // -B: no __pycache__ left behind in the temporary directory for lab_ways.
  std::vector<std::string> argv = {exe_, "-B", script};
  argv.insert(argv.end(), args.begin(), args.end());
  Output output;
  std::string unknown_way;
  const std::string err = dir_ + "/stderr.txt";
  int status = run_lines(argv, err, [&](const std::string& line) {
    auto f = split_tabs(line);
    if (f[0] == "progress" && f.size() >= 2) {
      on_progress(f[1]);
    } else if (f[0] == "row" && f.size() >= 4) {
      if (!known_way(f[1])) {
        // Said once the script has ended (it is still writing to our pipe now).
        if (unknown_way.empty()) unknown_way = f[1];
        return;
      }
      Run r;
      r.lang = langs::python;
      r.way = f[1];
      r.values[keys::wall_s] = std::strtod(f[2].c_str(), nullptr);
      r.values[keys::cpu_s] = std::strtod(f[3].c_str(), nullptr);
      for (std::size_t i = 4; i < f.size(); ++i) {
        auto eq = f[i].find('=');
        if (eq == std::string::npos) continue;
        if (f[i].compare(0, eq, "note") == 0) {
          r.note = f[i].substr(eq + 1);
        } else {
          r.values[f[i].substr(0, eq)] = std::strtod(f[i].c_str() + eq + 1, nullptr);
        }
      }
      output.runs.push_back(std::move(r));
    } else if (f[0] == "skip" && f.size() >= 3) {
      Run r;
      r.lang = langs::python;
      r.way = f[1];
      r.skipped = f[2];
      output.runs.push_back(std::move(r));
    } else if (f[0] == "info" && f.size() >= 3) {
      output.info[f[1]] = f[2];
    } else if (f[0] == "note" && f.size() >= 2) {
      output.notes.push_back(f[1]);
    }
  });
  // A script may measure its baseline last (to check it twice); it is shown first.
  std::stable_partition(output.runs.begin(), output.runs.end(),
                        [](const Run& r) { return r.way == ways::sequential; });
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string why = last_line_of(err);
    throw std::runtime_error(fmt::format("{} ({}) failed: {}", name, version_,
                                         why.empty() ? "no error message" : why));
  }
  if (!unknown_way.empty())
    throw std::runtime_error(fmt::format("{} reported a row '{}' that tools/lanes/lab/ways.hpp "
                                         "does not name: no claim could read it",
                                         name, unknown_way));
  return output;
}

}  // namespace lanes_cli::lab
