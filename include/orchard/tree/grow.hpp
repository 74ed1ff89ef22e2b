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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/// How a node's per-(feature, bin) statistic sums are formed.
///  histograms   a dense histogram per node (bins x (width + 1) doubles per feature), the larger
///               child as parent - smaller; best when nodes hold many more rows than bins.
///  sorted_rows  per feature, the node's rows sorted by bin (stably partitioned at every split)
///               and summed run by run when the node is scanned: no per-node memory of size
///               bins x width, and empty bins cost nothing; best when rows are few compared with
///               bins (small batches, wide statistics).
///  automatic    sorted_rows when the rows to fit are at most kSortedRowsPerBin times the mean
///               bin count of the candidate features, else histograms.
/// Both give the same candidates and tie rules; sums can differ in the last bits (the histogram
/// path subtracts). Distributed training (reduce_histogram) always uses histograms.
enum class NodeStats { histograms, sorted_rows, automatic };
inline constexpr double kSortedRowsPerBin = 8.0;

struct GrowParams {
  Growth growth = Growth::depthwise;
  NodeStats node_stats = NodeStats::histograms;
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
  std::vector<std::uint32_t> lists, lists_tmp;  ///< sorted_rows: per feature, rows by bin
  std::vector<std::uint8_t> goes_left;         ///< sorted_rows: side of each row at a split
};

