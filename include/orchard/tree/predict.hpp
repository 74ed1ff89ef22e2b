#pragma once
// Batch prediction: rows are cut into blocks of kPredictRowBlock; each block walks every tree
// (trees in order, so sums are the same for any thread count), blocks run in parallel.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

// The AVX-512 walk (LevelForest) is compiled for x86-64 GCC / Clang through function target
// attributes and chosen at run time; elsewhere (and under nvcc) only the scalar walk exists.
#if !defined(ORCHARD_TREE_AVX512)
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define ORCHARD_TREE_AVX512 1
#include <immintrin.h>
#else
#define ORCHARD_TREE_AVX512 0
#endif
#endif

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

namespace detail {
/// finite[g] = the g-th group of PackedTree::kLanes rows of [b0, b1) holds no NaN: such groups take
/// the one-comparison step in every tree, so one scan of the rows saves the NaN test in every step.
template <class T>
void nan_free_lane_groups(ConstMatrixView<T> X, std::int64_t b0, std::int64_t b1, bool* finite) {
  constexpr int kL = PackedTree::kLanes;
  for (std::int64_t i0 = b0; i0 < b1; i0 += kL) {
    bool ok = true;
    for (std::int64_t i = i0; i < std::min<std::int64_t>(i0 + kL, b1); ++i) {
      const T* row = X.row_ptr(i);
      for (index_t f = 0; f < X.cols; ++f) ok = ok && !std::isnan(static_cast<double>(row[f * X.col_stride]));
    }
    finite[(i0 - b0) / kL] = ok;
  }
}

/// Rows [r0, r1) of out += the leaf values of the packed trees (the scalar walk).
template <class T>
void predict_rows_packed(std::span<const PackedTree> packed, std::span<const int> group,
                         ConstMatrixView<T> X, double* out, index_t out_cols, std::int64_t r0,
                         std::int64_t r1) {
  constexpr int kL = PackedTree::kLanes;
  static_assert(kPredictRowBlock % kL == 0);
  for (std::int64_t b0 = r0; b0 < r1; b0 += kPredictRowBlock) {
    const std::int64_t b1 = std::min<std::int64_t>(r1, b0 + kPredictRowBlock);
    bool finite[kPredictRowBlock / kL];
    nan_free_lane_groups(X, b0, b1, finite);
    for (std::size_t t = 0; t < packed.size(); ++t) {
      const PackedTree& pt = packed[t];
      const Tree& tr = *pt.tree;
      const index_t col = group.empty() ? 0 : group[t];
      const int no = tr.n_outputs;
      for (std::int64_t i0 = b0; i0 < b1; i0 += kL) {
        const int cnt = static_cast<int>(std::min<std::int64_t>(kL, b1 - i0));
        const T* rows[kL];
        std::int32_t lv[kL];
        for (int r = 0; r < cnt; ++r) rows[r] = X.row_ptr(i0 + r);
        pt.leaves(rows, cnt, lv, finite[(i0 - b0) / kL]);
        for (int r = 0; r < cnt; ++r) {
          const double* v = tr.values(lv[r]);
          double* o = out + (i0 + r) * out_cols + col;
          for (int k = 0; k < no; ++k) o[k] += v[k];
        }
      }
    }
  }
}

/// The largest float <= t (t itself when it is one; NaN stays NaN).
inline float float_at_most(double t) {
  constexpr double kMax = static_cast<double>(std::numeric_limits<float>::max());
  if (t > kMax) return t == std::numeric_limits<double>::infinity() ? std::numeric_limits<float>::infinity()
                                                                    : std::numeric_limits<float>::max();
  if (t < -kMax) return -std::numeric_limits<float>::infinity();
  float f = static_cast<float>(t);
  if (static_cast<double>(f) > t) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

#if ORCHARD_TREE_AVX512
inline bool cpu_has_avx512() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  return has;
}
#else
inline bool cpu_has_avx512() { return false; }
#endif
}  // namespace detail

