#pragma once
// Batch prediction: rows are cut into blocks of kPredictRowBlock; each block walks every tree
// (trees in order, so sums are the same for any thread count), blocks run in parallel.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/matrix_view.hpp"
#include "../core/parallel.hpp"
#include "binning.hpp"
#include "tree.hpp"

namespace orchard::tree {

inline constexpr index_t kPredictRowBlock = 128;

namespace detail {
template <class T>
struct RowRef {
  const T* p;
  index_t stride;
  double operator()(std::int32_t f) const { return static_cast<double>(p[f * stride]); }
};
}  // namespace detail

/// A tree packed for prediction over rows whose features lie `stride` elements apart: 24-byte
/// nodes in breadth-first order with the right child right after the left one, each holding the
/// element offset of its feature, so a step is one load of the value and a branch-free index
/// update. In the common case (numeric splits, the <= rule) a leaf is a node that sends every
/// value to itself, so a walk is exactly `levels` steps and many rows walk in lockstep.
struct PackedTree {
  struct Node {
    double threshold;
    std::int64_t offset;  ///< feature * stride; -1 for a leaf (general layout only)
    std::int32_t left;    ///< right child = left + 1; a leaf: itself (simple) or its Tree id
    std::uint8_t flags;
  };
  std::vector<Node> nodes;
  const Tree* tree = nullptr;
  bool simple = true;  ///< only default-left flags and the <= comparison
  int levels = 0;      ///< edges on the longest root-to-leaf path

  PackedTree(const Tree& t, index_t stride) : tree(&t) {
    nodes.resize(static_cast<std::size_t>(t.num_nodes()));
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      if (t.flags[k] & (kCategorical | kZeroMissing)) simple = false;
    }
    if (t.compare != Compare::less_equal) simple = false;
    std::vector<std::int32_t> order;  // packed position -> tree node
    std::vector<int> level;
    order.reserve(nodes.size());
    level.reserve(nodes.size());
    order.push_back(0);
    level.push_back(0);
    for (std::size_t q = 0; q < order.size(); ++q) {
      const auto k = static_cast<std::size_t>(order[q]);
      Node& n = nodes[q];
      levels = std::max(levels, level[q]);
      if (t.feature[k] < 0) {
        // A simple leaf keeps every row where it is: x <= +inf, NaN goes "left" to itself.
        n.threshold = simple ? std::numeric_limits<double>::infinity() : 0.0;
        n.offset = simple ? 0 : -1;
        n.flags = simple ? kDefaultLeft : 0;
        n.left = simple ? static_cast<std::int32_t>(q) : order[q];
        continue;
      }
      n.threshold = t.threshold[k];
      n.offset = static_cast<std::int64_t>(t.feature[k]) * stride;
      n.flags = t.flags[k];
      n.left = static_cast<std::int32_t>(order.size());
      order.push_back(t.left[k]);
      order.push_back(t.right[k]);
      level.push_back(level[q] + 1);
      level.push_back(level[q] + 1);
    }
    ids_ = std::move(order);
  }
  /// The Tree node id of the leaf a row reaches.
  template <class T>
  std::int32_t leaf(const T* row) const {
    std::int32_t i = 0;
    if (simple) {
      for (int d = 0; d < levels; ++d) i = step(nodes[static_cast<std::size_t>(i)], row);
      return order_id(i);
    }
    for (;;) {
      const Node& n = nodes[static_cast<std::size_t>(i)];
      if (n.offset < 0) return n.left;
      i = n.left + (tree->goes_left(order_id(i), static_cast<double>(row[n.offset])) ? 0 : 1);
    }
  }
  /// Leaves of `count` (<= kLanes) rows walked in lockstep, which hides the load latency of one
  /// walk behind the others.
  static constexpr int kLanes = 16;
  /// `finite`: the caller knows no row holds a NaN, so a step is one comparison (a leaf's
  /// +inf threshold still keeps every row on it).
  template <class T>
  void leaves(const T* const* rows, int count, std::int32_t* out, bool finite = false) const {
    if (!simple) {
      for (int r = 0; r < count; ++r) out[r] = leaf(rows[r]);
      return;
    }
    std::int32_t idx[kLanes] = {0};
    if (finite && count == kLanes) {  // a fixed trip count lets the compiler unroll the lanes
      for (int d = 0; d < levels; ++d) {
        for (int r = 0; r < kLanes; ++r) {
          const Node& n = nodes[static_cast<std::size_t>(idx[r])];
          idx[r] = n.left + (static_cast<double>(rows[r][n.offset]) > n.threshold ? 1 : 0);
        }
      }
    } else {
      for (int d = 0; d < levels; ++d) {
        for (int r = 0; r < count; ++r) idx[r] = step(nodes[static_cast<std::size_t>(idx[r])], rows[r]);
      }
    }
    for (int r = 0; r < count; ++r) out[r] = order_id(idx[r]);
  }
  /// The Tree node id at packed position q.
  std::int32_t tree_node(std::int32_t q) const { return order_id(q); }
  /// Whether packed position q is a leaf.
  bool is_leaf(std::int32_t q) const { return tree->feature[static_cast<std::size_t>(order_id(q))] < 0; }

