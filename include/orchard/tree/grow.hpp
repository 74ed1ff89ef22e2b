#pragma once
// Growing one tree on binned data from per-sample statistics and a split policy.
// Growth policies: depth-wise (every node splits until max_depth), leaf-wise (best-first until
// num_leaves), oblivious (one split per level shared by all nodes, CatBoost style).
//
// Rows of each node are a contiguous range of one row-index array, stably partitioned at every
// split. Histograms: the smaller child is built from its rows (a run-time-width statistic is
// gathered into row order first), the larger one is parent - smaller. Every step is deterministic
// for any thread count.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "binning.hpp"
#include "histogram.hpp"
#include "policy.hpp"
#include "split.hpp"
#include "tree.hpp"

namespace orchard::tree {

enum class Growth { depthwise, leafwise, oblivious };

inline Growth parse_growth(const std::string& s) {
  if (s == "depthwise") return Growth::depthwise;
  if (s == "leafwise") return Growth::leafwise;
  if (s == "oblivious") return Growth::oblivious;
  throw InvalidArgument("orchard: argument 'growth' = " + s +
                        ": expected 'depthwise', 'leafwise' or 'oblivious'");
}
inline const char* to_string(Growth g) {
  return g == Growth::depthwise ? "depthwise" : g == Growth::leafwise ? "leafwise" : "oblivious";
}

struct GrowParams {
  Growth growth = Growth::depthwise;
  int max_depth = 6;             ///< levels below the root; leafwise: <= 0 means unlimited
  int num_leaves = 31;           ///< leafwise only: leaves per tree (>= 2)
  index_t min_data_in_leaf = 1;  ///< minimum samples per child
  double min_split_gain = 0.0;   ///< a split must gain strictly more
  std::vector<double> feature_weights;  ///< gain multiplier per feature (empty = all 1)
  /// Distributed training only (orchard/gbdt/distributed.hpp): called on every histogram the
  /// engine builds from rows, before it is read, with the candidate features; it sums the
  /// histogram over all processes holding a shard of the rows. Empty = one process.
  std::function<void(const HistLayout&, std::span<const int>, double*)> reduce_histogram;

  void validate(index_t n_features) const {
    if (growth != Growth::leafwise) {
      require(max_depth >= 0, "max_depth", max_depth, "must be >= 0");
      require(max_depth <= 30, "max_depth", max_depth, "must be <= 30");
    }
    if (growth == Growth::leafwise) require(num_leaves >= 2, "num_leaves", num_leaves, "must be >= 2");
    require(min_data_in_leaf >= 1, "min_data_in_leaf", min_data_in_leaf, "must be >= 1");
    require(min_split_gain >= 0, "min_split_gain", min_split_gain, "must be >= 0");
    require(feature_weights.empty() || static_cast<index_t>(feature_weights.size()) == n_features,
            "feature_weights.size", feature_weights.size(), "must be 0 or the feature count");
    for (double w : feature_weights) {
      require(w >= 0 && std::isfinite(w), "feature_weights", w, "must be finite and >= 0");
    }
  }
};

/// Memory reused from one tree to the next.
struct GrowWorkspace {
  std::vector<std::uint32_t> rows, tmp;
  std::vector<float> ordered;
  std::vector<double> scratch;
  std::vector<index_t> block_left;
  std::vector<std::vector<double>> hist_pool;  ///< histogram buffers, recycled across trees
};

namespace detail {

template <SplitPolicy P, class Code>
class Grower {
 public:
  Grower(const Context& ctx, const BinnedMatrix& data, const P& policy, const float* stats,
         std::span<const std::uint32_t> sample, std::span<const int> features,
         const GrowParams& gp, GrowWorkspace& ws)
      : ctx_(ctx), data_(data), map_(data.mapper()), policy_(policy), stats_(stats),
        features_(features), gp_(gp), ws_(ws),
        layout_(HistLayout::make(data.mapper(), policy.width())), w_(policy.width()) {
    cons_.min_data_in_leaf = gp.min_data_in_leaf;
    cons_.min_split_gain = gp.min_split_gain;
    cons_.feature_weights = gp.feature_weights;
    tree_.n_outputs = policy.n_outputs();
    identity_ = sample.empty();
    const index_t n = identity_ ? data.rows() : static_cast<index_t>(sample.size());
    ws_.rows.resize(static_cast<std::size_t>(n));
    if (identity_) {
      std::iota(ws_.rows.begin(), ws_.rows.end(), 0u);
    } else {
      std::copy(sample.begin(), sample.end(), ws_.rows.begin());
    }
    ws_.tmp.resize(ws_.rows.size());
    if (P::kWidth == 0) ws_.ordered.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(w_));
    vals_.resize(static_cast<std::size_t>(policy.n_outputs()));
  }

