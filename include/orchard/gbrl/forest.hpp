#pragma once
// The prediction layout of a GBRL ensemble, shared by the CPU loops (predict.hpp) and the GPU
// kernels (cuda/predict.cuh): flat structure-of-arrays storage of every tree, plain-old-data
// views with raw pointers only.
//
// A tree is compiled into one of three forms:
//   oblivious  one (feature, threshold, flags) per level and a 2^depth x D leaf table; the leaf
//              index is the bit string of the level decisions (1 = right).
//   complete   a greedy tree of small depth padded to a complete binary tree in heap order
//              (children of node q at 2q + 1 and 2q + 2): a leaf above the bottom level becomes
//              a dummy split whose two subtrees repeat the leaf, so every row takes exactly
//              `depth` branch-free steps idx = 2 idx + 1 + right(x) with no child pointers;
//              2^depth x D leaf table.
//   nodes      any other greedy tree: breadth-first nodes with adjacent children; a leaf loops
//              on itself, so every row still takes `depth` steps.
// Leaf values are D contiguous doubles (the tree's contribution -lr * mean gradient).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../tree/tree.hpp"

namespace orchard::gbrl {

enum TreeForm : std::int32_t { kOblivious = 0, kComplete = 1, kNodes = 2 };

/// One compiled tree (POD).
struct CompiledTree {
  std::int32_t form = kNodes;
  std::int32_t depth = 0;
  std::int32_t plain = 1;  ///< every split numeric with missing values going right
  std::int32_t pad = 0;
  std::int64_t split = 0;   ///< first entry in feat/thr/flag (oblivious, complete) or nodes
  std::int64_t values = 0;  ///< first value of the tree
};

/// A node of the `nodes` form (POD): right child = left + 1 (tree-local ids); a leaf has
/// threshold +inf, missing values left and left = itself.
struct GNode {
  double threshold;
  std::int32_t feature;
  std::int32_t left;
  std::int32_t value;  ///< leaf: its number (values at CompiledTree::values + value * D); else -1
  std::uint8_t flags;
};

/// Raw-pointer view of a compiled forest (usable in kernels).
struct ForestView {
  const CompiledTree* trees = nullptr;
  std::int64_t n_trees = 0;
  const std::int32_t* feat = nullptr;
  const double* thr = nullptr;
  const std::uint8_t* flag = nullptr;
  const GNode* nodes = nullptr;
  const double* values = nullptr;
  int d = 1;
};

/// The general decision: numeric x <= thr, categorical x == thr, NaN to the default side.
ORCHARD_HD inline bool go_left(double x, double thr, std::uint8_t fl) {
  const bool cat = (fl & tree::kCategorical) != 0, dl = (fl & tree::kDefaultLeft) != 0;
  const bool nan = x != x;
  return (!cat & (x <= thr)) | (cat & (x == thr)) | (nan & dl);
}

/// Host storage of the compiled trees.
class Forest {
 public:
  /// Deepest greedy tree padded to the complete form, and the padding allowed (complete nodes
  /// at most this many times the tree's own leaves).
  static constexpr int kMaxCompleteDepth = 10;
  static constexpr int kMaxPadding = 4;

  explicit Forest(int d = 1) : d_(d) {}

  std::int64_t size() const { return static_cast<std::int64_t>(trees_.size()); }
  int n_outputs() const { return d_; }
  const std::vector<CompiledTree>& trees() const { return trees_; }
  const std::vector<std::int32_t>& feat() const { return feat_; }
  const std::vector<double>& thr() const { return thr_; }
  const std::vector<std::uint8_t>& flag() const { return flag_; }
  const std::vector<GNode>& nodes() const { return nodes_; }
  const std::vector<double>& values() const { return values_; }

  ForestView view() const {
    return ForestView{trees_.data(), size(), feat_.data(), thr_.data(), flag_.data(),
                      nodes_.data(), values_.data(), d_};
  }

  /// Compiles t (values already scaled: the tree's contributions); oblivious trees must share
  /// one split per level (FormatError otherwise).
  void add(const tree::Tree& t, bool oblivious) {
    CompiledTree c;
    for (std::int32_t nd = 0; nd < t.num_nodes(); ++nd) {
      const std::uint8_t fl = t.flags[static_cast<std::size_t>(nd)];
      if (fl & tree::kZeroMissing) {
        throw FormatError("orchard::gbrl: trees with zero-as-missing splits are not supported");
      }
      if (!t.is_leaf(nd) && fl != 0) c.plain = 0;
    }
    c.values = static_cast<std::int64_t>(values_.size());
    if (oblivious) {
      add_oblivious(t, c);
    } else {
      // Levels from the structure (children always come after their parent).
      std::vector<int> level(static_cast<std::size_t>(t.num_nodes()), 0);
      int depth = 0;
      std::int32_t leaves = 0;
      for (std::int32_t nd = 0; nd < t.num_nodes(); ++nd) {
        const auto u = static_cast<std::size_t>(nd);
        if (t.is_leaf(nd)) {
          ++leaves;
          depth = std::max(depth, level[u]);
        } else {
          level[static_cast<std::size_t>(t.left[u])] = level[u] + 1;
          level[static_cast<std::size_t>(t.right[u])] = level[u] + 1;
        }
      }
      c.depth = depth;
      if (depth <= kMaxCompleteDepth && (std::int64_t{1} << depth) <= std::int64_t{kMaxPadding} * leaves) {
        add_complete(t, c);
      } else {
        add_nodes(t, c);
      }
    }
    trees_.push_back(c);
  }

