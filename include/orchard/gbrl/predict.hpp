#pragma once
// CPU prediction over a compiled forest (forest.hpp). Rows go in blocks of kPredictBlock, copied
// feature-major (feature f of row i at xt[f * kPredictBlock + i]); trees are the outer loop and
// all rows of a block walk a tree in lockstep, one level at a time: the rows' dependent loads
// overlap, and the levels of an oblivious tree (one feature and threshold per level) become
// vector compares. Each row still adds the trees' leaf values in tree order, so the sums are
// those of a row-by-row walk, bit for bit, for any block or thread count.
#include <algorithm>
#include <cstdint>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../core/matrix_view.hpp"
#include "forest.hpp"

namespace orchard::gbrl::detail {

inline constexpr index_t kPredictBlock = 128;

// Leaf index (0 .. 2^depth - 1) of rows [0, m) in an oblivious tree. Groups of kLanes rows
// keep their index in registers as doubles (exact below 2^53), because compare-and-add on
// doubles vectorises with SSE2 alone.
inline constexpr index_t kLanes = 8;
template <bool Plain>
inline void oblivious_leaves(const ForestView& f, const CompiledTree& c, const double* xt,
                             index_t m, std::int64_t* idx) {
  const std::int32_t* ft = f.feat + c.split;
  const double* th = f.thr + c.split;
  const std::uint8_t* fl = f.flag + c.split;
  for (index_t i0 = 0; i0 < m; i0 += kLanes) {
    double a[kLanes] = {};
    for (int l = 0; l < c.depth; ++l) {
      // Reads past m stay inside the kPredictBlock-row column; those lanes are dropped.
      const double* col = xt + static_cast<index_t>(ft[l]) * kPredictBlock + i0;
      const double t = th[l];
      if constexpr (Plain) {
#if defined(__SSE2__)
        // The same IEEE compare and adds, four pairs of lanes at a time (gcc does not
        // vectorise this loop by itself).
        const __m128d tv = _mm_set1_pd(t), one = _mm_set1_pd(1.0);
        for (index_t j = 0; j < kLanes; j += 2) {
          __m128d av = _mm_loadu_pd(a + j);
          const __m128d right = _mm_and_pd(_mm_cmpnle_pd(_mm_loadu_pd(col + j), tv), one);
          _mm_storeu_pd(a + j, _mm_add_pd(_mm_add_pd(av, av), right));
        }
#else
        for (index_t j = 0; j < kLanes; ++j) a[j] = 2.0 * a[j] + (col[j] <= t ? 0.0 : 1.0);
#endif
      } else {
        const std::uint8_t g = fl[l];
        for (index_t j = 0; j < kLanes; ++j) a[j] = 2.0 * a[j] + (go_left(col[j], t, g) ? 0.0 : 1.0);
      }
    }
    const index_t n = std::min(kLanes, m - i0);
    for (index_t j = 0; j < n; ++j) idx[i0 + j] = static_cast<std::int64_t>(a[j]);
  }
}

// Rows walk `depth` levels in groups of kGroup held in registers (independent chains whose
// loads overlap). Step(q, row) returns the next position of a row at position q.
inline constexpr index_t kGroup = 8;
template <class Step>
inline void walk(int depth, index_t m, std::int64_t* idx, const Step& step) {
  index_t i0 = 0;
  for (; i0 + kGroup <= m; i0 += kGroup) {
    std::int64_t q[kGroup] = {};
    for (int l = 0; l < depth; ++l)
      for (index_t j = 0; j < kGroup; ++j) q[j] = step(q[j], i0 + j);
    for (index_t j = 0; j < kGroup; ++j) idx[i0 + j] = q[j];
  }
  for (; i0 < m; ++i0) {
    std::int64_t q = 0;
    for (int l = 0; l < depth; ++l) q = step(q, i0);
    idx[i0] = q;
  }
}

// Leaf index of rows [0, m) in a complete (heap-ordered) tree.
template <bool Plain>
inline void complete_leaves(const ForestView& f, const CompiledTree& c, const double* xt,
                            index_t m, std::int64_t* idx) {
  const std::int32_t* ft = f.feat + c.split;
  const double* th = f.thr + c.split;
  const std::uint8_t* fl = f.flag + c.split;
  walk(c.depth, m, idx, [&](std::int64_t q, index_t i) {
    const double x = xt[static_cast<index_t>(ft[q]) * kPredictBlock + i];
    bool right;
    if constexpr (Plain) {
      right = !(x <= th[q]);
    } else {
      right = !go_left(x, th[q], fl[q]);
    }
    return 2 * q + 1 + (right ? 1 : 0);
  });
  const std::int64_t first_leaf = (std::int64_t{1} << c.depth) - 1;
  for (index_t i = 0; i < m; ++i) idx[i] -= first_leaf;
}

// Leaf number of rows [0, m) in a tree of the node form.
template <bool Plain>
inline void node_leaves(const ForestView& f, const CompiledTree& c, const double* xt, index_t m,
                        std::int64_t* idx) {
  const GNode* nodes = f.nodes + c.split;
  walk(c.depth, m, idx, [&](std::int64_t q, index_t i) {
    const GNode& n = nodes[q];
    const double x = xt[static_cast<index_t>(n.feature) * kPredictBlock + i];
    bool right;
    if constexpr (Plain) {
      right = !(x <= n.threshold) & (n.value < 0);  // a leaf stays put, NaN included
    } else {
      right = !go_left(x, n.threshold, n.flags);
    }
    return static_cast<std::int64_t>(n.left) + (right ? 1 : 0);
  });
  for (index_t i = 0; i < m; ++i) idx[i] = nodes[idx[i]].value;
}

/// out (m x d, row-major) += the values of trees [start, stop) for the m <= kPredictBlock rows
/// in xt. D: compile-time output count (0: f.d at run time).
template <int D>
void predict_block(const ForestView& f, const double* xt, index_t m, std::int64_t start,
                   std::int64_t stop, double* out) {
  const int d = D > 0 ? D : f.d;
  std::int64_t idx[kPredictBlock];
  for (std::int64_t t = start; t < stop; ++t) {
    const CompiledTree& c = f.trees[t];
    if (c.form == kOblivious) {
      if (c.plain) oblivious_leaves<true>(f, c, xt, m, idx);
      else oblivious_leaves<false>(f, c, xt, m, idx);
    } else if (c.form == kComplete) {
      if (c.plain) complete_leaves<true>(f, c, xt, m, idx);
      else complete_leaves<false>(f, c, xt, m, idx);
    } else {
      if (c.plain) node_leaves<true>(f, c, xt, m, idx);
      else node_leaves<false>(f, c, xt, m, idx);
    }
    const double* v0 = f.values + c.values;
    for (index_t i = 0; i < m; ++i) {
      const double* v = v0 + idx[i] * d;
      double* o = out + i * d;
      if constexpr (D > 0) {
        double w[D];  // loads before stores: the adds pair up into vector instructions
        for (int k = 0; k < D; ++k) w[k] = o[k] + v[k];
        for (int k = 0; k < D; ++k) o[k] = w[k];
      } else {
        for (int k = 0; k < d; ++k) o[k] += v[k];
      }
    }
  }
}

/// out (x.rows x f.d, row-major) += contributions of trees [start, stop) for the rows r0..r1 of x
/// (one block of at most kPredictBlock rows); xt: kPredictBlock * x.cols doubles of scratch,
/// initialised (oblivious trees read whole groups of rows).
inline void predict_rows(const ForestView& f, ConstMatrixView<double> x, index_t r0, index_t r1,
                         std::int64_t start, std::int64_t stop, double* xt, double* out) {
  const index_t m = r1 - r0;
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < x.cols; ++j) xt[j * kPredictBlock + i] = x(r0 + i, j);
  double* o = out + r0 * f.d;
  switch (f.d) {
    case 1: predict_block<1>(f, xt, m, start, stop, o); break;
    case 2: predict_block<2>(f, xt, m, start, stop, o); break;
    case 3: predict_block<3>(f, xt, m, start, stop, o); break;
    case 4: predict_block<4>(f, xt, m, start, stop, o); break;
    case 5: predict_block<5>(f, xt, m, start, stop, o); break;
    case 6: predict_block<6>(f, xt, m, start, stop, o); break;
    default: predict_block<0>(f, xt, m, start, stop, o); break;
  }
}

}  // namespace orchard::gbrl::detail