  Tree grow(std::vector<std::int32_t>* node_of_row) {
    Work root;
    root.begin = 0;
    root.end = static_cast<index_t>(ws_.rows.size());
    root.depth = 0;
    root.hist = acquire();
    build_hist(root, true);
    if (gp_.reduce_histogram) gp_.reduce_histogram(layout_, features_, root.hist.data());
    root.sums.assign(static_cast<std::size_t>(w_ + 1), 0.0);
    {
      const int f0 = features_[0];
      const double* h = layout_.feature(root.hist.data(), f0);
      for (std::int64_t b = 0; b < layout_.bins(f0); ++b) {
        for (int k = 0; k <= w_; ++k) root.sums[static_cast<std::size_t>(k)] += h[b * (w_ + 1) + k];
      }
    }
    root.id = add_node(root.sums, 0);
    switch (gp_.growth) {
      case Growth::depthwise: grow_depthwise(std::move(root)); break;
      case Growth::leafwise: grow_leafwise(std::move(root)); break;
      case Growth::oblivious: grow_oblivious(std::move(root)); break;
    }
    if (node_of_row != nullptr) {
      node_of_row->assign(static_cast<std::size_t>(data_.rows()), -1);
      for (const auto& [id, b, e] : leaves_) {
        for (index_t i = b; i < e; ++i) (*node_of_row)[ws_.rows[static_cast<std::size_t>(i)]] = id;
      }
    }
    return std::move(tree_);
  }

 private:
  struct Work {
    std::int32_t id = 0;
    index_t begin = 0, end = 0;
    int depth = 0;
    std::vector<double> sums, hist;
    Split split;
    index_t size() const { return end - begin; }
  };

  std::int32_t add_node(const std::vector<double>& sums, int depth) {
    policy_.leaf_value(sums.data(), vals_.data());
    return tree_.add_leaf(vals_.data(), policy_.cover(sums.data()), depth);
  }

  // Histogram of w's rows into w.hist.
  void build_hist(Work& w, bool root) {
    const index_t m = w.size();
    if (root && identity_) {
      build_histogram<P::kWidth, Code>(ctx_, data_, layout_, features_, nullptr, 0, m, stats_,
                                       w.hist.data(), ws_.scratch);
      return;
    }
    const std::uint32_t* rows = ws_.rows.data() + w.begin;
    if constexpr (P::kWidth > 0) {
      build_histogram<P::kWidth, Code>(ctx_, data_, layout_, features_, rows, 0, m, stats_,
                                       w.hist.data(), ws_.scratch);
      return;
    }
    float* ord = ws_.ordered.data() + w.begin * w_;
    const int width = w_;
    parallel_blocks(ctx_, m, 1 << 14, [&](std::int64_t, std::int64_t b0, std::int64_t b1) {
      for (std::int64_t i = b0; i < b1; ++i) {
        const float* s = stats_ + static_cast<std::size_t>(rows[i]) * static_cast<std::size_t>(width);
        for (int k = 0; k < width; ++k) ord[i * width + k] = s[k];
      }
    });
    build_histogram<P::kWidth, Code>(ctx_, data_, layout_, features_, rows, 0, m, ord,
                                     w.hist.data(), ws_.scratch);
  }

  void find_split(Work& w) {
    w.split = find_best_split(ctx_, policy_, map_, layout_, features_, w.hist.data(), w.sums.data(),
                              cons_);
  }

