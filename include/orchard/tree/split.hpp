#pragma once
// Best-split search over a node's histogram. Numeric features: every threshold "bin <= b", with
// missing values sent left and right (both tried when the node has missing values), plus
// "all values left, missing right". Categorical features: one category against the rest.
// Ties keep the first candidate in (feature, bin, missing-right-first) order, so the search is
// deterministic for any thread count.
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "../core/context.hpp"
#include "../core/parallel.hpp"
#include "binning.hpp"
#include "histogram.hpp"
#include "policy.hpp"

namespace orchard::tree {

/// Constraints every policy shares (the policy adds its own through admissible()).
struct SplitConstraints {
  index_t min_data_in_leaf = 1;         ///< minimum samples in each child
  double min_split_gain = 0.0;          ///< a split must gain strictly more than this
  std::span<const double> feature_weights;  ///< gain multiplier per feature (empty = all 1)
};

struct Split {
  int feature = -1;
  int bin = -1;               ///< numeric: left = bins <= bin; categorical: left = bin == code
  bool default_left = true;   ///< where missing values go
  bool categorical = false;
  double gain = 0.0;          ///< weighted gain (score(L) + score(R) - score(P)) * weight
  std::vector<double> left;   ///< sums of the left child (width + 1 doubles)
  bool valid() const { return feature >= 0; }
};

namespace detail {
struct FeatureBest {
  int bin = -1;
  bool default_left = true;
  double gain = -std::numeric_limits<double>::infinity();
};

// Scans one feature; S = width + 1 doubles per bin, known at compile time (S > 1) or not (S == 0).
template <int S, SplitPolicy P>
inline FeatureBest scan_feature_impl(const P& policy, const double* h, int nbins, bool categorical,
                                     const double* parent, double parent_score,
                                     const SplitConstraints& c, double weight) {
  const int w = policy.width(), s = S > 0 ? S : w + 1;
  constexpr int kBuf = S > 0 ? S : 1;
  double Lf[kBuf], Rf[kBuf], Lmf[kBuf], Rmf[kBuf];
  std::vector<double> Lv, Rv, Lmv, Rmv;
  double *L = Lf, *R = Rf, *Lm = Lmf, *Rm = Rmf;
  if constexpr (S == 0) {
    Lv.assign(static_cast<std::size_t>(s), 0.0);
    Rv = Lmv = Rmv = Lv;
    L = Lv.data();
    R = Rv.data();
    Lm = Lmv.data();
    Rm = Rmv.data();
  }
  for (int k = 0; k < s; ++k) L[k] = 0.0;
  // Candidates compare by score(L) + score(R); the parent score and the weight (> 0) are applied
  // to the winner only.
  FeatureBest best;
  double best_raw = -std::numeric_limits<double>::infinity();
  const int mb = nbins - 1;  // missing bin
  const double* miss = h + static_cast<std::size_t>(mb) * s;
  const bool has_missing = miss[w] > 0;
  const auto min_n = static_cast<double>(c.min_data_in_leaf);
  const double total_n = parent[w];
  if (total_n < 2 * min_n) return best;
  auto try_split = [&](const double* l, const double* r, int bin, bool dl) {
    if (l[w] < min_n || r[w] < min_n || !policy.admissible(l) || !policy.admissible(r)) return;
    const double g = policy.score(l) + policy.score(r);
    if (g > best_raw) {
      best_raw = g;
      best.bin = bin;
      best.default_left = dl;
    }
  };
  for (int b = 0; b < (categorical ? mb : mb - 1); ++b) {
    const double* e = h + static_cast<std::size_t>(b) * s;
    if (e[w] <= 0) continue;  // numeric: same partition as the previous threshold
    if (categorical) {
      for (int k = 0; k < s; ++k) L[k] = e[k];
    } else {
      for (int k = 0; k < s; ++k) L[k] += e[k];
    }
    for (int k = 0; k < s; ++k) R[k] = parent[k] - L[k];
    try_split(L, R, b, false);
    if (has_missing) {
      for (int k = 0; k < s; ++k) {
        Lm[k] = L[k] + miss[k];
        Rm[k] = R[k] - miss[k];
      }
      try_split(Lm, Rm, b, true);
    }
  }
  if (!categorical && has_missing && mb >= 1) {  // every value left, missing alone right
    const double* e = h + static_cast<std::size_t>(mb - 1) * s;
    for (int k = 0; k < s; ++k) L[k] += e[k];
    for (int k = 0; k < s; ++k) R[k] = parent[k] - L[k];
    try_split(L, R, mb - 1, false);
  }
  if (best.bin >= 0) best.gain = (best_raw - parent_score) * weight;
  return best;
}

template <SplitPolicy P>
inline FeatureBest scan_feature(const P& policy, const double* h, int nbins, bool categorical,
                                const double* parent, double parent_score,
                                const SplitConstraints& c, double weight) {
  return scan_feature_impl<P::kWidth == 0 ? 0 : P::kWidth + 1>(policy, h, nbins, categorical,
                                                               parent, parent_score, c, weight);
}
}  // namespace detail

/// The best split of a node with histogram `hist` and sums `parent` (width + 1 doubles) over
/// `features`; an invalid Split when none gains more than min_split_gain.
template <SplitPolicy P>
Split find_best_split(const Context& ctx, const P& policy, const BinMapper& mapper,
                      const HistLayout& layout, std::span<const int> features, const double* hist,
                      const double* parent, const SplitConstraints& c) {
  const double ps = policy.score(parent);
  const auto nf = static_cast<std::int64_t>(features.size());
  std::vector<detail::FeatureBest> per(static_cast<std::size_t>(nf));
  auto run = [&](std::int64_t j) {
    const int f = features[static_cast<std::size_t>(j)];
    const double w = c.feature_weights.empty() ? 1.0 : c.feature_weights[static_cast<std::size_t>(f)];
    if (w <= 0) return;
    per[static_cast<std::size_t>(j)] = detail::scan_feature(
        policy, layout.feature(hist, f), mapper.num_bins(f), mapper.categorical(f), parent, ps, c, w);
  };
  // A feature's scan costs a few microseconds per hundred bins: worth a team once a node has
  // a few thousand bins to scan.
  if (ctx.threads() > 1 && nf >= 4 && static_cast<std::int64_t>(layout.size()) >= 4096 * layout.stride) {
    parallel_for_dynamic(ctx, nf, run, 1);
  } else {
    for (std::int64_t j = 0; j < nf; ++j) run(j);
  }
  Split best;
  double bg = c.min_split_gain;
  for (std::int64_t j = 0; j < nf; ++j) {
    const auto& p = per[static_cast<std::size_t>(j)];
    if (p.bin >= 0 && p.gain > bg && p.gain > 0) {
      bg = p.gain;
      best.feature = features[static_cast<std::size_t>(j)];
      best.bin = p.bin;
      best.default_left = p.default_left;
      best.gain = p.gain;
    }
  }
  if (!best.valid()) return best;
  best.categorical = mapper.categorical(best.feature);
  const int s = layout.stride;
  const double* h = layout.feature(hist, best.feature);
  best.left.assign(static_cast<std::size_t>(s), 0.0);
  const int mb = mapper.missing_bin(best.feature);
  for (int b = 0; b < mb; ++b) {
    const bool in = best.categorical ? b == best.bin : b <= best.bin;
    if (!in) continue;
    for (int k = 0; k < s; ++k) best.left[static_cast<std::size_t>(k)] += h[static_cast<std::size_t>(b) * s + k];
  }
  if (best.default_left) {
    for (int k = 0; k < s; ++k) best.left[static_cast<std::size_t>(k)] += h[static_cast<std::size_t>(mb) * s + k];
  }
  return best;
}

}  // namespace orchard::tree