/// Trees re-laid as complete binary trees stored level by level, for a walk of 16 rows at a time
/// in AVX-512 registers (used by predict_add on CPUs that have it). A leaf above the last level
/// becomes a chain of "everything goes left" nodes, so every row takes exactly `levels` steps and
/// ends at a leaf position in [0, 2^levels). Rows are converted once per block of rows to float,
/// feature-major, over the features the trees use; a split compares floats with a threshold chosen
/// so that the result equals the tree's own rule bit for bit:
///  - less_equal (x <= t): the largest float t' <= t; exact for every float x, so a block of
///    double rows takes this path only when each of its values is a float (else the scalar walk);
///  - float_less (float(x) < float(t), XGBoost): float(x) <= the float just below float(t).
/// Missing values (NaN) take each node's default direction, as in Tree::goes_left.
class LevelForest {
 private:
  struct TreeInfo {
    int levels;
    int n_outputs;
    index_t col;
    std::size_t nodes;   ///< level 0 in feat_ / thr_
    std::size_t values;  ///< leaf position 0 in values_
    std::size_t ids;     ///< leaf position 0 in leaf_id_
  };
 public:
  static constexpr int kMaxLevels = 10;
  static constexpr int kGroup = 16;

  LevelForest(std::span<const Tree> trees, std::span<const int> group, index_t n_features) {
    if (trees.empty() || n_features < 1) return;
    compare_ = trees[0].compare;
    std::vector<std::int32_t> compact(static_cast<std::size_t>(n_features), -1);
    std::vector<int> levels(trees.size());
    for (std::size_t t = 0; t < trees.size(); ++t) {
      const Tree& tr = trees[t];
      if (tr.compare != compare_) return;
      std::vector<int> depth(static_cast<std::size_t>(tr.num_nodes()), 0);
      int lv = 0;
      for (std::int32_t i = 0; i < tr.num_nodes(); ++i) {  // children have larger ids than parents
        const auto k = static_cast<std::size_t>(i);
        lv = std::max(lv, depth[k]);
        if (tr.feature[k] < 0) continue;
        if (tr.flags[k] & (kCategorical | kZeroMissing)) return;
        if (tr.feature[k] >= n_features) return;
        compact[static_cast<std::size_t>(tr.feature[k])] = 0;
        depth[static_cast<std::size_t>(tr.left[k])] = depth[k] + 1;
        depth[static_cast<std::size_t>(tr.right[k])] = depth[k] + 1;
      }
      if (lv > kMaxLevels) return;
      levels[t] = lv;
      total_levels_ += lv;
    }
    for (index_t f = 0; f < n_features; ++f) {
      if (compact[static_cast<std::size_t>(f)] < 0) continue;
      compact[static_cast<std::size_t>(f)] = static_cast<std::int32_t>(features_.size());
      features_.push_back(static_cast<std::int32_t>(f));
    }
    if (features_.empty()) features_.push_back(0);  // leaf-only trees: one column keeps it simple
    const auto nf = static_cast<index_t>(features_.size());
    block_ = std::clamp<index_t>((index_t{8192} / nf) / kGroup * kGroup, kGroup, 256);
    for (std::size_t t = 0; t < trees.size(); ++t) {
      add_tree(trees[t], levels[t], group.empty() ? 0 : group[t], compact);
    }
    ok_ = true;
  }

  bool ok() const { return ok_; }
  /// Rows per block (a multiple of kGroup) and features converted per row.
  index_t block_rows() const { return block_; }
  index_t num_features() const { return static_cast<index_t>(features_.size()); }
  /// Sum over trees of their levels: the steps of one row.
  std::int64_t total_levels() const { return total_levels_; }