  // Stable partition of rows [begin, end); returns the number going left. One pass per row
  // block reads each row's code once (a table says where every bin goes) and writes the block's
  // left rows forward and its right rows backward into tmp; a second pass moves them into place.
  index_t partition(index_t begin, index_t end, int f, int bin, bool cat, bool dl) {
    const int mb = map_.missing_bin(f);
    goes_left_.resize(static_cast<std::size_t>(mb) + 1);
    for (int c = 0; c < mb; ++c) goes_left_[static_cast<std::size_t>(c)] = cat ? c == bin : c <= bin;
    goes_left_[static_cast<std::size_t>(mb)] = dl;
    const std::uint8_t* go = goes_left_.data();
    const Code* col = data_.column<Code>(f);
    constexpr index_t kBlock = 1 << 14;
    const index_t m = end - begin;
    const index_t nb = num_blocks(m, kBlock);
    ws_.block_left.assign(static_cast<std::size_t>(nb) + 1, 0);
    std::uint32_t* rows = ws_.rows.data() + begin;
    std::uint32_t* tmp = ws_.tmp.data() + begin;
    parallel_blocks(ctx_, m, kBlock, [&](std::int64_t b, std::int64_t b0, std::int64_t b1) {
      index_t l = b0, r = b1;
      for (std::int64_t i = b0; i < b1; ++i) {
        const std::uint32_t row = rows[i];
        // Both stores happen; only the taken side advances, so there is no branch to mispredict.
        const bool left = go[col[row]] != 0;
        tmp[l] = row;
        tmp[r - 1] = row;
        l += left ? 1 : 0;
        r -= left ? 0 : 1;
      }
      ws_.block_left[static_cast<std::size_t>(b) + 1] = l - b0;
    });
    for (index_t b = 0; b < nb; ++b) {
      ws_.block_left[static_cast<std::size_t>(b) + 1] += ws_.block_left[static_cast<std::size_t>(b)];
    }
    const index_t nl = ws_.block_left[static_cast<std::size_t>(nb)];
    parallel_blocks(ctx_, m, kBlock, [&](std::int64_t b, std::int64_t b0, std::int64_t b1) {
      const index_t before = ws_.block_left[static_cast<std::size_t>(b)];
      const index_t cnt = ws_.block_left[static_cast<std::size_t>(b) + 1] - before;
      std::copy(tmp + b0, tmp + b0 + cnt, rows + before);
      // The block's right rows sit reversed at its end.
      std::uint32_t* out = rows + nl + (b0 - before);
      for (std::int64_t i = b1 - 1; i >= b0 + cnt; --i) *out++ = tmp[i];
    });
    return nl;
  }

  // Splits w by (f, bin, cat, dl) into two children; builds their histograms when need_hist
  // (w.hist is consumed: it becomes the larger child's histogram).
  std::pair<Work, Work> split_node(Work& w, int f, int bin, bool cat, bool dl, double gain,
                                   const std::vector<double>& left_sums, bool need_hist) {
    const index_t nl = partition(w.begin, w.end, f, bin, cat, dl);
    Work l, r;
    l.begin = w.begin;
    l.end = w.begin + nl;
    r.begin = w.begin + nl;
    r.end = w.end;
    l.depth = r.depth = w.depth + 1;
    l.sums = left_sums;
    r.sums.resize(left_sums.size());
    for (std::size_t k = 0; k < left_sums.size(); ++k) r.sums[k] = w.sums[k] - left_sums[k];
    l.id = add_node(l.sums, l.depth);
    r.id = add_node(r.sums, r.depth);
    std::uint8_t fl = dl ? kDefaultLeft : 0;
    if (cat) fl |= kCategorical;
    tree_.set_split(w.id, f, map_.threshold(f, bin), bin, fl, l.id, r.id, gain);
    if (need_hist) {
      // By the sums' counts (== sizes on one process, global under reduce_histogram).
      const bool left_small = l.sums[static_cast<std::size_t>(w_)] <= r.sums[static_cast<std::size_t>(w_)];
      Work& small = left_small ? l : r;
      Work& large = left_small ? r : l;
      small.hist = acquire();
      build_hist(small, false);
      if (gp_.reduce_histogram) gp_.reduce_histogram(layout_, features_, small.hist.data());
      large.hist = std::move(w.hist);
      subtract_histogram(ctx_, layout_, features_, large.hist.data(), small.hist.data(),
                         large.hist.data());
    }
    release(w.hist);
    return {std::move(l), std::move(r)};
  }

  void make_leaf(Work& w) {
    leaves_.push_back({w.id, w.begin, w.end});
    release(w.hist);
  }

  // Histogram buffers are recycled: allocating and zeroing one per node costs more than
  // building small nodes' histograms.
  std::vector<double> acquire() {
    auto& pool = ws_.hist_pool;
    if (pool.empty()) return std::vector<double>(layout_.size());
    std::vector<double> h = std::move(pool.back());
    pool.pop_back();
    h.resize(layout_.size());
    return h;
  }
  void release(std::vector<double>& h) {
    if (!h.empty()) ws_.hist_pool.push_back(std::move(h));
    h = {};
  }