 private:
  void add_oblivious(const tree::Tree& t, CompiledTree& c) {
    c.form = kOblivious;
    c.split = static_cast<std::int64_t>(feat_.size());
    std::int32_t nd = 0;
    while (!t.is_leaf(nd)) {
      const auto u = static_cast<std::size_t>(nd);
      feat_.push_back(t.feature[u]);
      thr_.push_back(t.threshold[u]);
      flag_.push_back(t.flags[u]);
      ++c.depth;
      nd = t.left[u];
    }
    if (c.depth > 20) throw FormatError("orchard::gbrl: oblivious tree deeper than 20 levels");
    for (std::uint32_t idx = 0; idx < (1u << c.depth); ++idx) {
      std::int32_t q = 0;
      for (int l = 0; l < c.depth; ++l) {
        const auto u = static_cast<std::size_t>(q);
        const auto li = static_cast<std::size_t>(c.split + l);
        if (t.is_leaf(q) || t.feature[u] != feat_[li] || t.threshold[u] != thr_[li] ||
            t.flags[u] != flag_[li]) {
          throw FormatError("orchard::gbrl: tree is not oblivious");
        }
        q = ((idx >> (c.depth - 1 - l)) & 1u) ? t.right[u] : t.left[u];
      }
      if (!t.is_leaf(q)) throw FormatError("orchard::gbrl: oblivious tree leaves at uneven depth");
      const double* v = t.values(q);
      values_.insert(values_.end(), v, v + d_);
    }
  }

  void add_complete(const tree::Tree& t, CompiledTree& c) {
    c.form = kComplete;
    c.split = static_cast<std::int64_t>(feat_.size());
    const std::int64_t inner = (std::int64_t{1} << c.depth) - 1;
    feat_.resize(feat_.size() + static_cast<std::size_t>(inner), 0);
    thr_.resize(thr_.size() + static_cast<std::size_t>(inner), 0.0);
    flag_.resize(flag_.size() + static_cast<std::size_t>(inner), 0);
    values_.resize(values_.size() + static_cast<std::size_t>((inner + 1) * d_), 0.0);
    fill(t, c, 0, 0, 0);
  }
  void fill(const tree::Tree& t, const CompiledTree& c, std::int64_t q, std::int32_t nd, int level) {
    const auto u = static_cast<std::size_t>(nd);
    if (level == c.depth) {
      const double* v = t.values(nd);
      const std::int64_t leaf = q - ((std::int64_t{1} << c.depth) - 1);
      std::copy(v, v + d_, values_.begin() + c.values + leaf * d_);
      return;
    }
    if (t.is_leaf(nd)) {  // dummy split (feature 0 <= 0), both sides repeat the leaf
      fill(t, c, 2 * q + 1, nd, level + 1);
      fill(t, c, 2 * q + 2, nd, level + 1);
      return;
    }
    const auto k = static_cast<std::size_t>(c.split + q);
    feat_[k] = t.feature[u];
    thr_[k] = t.threshold[u];
    flag_[k] = t.flags[u];
    fill(t, c, 2 * q + 1, t.left[u], level + 1);
    fill(t, c, 2 * q + 2, t.right[u], level + 1);
  }

  void add_nodes(const tree::Tree& t, CompiledTree& c) {
    c.form = kNodes;
    c.split = static_cast<std::int64_t>(nodes_.size());
    // Breadth-first relabelling so that the two children of a node are adjacent.
    std::vector<std::int32_t> order{0};
    for (std::size_t q = 0; q < order.size(); ++q) {
      const auto u = static_cast<std::size_t>(order[q]);
      if (!t.is_leaf(order[q])) {
        order.push_back(t.left[u]);
        order.push_back(t.right[u]);
      }
    }
    std::int32_t next_child = 1, local = 0;
    for (std::int32_t nd : order) {
      const auto u = static_cast<std::size_t>(nd);
      if (t.is_leaf(nd)) {
        const auto leaf = (static_cast<std::int64_t>(values_.size()) - c.values) / d_;
        if (leaf > std::numeric_limits<std::int32_t>::max()) throw FormatError("orchard::gbrl: tree too large");
        nodes_.push_back({std::numeric_limits<double>::infinity(), 0, local,
                          static_cast<std::int32_t>(leaf), tree::kDefaultLeft});
        const double* v = t.values(nd);
        values_.insert(values_.end(), v, v + d_);
      } else {
        nodes_.push_back({t.threshold[u], t.feature[u], next_child, -1, t.flags[u]});
        next_child += 2;
      }
      ++local;
    }
  }

  int d_ = 1;
  std::vector<CompiledTree> trees_;
  std::vector<std::int32_t> feat_;
  std::vector<double> thr_;
  std::vector<std::uint8_t> flag_;
  std::vector<GNode> nodes_;
  std::vector<double> values_;
};

}  // namespace orchard::gbrl