  /// Converts rows [r0, r1) (at most block_rows()) to the feature-major float block xb
  /// (num_features() x block_rows(), rows past r1 zero) and flags each group of kGroup rows that
  /// holds a NaN. False when a value cannot take the float path (the caller walks these rows with
  /// the scalar code).
  template <class T>
  bool load_block(ConstMatrixView<T> X, std::int64_t r0, std::int64_t r1, float* xb,
                  bool* group_nan) const {
    const index_t nf = num_features(), b = block_;
    const auto n = static_cast<index_t>(r1 - r0);
    const index_t groups = (n + kGroup - 1) / kGroup;
    constexpr bool kFloat = std::is_same_v<T, float>;
    const bool exact = compare_ == Compare::less_equal && !kFloat;
    bool valid = true;
    for (index_t g = 0; g < groups; ++g) {
      bool nan = false;
      for (index_t r = g * kGroup; r < (g + 1) * kGroup; ++r) {
        if (r >= n) {
          for (index_t c = 0; c < nf; ++c) xb[c * b + r] = 0.0f;
          continue;
        }
        const T* row = X.row_ptr(r0 + r);
        for (index_t c = 0; c < nf; ++c) {
          const T x = row[static_cast<index_t>(features_[static_cast<std::size_t>(c)]) * X.col_stride];
          float v;
          if constexpr (kFloat) {
            v = x;
          } else if (exact) {
            if (std::fabs(x) <= static_cast<double>(std::numeric_limits<float>::max())) {
              v = static_cast<float>(x);
              valid = valid && static_cast<double>(v) == x;
            } else {
              v = std::isnan(x) ? std::numeric_limits<float>::quiet_NaN()
                                : static_cast<float>(x > 0 ? std::numeric_limits<float>::infinity()
                                                           : -std::numeric_limits<float>::infinity());
              valid = valid && !std::isfinite(x);
            }
          } else {
            v = static_cast<float>(x);  // the rule itself rounds x to float
          }
          nan = nan || std::isnan(v);
          xb[c * b + r] = v;
        }
      }
      group_nan[g] = nan;
    }
    return valid;
  }

#if ORCHARD_TREE_AVX512
  /// acc (column-major per block: acc[col * block_rows() + r]) += the leaf values of every tree,
  /// trees in order, for the `groups` groups of kGroup rows in xb.
  __attribute__((target("avx512f,avx512dq"))) void walk_block_avx512(const float* xb,
                                                                     const bool* group_nan,
                                                                     index_t groups,
                                                                     double* acc) const {
    alignas(64) std::int32_t pos[256];
    for (const TreeInfo& ti : trees_) {
      walk_tree_avx512(ti, xb, group_nan, groups, pos);
      const double* vals = values_.data() + ti.values;
      double* a = acc + ti.col * block_;
      if (ti.n_outputs == 1) {
        for (index_t g = 0; g < groups; ++g) {
          const auto* p = reinterpret_cast<const __m256i*>(pos + g * kGroup);
          const __m512d v0 = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), 0xff, _mm256_load_si256(p), vals, 8);
          const __m512d v1 = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), 0xff, _mm256_load_si256(p + 1), vals, 8);
          double* o = a + g * kGroup;
          _mm512_storeu_pd(o, _mm512_add_pd(_mm512_loadu_pd(o), v0));
          _mm512_storeu_pd(o + 8, _mm512_add_pd(_mm512_loadu_pd(o + 8), v1));
        }
      } else {
        const int no = ti.n_outputs;
        for (index_t r = 0; r < groups * kGroup; ++r) {
          const double* v = vals + static_cast<std::size_t>(pos[r]) * static_cast<std::size_t>(no);
          for (int k = 0; k < no; ++k) a[k * block_ + r] += v[k];
        }
      }
    }
  }

  /// out[r * out_stride + t] = the Tree node id of the leaf row r of the block reaches in tree t,
  /// for the first n rows.
  __attribute__((target("avx512f,avx512dq"))) void leaves_block_avx512(const float* xb,
                                                                       const bool* group_nan,
                                                                       index_t n,
                                                                       std::int32_t* out,
                                                                       index_t out_stride) const {
    alignas(64) std::int32_t pos[256];
    const index_t groups = (n + kGroup - 1) / kGroup;
    for (std::size_t t = 0; t < trees_.size(); ++t) {
      const TreeInfo& ti = trees_[t];
      walk_tree_avx512(ti, xb, group_nan, groups, pos);
      const std::int32_t* ids = leaf_id_.data() + ti.ids;
      for (index_t r = 0; r < n; ++r) out[r * out_stride + static_cast<index_t>(t)] = ids[pos[r]];
    }
  }
