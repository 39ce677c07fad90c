// tools/lanes/lab/experiment.cpp — helpers shared by the experiments.
#include "lab/experiment.hpp"

namespace lanes_cli::lab {

void derive_speedups(ExperimentResult& result) {
  for (auto& run : result.runs) {
    if (!run.ran()) continue;
    auto wall = run.get("wall_s");
    auto cpu = run.get("cpu_s");
    if (wall && cpu && *wall > 0) run.values["cores_busy"] = *cpu / *wall;
    const Run* base = result.find(run.lang, "sequential");
    auto base_wall = base ? base->get("wall_s") : std::nullopt;
    if (wall && base_wall && *wall > 0) run.values["speedup"] = *base_wall / *wall;
  }
}

std::vector<Column> timing_columns() {
  return {
      {"wall_s", "wall", Format::seconds},
      {"cpu_s", "CPU", Format::seconds},
      {"speedup", "speed-up", Format::ratio},
      {"cores_busy", "cores busy", Format::cores},
  };
}

}  // namespace lanes_cli::lab