namespace detail {

// out[k] = x[k] and out[k] += x[k] for k < w (floats widened to doubles).
inline void widen(const float* x, int w, double* out) {
  int k = 0;
#if defined(__SSE2__)
  for (; k + 4 <= w; k += 4) {
    const __m128 v = _mm_loadu_ps(x + k);
    _mm_storeu_pd(out + k, _mm_cvtps_pd(v));
    _mm_storeu_pd(out + k + 2, _mm_cvtps_pd(_mm_movehl_ps(v, v)));
  }
#endif
  for (; k < w; ++k) out[k] = x[k];
}
inline void widen_add(const float* x, int w, double* out) {
  int k = 0;
#if defined(__SSE2__)
  for (; k + 4 <= w; k += 4) {
    const __m128 v = _mm_loadu_ps(x + k);
    _mm_storeu_pd(out + k, _mm_add_pd(_mm_loadu_pd(out + k), _mm_cvtps_pd(v)));
    _mm_storeu_pd(out + k + 2, _mm_add_pd(_mm_loadu_pd(out + k + 2), _mm_cvtps_pd(_mm_movehl_ps(v, v))));
  }
#endif
  for (; k < w; ++k) out[k] += x[k];
}

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
    n_ = n;
    lists_ = !gp.reduce_histogram && n > 0 &&
             (gp.node_stats == NodeStats::sorted_rows ||
              (gp.node_stats == NodeStats::automatic && few_rows(n)));
    if (P::kWidth == 0 && !lists_) ws_.ordered.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(w_));
    vals_.resize(static_cast<std::size_t>(policy.n_outputs()));
  }

  Tree grow(std::vector<std::int32_t>* node_of_row) {
    Work root;
    root.begin = 0;
    root.end = static_cast<index_t>(ws_.rows.size());
    root.depth = 0;
    root.sums.assign(static_cast<std::size_t>(w_ + 1), 0.0);
    if (lists_) {
      build_lists();
      // In bin order, as the histogram path sums its root histogram.
      Buf buf(w_);
      for_runs(0, root.begin, root.end, buf.get(), [&](int, const double* e) {
        for (int k = 0; k <= w_; ++k) root.sums[static_cast<std::size_t>(k)] += e[k];
      });
    } else {
      root.hist = acquire();
      build_hist(root, true);
      if (gp_.reduce_histogram) gp_.reduce_histogram(layout_, features_, root.hist.data());
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
    if (!lists_) {
      w.split = find_best_split(ctx_, policy_, map_, layout_, features_, w.hist.data(),
                                w.sums.data(), cons_);
      return;
    }
    const double ps = policy_.score(w.sums.data());
    const auto nf = static_cast<std::int64_t>(features_.size());
    std::vector<detail::FeatureBest> per(static_cast<std::size_t>(nf));
    auto run = [&](std::int64_t j) {
      const int f = features_[static_cast<std::size_t>(j)];
      const double fw = weight(f);
      if (fw <= 0) return;
      Buf buf(2 * (w_ + 1));
      double* e = buf.get();
      double* miss = e + w_ + 1;
      const index_t ms = missing_sums(static_cast<std::size_t>(j), w.begin, w.end, miss);
      per[static_cast<std::size_t>(j)] = detail::scan_bins<kS>(
          policy_,
          [&](auto&& fn) { for_runs(static_cast<std::size_t>(j), w.begin, ms, e, fn); }, miss,
          map_.missing_bin(f), map_.categorical(f), w.sums.data(), ps, cons_, fw);
    };
    if (ctx_.threads() > 1 && nf >= 4 && w.size() * nf >= kSerialWork) {
      parallel_for_dynamic(ctx_, nf, run, 1);
    } else {
      for (std::int64_t j = 0; j < nf; ++j) run(j);
    }
    Split best = detail::best_split(per, features_, cons_.min_split_gain);
    if (best.valid()) {
      best.categorical = map_.categorical(best.feature);
      const auto j = static_cast<std::size_t>(
          std::find(features_.begin(), features_.end(), best.feature) - features_.begin());
      best.left = left_sums(w, j, best.bin, best.categorical, best.default_left);
    }
    w.split = std::move(best);
  }

  // ---- sorted_rows: per feature, the rows of every node sorted by bin -------------------------

  static constexpr int kS = P::kWidth == 0 ? 0 : P::kWidth + 1;
  /// Room for n doubles: fixed when the width is known at compile time.
  class Buf {
   public:
    explicit Buf(int n) : p_(kS > 0 ? fixed_ : heap_.get(static_cast<std::size_t>(n))) {}
    double* get() { return p_; }

   private:
    double fixed_[kS > 0 ? 2 * kS : 1];
    detail::ScanBuffer heap_;
    double* p_;
  };

  bool few_rows(index_t n) const {
    double bins = 0;
    for (int f : features_) bins += map_.num_bins(f);
    return static_cast<double>(n) <= kSortedRowsPerBin * bins / static_cast<double>(features_.size());
  }
  double weight(int f) const {
    return gp_.feature_weights.empty() ? 1.0 : gp_.feature_weights[static_cast<std::size_t>(f)];
  }

  // Counting sort of the rows by bin, per feature (stable: rows of one bin keep their order).
  void build_lists() {
    const auto nf = static_cast<std::int64_t>(features_.size());
    const auto n = static_cast<std::size_t>(n_);
    ws_.lists.resize(n * static_cast<std::size_t>(nf));
    ws_.lists_tmp.resize(ws_.lists.size());
    ws_.goes_left.resize(static_cast<std::size_t>(data_.rows()));
    const Context run_ctx = n_ * nf < kSerialWork ? Context(1) : ctx_;
    parallel_for(run_ctx, nf, [&](std::int64_t j) {
      const int f = features_[static_cast<std::size_t>(j)];
      const Code* col = data_.column<Code>(f);
      std::vector<std::uint32_t> at(static_cast<std::size_t>(map_.num_bins(f)) + 1, 0);
      const std::uint32_t* rows = ws_.rows.data();
      for (std::size_t i = 0; i < n; ++i) ++at[static_cast<std::size_t>(col[rows[i]]) + 1];
      for (std::size_t b = 1; b < at.size(); ++b) at[b] += at[b - 1];
      std::uint32_t* out = ws_.lists.data() + static_cast<std::size_t>(j) * n;
      for (std::size_t i = 0; i < n; ++i) out[at[col[rows[i]]]++] = rows[i];
    });
  }

  // Calls fn(bin, sums) for every run of one bin among positions [b, e) of feature index j's
  // list, in bin order; sums (width + 1 doubles, in buf) add the run's rows in order.
  template <class Fn>
  void for_runs(std::size_t j, index_t b, index_t e, double* buf, Fn&& fn) const {
    const Code* col = data_.column<Code>(features_[j]);
    const std::uint32_t* r = ws_.lists.data() + j * static_cast<std::size_t>(n_);
    const int w = kS > 0 ? kS - 1 : w_;
    index_t i = b;
    const auto stat = [&](index_t at) {
      return stats_ + static_cast<std::size_t>(r[at]) * static_cast<std::size_t>(w);
    };
    while (i < e) {
      const index_t i0 = i;
      const Code code = col[r[i]];
      detail::widen(stat(i), w, buf);  // as 0.0 + x (up to the sign of a zero)
      for (++i; i < e && col[r[i]] == code; ++i) detail::widen_add(stat(i), w, buf);
      buf[w] = static_cast<double>(i - i0);
      fn(static_cast<int>(code), static_cast<const double*>(buf));
    }
  }

  // Sums of node [b, e)'s missing values for feature index j into miss; returns where they
  // start (they sort last).
  index_t missing_sums(std::size_t j, index_t b, index_t e, double* miss) const {
    const int f = features_[j];
    const Code* col = data_.column<Code>(f);
    const std::uint32_t* r = ws_.lists.data() + j * static_cast<std::size_t>(n_);
    const auto mb = static_cast<Code>(map_.missing_bin(f));
    index_t ms = e;
    while (ms > b && col[r[ms - 1]] == mb) --ms;
    for (int k = 0; k <= w_; ++k) miss[k] = 0.0;
    if (ms < e) for_runs(j, ms, e, miss, [](int, const double*) {});
    return ms;
  }

  // Left child's sums of node w split on feature index j (bins as find_best_split sums them).
  std::vector<double> left_sums(const Work& w, std::size_t j, int bin, bool cat, bool dl) const {
    std::vector<double> left(static_cast<std::size_t>(w_) + 1, 0.0);
    Buf buf(2 * (w_ + 1));
    double* e = buf.get();
    double* miss = e + w_ + 1;
    const index_t ms = missing_sums(j, w.begin, w.end, miss);
    for_runs(j, w.begin, ms, e, [&](int b, const double* x) {
      if (cat ? b != bin : b > bin) return;
      for (int k = 0; k <= w_; ++k) left[static_cast<std::size_t>(k)] += x[k];
    });
    if (dl) {
      for (int k = 0; k <= w_; ++k) left[static_cast<std::size_t>(k)] += miss[k];
    }
    return left;
  }

  // Stable partition of positions [b, e) of every feature's list by the side of each row
  // (goes_left, set by partition()); nl rows go left.
  void partition_lists(index_t b, index_t e, index_t nl) {
    const index_t m = e - b;
    const auto nf = static_cast<std::int64_t>(features_.size());
    const Context run_ctx = m * nf < kSerialWork ? Context(1) : ctx_;
    const std::uint8_t* go = ws_.goes_left.data();
    parallel_for(run_ctx, nf, [&](std::int64_t j) {
      const std::size_t at = static_cast<std::size_t>(j) * static_cast<std::size_t>(n_) + static_cast<std::size_t>(b);
      std::uint32_t* r = ws_.lists.data() + at;
      std::uint32_t* t = ws_.lists_tmp.data() + at;
      index_t l = 0, rr = m;
      for (index_t i = 0; i < m; ++i) {
        const std::uint32_t row = r[i];
        const bool left = go[row] != 0;
        t[l] = row;
        t[rr - 1] = row;
        l += left ? 1 : 0;
        rr -= left ? 0 : 1;
      }
      std::copy(t, t + nl, r);
      for (index_t i = m - 1, o = nl; i >= nl; --i, ++o) r[o] = t[i];
    });
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
    const bool lists = lists_;
    std::uint8_t* side = ws_.goes_left.data();
    parallel_blocks(ctx_, m, kBlock, [&](std::int64_t b, std::int64_t b0, std::int64_t b1) {
      index_t l = b0, r = b1;
      for (std::int64_t i = b0; i < b1; ++i) {
        const std::uint32_t row = rows[i];
        // Both stores happen; only the taken side advances, so there is no branch to mispredict.
        const bool left = go[col[row]] != 0;
        if (lists) side[row] = left ? 1 : 0;
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
    if (need_hist && lists_) {
      partition_lists(w.begin, w.end, nl);
    } else if (need_hist) {
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

  // Adds, for every bin b < mb of one feature and missing direction dl, a node's term
  // score(L) + score(R) - ps to total[2b + dl], L = the bins <= b (numeric) or == b
  // (categorical), plus the missing values when dl. for_bins visits the node's non-empty value
  // bins as in scan_bins; an empty bin repeats the previous partition's term (numeric) or the
  // empty-left term (categorical), and without missing values dl = 1 repeats dl = 0.
  template <class ForBins>
  void oblivious_terms(ForBins&& for_bins, const double* miss, int mb, bool cat, const double* par,
                       double ps, double* total, double* L, double* Lk, double* R) const {
    const int s = w_ + 1;
    const bool has_missing = miss[w_] > 0;
    auto term = [&](bool dl) {
      if constexpr (FusedPairScore<P>) {
        if (!dl) return policy_.pair_score_parent(L, par) - ps;
      }
      for (int k = 0; k < s; ++k) {
        const double lk = L[k] + (dl ? miss[k] : 0.0);
        R[k] = par[k] - lk;
        Lk[k] = lk;
      }
      return detail::pair_score(policy_, Lk, R) - ps;
    };
    for (int k = 0; k < s; ++k) L[k] = 0.0;
    const double z0 = term(false), z1 = has_missing ? term(true) : z0;
    double v0 = z0, v1 = z1;
    int next = 0;
    auto fill = [&](int to) {
      for (int g = next; g < to; ++g) {
        total[2 * g] += cat ? z0 : v0;
        total[2 * g + 1] += cat ? z1 : v1;
      }
    };
    for_bins([&](int b, const double* e) {
      fill(b);
      for (int k = 0; k < s; ++k) L[k] = cat ? e[k] : L[k] + e[k];
      v0 = term(false);
      v1 = has_missing ? term(true) : v0;
      total[2 * b] += v0;
      total[2 * b + 1] += v1;
      next = b + 1;
    });
    fill(mb);
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
        const double fw = weight(f);
        if (fw <= 0) return;
        const int mb = map_.missing_bin(f);
        const bool cat = map_.categorical(f);
        std::vector<double> total(static_cast<std::size_t>(mb) * 2, 0.0);
        detail::ScanBuffer scratch;
        double* L = scratch.get(5 * static_cast<std::size_t>(s));
        double* R = L + s;
        double* Lk = R + s;
        double* e = Lk + s;
        double* miss = e + s;
        for (std::size_t i = 0; i < level.size(); ++i) {
          const Work& w = level[i];
          if (lists_) {
            const index_t ms = missing_sums(static_cast<std::size_t>(j), w.begin, w.end, miss);
            oblivious_terms(
                [&](auto&& fn) { for_runs(static_cast<std::size_t>(j), w.begin, ms, e, fn); },
                miss, mb, cat, w.sums.data(), pscore[i], total.data(), L, Lk, R);
          } else {
            const double* h = layout_.feature(w.hist.data(), f);
            oblivious_terms(
                [&](auto&& fn) {
                  for (int b = 0; b < mb; ++b) {
                    const double* x = h + static_cast<std::size_t>(b) * s;
                    if (x[w_] <= 0) continue;
                    fn(b, x);
                  }
                },
                h + static_cast<std::size_t>(mb) * s, mb, cat, w.sums.data(), pscore[i],
                total.data(), L, Lk, R);
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
      const std::int64_t bj = detail::pick_best(per, gp_.min_split_gain);
      if (bj < 0) break;
      const int f = features_[static_cast<std::size_t>(bj)];
      const auto& p = per[static_cast<std::size_t>(bj)];
      const bool cat = map_.categorical(f);
      const int mb = map_.missing_bin(f);
      const bool need = depth + 1 < gp_.max_depth;
      std::vector<Work> next;
      for (auto& w : level) {
        std::vector<double> left;
        if (lists_) {
          left = left_sums(w, static_cast<std::size_t>(bj), p.bin, cat, p.default_left);
        } else {
          left.assign(static_cast<std::size_t>(s), 0.0);
          const double* h = layout_.feature(w.hist.data(), f);
          for (int b = 0; b <= mb; ++b) {
            const bool in = b == mb ? p.default_left : (cat ? b == p.bin : b <= p.bin);
            if (!in) continue;
            for (int k = 0; k < s; ++k) left[static_cast<std::size_t>(k)] += h[static_cast<std::size_t>(b) * s + k];
          }
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
  bool lists_ = false;  ///< NodeStats::sorted_rows in effect
  index_t n_ = 0;       ///< rows to fit
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
