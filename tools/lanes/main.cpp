// tools/lanes/main.cpp — the `lanes` command: `lanes lab` measures the Python concurrency
// tutorial's claims on this machine, `lanes advise` says whether a program is CPU-bound
// or I/O-bound.
//
// Exit status: 0 on success (and for --help, --version); 2 on bad use (one line on stderr saying what was wrong);
// `lanes advise -- CMD` exits with CMD's own status; 1 if an experiment failed.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli.hpp"

namespace {

using lanes_cli::Subcommand;

int usage_error(const std::string& message) {
  std::fprintf(stderr, "lanes: %s (see lanes --help)\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Everything after the first "--" is a command for `lanes advise`, kept away from CLI11.
  std::vector<std::string> args, command;
  bool after_dashes = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (!after_dashes && a == "--") {
      after_dashes = true;
      continue;
    }
    (after_dashes ? command : args).push_back(std::move(a));
  }

  CLI::App app(
      "lanes: Python's concurrency model for C++, measured on your machine.\n"
      "  lanes lab               measure the tutorial's claims (the GIL, threads vs processes,\n"
      "                          event loops, races) on this machine\n"
      "  lanes advise -- CMD     is CMD CPU-bound, I/O-bound or idle, and what would help",
      "lanes");
  app.set_help_all_flag("--help-all", "Print the help of every subcommand");
  app.set_version_flag("--version", "lanes " LANES_CLI_VERSION);
  Subcommand lab = lanes_cli::add_lab_command(app);
  Subcommand advise = lanes_cli::add_advise_command(app, command);

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    // help() forwards to the subcommand named on the command line, if any.
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion& v) {
    std::printf("%s\n", v.what());
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
    return usage_error(what);
  }

  try {
    if (lab.app->parsed()) {
      if (!command.empty()) return usage_error("lab takes no command after --; did you mean `lanes advise -- ...`?");
      return lab.run();
    }
    if (advise.app->parsed()) return advise.run();
    if (!command.empty()) return usage_error("a command after -- needs `lanes advise` before it");
    return usage_error("say what to do: `lanes lab` or `lanes advise -- CMD [ARGS...]`");
  } catch (const lanes_cli::UsageError& e) {
    return usage_error(e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lanes: error: %s\n", e.what());
    return 1;
  }
}
