// tools/lanes/cli.hpp — how main.cpp wires the subcommands (one file each: lab.cpp,
// advise.cpp) into the command line.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace lanes_cli {

/// Bad use of the command line that CLI11 cannot see (a program that does not exist, a
/// pid that is gone, sizes that contradict each other). main prints its message on one
/// line and exits with status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A subcommand: its CLI11 node, and what to run once the command line is parsed.
/// `run` returns the process's exit status and may throw UsageError.
struct Subcommand {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

/// `lanes lab [experiments...] [options]` (lab.cpp).
Subcommand add_lab_command(CLI::App& parent);

/// `lanes advise [options] -- CMD [ARGS...]` or `lanes advise --pid N` (advise.cpp).
/// `command` is what followed `--` on the command line; main splits it off before
/// CLI11 parses the rest, so the command's own flags never reach CLI11.
Subcommand add_advise_command(CLI::App& parent, const std::vector<std::string>& command);

}  // namespace lanes_cli