#endif

 private:
#if ORCHARD_TREE_AVX512
  /// pos[r] = the leaf position row r of the block reaches in tree ti: every level moves the
  /// groups of 16 rows one step (the groups are independent, so their gathers overlap).
  __attribute__((target("avx512f,avx512dq"))) void walk_tree_avx512(const TreeInfo& ti,
                                                                    const float* xb,
                                                                    const bool* group_nan,
                                                                    index_t groups,
                                                                    std::int32_t* pos) const {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i two = _mm512_set1_epi32(2);
    const __m512i low = _mm512_set1_epi32(0x7fffffff);
    for (index_t g = 0; g < groups; ++g) _mm512_store_si512(pos + g * kGroup, _mm512_setzero_si512());
    std::size_t at = ti.nodes;
    for (int lv = 0; lv < ti.levels; ++lv) {
      const std::int32_t* fl = feat_.data() + at;
      const float* tl = thr_.data() + at;
      at += level_size(lv);
      // Levels of up to 32 nodes: the node fields come from registers (two-table permute),
      // deeper levels gather them.
      const bool reg = lv <= 5;
      const __m512i fa = reg ? _mm512_loadu_si512(fl) : _mm512_setzero_si512();
      const __m512i fb = lv == 5 ? _mm512_loadu_si512(fl + 16) : fa;
      const __m512 ta = reg ? _mm512_loadu_ps(tl) : _mm512_setzero_ps();
      const __m512 tb = lv == 5 ? _mm512_loadu_ps(tl + 16) : ta;
      // The first levels have at most 4 features: the rows' values are plain loads and blends.
      std::int32_t o[4] = {0, 0, 0, 0};
      for (int q = 0; q < (1 << lv) && q < 4; ++q) o[q] = fl[q] & 0x7fffffff;
      for (index_t g = 0; g < groups; ++g) {
        const __m512i p = _mm512_load_si512(pos + g * kGroup);
        const float* xg = xb + g * kGroup;
        __m512i f;
        __m512 t;
        if (reg) {
          f = _mm512_permutex2var_epi32(fa, p, fb);
          t = _mm512_permutex2var_ps(ta, p, tb);
        } else {
          f = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), 0xffff, p, fl, 4);
          t = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xffff, p, tl, 4);
        }
        __m512 x;
        if (lv == 0) {
          x = _mm512_loadu_ps(xg + o[0]);
        } else if (lv == 1) {
          x = _mm512_mask_blend_ps(_mm512_test_epi32_mask(p, one), _mm512_loadu_ps(xg + o[0]),
                                   _mm512_loadu_ps(xg + o[1]));
        } else if (lv == 2) {
          const __mmask16 b0 = _mm512_test_epi32_mask(p, one);
          const __m512 x01 = _mm512_mask_blend_ps(b0, _mm512_loadu_ps(xg + o[0]), _mm512_loadu_ps(xg + o[1]));
          const __m512 x23 = _mm512_mask_blend_ps(b0, _mm512_loadu_ps(xg + o[2]), _mm512_loadu_ps(xg + o[3]));
          x = _mm512_mask_blend_ps(_mm512_test_epi32_mask(p, two), x01, x23);
        } else {
          x = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xffff,
                                       _mm512_add_epi32(_mm512_and_si512(f, low), lane), xg, 4);
        }
        // right = !(x <= t): also true for a NaN threshold; a NaN x then takes the default.
        __mmask16 right = _mm512_cmp_ps_mask(x, t, _CMP_NLE_UQ);
        if (group_nan[g]) {
          const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
          const __mmask16 dl = _mm512_movepi32_mask(f);
          right = static_cast<__mmask16>(right & ~(nan & dl));
        }
        const __m512i p2 = _mm512_add_epi32(p, p);
        _mm512_store_si512(pos + g * kGroup, _mm512_mask_add_epi32(p2, right, p2, one));
      }
    }
  }
