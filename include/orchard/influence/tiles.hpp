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
// With AVX-512 the table is factored (see Tile) so that it stays in L1.
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

/// A tile: test rows [e0, e0 + width), width <= W, and its table Gm (total leaves x W), dense
/// (gm; the portable and AVX2 kernels) or factored (the AVX-512 kernel): Gm[l][q] = coef[t W + q]
/// where bit q % 8 of mask[l (W / 8) + q / 8] is set (test row q lies in leaf l of tree t), else
/// 0. The factored table (T x W coefficients, one bit per leaf and test row) stays in L1; the
/// kernel loads a tree's coefficients under the leaf's mask, zeros elsewhere: the same operands
/// as the dense row.
struct Tile {
  index_t e0 = 0, width = 0, W = 0;
  std::vector<double> gm;
  std::vector<std::uint8_t> mask;
  std::vector<double> coef;
};

/// The tiles of m test rows: wide tiles while more than kWideTile / 2 rows remain, then narrow
/// ones; for the factored kernel (whose cost grows with the chunks of 8 rows in use) wide tiles
/// throughout. The result does not depend on the tiling.
inline std::vector<std::pair<index_t, index_t>> tile_plan(index_t m, bool factored) {
  std::vector<std::pair<index_t, index_t>> out;  // (e0, W)
  index_t e = 0;
  while (m - e > (factored ? 0 : kWideTile / 2)) {
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

// out[q * ld + i] for q < width, i in [i0, i1): sum over trees of val * gm[leaf][q]. Dense kernels:
// training rows in blocks of kRows whose accumulators (kRows x W) stay in L1; trees in groups whose part of gm
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

/// A mask register loaded straight from memory (a load, not a move from a general register,
/// which would compete with the fused multiply-adds for their port).
__attribute__((target("avx512f,avx512dq"))) inline __mmask8 load_mask8(const std::uint8_t* p) {
#if defined(__clang__)
  return _load_mask8(const_cast<__mmask8*>(p));
#else
  __mmask8 m;
  asm("kmovb %1, %0" : "=Yk"(m) : "m"(*p));
  return m;
#endif
}

/// acc[r W + q] = sum_{t < T} v[r T + t] Gm[l[r T + t]][q], q < 8 V, for R consecutive training
/// rows r from the factored table (acc starts at +0, one fused multiply-add per tree in order: the same
/// operations as the dense kernels). R rows at a time keep R independent chains of fused
/// multiply-adds in flight (one row alone waits on the latency of its chain).
template <int W, int V, int R>
__attribute__((target("avx512f,avx512dq"))) inline void rows_factored(const std::int32_t* l, const double* v, index_t T,
                                                                      const std::uint8_t* mask, const double* coef,
                                                                      double* acc) {
  constexpr int B = W / 8;  // mask bytes per leaf
  __m512d a[R][V];
  for (int r = 0; r < R; ++r) {
    for (int k = 0; k < V; ++k) a[r][k] = _mm512_setzero_pd();
  }
  for (index_t t = 0; t < T; ++t) {
    const double* c = coef + t * W;
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* mk = mask + static_cast<std::ptrdiff_t>(l[r * T + t]) * B;
      const __m512d x = _mm512_set1_pd(v[r * T + t]);
      for (int k = 0; k < V; ++k) {
        const __m512d g = _mm512_maskz_loadu_pd(load_mask8(mk + k), c + 8 * k);
        a[r][k] = _mm512_fmadd_pd(x, g, a[r][k]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int k = 0; k < V; ++k) _mm512_storeu_pd(acc + r * W + 8 * k, a[r][k]);
  }
}

/// Rows [b0, b1) of a factored tile into acc ((b1 - b0) x W), R rows at a time.
template <int W, int V>
inline void factored_rows(const std::int32_t* leaves, const double* val, index_t T, const Tile& tile, index_t b0,
                          index_t b1, double* acc) {
  constexpr int R = V >= 3 ? 2 : 4;
  index_t i = b0;
  for (; i + R <= b1; i += R) {
    rows_factored<W, V, R>(leaves + i * T, val + i * T, T, tile.mask.data(), tile.coef.data(), acc + (i - b0) * W);
  }
  for (; i < b1; ++i) {
    rows_factored<W, V, 1>(leaves + i * T, val + i * T, T, tile.mask.data(), tile.coef.data(), acc + (i - b0) * W);
  }
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
__attribute__((noinline)) inline void rows_isa(const std::int32_t* leaves, const double* val, index_t T, const Tile& tile,
                                               index_t i0, index_t i1, double* out, index_t ld) {
#else
template <int W, int Isa>
inline void rows_isa(const std::int32_t* leaves, const double* val, index_t T, const Tile& tile, index_t i0, index_t i1,
                     double* out, index_t ld) {
#endif
  alignas(64) double acc[kRows<W> * W];
  constexpr index_t G = kTreeGroup<W>;
  const double* gm = tile.gm.data();
  const index_t width = tile.width;
  for (index_t b0 = i0; b0 < i1; b0 += kRows<W>) {
    const index_t b1 = std::min(i1, b0 + kRows<W>);
#ifdef ORCHARD_INFLUENCE_X86_DISPATCH
    if constexpr (Isa == 2) {
      // only the chunks of 8 test rows that hold some of the tile's rows
      switch ((width + 7) / 8) {
        case 1: factored_rows<W, 1>(leaves, val, T, tile, b0, b1, acc); break;
        case 2: if constexpr (W >= 16) factored_rows<W, 2>(leaves, val, T, tile, b0, b1, acc); break;
        case 3: if constexpr (W >= 24) factored_rows<W, 3>(leaves, val, T, tile, b0, b1, acc); break;
        default: if constexpr (W >= 32) factored_rows<W, 4>(leaves, val, T, tile, b0, b1, acc); break;
      }
      for (index_t q = 0; q < width; ++q) {
        double* o = out + q * ld;
        for (index_t i = b0; i < b1; ++i) o[i] = acc[(i - b0) * W + q];
      }
      continue;
    }
#endif
    std::fill(acc, acc + (b1 - b0) * W, 0.0);
    for (index_t t0 = 0; t0 < T; t0 += G) {
      const index_t t1 = std::min(T, t0 + G);
      for (index_t i = b0; i < b1; ++i) {
        double* a = acc + (i - b0) * W;
#ifdef ORCHARD_INFLUENCE_X86_DISPATCH
        if constexpr (Isa == 1) {
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

/// The kernel a tile is built for: 2 factored (AVX-512), else dense.
inline int kernel_level() {
#ifdef ORCHARD_INFLUENCE_X86_DISPATCH
  return isa();
#else
  return 0;
#endif
}

template <int W>
inline void rows(const std::int32_t* leaves, const double* val, index_t T, const Tile& tile, index_t i0, index_t i1,
                 double* out, index_t ld) {
#ifdef ORCHARD_INFLUENCE_X86_DISPATCH
  if (!tile.coef.empty()) {
    rows_isa<W, 2>(leaves, val, T, tile, i0, i1, out, ld);
    return;
  }
  if (isa() >= 1) {
    rows_isa<W, 1>(leaves, val, T, tile, i0, i1, out, ld);
    return;
  }
#endif
  rows_isa<W, 0>(leaves, val, T, tile, i0, i1, out, ld);
}

}  // namespace tilek

/// The tiles of m test rows for the kernel in use.
inline std::vector<std::pair<index_t, index_t>> tile_plan(index_t m) { return tile_plan(m, tilek::kernel_level() >= 2); }

/// The tile of test rows [e0, e0 + width) (width <= W): leaf_of(q, t) is the global leaf of test
/// row e0 + q in tree t, coef(q, t) its coefficient. Factored for the AVX-512 kernel, else dense.
template <class LeafOf, class Coef>
inline Tile build_tile(const Structure& st, index_t e0, index_t W, index_t width, LeafOf&& leaf_of, Coef&& coef) {
  const index_t T = st.trees(), NL = st.total_leaves();
  Tile tile;
  tile.e0 = e0;
  tile.W = W;
  tile.width = width;
  if (tilek::kernel_level() < 2) {
    tile.gm.assign(static_cast<std::size_t>(NL * W), 0.0);
    for (index_t q = 0; q < width; ++q) {
      for (index_t t = 0; t < T; ++t) tile.gm[static_cast<std::size_t>(leaf_of(q, t) * W + q)] = coef(q, t);
    }
    return tile;
  }
  tile.mask.assign(static_cast<std::size_t>(NL * (W / 8)), 0);
  tile.coef.assign(static_cast<std::size_t>(T * W), 0.0);
  for (index_t q = 0; q < width; ++q) {
    for (index_t t = 0; t < T; ++t) {
      auto& b = tile.mask[static_cast<std::size_t>(leaf_of(q, t) * (W / 8) + q / 8)];
      b = static_cast<std::uint8_t>(b | (1u << (q % 8)));
      tile.coef[static_cast<std::size_t>(t * W + q)] = coef(q, t);
    }
  }
  return tile;
}

/// Training rows [i0, i1) of the tile's columns: out[q * ld + i] for q < tile.width.
inline void tile_rows(const Structure& st, const double* val, const Tile& tile, index_t i0, index_t i1,
                      double* out, index_t ld) {
  const std::int32_t* leaves = st.row_leaves(0);
  if (tile.W == kWideTile) {
    tilek::rows<kWideTile>(leaves, val, st.trees(), tile, i0, i1, out, ld);
  } else {
    tilek::rows<kNarrowTile>(leaves, val, st.trees(), tile, i0, i1, out, ld);
  }
}

}  // namespace orchard::influence::detail
