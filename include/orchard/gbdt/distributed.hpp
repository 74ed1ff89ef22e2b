#pragma once
// Data-parallel GBDT training over MPI (docs/distributed.md). Every rank holds a shard of the
// training rows (and optionally of the validation rows); the ranks
//   1. check their shards and agree on the outcome (a bad shard makes every rank throw),
//   2. agree on the bin cuts: the rows BinMapper::fit would sample from the whole data set are
//      gathered on rank 0, which fits the cuts and broadcasts them,
//   3. grow every tree with the shared engine, each freshly built histogram summed over the
//      ranks in rank order (Communicator::sum) before it is read, so every rank grows the same
//      tree and the smaller-child choice follows the global counts,
//   4. sum base-score statistics and validation metrics over the ranks (AUC gathers the
//      scores), so early stopping decides the same on every rank.
// The result equals single-process training on the concatenated shards (rank order) up to the
// rounding of the histogram sums (a few ulps; see docs/distributed.md), and is identical for
// repeated runs with the same rank count.
//
// Not part of <orchard/gbdt.hpp>: include this header (it includes <mpi.h>) and link MPI.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/io/dataset.hpp"
#include "../core/matrix_view.hpp"
#include "../core/parallel.hpp"
#include "../core/random.hpp"
#include "../tree/binning.hpp"
#include "../tree/grow.hpp"
#include "../tree/predict.hpp"
#include "../tree/second_order.hpp"
#include "distributed_comm.hpp"
#include "metric.hpp"
#include "model.hpp"
#include "objective.hpp"
#include "params.hpp"
#include "train.hpp"