#endif
  static constexpr std::int32_t kLeftBit = static_cast<std::int32_t>(0x80000000u);  ///< NaN goes left
  /// Table entries of a level: padded to 16 so that a register load stays inside the table.
  static std::size_t level_size(int lv) { return std::max<std::size_t>(std::size_t{1} << lv, 16); }

  void add_tree(const Tree& tr, int levels, index_t col, const std::vector<std::int32_t>& compact) {
    TreeInfo ti{levels, tr.n_outputs, col, feat_.size(), values_.size(), leaf_id_.size()};
    // Tree node at each position of the current level; a leaf above the last level repeats
    // itself down its left edge (its right positions are never reached).
    std::vector<std::int32_t> at{0}, next;
    const float inf = std::numeric_limits<float>::infinity();
    for (int lv = 0; lv < levels; ++lv) {
      const std::size_t base = feat_.size();
      feat_.resize(base + level_size(lv), 0);
      thr_.resize(base + level_size(lv), inf);
      next.assign(at.size() * 2, 0);
      for (std::size_t q = 0; q < at.size(); ++q) {
        const auto k = static_cast<std::size_t>(at[q]);
        if (tr.feature[k] < 0) {  // everything (NaN too) goes left, to the leaf itself
          feat_[base + q] = kLeftBit;
          thr_[base + q] = inf;
          next[2 * q] = next[2 * q + 1] = at[q];
          continue;
        }
        const std::int32_t off = compact[static_cast<std::size_t>(tr.feature[k])] * static_cast<std::int32_t>(block_);
        feat_[base + q] = off | ((tr.flags[k] & kDefaultLeft) ? kLeftBit : 0);
        thr_[base + q] = threshold(tr.threshold[k]);
        next[2 * q] = tr.left[k];
        next[2 * q + 1] = tr.right[k];
      }
      at.swap(next);
    }
    for (std::int32_t n : at) {
      const double* v = tr.values(n);
      values_.insert(values_.end(), v, v + tr.n_outputs);
      leaf_id_.push_back(n);
    }
    trees_.push_back(ti);
  }

  /// The float threshold t' with (x' <= t') == the tree's rule for the converted value x'.
  float threshold(double t) const {
    if (compare_ == Compare::less_equal) return detail::float_at_most(t);
    const float tf = static_cast<float>(t);
    if (std::isnan(tf) || tf == -std::numeric_limits<float>::infinity()) {
      return std::numeric_limits<float>::quiet_NaN();  // nothing is below: every number goes right
    }
    return std::nextafter(tf, -std::numeric_limits<float>::infinity());
  }

  bool ok_ = false;
  Compare compare_ = Compare::less_equal;
  index_t block_ = kGroup;
  std::int64_t total_levels_ = 0;
  std::vector<std::int32_t> features_;  ///< compact column -> input column
  std::vector<std::int32_t> feat_;      ///< per level node: compact column * block rows | default-left bit
  std::vector<float> thr_;
  std::vector<double> values_;          ///< per tree: 2^levels leaf positions x n_outputs
  std::vector<std::int32_t> leaf_id_;   ///< per tree: leaf position -> Tree node id
  std::vector<TreeInfo> trees_;
};

