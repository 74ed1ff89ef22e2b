#pragma once
// Dense tiles of test rows for the "tiled" influence methods (BoostIn and its variants,
// LeafInfluenceSP), whose influence is
//   I(i, e) = sum_t 1[leaf_t(i) = leaf_t(e)] val(i, t) coef(e, t).
// A tile of W test rows becomes a table Gm (total leaves x W): Gm[l][q] = coef(e0 + q, t) when
// test row e0 + q lies in leaf l of tree t, else 0. Then for every training row i
//   I(i, e0 + q) = sum_t val(i, t) Gm[leaf_t(i)][q],
// one pass over the row-major leaves and values of the training rows per tile, W accumulators
// per training row in vector registers (no branches, no set-bit loops). Every product is added
// with one fused multiply-add, trees in order, so each element's result is the same whatever the
// tiling, the instruction set chosen at run time (AVX-512, AVX2 or the portable loop, which uses
// std::fma) or the thread count; the GPU kernel uses the same fused operation in the same order.
// The zero entries of Gm add +-0, which changes nothing but possibly the sign of a zero result.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define ORCHARD_INFLUENCE_X86_DISPATCH 1
#include <immintrin.h>
#endif

#include "../core/parallel.hpp"
#include "structure.hpp"

namespace orchard::influence::detail {

/// Widths of the tiles: full tiles of kWideTile test rows, short remainders in tiles of kNarrowTile.
inline constexpr index_t kWideTile = 32;
inline constexpr index_t kNarrowTile = 8;

/// A tile: test rows [e0, e0 + width), width <= W, and its table Gm (total leaves x W).
struct Tile {
  index_t e0 = 0, width = 0, W = 0;
  std::vector<double> gm;
};

/// The tiles of m test rows: wide tiles while more than kWideTile / 2 rows remain, then narrow
/// ones (the split depends only on m).
inline std::vector<std::pair<index_t, index_t>> tile_plan(index_t m) {
  std::vector<std::pair<index_t, index_t>> out;  // (e0, W)
  index_t e = 0;
  while (m - e > kWideTile / 2) {
    out.emplace_back(e, kWideTile);
    e += kWideTile;
  }
  while (e < m) {
    out.emplace_back(e, kNarrowTile);
    e += kNarrowTile;
  }
  return out;
}

namespace tilek {

// out[q * ld + i] for q < width, i in [i0, i1): sum over trees of val * gm[leaf][q]. Training rows
// in blocks of kRows whose accumulators (kRows x W) stay in L1; trees in groups whose part of gm
// (group x leaves x W) stays in L1 too; within a group a row's accumulators live in registers.
// (Measured on the 2-core dev machine at n = 50 000, T = 100: 32 rows x 4 trees for W = 32 beat
// 64 x 2, 32 x all trees and 256 x 1.)
template <int W>
inline constexpr index_t kRows = 1024 / W;
template <int W>
inline constexpr index_t kTreeGroup = 128 / W;

/// The micro-kernel: acc[0..W) += sum_{t in [t0, t1)} v[t] gm[l[t]][0..W), trees in order.
template <int W>
inline void group_portable(const std::int32_t* l, const double* v, index_t t0, index_t t1, const double* gm, double* acc) {
  for (index_t t = t0; t < t1; ++t) {
    const double* g = gm + static_cast<std::ptrdiff_t>(l[t]) * W;
    const double x = v[t];
    for (int q = 0; q < W; ++q) acc[q] = std::fma(x, g[q], acc[q]);
  }
}

/// Kernel forced by the tests: -1 the CPU's best, else at most this level (2 AVX-512F, 1 AVX2 +
/// FMA, 0 portable).
inline int& isa_override() {
  static int level = -1;
  return level;
}

#ifdef ORCHARD_INFLUENCE_X86_DISPATCH
template <int W>
__attribute__((target("avx512f"))) inline void group_avx512(const std::int32_t* l, const double* v, index_t t0, index_t t1,
                                                            const double* gm, double* acc) {
  constexpr int V = W / 8;
  __m512d a[V];
  for (int k = 0; k < V; ++k) a[k] = _mm512_load_pd(acc + 8 * k);
  for (index_t t = t0; t < t1; ++t) {
    const double* g = gm + static_cast<std::ptrdiff_t>(l[t]) * W;
    const __m512d x = _mm512_set1_pd(v[t]);
    for (int k = 0; k < V; ++k) a[k] = _mm512_fmadd_pd(x, _mm512_loadu_pd(g + 8 * k), a[k]);
  }
  for (int k = 0; k < V; ++k) _mm512_store_pd(acc + 8 * k, a[k]);
}

template <int W>
__attribute__((target("avx2,fma"))) inline void group_avx2(const std::int32_t* l, const double* v, index_t t0, index_t t1,
                                                           const double* gm, double* acc) {
  constexpr int V = W / 4;
  __m256d a[V];
  for (int k = 0; k < V; ++k) a[k] = _mm256_load_pd(acc + 4 * k);
  for (index_t t = t0; t < t1; ++t) {
    const double* g = gm + static_cast<std::ptrdiff_t>(l[t]) * W;
    const __m256d x = _mm256_set1_pd(v[t]);
    for (int k = 0; k < V; ++k) a[k] = _mm256_fmadd_pd(x, _mm256_loadu_pd(g + 4 * k), a[k]);
  }
  for (int k = 0; k < V; ++k) _mm256_store_pd(acc + 4 * k, a[k]);
}

/// 2: AVX-512F, 1: AVX2 + FMA, 0: portable (the CPU's best, detected once per process).
inline int isa() {
  static const int cpu_level = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
  }();
  return isa_override() >= 0 ? std::min(isa_override(), cpu_level) : cpu_level;
}

template <int W, int Isa>
__attribute__((noinline)) inline void rows_isa(const std::int32_t* leaves, const double* val, index_t T, const double* gm,
                                               index_t i0, index_t i1, index_t width, double* out, index_t ld) {
#else
template <int W, int Isa>
inline void rows_isa(const std::int32_t* leaves, const double* val, index_t T, const double* gm, index_t i0, index_t i1,
                     index_t width, double* out, index_t ld) {
#endif
  alignas(64) double acc[kRows<W> * W];
  constexpr index_t G = kTreeGroup<W>;
  for (index_t b0 = i0; b0 < i1; b0 += kRows<W>) {
    const index_t b1 = std::min(i1, b0 + kRows<W>);
    std::fill(acc, acc + (b1 - b0) * W, 0.0);
    for (index_t t0 = 0; t0 < T; t0 += G) {
      const index_t t1 = std::min(T, t0 + G);
      for (index_t i = b0; i < b1; ++i) {
        double* a = acc + (i - b0) * W;
#ifdef ORCHARD_INFLUENCE_X86_DISPATCH
        if constexpr (Isa == 2) {
          group_avx512<W>(leaves + i * T, val + i * T, t0, t1, gm, a);
        } else if constexpr (Isa == 1) {
          group_avx2<W>(leaves + i * T, val + i * T, t0, t1, gm, a);
        } else {
          group_portable<W>(leaves + i * T, val + i * T, t0, t1, gm, a);
        }
#else
        group_portable<W>(leaves + i * T, val + i * T, t0, t1, gm, a);
#endif
      }
    }
    for (index_t q = 0; q < width; ++q) {
      double* o = out + q * ld;
      for (index_t i = b0; i < b1; ++i) o[i] = acc[(i - b0) * W + q];
    }
  }
}

template <int W>
inline void rows(const std::int32_t* leaves, const double* val, index_t T, const double* gm, index_t i0, index_t i1,
                 index_t width, double* out, index_t ld) {
#ifdef ORCHARD_INFLUENCE_X86_DISPATCH
  switch (isa()) {
    case 2: rows_isa<W, 2>(leaves, val, T, gm, i0, i1, width, out, ld); return;
    case 1: rows_isa<W, 1>(leaves, val, T, gm, i0, i1, width, out, ld); return;
    default: break;
  }
#endif
  rows_isa<W, 0>(leaves, val, T, gm, i0, i1, width, out, ld);
}

}  // namespace tilek

/// Training rows [i0, i1) of the tile's columns: out[q * ld + i] for q < tile.width.
inline void tile_rows(const Structure& st, const double* val, const Tile& tile, index_t i0, index_t i1,
                      double* out, index_t ld) {
  const std::int32_t* leaves = st.row_leaves(0);
  if (tile.W == kWideTile) {
    tilek::rows<kWideTile>(leaves, val, st.trees(), tile.gm.data(), i0, i1, tile.width, out, ld);
  } else {
    tilek::rows<kNarrowTile>(leaves, val, st.trees(), tile.gm.data(), i0, i1, tile.width, out, ld);
  }
}

}  // namespace orchard::influence::detail