  void grow_depthwise(Work root) {
    std::vector<Work> stack;
    if (gp_.max_depth > 0) find_split(root);
    stack.push_back(std::move(root));
    while (!stack.empty()) {
      Work w = std::move(stack.back());
      stack.pop_back();
      if (w.depth >= gp_.max_depth || !w.split.valid()) {
        make_leaf(w);
        continue;
      }
      const bool need = w.depth + 1 < gp_.max_depth;
      const Split s = w.split;
      auto [l, r] = split_node(w, s.feature, s.bin, s.categorical, s.default_left, s.gain, s.left, need);
      if (need) {
        find_split(l);
        find_split(r);
      }
      stack.push_back(std::move(r));
      stack.push_back(std::move(l));
    }
  }

  void grow_leafwise(Work root) {
    const bool limited = gp_.max_depth > 0;
    std::vector<Work> open;
    find_split(root);
    open.push_back(std::move(root));
    int leaves = 1;
    while (leaves < gp_.num_leaves) {
      // The open leaf with the best gain; ties go to the lower node id.
      int best = -1;
      for (int i = 0; i < static_cast<int>(open.size()); ++i) {
        const auto& w = open[static_cast<std::size_t>(i)];
        if (!w.split.valid() || (limited && w.depth >= gp_.max_depth)) continue;
        if (best < 0 || w.split.gain > open[static_cast<std::size_t>(best)].split.gain ||
            (w.split.gain == open[static_cast<std::size_t>(best)].split.gain &&
             w.id < open[static_cast<std::size_t>(best)].id)) {
          best = i;
        }
      }
      if (best < 0) break;
      Work w = std::move(open[static_cast<std::size_t>(best)]);
      open.erase(open.begin() + best);
      ++leaves;
      const bool need = (!limited || w.depth + 1 < gp_.max_depth) && leaves < gp_.num_leaves;
      const Split s = w.split;
      auto [l, r] = split_node(w, s.feature, s.bin, s.categorical, s.default_left, s.gain, s.left, need);
      if (need) {
        find_split(l);
        find_split(r);
      }
      open.push_back(std::move(l));
      open.push_back(std::move(r));
    }
    for (auto& w : open) make_leaf(w);
  }

  void grow_oblivious(Work root) {
    std::vector<Work> level;
    level.push_back(std::move(root));
    const int s = w_ + 1;
    for (int depth = 0; depth < gp_.max_depth; ++depth) {
      // Summed gain of every (feature, bin, missing direction) over the level's nodes.
      const auto nf = static_cast<std::int64_t>(features_.size());
      std::vector<detail::FeatureBest> per(static_cast<std::size_t>(nf));
      std::vector<double> pscore(level.size());
      for (std::size_t i = 0; i < level.size(); ++i) pscore[i] = policy_.score(level[i].sums.data());
      parallel_for_dynamic(ctx_, nf, [&](std::int64_t j) {
        const int f = features_[static_cast<std::size_t>(j)];
        const double fw = gp_.feature_weights.empty() ? 1.0 : gp_.feature_weights[static_cast<std::size_t>(f)];
        if (fw <= 0) return;
        const int mb = map_.missing_bin(f);
        const bool cat = map_.categorical(f);
        std::vector<double> total(static_cast<std::size_t>(mb) * 2, 0.0);
        std::vector<double> L(static_cast<std::size_t>(s)), R(static_cast<std::size_t>(s)),
            Lk(static_cast<std::size_t>(s));
        for (std::size_t i = 0; i < level.size(); ++i) {
          const double* h = layout_.feature(level[i].hist.data(), f);
          const double* miss = h + static_cast<std::size_t>(mb) * s;
          const double* par = level[i].sums.data();
          std::fill(L.begin(), L.end(), 0.0);
          for (int b = 0; b < mb; ++b) {
            const double* e = h + static_cast<std::size_t>(b) * s;
            for (int k = 0; k < s; ++k) L[static_cast<std::size_t>(k)] = cat ? e[k] : L[static_cast<std::size_t>(k)] + e[k];
            for (int dl = 0; dl < 2; ++dl) {
              for (int k = 0; k < s; ++k) {
                const double lk = L[static_cast<std::size_t>(k)] + (dl ? miss[k] : 0.0);
                R[static_cast<std::size_t>(k)] = par[k] - lk;
                Lk[static_cast<std::size_t>(k)] = lk;
              }
              total[static_cast<std::size_t>(b) * 2 + static_cast<std::size_t>(dl)] +=
                  policy_.score(Lk.data()) + policy_.score(R.data()) - pscore[i];
            }
          }
        }
        detail::FeatureBest fb;
        for (int b = 0; b < mb; ++b) {
          for (int dl = 0; dl < 2; ++dl) {
            const double g = total[static_cast<std::size_t>(b) * 2 + static_cast<std::size_t>(dl)] * fw;
            if (g > fb.gain) {
              fb.gain = g;
              fb.bin = b;
              fb.default_left = dl != 0;
            }
          }
        }
        per[static_cast<std::size_t>(j)] = fb;
      }, 1);
      int bj = -1;
      double bg = gp_.min_split_gain;
      for (std::int64_t j = 0; j < nf; ++j) {
        const auto& p = per[static_cast<std::size_t>(j)];
        if (p.bin >= 0 && p.gain > bg && p.gain > 0) {
          bg = p.gain;
          bj = static_cast<int>(j);
        }
      }
      if (bj < 0) break;
      const int f = features_[static_cast<std::size_t>(bj)];
      const auto& p = per[static_cast<std::size_t>(bj)];
      const bool cat = map_.categorical(f);
      const int mb = map_.missing_bin(f);
      const bool need = depth + 1 < gp_.max_depth;
      std::vector<Work> next;
      for (auto& w : level) {
        std::vector<double> left(static_cast<std::size_t>(s), 0.0);
        const double* h = layout_.feature(w.hist.data(), f);
        for (int b = 0; b <= mb; ++b) {
          const bool in = b == mb ? p.default_left : (cat ? b == p.bin : b <= p.bin);
          if (!in) continue;
          for (int k = 0; k < s; ++k) left[static_cast<std::size_t>(k)] += h[static_cast<std::size_t>(b) * s + k];
        }
        auto [l, r] = split_node(w, f, p.bin, cat, p.default_left, p.gain, left, need);
        next.push_back(std::move(l));
        next.push_back(std::move(r));
      }
      level = std::move(next);
    }
    for (auto& w : level) make_leaf(w);
  }

