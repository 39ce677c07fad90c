// tools/lanes/lab/report.cpp — value formatting and the machine description.
#include "lab/report.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include <fmt/format.h>

#include "lab/measure.hpp"

namespace lanes_cli::lab {

namespace {
std::string group_thousands(long long v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  int n = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (n && n % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++n;
  }
  return v < 0 ? "-" + out : out;
}
}  // namespace

std::string format_value(double v, Format f) {
  if (!std::isfinite(v)) return "-";
  switch (f) {
    case Format::seconds:
      if (v >= 10) return fmt::format("{:.1f} s", v);
      if (v >= 1) return fmt::format("{:.2f} s", v);
      if (v >= 1e-3) return fmt::format("{:.1f} ms", v * 1e3);
      return fmt::format("{:.0f} µs", v * 1e6);
    case Format::ratio:
      return v >= 100 ? fmt::format("{:.0f}x", v) : fmt::format("{:.2f}x", v);
    case Format::cores:
      return fmt::format("{:.2f}", v);
    case Format::count:
      return group_thousands(std::llround(v));
    case Format::bytes:
      if (std::fabs(v) >= 1024.0 * 1024 * 1024) return fmt::format("{:.1f} GiB", v / (1024.0 * 1024 * 1024));
      if (std::fabs(v) >= 1024.0 * 1024) return fmt::format("{:.1f} MiB", v / (1024.0 * 1024));
      if (std::fabs(v) >= 1024.0) return fmt::format("{:.1f} KiB", v / 1024.0);
      return fmt::format("{:.0f} B", v);
    case Format::micros:
      if (v >= 1000) return fmt::format("{:.1f} ms", v / 1000);
      if (v >= 10) return fmt::format("{:.0f} µs", v);
      return fmt::format("{:.2f} µs", v);
    case Format::percent:
      return v != 0 && std::fabs(v) < 0.1 ? fmt::format("{:.3f}%", v) : fmt::format("{:.1f}%", v);
    case Format::yes_no:
      return v != 0 ? "yes" : "no";
    case Format::text_only:
      return "";
  }
  return "?";
}

std::string busy_machine_note(const Machine& m) {
  const double before = m.others_busy_cores, during = m.others_busy_during;
  if (std::max(before, during) < 0.5) return {};
  const bool at_start = before >= during;
  return fmt::format("other programs kept {:.1f} of the {} core{} busy {}: they share the "
                     "cores, so parallel speed-ups come out lower than on an idle machine",
                     at_start ? before : during, m.cores, m.cores == 1 ? "" : "s",
                     at_start ? "when the lab started" : "on average while it ran");
}

Machine describe_machine() {
  Machine m;
  m.cores = usable_cores();
  m.others_busy_cores = others_busy_cores(0.3);
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) m.cpu_model = line.substr(colon + 2);
      break;
    }
  }
  utsname u{};
  if (uname(&u) == 0) m.kernel = fmt::format("{} {}", u.sysname, u.release);
#if defined(__clang__)
  m.build = fmt::format("clang {}.{}", __clang_major__, __clang_minor__);
#elif defined(__GNUC__)
  m.build = fmt::format("g++ {}.{}", __GNUC__, __GNUC_MINOR__);
#endif
#if defined(LANES_SANITIZED_ADDRESS)
  m.build += ", ASan+UBSan";
#elif defined(LANES_SANITIZED_THREAD)
  m.build += ", TSan";
#endif
#if !defined(NDEBUG)
  m.build += ", assertions on";
#endif
  return m;
}

}  // namespace lanes_cli::lab
