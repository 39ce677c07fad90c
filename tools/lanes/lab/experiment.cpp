// tools/lanes/lab/experiment.cpp — helpers shared by the experiments.
#include "lab/experiment.hpp"
#include "lab/ways.hpp"

namespace lanes_cli::lab {

void derive_speedups(ExperimentResult& result) {
  for (auto& run : result.runs) {
    if (!run.ran()) continue;
    auto wall = run.get(keys::wall_s);
    auto cpu = run.get(keys::cpu_s);
    if (wall && cpu && *wall > 0) run.values[keys::cores_busy] = *cpu / *wall;
    const Run* base = result.find(run.lang, ways::sequential);
    auto base_wall = base ? base->get(keys::wall_s) : std::nullopt;
    if (wall && base_wall && *wall > 0) run.values[keys::speedup] = *base_wall / *wall;
  }
}

std::vector<Column> timing_columns() {
  return {
      {keys::wall_s, "wall", Format::seconds},
      {keys::cpu_s, "CPU", Format::seconds},
      {keys::speedup, "speed-up", Format::ratio},
      {keys::cores_busy, "cores busy", Format::cores},
  };
}

}  // namespace lanes_cli::lab