  const Context& ctx_;
  const BinnedMatrix& data_;
  const BinMapper& map_;
  const P& policy_;
  const float* stats_;
  std::span<const int> features_;
  const GrowParams& gp_;
  GrowWorkspace& ws_;
  HistLayout layout_;
  int w_;
  SplitConstraints cons_;
  bool identity_ = false;
  Tree tree_;
  std::vector<double> vals_;
  std::vector<std::tuple<std::int32_t, index_t, index_t>> leaves_;
  std::vector<std::uint8_t> goes_left_;
};

}  // namespace detail

/// Grows one tree. `stats` holds policy.width() floats per row of `data` (row-major, all rows);
/// `sample` lists the rows to fit (sorted; empty = all rows); `features` the candidate features
/// (sorted; empty = all). When node_of_row is given it receives, for every row of `data`, the
/// leaf its sample row landed in (-1 for rows outside the sample).
template <SplitPolicy P>
Tree grow_tree(const Context& ctx, const BinnedMatrix& data, const P& policy, const float* stats,
               std::span<const std::uint32_t> sample, std::span<const int> features,
               const GrowParams& gp, std::vector<std::int32_t>* node_of_row = nullptr,
               GrowWorkspace* workspace = nullptr) {
  gp.validate(data.cols());
  require(policy.width() >= 1, "policy.width", policy.width(), "must be >= 1");
  require(P::kWidth == 0 || P::kWidth == policy.width(), "policy.width", policy.width(),
          "must equal the policy's compile-time width");
  std::vector<int> all;
  if (features.empty()) {
    all.resize(static_cast<std::size_t>(data.cols()));
    std::iota(all.begin(), all.end(), 0);
    features = all;
  }
  for (std::size_t i = 0; i < features.size(); ++i) {
    require(features[i] >= 0 && features[i] < data.cols(), "features", features[i],
            "must be column indices of the data");
    require(i == 0 || features[i] > features[i - 1], "features", features[i],
            "must be sorted and distinct");
  }
  require(!sample.empty() || data.rows() > 0 || gp.reduce_histogram, "data.rows", data.rows(), "must be > 0");
  for (std::size_t i = 0; i < sample.size(); ++i) {
    require(sample[i] < static_cast<std::uint64_t>(data.rows()), "sample", sample[i],
            "must be row indices of the data");
    require(i == 0 || sample[i] > sample[i - 1], "sample", sample[i], "must be sorted and distinct");
  }
  GrowWorkspace local;
  GrowWorkspace& ws = workspace != nullptr ? *workspace : local;
  if (data.wide()) {
    detail::Grower<P, std::uint16_t> g(ctx, data, policy, stats, sample, features, gp, ws);
    return g.grow(node_of_row);
  }
  detail::Grower<P, std::uint8_t> g(ctx, data, policy, stats, sample, features, gp, ws);
  return g.grow(node_of_row);
}

}  // namespace orchard::tree
