#pragma once
// The split policy of GBRL for the shared tree engine: the per-sample statistic is a D-vector of
// gradients, a histogram bin holds (sum of gradient vectors, count), and a node's score is
// n ||m||^2 = ||sum||^2 / n (m = the mean gradient). The split gain the engine maximises,
// score(left) + score(right) - score(parent), therefore ranks candidates exactly as
//   L2:     n_L ||m_L||^2 + n_R ||m_R||^2   on gradients centred and scaled per output column,
//   cosine: sqrt(n_L ||m_L||^2 + n_R ||m_R||^2)   on raw gradients
// (the cosine between the gradients and the leaf means is that quantity over ||G||, constant at a
// node; the square root is monotone). Both come from bin sums, no second pass over samples.
// A leaf stores the mean raw gradient: statistics transformed as (g - shift) / scale are mapped
// back in leaf_value.
#include <cmath>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../tree/policy.hpp"

namespace orchard::gbrl {

enum class Score { l2, cosine };

inline Score parse_score(const std::string& s) {
  if (s == "l2" || s == "L2") return Score::l2;
  if (s == "cosine") return Score::cosine;
  throw InvalidArgument("orchard: argument 'score' = " + s + ": expected 'l2' or 'cosine'");
}
inline const char* to_string(Score s) { return s == Score::l2 ? "l2" : "cosine"; }

/// The published split scores from the children's sums (width D + 1: gradient sums, count).
inline double split_score(Score s, const double* left, const double* right, int d) {
  double v = 0;
  for (const double* c : {left, right}) {
    const double n = c[d];
    if (n <= 0) continue;
    double sq = 0;
    for (int k = 0; k < d; ++k) sq += c[k] * c[k];
    v += sq / n;
  }
  return s == Score::cosine ? std::sqrt(v) : v;
}

/// Engine policy: K = compile-time width (0: run-time width d).
template <int K = 0>
struct GradientScore {
  static constexpr int kWidth = K;
  int d = K;
  const double* shift = nullptr;  ///< per-output shift of the statistic (nullptr: 0)
  const double* scale = nullptr;  ///< per-output scale of the statistic (nullptr: 1)

  int width() const { return K > 0 ? K : d; }
  int n_outputs() const { return width(); }
  ORCHARD_HD double score(const double* s) const {
    const int w = K > 0 ? K : d;
    const double n = s[w];
    if (n <= 0) return 0.0;
    double sq = 0;
    for (int k = 0; k < w; ++k) sq += s[k] * s[k];
    return sq / n;
  }
  ORCHARD_HD bool admissible(const double* /*s*/) const { return true; }
  void leaf_value(const double* s, double* out) const {
    const int w = width();
    const double n = s[w];
    for (int k = 0; k < w; ++k) {
      if (n <= 0) {
        out[k] = 0.0;
        continue;
      }
      const double m = s[k] / n;
      out[k] = (scale ? m * scale[k] : m) + (shift ? shift[k] : 0.0);
    }
  }
  ORCHARD_HD double cover(const double* s) const { return s[K > 0 ? K : d]; }
};

static_assert(tree::SplitPolicy<GradientScore<0>>);

}  // namespace orchard::gbrl
