// tools/lanes/lab/claims.hpp — the claims of the Python concurrency tutorial that lanes
// follows, each judged against the figures this run measured.
#pragma once

#include <string>
#include <vector>

#include "lab/experiment.hpp"

namespace lanes_cli::lab {

enum class Verdict {
  confirmed,     // the figures agree with the claim
  refuted,       // the figures contradict it
  partly,        // true with a qualification the figures show
  answered,      // an exercise of the tutorial ("Which is faster? Why?"), answered
  inconclusive,  // measured, but too close to call against this run's noise, or on
                 // cores other programs were using
  not_measured,  // the experiments it needs did not run (or could not, here)
};

/// "confirmed", "refuted", ... as shown in every output format.
const char* verdict_name(Verdict v);

struct ClaimResult {
  std::string id;          // stable, for --json users: "gil-one-thread"
  std::string source;      // where the tutorial says it: "tutorial parts 000, 001, 004"
  std::string claim;       // the claim, in a line
  std::string experiment;  // the experiment whose figures judge it
  Verdict verdict = Verdict::not_measured;
  std::string figure;      // the measured figures, in a line
  std::string why;         // a one-line explanation
};

/// Every claim of the table, judged against `results` (the experiments that ran;
/// a claim whose experiment did not run is not_measured). `cores`: usable cores.
/// `machine_busy`: other programs were using the cores (a refuted parallel speed-up
/// then says so).
std::vector<ClaimResult> evaluate_claims(const std::vector<ExperimentResult>& results, int cores,
                                         bool machine_busy);

}  // namespace lanes_cli::lab