 private:
  template <class T>
  static std::int32_t step(const Node& n, const T* row) {
    const double x = static_cast<double>(row[n.offset]);
    const bool l = (x <= n.threshold) | (std::isnan(x) & ((n.flags & kDefaultLeft) != 0));
    return n.left + (l ? 0 : 1);
  }
  std::int32_t order_id(std::int32_t i) const { return ids_[static_cast<std::size_t>(i)]; }
  std::vector<std::int32_t> ids_;  ///< packed position -> Tree node id
};

/// out (rows x out_cols, row-major) += the leaf values of `trees`; tree t adds its n_outputs
/// values at columns group[t] .. group[t] + n_outputs - 1 (group empty: column 0).
template <class T>
void predict_add(const Context& ctx, std::span<const Tree> trees, std::span<const int> group,
                 ConstMatrixView<T> X, double* out, index_t out_cols) {
  require(group.empty() || group.size() == trees.size(), "group.size", group.size(),
          "must be 0 or the tree count");
  std::vector<PackedTree> packed;
  packed.reserve(trees.size());
  for (const auto& t : trees) packed.emplace_back(t, X.col_stride);
  const Context run_ctx = X.rows * static_cast<index_t>(trees.size()) < 4096 ? Context(1) : ctx;
  constexpr int kL = PackedTree::kLanes;
  static_assert(kPredictRowBlock % kL == 0);
  parallel_blocks(run_ctx, X.rows, kPredictRowBlock, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
    // Lane groups without a NaN take the one-comparison step in every tree: one scan of the
    // rows here saves the NaN test in every step of every tree.
    bool finite[kPredictRowBlock / kL];
    for (std::int64_t i0 = r0; i0 < r1; i0 += kL) {
      bool ok = true;
      for (std::int64_t i = i0; i < std::min<std::int64_t>(i0 + kL, r1); ++i) {
        const T* row = X.row_ptr(i);
        for (index_t f = 0; f < X.cols; ++f) ok = ok && !std::isnan(static_cast<double>(row[f * X.col_stride]));
      }
      finite[(i0 - r0) / kL] = ok;
    }
    for (std::size_t t = 0; t < trees.size(); ++t) {
      const PackedTree& pt = packed[t];
      const Tree& tr = trees[t];
      const index_t col = group.empty() ? 0 : group[t];
      const int no = tr.n_outputs;
      for (std::int64_t i0 = r0; i0 < r1; i0 += kL) {
        const int cnt = static_cast<int>(std::min<std::int64_t>(kL, r1 - i0));
        const T* rows[kL];
        std::int32_t lv[kL];
        for (int r = 0; r < cnt; ++r) rows[r] = X.row_ptr(i0 + r);
        pt.leaves(rows, cnt, lv, finite[(i0 - r0) / kL]);
        for (int r = 0; r < cnt; ++r) {
          const double* v = tr.values(lv[r]);
          double* o = out + (i0 + r) * out_cols + col;
          for (int k = 0; k < no; ++k) o[k] += v[k];
        }
      }
    }
  });
}

/// out (rows × trees.size(), row-major) = the leaf (node id) each row reaches in each tree.
template <class T>
void predict_leaves(const Context& ctx, std::span<const Tree> trees, ConstMatrixView<T> X,
                    std::int32_t* out) {
  const auto nt = static_cast<index_t>(trees.size());
  parallel_blocks(ctx, X.rows, kPredictRowBlock, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
    for (index_t t = 0; t < nt; ++t) {
      for (std::int64_t i = r0; i < r1; ++i) {
        out[i * nt + t] = trees[static_cast<std::size_t>(t)].leaf(
            detail::RowRef<T>{X.row_ptr(i), X.col_stride});
      }
    }
  });
}

/// The leaf of row i of the binned data in a tree grown on that binning (uses the split bins).
inline std::int32_t leaf_binned(const Tree& t, const BinnedMatrix& data, index_t i) {
  const BinMapper& m = data.mapper();
  std::int32_t n = 0;
  while (t.feature[static_cast<std::size_t>(n)] >= 0) {
    const auto k = static_cast<std::size_t>(n);
    const int f = t.feature[k];
    const int c = data.code(i, f);
    bool left;
    if (c == m.missing_bin(f)) {
      left = (t.flags[k] & kDefaultLeft) != 0;
    } else if (t.flags[k] & kCategorical) {
      left = c == t.bin[k];
    } else {
      left = c <= t.bin[k];
    }
    n = left ? t.left[k] : t.right[k];
  }
  return n;
}

}  // namespace orchard::tree
