#pragma once
// Batch prediction: rows are cut into blocks of kPredictRowBlock; each block walks every tree
// (trees in order, so sums are the same for any thread count), blocks run in parallel.
#include <algorithm>
#include <cmath>
#include <cstdint>
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

/// A tree packed for prediction: one 24-byte record per node, so a step touches one cache line.
struct PackedTree {
  struct Node {
    double threshold;
    std::int32_t feature;  ///< -1 for a leaf
    std::int32_t left, right;
    std::uint8_t flags;
  };
  std::vector<Node> nodes;
  const Tree* tree = nullptr;
  bool simple = true;  ///< only default-left flags and the <= comparison

  explicit PackedTree(const Tree& t) : tree(&t) {
    nodes.resize(static_cast<std::size_t>(t.num_nodes()));
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      nodes[i] = {t.threshold[i], t.feature[i], t.left[i], t.right[i], t.flags[i]};
      if (t.flags[i] & (kCategorical | kZeroMissing)) simple = false;
    }
    if (t.compare != Compare::less_equal) simple = false;
  }
  template <class T>
  std::int32_t leaf(const T* row, index_t stride) const {
    std::int32_t i = 0;
    if (simple) {
      for (;;) {
        const Node& n = nodes[static_cast<std::size_t>(i)];
        if (n.feature < 0) return i;
        const double x = static_cast<double>(row[n.feature * stride]);
        const bool l = std::isnan(x) ? (n.flags & kDefaultLeft) != 0 : x <= n.threshold;
        i = l ? n.left : n.right;
      }
    }
    for (;;) {
      const Node& n = nodes[static_cast<std::size_t>(i)];
      if (n.feature < 0) return i;
      i = tree->goes_left(i, static_cast<double>(row[n.feature * stride])) ? n.left : n.right;
    }
  }
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
  for (const auto& t : trees) packed.emplace_back(t);
  const Context run_ctx = X.rows * static_cast<index_t>(trees.size()) < 4096 ? Context(1) : ctx;
  parallel_blocks(run_ctx, X.rows, kPredictRowBlock, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
    for (std::size_t t = 0; t < trees.size(); ++t) {
      const PackedTree& pt = packed[t];
      const Tree& tr = trees[t];
      const index_t col = group.empty() ? 0 : group[t];
      const int no = tr.n_outputs;
      for (std::int64_t i = r0; i < r1; ++i) {
        const std::int32_t leaf = pt.leaf(X.row_ptr(i), X.col_stride);
        const double* v = tr.values(leaf);
        double* o = out + i * out_cols + col;
        for (int k = 0; k < no; ++k) o[k] += v[k];
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