/// out (rows x out_cols, row-major) += the leaf values of `trees`; tree t adds its n_outputs
/// values at columns group[t] .. group[t] + n_outputs - 1 (group empty: column 0). Every row adds
/// the trees' values in tree order, so the result is the same for any thread count and either walk.
template <class T>
void predict_add(const Context& ctx, std::span<const Tree> trees, std::span<const int> group,
                 ConstMatrixView<T> X, double* out, index_t out_cols) {
  require(group.empty() || group.size() == trees.size(), "group.size", group.size(),
          "must be 0 or the tree count");
  const Context run_ctx = X.rows * static_cast<index_t>(trees.size()) < 4096 ? Context(1) : ctx;
  std::vector<PackedTree> packed;
  auto pack = [&] {
    packed.reserve(trees.size());
    for (const auto& t : trees) packed.emplace_back(t, X.col_stride);
  };
#if ORCHARD_TREE_AVX512
  if (detail::cpu_has_avx512() && X.rows >= LevelForest::kGroup) {
    const LevelForest lf(trees, group, X.cols);
    // The vector walk pays one conversion per used feature and row: worth it when the rows take
    // more steps through the trees than that.
    if (lf.ok() && 2 * lf.total_levels() >= lf.num_features()) {
      const bool may_fall_back = !std::is_same_v<T, float> && trees[0].compare == Compare::less_equal;
      if (may_fall_back) pack();
      const index_t b = lf.block_rows(), nf = lf.num_features();
      parallel_blocks(run_ctx, X.rows, b, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
        std::vector<float> xb(static_cast<std::size_t>(nf * b));
        std::vector<double> acc(static_cast<std::size_t>(out_cols * b));
        bool group_nan[256 / LevelForest::kGroup] = {};
        if (!lf.load_block(X, r0, r1, xb.data(), group_nan)) {
          detail::predict_rows_packed<T>(packed, group, X, out, out_cols, r0, r1);
          return;
        }
        const auto n = static_cast<index_t>(r1 - r0);
        for (index_t r = 0; r < n; ++r) {
          for (index_t c = 0; c < out_cols; ++c) acc[static_cast<std::size_t>(c * b + r)] = out[(r0 + r) * out_cols + c];
        }
        lf.walk_block_avx512(xb.data(), group_nan, (n + LevelForest::kGroup - 1) / LevelForest::kGroup, acc.data());
        for (index_t r = 0; r < n; ++r) {
          for (index_t c = 0; c < out_cols; ++c) out[(r0 + r) * out_cols + c] = acc[static_cast<std::size_t>(c * b + r)];
        }
      });
      return;
    }
  }
#endif
  pack();
  parallel_blocks(run_ctx, X.rows, kPredictRowBlock, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
    detail::predict_rows_packed<T>(packed, group, X, out, out_cols, r0, r1);
  });
}

/// out (rows × trees.size(), row-major) = the leaf (node id) each row reaches in each tree.
template <class T>
void predict_leaves(const Context& ctx, std::span<const Tree> trees, ConstMatrixView<T> X,
                    std::int32_t* out) {
  const auto nt = static_cast<index_t>(trees.size());
  auto rows = [&](std::int64_t r0, std::int64_t r1) {
    for (index_t t = 0; t < nt; ++t) {
      for (std::int64_t i = r0; i < r1; ++i) {
        out[i * nt + t] = trees[static_cast<std::size_t>(t)].leaf(
            detail::RowRef<T>{X.row_ptr(i), X.col_stride});
      }
    }
  };
#if ORCHARD_TREE_AVX512
  if (detail::cpu_has_avx512() && X.rows >= LevelForest::kGroup) {
    const LevelForest lf(trees, {}, X.cols);
    if (lf.ok() && 2 * lf.total_levels() >= lf.num_features()) {
      const index_t b = lf.block_rows(), nf = lf.num_features();
      parallel_blocks(ctx, X.rows, b, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
        std::vector<float> xb(static_cast<std::size_t>(nf * b));
        bool group_nan[256 / LevelForest::kGroup] = {};
        if (!lf.load_block(X, r0, r1, xb.data(), group_nan)) {
          rows(r0, r1);
          return;
        }
        lf.leaves_block_avx512(xb.data(), group_nan, static_cast<index_t>(r1 - r0), out + r0 * nt, nt);
      });
      return;
    }
  }
#endif
  parallel_blocks(ctx, X.rows, kPredictRowBlock, [&](std::int64_t, std::int64_t r0, std::int64_t r1) { rows(r0, r1); });
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
