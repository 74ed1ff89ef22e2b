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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
  /// Every child is admissible (the engine may skip admissible()).
  static constexpr bool kAnyChild = true;

  ORCHARD_HD double score(const double* s) const {
    const int w = K > 0 ? K : d;
    const double n = s[w];
    return n > 0 ? sq_norm(s, w) / n : 0.0;
  }
  /// score(l) + score(p - l), the children of a node with sums p, without storing p - l; equal
  /// bit for bit to score(l) + score(r) with r[k] = p[k] - l[k].
  double pair_score_parent(const double* l, const double* p) const {
    const int w = K > 0 ? K : d;
    double a[4], b[4];
    int k = 0;
#if defined(__SSE2__)
    __m128d a0 = _mm_setzero_pd(), a1 = a0, b0 = a0, b1 = a0;
    for (; k + 4 <= w; k += 4) {
      const __m128d l0 = _mm_loadu_pd(l + k), l1 = _mm_loadu_pd(l + k + 2);
      const __m128d r0 = _mm_sub_pd(_mm_loadu_pd(p + k), l0);
      const __m128d r1 = _mm_sub_pd(_mm_loadu_pd(p + k + 2), l1);
      a0 = _mm_add_pd(a0, _mm_mul_pd(l0, l0));
      a1 = _mm_add_pd(a1, _mm_mul_pd(l1, l1));
      b0 = _mm_add_pd(b0, _mm_mul_pd(r0, r0));
      b1 = _mm_add_pd(b1, _mm_mul_pd(r1, r1));
    }
    _mm_storeu_pd(a, a0);
    _mm_storeu_pd(a + 2, a1);
    _mm_storeu_pd(b, b0);
    _mm_storeu_pd(b + 2, b1);
#else
    for (int j = 0; j < 4; ++j) a[j] = b[j] = 0.0;
    for (; k + 4 <= w; k += 4) {
      for (int j = 0; j < 4; ++j) {
        const double r = p[k + j] - l[k + j];
        a[j] += l[k + j] * l[k + j];
        b[j] += r * r;
      }
    }
#endif
    for (int j = 0; k < w; ++k, ++j) {
      const double r = p[k] - l[k];
      a[j] += l[k] * l[k];
      b[j] += r * r;
    }
    const double nl = l[w], nr = p[w] - l[w];
    const double sl = nl > 0 ? ((a[0] + a[1]) + (a[2] + a[3])) / nl : 0.0;
    const double sr = nr > 0 ? ((b[0] + b[1]) + (b[2] + b[3])) / nr : 0.0;
    return sl + sr;
  }
  /// ||v||^2 over w values in four interleaved partial sums (lane k mod 4; independent add
  /// chains, two lanes per SSE2 instruction on the host).
  ORCHARD_HD static double sq_norm(const double* v, int w) {
    double a[4];
    int k = 0;
#if defined(__SSE2__) && !defined(__CUDA_ARCH__)
    __m128d a0 = _mm_setzero_pd(), a1 = a0;
    for (; k + 4 <= w; k += 4) {
      const __m128d x0 = _mm_loadu_pd(v + k), x1 = _mm_loadu_pd(v + k + 2);
      a0 = _mm_add_pd(a0, _mm_mul_pd(x0, x0));
      a1 = _mm_add_pd(a1, _mm_mul_pd(x1, x1));
    }
    _mm_storeu_pd(a, a0);
    _mm_storeu_pd(a + 2, a1);
#else
    for (int j = 0; j < 4; ++j) a[j] = 0.0;
    for (; k + 4 <= w; k += 4) {
      for (int j = 0; j < 4; ++j) a[j] += v[k + j] * v[k + j];
    }
#endif
    for (int j = 0; k < w; ++k, ++j) a[j] += v[k] * v[k];
    return (a[0] + a[1]) + (a[2] + a[3]);
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
