#pragma once
// Histograms of per-sample statistics per (feature, bin). A bin holds `width` statistic sums and
// the sample count (stride = width + 1 doubles). Building is parallel over (row block, feature)
// tasks; a node larger than one row block sums per-block partial histograms in block order, so the
// result depends on the data alone, never on the thread count.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "../core/context.hpp"
#include "../core/parallel.hpp"
#include "binning.hpp"

namespace orchard::tree {

/// Rows per partial histogram; fixed, so sums do not depend on the thread count.
inline constexpr index_t kHistRowBlock = index_t{1} << 16;
/// Below this many (row, feature) cells a histogram is built on one thread.
inline constexpr index_t kSerialWork = index_t{1} << 15;

/// Where each feature's bins start in a flat histogram.
struct HistLayout {
  int width = 0;   ///< statistic sums per bin
  int stride = 1;  ///< doubles per bin (width + 1, the count last)
  std::vector<std::int64_t> offset;  ///< first bin of feature f; offset[d] = all bins

  static HistLayout make(const BinMapper& m, int width) {
    HistLayout l;
    l.width = width;
    l.stride = width + 1;
    l.offset.resize(static_cast<std::size_t>(m.num_features()) + 1);
    l.offset[0] = 0;
    for (int f = 0; f < m.num_features(); ++f) {
      l.offset[static_cast<std::size_t>(f) + 1] = l.offset[static_cast<std::size_t>(f)] + m.num_bins(f);
    }
    return l;
  }
  std::size_t size() const { return static_cast<std::size_t>(offset.back()) * stride; }
  std::int64_t bins(int f) const {
    return offset[static_cast<std::size_t>(f) + 1] - offset[static_cast<std::size_t>(f)];
  }
  double* feature(double* h, int f) const { return h + offset[static_cast<std::size_t>(f)] * stride; }
  const double* feature(const double* h, int f) const {
    return h + offset[static_cast<std::size_t>(f)] * stride;
  }
};

namespace detail {
// Adds rows [0, m) of one feature column into h. rows == nullptr: row i is first + i.
template <int K, class Code>
inline void accumulate_feature(const Code* col, const std::uint32_t* rows, index_t first,
                               index_t m, const float* st, int width, double* h) {
  constexpr int kS = K + 1;
  if constexpr (K > 0) {
    if (rows == nullptr) {
      const Code* c = col + first;
      for (index_t i = 0; i < m; ++i) {
        double* e = h + static_cast<std::size_t>(c[i]) * kS;
        for (int k = 0; k < K; ++k) e[k] += st[i * K + k];
        e[K] += 1.0;
      }
    } else {
      for (index_t i = 0; i < m; ++i) {
        double* e = h + static_cast<std::size_t>(col[rows[i]]) * kS;
        for (int k = 0; k < K; ++k) e[k] += st[i * K + k];
        e[K] += 1.0;
      }
    }
  } else {
    const int s = width + 1;
    for (index_t i = 0; i < m; ++i) {
      const index_t r = rows == nullptr ? first + i : static_cast<index_t>(rows[i]);
      double* e = h + static_cast<std::size_t>(col[r]) * static_cast<std::size_t>(s);
      const float* x = st + i * width;
      for (int k = 0; k < width; ++k) e[k] += x[k];
      e[width] += 1.0;
    }
  }
}

// Adds rows [0, m) of G feature columns at once: the row index and the statistic (read in place,
// st[row * K]) are loaded once for G histograms, and G independent read-modify-write chains keep
// the core busy.
template <int K, int G, class Code>
inline void accumulate_group(const Code* const* cols, const std::uint32_t* rows, index_t first,
                             index_t m, const float* st, double* const* h) {
  static_assert(K > 0);
  constexpr int kS = K + 1;
  for (index_t i = 0; i < m; ++i) {
    const std::size_t r = rows == nullptr ? static_cast<std::size_t>(first + i) : rows[i];
    float x[K];
    for (int k = 0; k < K; ++k) x[k] = st[r * K + k];
    for (int g = 0; g < G; ++g) {
      double* e = h[g] + static_cast<std::size_t>(cols[g][r]) * kS;
      for (int k = 0; k < K; ++k) e[k] += x[k];
      e[K] += 1.0;
    }
  }
}

inline constexpr int kMaxGroup = 8;

// Features [j0, j1) of `features` (at most kMaxGroup) into their histograms at `base`.
template <int K, class Code>
inline void accumulate_features(const BinnedMatrix& data, const HistLayout& layout,
                                std::span<const int> features, std::int64_t j0, std::int64_t j1,
                                const std::uint32_t* rows, index_t first, index_t m,
                                const float* st, double* base) {
  const Code* cols[kMaxGroup];
  double* h[kMaxGroup];
  const auto g = static_cast<int>(j1 - j0);
  for (int k = 0; k < g; ++k) {
    const int f = features[static_cast<std::size_t>(j0 + k)];
    cols[k] = data.column<Code>(f);
    h[k] = layout.feature(base, f);
    std::fill(h[k], h[k] + layout.bins(f) * layout.stride, 0.0);
  }
  if constexpr (K > 0) {
    switch (g) {
      case 1: accumulate_group<K, 1, Code>(cols, rows, first, m, st, h); return;
      case 2: accumulate_group<K, 2, Code>(cols, rows, first, m, st, h); return;
      case 3: accumulate_group<K, 3, Code>(cols, rows, first, m, st, h); return;
      case 4: accumulate_group<K, 4, Code>(cols, rows, first, m, st, h); return;
      case 5: accumulate_group<K, 5, Code>(cols, rows, first, m, st, h); return;
      case 6: accumulate_group<K, 6, Code>(cols, rows, first, m, st, h); return;
      case 7: accumulate_group<K, 7, Code>(cols, rows, first, m, st, h); return;
      default: accumulate_group<K, 8, Code>(cols, rows, first, m, st, h); return;
    }
  } else {
    for (int k = 0; k < g; ++k) accumulate_feature<K, Code>(cols[k], rows, first, m, st, layout.width, h[k]);
  }
}

// Feature groups of at most kMaxGroup, as many as a multiple of the thread count so that the
// groups of a one-block node spread evenly. Grouping changes no sum: each bin still adds its rows
// in order.
inline std::int64_t feature_groups(std::int64_t nf, int threads) {
  std::int64_t ng = (nf + kMaxGroup - 1) / kMaxGroup;
  const std::int64_t t = std::max(1, threads);
  if (ng % t != 0) ng += t - ng % t;
  return std::min(ng, nf);
}
}  // namespace detail

/// Histogram of the m rows `rows` (nullptr: rows first..first+m-1) over `features` into `out`
/// (only those features' bins are written). `stats` holds width floats per row: with a
/// compile-time width (K > 0) indexed by row id, so rows are read in place; with a run-time width
/// (K == 0) gathered into the order of `rows` (position i), since a wide statistic read in place
/// for every feature costs more than one gather. `scratch` is reused between calls.
template <int K, class Code>
void build_histogram(const Context& ctx, const BinnedMatrix& data, const HistLayout& layout,
                     std::span<const int> features, const std::uint32_t* rows, index_t first,
                     index_t m, const float* stats, double* out,
                     std::vector<double>& scratch) {
  const int width = layout.width;
  const auto nf = static_cast<index_t>(features.size());
  const index_t nb = std::max<index_t>(1, num_blocks(m, kHistRowBlock));
  // Small nodes run on the calling thread: waking a team costs more than the work.
  const Context run_ctx = nb == 1 && m * nf < kSerialWork ? Context(1) : ctx;
  const std::int64_t ng = detail::feature_groups(nf, run_ctx.threads());
  const auto group = [&](std::int64_t j, std::int64_t& j0, std::int64_t& j1) {
    j0 = j * nf / ng;
    j1 = (j + 1) * nf / ng;
  };
  if (nb == 1) {
    parallel_for_dynamic(run_ctx, ng, [&](std::int64_t j) {
      std::int64_t j0, j1;
      group(j, j0, j1);
      detail::accumulate_features<K, Code>(data, layout, features, j0, j1, rows, first, m, stats,
                                           out);
    }, 1);
    return;
  }
  const std::size_t hs = layout.size();
  if (scratch.size() < hs * static_cast<std::size_t>(nb)) scratch.resize(hs * static_cast<std::size_t>(nb));
  parallel_for_dynamic(ctx, nb * ng, [&](std::int64_t task) {
    const index_t b = task / ng;
    std::int64_t j0, j1;
    group(task % ng, j0, j1);
    const index_t r0 = b * kHistRowBlock, r1 = std::min(m, r0 + kHistRowBlock);
    detail::accumulate_features<K, Code>(data, layout, features, j0, j1,
                                         rows == nullptr ? nullptr : rows + r0, first + r0, r1 - r0,
                                         K > 0 ? stats : stats + r0 * width,
                                         scratch.data() + hs * static_cast<std::size_t>(b));
  }, 1);
  parallel_for_dynamic(ctx, nf, [&](std::int64_t j) {
    const int f = features[static_cast<std::size_t>(j)];
    const std::int64_t len = layout.bins(f) * layout.stride;
    double* h = layout.feature(out, f);
    const double* p0 = layout.feature(scratch.data(), f);
    std::copy(p0, p0 + len, h);
    for (index_t b = 1; b < nb; ++b) {
      const double* p = layout.feature(scratch.data() + hs * static_cast<std::size_t>(b), f);
      for (std::int64_t k = 0; k < len; ++k) h[k] += p[k];
    }
  });
}

/// out = parent - child over `features` (sibling subtraction).
inline void subtract_histogram(const Context& ctx, const HistLayout& layout,
                               std::span<const int> features, const double* parent,
                               const double* child, double* out) {
  const auto nf = static_cast<std::int64_t>(features.size());
  const Context run_ctx = static_cast<index_t>(layout.size()) < 4 * kSerialWork ? Context(1) : ctx;
  parallel_for(run_ctx, nf, [&](std::int64_t j) {
    const int f = features[static_cast<std::size_t>(j)];
    const std::int64_t len = layout.bins(f) * layout.stride;
    const double* p = layout.feature(parent, f);
    const double* c = layout.feature(child, f);
    double* o = layout.feature(out, f);
    for (std::int64_t k = 0; k < len; ++k) o[k] = p[k] - c[k];
  });
}

}  // namespace orchard::tree
