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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/// score(l) + score(r) of a candidate split. A policy may provide pair_score(l, r) computing
/// both in one pass; it must equal score(l) + score(r) bit for bit.
template <SplitPolicy P>
inline double pair_score(const P& p, const double* l, const double* r) {
  if constexpr (requires { p.pair_score(l, r); }) {
    return p.pair_score(l, r);
  } else {
    return p.score(l) + p.score(r);
  }
}

/// Policies may offer a fused score of a node's two children: pair_score_parent(l, p) =
/// score(l) + score(p - l) bit for bit, with kAnyChild = true (admissible() always holds).
template <class P>
concept FusedPairScore = requires(const P& p, const double* x) {
  { p.pair_score_parent(x, x) } -> std::convertible_to<double>;
  requires P::kAnyChild;
};

/// l[k] += e[k] for k < n (two at a time with SSE2: a run-time width is not unrolled).
inline void add_to(double* l, const double* e, int n) {
  int k = 0;
#if defined(__SSE2__)
  for (; k + 2 <= n; k += 2) _mm_storeu_pd(l + k, _mm_add_pd(_mm_loadu_pd(l + k), _mm_loadu_pd(e + k)));
#endif
  for (; k < n; ++k) l[k] += e[k];
}

/// Room for `n` doubles: on the stack when small, else on the heap.
class ScanBuffer {
 public:
  double* get(std::size_t n) {
    if (n <= kStack) return stack_;
    heap_.resize(n);
    return heap_.data();
  }

 private:
  static constexpr std::size_t kStack = 4 * 66;
  double stack_[kStack];
  std::vector<double> heap_;
};

// Scans one feature given its bins: for_bins(fn) calls fn(b, sums) for every non-empty value bin
// b < mb (mb = the missing bin) in ascending order; `miss` holds the missing bin's sums.
// S = width + 1 doubles per bin, known at compile time (S > 1) or not (S == 0). Numeric
// candidates are "bin <= b" for b < mb - 1 with missing values right, then left, plus "every
// value left, missing right" (bin mb - 1); categorical candidates are "bin == b".
template <int S, SplitPolicy P, class ForBins>
inline FeatureBest scan_bins(const P& policy, ForBins&& for_bins, const double* miss, int mb,
                             bool categorical, const double* parent, double parent_score,
                             const SplitConstraints& c, double weight) {
  FeatureBest best;
  const int w = policy.width(), s = S > 0 ? S : w + 1;
  const auto min_n = static_cast<double>(c.min_data_in_leaf);
  if (parent[w] < 2 * min_n) return best;
  constexpr int kBuf = S > 0 ? S : 1;
  double Lf[kBuf], Rf[kBuf], Lmf[kBuf], Rmf[kBuf];
  double *L = Lf, *R = Rf, *Lm = Lmf, *Rm = Rmf;
  ScanBuffer heap;
  if constexpr (S == 0) {
    L = heap.get(4 * static_cast<std::size_t>(s));
    R = L + s;
    Lm = R + s;
    Rm = Lm + s;
  }
  for (int k = 0; k < s; ++k) L[k] = 0.0;
  // Candidates compare by score(L) + score(R); the parent score and the weight (> 0) are applied
  // to the winner only.
  double best_raw = -std::numeric_limits<double>::infinity();
  const bool has_missing = miss[w] > 0;
  auto try_split = [&](const double* l, const double* r, int bin, bool dl) {
    if (l[w] < min_n || r[w] < min_n || !policy.admissible(l) || !policy.admissible(r)) return;
    const double g = pair_score(policy, l, r);
    if (g > best_raw) {
      best_raw = g;
      best.bin = bin;
      best.default_left = dl;
    }
  };
  for_bins([&](int b, const double* e) {
    if (categorical) {
      for (int k = 0; k < s; ++k) L[k] = e[k];
    } else {
      if constexpr (S == 0) {
        add_to(L, e, s);
      } else {
        for (int k = 0; k < s; ++k) L[k] += e[k];
      }
      if (b == mb - 1) return;  // every value left: only with missing values right, below
    }
    if constexpr (FusedPairScore<P>) {
      if (L[w] >= min_n && parent[w] - L[w] >= min_n) {
        const double g = policy.pair_score_parent(L, parent);
        if (g > best_raw) {
          best_raw = g;
          best.bin = b;
          best.default_left = false;
        }
      }
      if (!has_missing) return;
      for (int k = 0; k < s; ++k) R[k] = parent[k] - L[k];
    } else {
      for (int k = 0; k < s; ++k) R[k] = parent[k] - L[k];
      try_split(L, R, b, false);
    }
    if (has_missing) {
      for (int k = 0; k < s; ++k) {
        Lm[k] = L[k] + miss[k];
        Rm[k] = R[k] - miss[k];
      }
      try_split(Lm, Rm, b, true);
    }
  });
  if (!categorical && has_missing && mb >= 1) {  // every value left, missing alone right
    for (int k = 0; k < s; ++k) R[k] = parent[k] - L[k];
    try_split(L, R, mb - 1, false);
  }
  if (best.bin >= 0) best.gain = (best_raw - parent_score) * weight;
  return best;
}

// Scans one feature's dense histogram h (nbins bins, the last one missing).
template <SplitPolicy P>
inline FeatureBest scan_feature(const P& policy, const double* h, int nbins, bool categorical,
                                const double* parent, double parent_score,
                                const SplitConstraints& c, double weight) {
  constexpr int S = P::kWidth == 0 ? 0 : P::kWidth + 1;
  const int w = policy.width();
  const std::size_t s = static_cast<std::size_t>(w) + 1;
  const int mb = nbins - 1;
  return scan_bins<S>(
      policy,
      [&](auto&& fn) {
        for (int b = 0; b < mb; ++b) {
          const double* e = h + static_cast<std::size_t>(b) * s;
          if (e[w] <= 0) continue;  // numeric: same partition as the previous threshold
          fn(b, e);
        }
      },
      h + static_cast<std::size_t>(mb) * s, mb, categorical, parent, parent_score, c, weight);
}

// The best of per-feature results (ties: the first feature), or -1 when none gains more than
// min_split_gain.
inline std::int64_t pick_best(const std::vector<FeatureBest>& per, double min_split_gain) {
  std::int64_t bj = -1;
  double bg = min_split_gain;
  for (std::size_t j = 0; j < per.size(); ++j) {
    const auto& p = per[j];
    if (p.bin >= 0 && p.gain > bg && p.gain > 0) {
      bg = p.gain;
      bj = static_cast<std::int64_t>(j);
    }
  }
  return bj;
}

// The winner among per-feature results as a Split (feature, bin, missing direction, gain;
// invalid when none gains enough); per[j] belongs to features[j].
inline Split best_split(const std::vector<FeatureBest>& per, std::span<const int> features,
                        double min_split_gain) {
  Split best;
  const std::int64_t bj = pick_best(per, min_split_gain);
  if (bj >= 0) {
    const auto& p = per[static_cast<std::size_t>(bj)];
    best.feature = features[static_cast<std::size_t>(bj)];
    best.bin = p.bin;
    best.default_left = p.default_left;
    best.gain = p.gain;
  }
  return best;
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
  Split best = detail::best_split(per, features, c.min_split_gain);
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