namespace orchard::gbdt {

/// Rows [begin, end) of n rows that rank `rank` of `size` holds under an even split (the first
/// n % size ranks get one more row).
struct ShardRange {
  index_t begin = 0, end = 0;
  index_t size() const { return end - begin; }
};
inline ShardRange shard_range(index_t n, int rank, int size) {
  require(size >= 1, "size", size, "must be >= 1");
  require(rank >= 0 && rank < size, "rank", rank, "must lie in [0, size)");
  require(n >= 0, "n", n, "must be >= 0");
  const index_t q = n / size, r = n % size;
  ShardRange s;
  s.begin = rank * q + std::min<index_t>(rank, r);
  s.end = s.begin + q + (rank < r ? 1 : 0);
  return s;
}

/// `pattern` with every "{rank}" replaced by the rank (one file per rank: "part-{rank}.tsv").
inline std::string shard_path(const std::string& pattern, int rank) {
  std::string out = pattern;
  const std::string key = "{rank}", val = std::to_string(rank);
  for (std::size_t at = out.find(key); at != std::string::npos; at = out.find(key, at + val.size())) {
    out.replace(at, key.size(), val);
  }
  return out;
}

/// This rank's shard of a data set: `read(path)` (any core reader, e.g.
///   [](const std::string& f) { return io::read_tsv<double>(f, opt); })
/// runs on every rank; with a "{rank}" in `path` each rank reads its own file and keeps it whole,
/// otherwise each rank parses the one file and keeps its shard_range of the rows. A reader error
/// on any rank is thrown on every rank (Communicator::agree), as is a feature-count mismatch.
template <class T, class Reader>
io::Dataset<T> read_shard(Communicator& comm, const std::string& path, Reader&& read) {
  io::Dataset<T> ds;
  const bool per_rank = path.find("{rank}") != std::string::npos;
  comm.agree([&] {
    ds = read(per_rank ? shard_path(path, comm.rank()) : path);
    if (!per_rank) {
      const ShardRange s = shard_range(ds.X.rows(), comm.rank(), comm.size());
      io::RowMatrix<T> X = ds.X.middleRows(s.begin, s.size());
      ds.X = std::move(X);
      if (ds.y.size() > 0) {
        Eigen::Matrix<T, Eigen::Dynamic, 1> y = ds.y.segment(s.begin, s.size());
        ds.y = std::move(y);
      }
    }
  });
  const auto cols = comm.allgather<std::int64_t>(static_cast<std::int64_t>(ds.X.cols()));
  for (int r = 1; r < comm.size(); ++r) {
    if (cols[static_cast<std::size_t>(r)] != cols[0]) {
      throw InvalidArgument("orchard: argument '" + path + " on rank " + std::to_string(r) +
                            "' = " + std::to_string(cols[static_cast<std::size_t>(r)]) +
                            " features: must equal rank 0's " + std::to_string(cols[0]));
    }
  }
  return ds;
}

namespace detail {

// Sum (not mean) of the metric's per-row terms over this rank's rows; rmse: squared errors.
inline double metric_sum(Metric m, const double* F, const double* y, std::size_t n, int k) {
  if (n == 0) return 0.0;
  const double v = evaluate(m, Objective::squared_error, F, y, n, k);
  return m == Metric::rmse ? v * v * static_cast<double>(n) : v * static_cast<double>(n);
}

// The metric over every rank's validation rows; the same value on every rank.
inline double distributed_metric(Communicator& comm, Metric m, const std::vector<double>& Fv,
                                 const std::vector<double>& yv, int K) {
  if (m == Metric::auc) {
    std::vector<double> local(2 * yv.size());
    for (std::size_t i = 0; i < yv.size(); ++i) {
      local[2 * i] = Fv[i];
      local[2 * i + 1] = yv[i];
    }
    const std::vector<double> all = comm.gather(local, -1);
    std::vector<double> s(all.size() / 2), y(all.size() / 2);
    for (std::size_t i = 0; i < s.size(); ++i) {
      s[i] = all[2 * i];
      y[i] = all[2 * i + 1];
    }
    return auc(s.data(), y.data(), s.size());
  }
  double part[2] = {metric_sum(m, Fv.data(), yv.data(), yv.size(), K), static_cast<double>(yv.size())};
  comm.sum(part, 2);
  const double mean = part[0] / part[1];
  return m == Metric::rmse ? std::sqrt(mean) : mean;
}

template <class T>
Model train_distributed_impl(Communicator& comm, const Params& p, ConstMatrixView<T> X,
                             ConstVectorView<T> y, ConstMatrixView<T> Xv, ConstVectorView<T> yv,
                             const ProgressFn& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  Objective obj{};
  int K = 1;
  std::vector<double> labels, vlabels;
  Metric metric{};
  // ---- 1. local checks, agreed -----------------------------------------------------------------
  comm.agree([&] {
    p.validate();
    require(!p.record_training, "record_training", p.record_training,
            "is not available in distributed training");
    if (parse_device(p.device) == Device::cuda) {
      throw DeviceError("orchard: device 'cuda' is not available in distributed training; use 'cpu'");
    }
    obj = parse_objective(p.objective);
    require(X.cols > 0, "X.cols", X.cols, "must be > 0");
    if (X.rows > 0) check_features(X, "X");
    K = obj == Objective::softmax ? p.num_class : 1;
    if (obj == Objective::softmax && p.num_class == 1) {
      require(false, "num_class", p.num_class, "multiclass needs num_class >= 2");
    }
    labels = check_labels(y, X.rows, obj, K, "y");
    if (Xv.rows > 0 || yv.size > 0) {
      if (Xv.rows > 0) check_features(Xv, "valid_X");
      require(Xv.cols == X.cols, "valid_X.cols", Xv.cols,
              "must equal X.cols (" + std::to_string(X.cols) + ")");
      int Kv = K;
      vlabels = check_labels(yv, Xv.rows, obj, Kv, "valid_y");
    }
    metric = p.eval_metric.empty() ? default_metric(obj) : parse_metric(p.eval_metric);
  });
  // ---- 2. global shape ---------------------------------------------------------------------------
  const auto cols = comm.allgather<std::int64_t>(X.cols);
  for (int r = 1; r < comm.size(); ++r) {
    require(cols[static_cast<std::size_t>(r)] == cols[0],
            "X.cols on rank " + std::to_string(r), cols[static_cast<std::size_t>(r)],
            "must equal X.cols on rank 0 (" + std::to_string(cols[0]) + ")");
  }
  const auto rows = comm.allgather<std::int64_t>(X.rows);
  const auto vrows = comm.allgather<std::int64_t>(Xv.rows);
  const auto classes = comm.allgather<int>(K);
  index_t N = 0, offset = 0, Nv = 0;
  for (int r = 0; r < comm.size(); ++r) {
    if (r == comm.rank()) offset = N;
    N += rows[static_cast<std::size_t>(r)];
    Nv += vrows[static_cast<std::size_t>(r)];
    K = std::max(K, classes[static_cast<std::size_t>(r)]);
  }
  require(N > 0, "X.rows (all ranks)", N, "must be > 0");
  require(N < (index_t{1} << 32), "X.rows (all ranks)", N, "must be < 2^32");
  const bool has_valid = Nv > 0;
  require(p.early_stopping_rounds == 0 || has_valid, "early_stopping_rounds",
          p.early_stopping_rounds, "needs validation data");
  if (obj == Objective::softmax && p.num_class > 0) K = p.num_class;

  const Context ctx(p.threads);
  // ---- 3. bin cuts from the globally sampled rows, fitted on rank 0 ------------------------------
  std::vector<T> local_sample;
  {
    const bool sampled = p.bin_sample_rows > 0 && N > p.bin_sample_rows;
    std::vector<std::int64_t> pick;
    if (sampled) {
      Rng rng(p.seed);  // the sample BinMapper::fit draws on the whole data set
      for (auto g : rng.sample_without_replacement(N, p.bin_sample_rows)) {
        if (g >= offset && g < offset + X.rows) pick.push_back(g - offset);
      }
    } else {
      pick.resize(static_cast<std::size_t>(X.rows));
      for (index_t i = 0; i < X.rows; ++i) pick[static_cast<std::size_t>(i)] = i;
    }
    local_sample.reserve(pick.size() * static_cast<std::size_t>(X.cols));
    for (auto i : pick) {
      for (index_t j = 0; j < X.cols; ++j) local_sample.push_back(X(i, j));
    }
  }
  const std::vector<T> all_sample = comm.gather(local_sample, 0);
  local_sample = {};
  std::vector<double> flat_cuts;
  std::vector<std::int64_t> cut_counts;
  comm.agree([&] {
    if (comm.rank() != 0) return;
    tree::BinParams bp;
    bp.max_bin = p.max_bin;
    bp.sample_rows = 0;
    bp.seed = p.seed;
    const ConstMatrixView<T> S(all_sample.data(), static_cast<index_t>(all_sample.size()) / X.cols, X.cols);
    const tree::BinMapper fitted = tree::BinMapper::fit(S, bp, ctx);
    for (int f = 0; f < fitted.num_features(); ++f) {
      cut_counts.push_back(static_cast<std::int64_t>(fitted.cuts(f).size()));
      flat_cuts.insert(flat_cuts.end(), fitted.cuts(f).begin(), fitted.cuts(f).end());
    }
  });
  comm.broadcast(cut_counts, 0);
  comm.broadcast(flat_cuts, 0);
  std::vector<std::vector<double>> cuts(cut_counts.size());
  {
    std::size_t at = 0;
    for (std::size_t f = 0; f < cuts.size(); ++f) {
      cuts[f].assign(flat_cuts.begin() + static_cast<std::ptrdiff_t>(at),
                     flat_cuts.begin() + static_cast<std::ptrdiff_t>(at + static_cast<std::size_t>(cut_counts[f])));
      at += static_cast<std::size_t>(cut_counts[f]);
    }
  }
  const tree::BinMapper mapper = tree::BinMapper::from_cuts(std::move(cuts), {}, p.max_bin);
  const tree::BinnedMatrix data = tree::BinnedMatrix::build(mapper, X, ctx);
  // A rank whose share of a round's row sample is empty grows on no rows at all.
  const tree::BinnedMatrix no_rows = tree::BinnedMatrix::build(mapper, ConstMatrixView<T>(nullptr, 0, X.cols), ctx);

  // ---- 4. engine set-up: every histogram is summed over the ranks -------------------------------
  const tree::SecondOrder policy = split_policy(p);
  tree::GrowParams gp = grow_params(p);
  std::vector<double> packed;
  gp.reduce_histogram = [&](const tree::HistLayout& l, std::span<const int> feats, double* h) {
    if (static_cast<index_t>(feats.size()) == X.cols) {
      comm.sum(h, l.size());
      return;
    }
    packed.clear();
    for (int f : feats) {
      const double* b = l.feature(h, f);
      packed.insert(packed.end(), b, b + l.bins(f) * l.stride);
    }
    comm.sum(packed.data(), packed.size());
    std::size_t at = 0;
    for (int f : feats) {
      const auto len = static_cast<std::size_t>(l.bins(f) * l.stride);
      std::copy(packed.begin() + static_cast<std::ptrdiff_t>(at),
                packed.begin() + static_cast<std::ptrdiff_t>(at + len), l.feature(h, f));
      at += len;
    }
  };

  // ---- 5. base score from the global label statistics -------------------------------------------
  Model m;
  m.objective = obj;
  m.num_class = K;
  m.num_features = X.cols;
  if (std::isnan(p.base_score)) {
    std::vector<double> st(static_cast<std::size_t>(obj == Objective::softmax ? K : 1) + 1, 0.0);
    for (double v : labels) {
      if (obj == Objective::softmax) {
        st[static_cast<std::size_t>(v)] += 1;
      } else {
        st[0] += v;
      }
    }
    st.back() = static_cast<double>(labels.size());
    comm.sum(st.data(), st.size());
    const double n = st.back();
    if (obj == Objective::squared_error) {
      m.base_score = {st[0] / n};
    } else if (obj == Objective::logistic) {
      const double q = std::clamp(st[0] / n, 1e-15, 1 - 1e-15);
      m.base_score = {std::log(q / (1 - q))};
    } else {
      for (int k = 0; k < K; ++k) {
        m.base_score.push_back(std::log(std::max(st[static_cast<std::size_t>(k)] / n, 1e-15)));
      }
    }
  } else {
    m.base_score.assign(static_cast<std::size_t>(K), p.base_score);
  }

  // ---- 6. boosting rounds, as in train() with global row indices --------------------------------
  const auto n = static_cast<std::size_t>(X.rows);
  std::vector<double> F(n * static_cast<std::size_t>(K)), Fv(static_cast<std::size_t>(Xv.rows) * static_cast<std::size_t>(K));
  for (std::size_t i = 0; i < F.size(); ++i) F[i] = m.base_score[i % static_cast<std::size_t>(K)];
  for (std::size_t i = 0; i < Fv.size(); ++i) Fv[i] = m.base_score[i % static_cast<std::size_t>(K)];
  std::vector<std::vector<float>> gh(static_cast<std::size_t>(K), std::vector<float>(2 * n));
  std::vector<std::int32_t> node_of_row;
  tree::GrowWorkspace ws;
  Rng rng(p.seed);
  const bool sub = p.subsample < 1.0;
  const std::int64_t n_sample = fraction_count(p.subsample, N);
  const std::int64_t n_feat = fraction_count(p.colsample_bytree, X.cols);
  EarlyStopping es{metric, p.early_stopping_rounds};
  for (int r = 0; r < p.num_rounds; ++r) {
    std::vector<std::uint32_t> sample;
    bool none_sampled = false;
    if (sub) {
      Rng rr = rng.split(2 * static_cast<std::uint64_t>(r));
      for (auto g : rr.sample_without_replacement(N, n_sample)) {
        if (g >= offset && g < offset + X.rows) sample.push_back(static_cast<std::uint32_t>(g - offset));
      }
      none_sampled = sample.empty();
    }
    if (n > 0) gradients(ctx, obj, F, labels, K, gh);
    for (int k = 0; k < K; ++k) {
      const std::vector<int> feats = tree_features(rng, r, K, k, n_feat, X.cols);
      tree::Tree t = tree::grow_tree(ctx, none_sampled ? no_rows : data, policy,
                                     gh[static_cast<std::size_t>(k)].data(), sample, feats, gp,
                                     &node_of_row, &ws);
      if (none_sampled) node_of_row.assign(n, -1);
      t.scale(p.learning_rate);
      add_tree_scores(ctx, t, data, node_of_row, F, K, k);
      if (Xv.rows > 0) {
        tree::predict_add<T>(ctx, std::span<const tree::Tree>(&t, 1), {}, Xv, Fv.data() + k, K);
      }
      m.trees.push_back(std::move(t));
      m.tree_class.push_back(k);
    }
    Progress pr = round_progress(r, p.num_rounds, t0);
    bool stop = false;
    if (has_valid) {
      const double v = distributed_metric(comm, metric, Fv, vlabels, K);
      m.valid_history.push_back(v);
      stop = es.update(v, r, pr);
    }
    bool go_on = true;
    if (progress) comm.agree([&] { go_on = progress(pr); });
    if (comm.any(!go_on)) break;
    if (stop) break;
  }
  const int best_round = es.best_round;
  if (p.early_stopping_rounds > 0 && best_round > 0) {
    m.truncate(best_round);
    m.best_round = best_round;
  }
  return m;
}

}  // namespace detail

/// Trains on this rank's shard (X, y) and, optionally, its shard of the validation data; every
/// rank of `comm` must call it with the same Params. Returns the same model on every rank
/// (write it from rank 0). Shards may be uneven or empty (not all of them). Params::threads
/// threads per rank; record_training is not available. Errors on any rank (bad values, feature
/// counts that differ between ranks) are thrown on every rank.
inline Model train_distributed(Communicator& comm, const Params& p, ConstMatrixView<double> X,
                               ConstVectorView<double> y, ConstMatrixView<double> valid_X = {},
                               ConstVectorView<double> valid_y = {}, const ProgressFn& progress = {}) {
  return detail::train_distributed_impl<double>(comm, p, X, y, valid_X, valid_y, progress);
}
inline Model train_distributed(Communicator& comm, const Params& p, ConstMatrixView<float> X,
                               ConstVectorView<float> y, ConstMatrixView<float> valid_X = {},
                               ConstVectorView<float> valid_y = {}, const ProgressFn& progress = {}) {
  return detail::train_distributed_impl<float>(comm, p, X, y, valid_X, valid_y, progress);
}

}  // namespace orchard::gbdt
