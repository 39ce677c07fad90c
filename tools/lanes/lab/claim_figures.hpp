// tools/lanes/lab/claim_figures.hpp — what the claims (claims.cpp) judge with: read-only
// access to one run's figures, and thresholds with a margin. A verdict needs the figure
// to clear its threshold by the run's own noise (at least 15%, twice the spread of the
// sequential baseline measured twice, at most 50%); in between it is inconclusive.
#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "lab/claims.hpp"
#include "lab/experiment.hpp"
#include "lab/ways.hpp"

namespace lanes_cli::lab::claim_detail {

inline constexpr double kNearOne = 1.3;
inline constexpr double kMinMargin = 0.15;

/// Read-only access to the figures of one run of the lab.
class Figures {
 public:
  Figures(const std::vector<ExperimentResult>& results, int cores)
      : results_(results), cores_(cores) {
    // The run's own noise: how far apart its two measurements of the same baseline were.
    double spread = 0;
    for (const char* exp : {"cpu", "io", "hybrid"})
      spread = std::max(spread, value(exp, langs::cpp, ways::sequential, keys::spread).value_or(0));
    margin_ = std::clamp(2 * spread, kMinMargin, 0.5);
  }

  const ExperimentResult* experiment(std::string_view name) const {
    for (const auto& r : results_)
      if (r.name == name) return &r;
    return nullptr;
  }
  std::optional<double> value(std::string_view exp, std::string_view lang, std::string_view way,
                              std::string_view key) const {
    const auto* e = experiment(exp);
    const Run* r = e ? e->find(lang, way) : nullptr;
    return r ? r->get(key) : std::nullopt;
  }
  std::optional<double> speedup(std::string_view exp, std::string_view lang,
                                std::string_view way) const {
    return value(exp, lang, way, keys::speedup);
  }
  /// The first run of `exp` for which `pred` holds.
  const Run* find_if(std::string_view exp, const std::function<bool(const Run&)>& pred) const {
    const auto* e = experiment(exp);
    if (!e) return nullptr;
    for (const auto& r : e->runs)
      if (r.ran() && pred(r)) return &r;
    return nullptr;
  }
  int cores() const { return cores_; }
  /// The relative margin a figure must clear its threshold by to refute a claim.
  double margin() const { return margin_; }

  /// A claim that `v` reaches `threshold`: confirmed if it does, refuted only if it
  /// falls short by more than the margin, inconclusive in between.
  Verdict at_least(double v, double threshold) const {
    if (v >= threshold) return Verdict::confirmed;
    return v < threshold * (1 - margin_) ? Verdict::refuted : Verdict::inconclusive;
  }
  /// A claim that `v` stays below `threshold` (the same margin, the other way).
  Verdict below(double v, double threshold) const {
    if (v < threshold) return Verdict::confirmed;
    return v >= threshold * (1 + margin_) ? Verdict::refuted : Verdict::inconclusive;
  }

 private:
  const std::vector<ExperimentResult>& results_;
  int cores_;
  double margin_ = kMinMargin;
};

/// Both parts of a claim must hold: refuted if either is, else inconclusive if either is.
inline Verdict both(Verdict a, Verdict b) {
  if (a == Verdict::refuted || b == Verdict::refuted) return Verdict::refuted;
  if (a == Verdict::inconclusive || b == Verdict::inconclusive) return Verdict::inconclusive;
  return Verdict::confirmed;
}

}  // namespace lanes_cli::lab::claim_detail
