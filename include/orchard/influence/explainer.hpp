#pragma once
// The one interface of every influence method:
//   auto ex = orchard::influence::make("boostin", model, X_train, y_train, params);
//   Eigen::MatrixXd I = ex.local(X_test, y_test);   // n_train x n_test, positive = helpful
//   Eigen::VectorXd s = ex.self();                  // self-influence of every training row
//   TopK tk = ex.top_k(X_test, y_test, k);          // k most helpful / harmful rows per test row
// A method computes either one test column at a time (BoostIn, TREX, similarities: cost per test
// row ~ n*T/leaves through the inverted index) or one training row at a time (LeafInfluence,
// LeafRefit, LOO, SubSample); local() and top_k() run either kind in parallel with results that
// do not depend on the thread count, and top_k() never holds the n_train x n_test matrix.
#include <Eigen/Dense>
#include <algorithm>
#include <cstdint>
#include <chrono>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "params.hpp"
#include "structure.hpp"
#include "tiles.hpp"

namespace orchard::influence {

namespace detail {

class Method {
 public:
  Method(std::string name, std::shared_ptr<const Structure> s) : name_(std::move(name)), s_(std::move(s)) {}
  virtual ~Method() = default;
  Method(const Method&) = delete;
  Method& operator=(const Method&) = delete;

  const std::string& name() const { return name_; }
  const Structure& structure() const { return *s_; }

  /// True: column() gives the influence of all training rows on one test row.
  /// False: row() gives the influence of one training row on all test rows.
  virtual bool by_test() const { return true; }
  virtual bool has_local() const { return true; }
  virtual bool needs_test_gradients() const { return false; }
  virtual std::shared_ptr<TestSet> prepare(ConstMatrixView<double> X, ConstVectorView<double> y) const {
    return s_->prepare(X, y, needs_test_gradients());
  }
  /// out[0..n_train): influence of every training row on test row e.
  virtual void column(const TestSet&, index_t, double*) const {
    throw StateError("orchard: influence method '" + name_ + "' has no column evaluation");
  }
  /// Tiled methods: influence(i, e) = sum_t 1[leaf_t(i) = leaf_t(e)] val[i T + t] coef(e, t) with
  /// val (n x T, row-major) returned here and coef from tile_coef(); nullptr: not tiled.
  virtual const double* tile_values() const { return nullptr; }
  virtual double tile_coef(const TestSet&, index_t, index_t) const { return 0.0; }
  /// Columns e0..e1-1 at out + (e - e0) * ld; methods override it to share work between test rows.
  virtual void columns(const TestSet& ts, index_t e0, index_t e1, double* out, index_t ld) const;
  /// out[0..m): influence of training row r on every test row.
  virtual void row(const TestSet&, index_t, double*) const {
    throw StateError("orchard: influence method '" + name_ + "' has no row evaluation");
  }
  virtual Eigen::VectorXd self() const = 0;

 protected:
  std::string name_;
  std::shared_ptr<const Structure> s_;
};

/// The tile of test rows [e0, e0 + width) (width <= W) with its table Gm (see tiles.hpp).
inline Tile make_tile(const Method& m, const TestSet& ts, index_t e0, index_t W, index_t width) {
  const index_t T = m.structure().trees();
  return build_tile(
      m.structure(), e0, W, width,
      [&](index_t q, index_t t) { return static_cast<index_t>(ts.leaf[static_cast<std::size_t>((e0 + q) * T + t)]); },
      [&](index_t q, index_t t) { return m.tile_coef(ts, e0 + q, t); });
}

inline void Method::columns(const TestSet& ts, index_t e0, index_t e1, double* out, index_t ld) const {
  if (const auto* val = tile_values()) {
    for (const auto& [a, W] : tile_plan(e1 - e0)) {
      const Tile tile = make_tile(*this, ts, e0 + a, W, std::min(W, e1 - e0 - a));
      tile_rows(*s_, val, tile, 0, s_->n(), out + a * ld, ld);
    }
    return;
  }
  for (index_t e = e0; e < e1; ++e) column(ts, e, out + (e - e0) * ld);
}

/// Training rows per parallel block of the tiled kernel.
inline constexpr index_t kTileRowBlock = 512;

/// Tiled local(): tiles in groups (their tables built in parallel), training rows in parallel
/// within a group.
inline void tiled_local(const Method& m, const TestSet& ts, double* out, index_t ld) {
  const Structure& st = m.structure();
  const double* val = m.tile_values();
  const auto plan = tile_plan(ts.m);
  const std::size_t group = 8;
  for (std::size_t g0 = 0; g0 < plan.size(); g0 += group) {
    const std::size_t g1 = std::min(plan.size(), g0 + group);
    std::vector<Tile> tiles(g1 - g0);
    parallel_for(st.ctx(), static_cast<std::int64_t>(g1 - g0), [&](std::int64_t k) {
      const auto [e0, W] = plan[g0 + static_cast<std::size_t>(k)];
      tiles[static_cast<std::size_t>(k)] = make_tile(m, ts, e0, W, std::min(W, ts.m - e0));
    });
    parallel_blocks(st.ctx(), st.n(), kTileRowBlock, [&](std::int64_t, std::int64_t i0, std::int64_t i1) {
      for (const auto& tile : tiles) tile_rows(st, val, tile, i0, i1, out + tile.e0 * ld, ld);
    });
  }
}

struct Candidate {
  double v;
  index_t i;
};
// Total orders (ties to the smaller index) make the selected sets independent of merge order.
inline bool more_helpful(const Candidate& a, const Candidate& b) {
  return a.v > b.v || (a.v == b.v && a.i < b.i);
}
inline bool more_harmful(const Candidate& a, const Candidate& b) {
  return a.v < b.v || (a.v == b.v && a.i < b.i);
}

inline void keep_best(std::vector<Candidate>& c, index_t k, bool helpful) {
  const auto kk = std::min<std::size_t>(static_cast<std::size_t>(k), c.size());
  if (helpful) {
    std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(kk), c.end(), more_helpful);
  } else {
    std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(kk), c.end(), more_harmful);
  }
  c.resize(kk);
}

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

inline void report(const ProgressFn& fn, std::int64_t done, std::int64_t total, const Stopwatch& sw,
                   const std::string& stage) {
  if (!fn) return;
  Progress p;
  p.done = done;
  p.total = total;
  p.seconds = sw.seconds();
  p.stage = stage;
  if (!fn(p)) throw StateError("orchard: influence computation '" + stage + "' stopped by the progress callback");
}

}  // namespace detail

class Explainer {
 public:
  /// Test rows evaluated together (they share passes over the inverted index).
  static constexpr index_t kTestBlock = 16;

  Explainer() = default;
  Explainer(std::shared_ptr<const detail::Method> m, ProgressFn progress)
      : m_(std::move(m)), progress_(std::move(progress)) {}

  const std::string& name() const { return method().name(); }
  index_t n_train() const { return method().structure().n(); }
  /// Boosting constants in use (given or recovered from the leaves).
  double learning_rate() const { return method().structure().learning_rate(); }
  double lambda_l2() const { return method().structure().lambda_l2(); }
  double newton_residual() const { return method().structure().newton_residual(); }

  /// Influence of every training row on the loss of every test row: n_train x n_test; positive =
  /// helpful (removing the row would raise the test loss). Multiclass: summed over classes.
  Eigen::MatrixXd local(ConstMatrixView<double> X_test, ConstVectorView<double> y_test) const {
    const auto& m = method();
    require_local(m);
    const auto ts = m.prepare(X_test, y_test);
    const Structure& s = m.structure();
    const index_t n = s.n(), nt = ts->m;
    Eigen::MatrixXd out(n, nt);
    advise_huge_pages(out.data(), static_cast<std::size_t>(out.size()) * sizeof(double));
    detail::Stopwatch sw;
    if (m.tile_values() != nullptr) {
      detail::tiled_local(m, *ts, out.data(), n);
    } else if (m.by_test()) {
      parallel_blocks(s.ctx(), nt, kTestBlock, [&](std::int64_t, std::int64_t e0, std::int64_t e1) {
        m.columns(*ts, e0, e1, out.col(e0).data(), n);
      });
    } else {
      const index_t chunk = std::max<index_t>(16, 4 * s.ctx().threads());
      for (index_t r0 = 0; r0 < n; r0 += chunk) {
        const index_t r1 = std::min(n, r0 + chunk);
        parallel_for_dynamic(s.ctx(), r1 - r0, [&](std::int64_t q) {
          std::vector<double> buf(static_cast<std::size_t>(nt));
          m.row(*ts, r0 + q, buf.data());
          for (index_t e = 0; e < nt; ++e) out(r0 + q, e) = buf[static_cast<std::size_t>(e)];
        });
        detail::report(progress_, r1, n, sw, m.name() + " local");
      }
    }
    return out;
  }
  Eigen::MatrixXd local(ConstMatrixView<float> X_test, ConstVectorView<float> y_test) const {
    const auto [X, y] = to_double(X_test, y_test);
    return local(cview<double>(X), ConstVectorView<double>(y.data(), y.size()));
  }

  /// Self-influence of every training row (closed form O(n T) where one exists).
  Eigen::VectorXd self() const { return method().self(); }

  /// The k most helpful and k most harmful training rows of every test row, without forming the
  /// n_train x n_test matrix. 1 <= k <= n_train.
  TopK top_k(ConstMatrixView<double> X_test, ConstVectorView<double> y_test, index_t k) const {
    const auto& m = method();
    require_local(m);
    const Structure& s = m.structure();
    const index_t n = s.n();
    require(k >= 1 && k <= n, "k", k, "must lie in [1, n_train = " + std::to_string(n) + "]");
    const auto ts = m.prepare(X_test, y_test);
    const index_t nt = ts->m;
    std::vector<std::vector<detail::Candidate>> best(static_cast<std::size_t>(nt)), worst(best.size());
    detail::Stopwatch sw;
    if (m.tile_values() != nullptr) {
      // one tile of test rows at a time: training rows in parallel, then the selection per test row
      std::vector<double> cols;
      for (const auto& step : detail::tile_plan(nt)) {
        // named copies: clang 14 lacks C++20 lambda capture of structured bindings
        const index_t e0 = step.first, W = step.second;
        const index_t e1 = std::min(nt, e0 + W);
        const detail::Tile tile = detail::make_tile(m, *ts, e0, W, e1 - e0);
        cols.resize(static_cast<std::size_t>((e1 - e0) * n));
        parallel_blocks(s.ctx(), n, detail::kTileRowBlock, [&](std::int64_t, std::int64_t i0, std::int64_t i1) {
          detail::tile_rows(s, m.tile_values(), tile, i0, i1, cols.data(), n);
        });
        parallel_for(s.ctx(), e1 - e0, [&](std::int64_t q) {
          std::vector<detail::Candidate> c(static_cast<std::size_t>(n));
          const double* col = cols.data() + q * n;
          for (index_t i = 0; i < n; ++i) c[static_cast<std::size_t>(i)] = {col[i], i};
          auto w = c;
          detail::keep_best(c, k, true);
          best[static_cast<std::size_t>(e0 + q)] = std::move(c);
          detail::keep_best(w, k, false);
          worst[static_cast<std::size_t>(e0 + q)] = std::move(w);
        });
        detail::report(progress_, e1, nt, sw, m.name() + " top_k");
      }
    } else if (m.by_test()) {
      parallel_blocks(s.ctx(), nt, kTestBlock, [&](std::int64_t, std::int64_t e0, std::int64_t e1) {
        std::vector<double> cols(static_cast<std::size_t>((e1 - e0) * n));
        std::vector<detail::Candidate> c(static_cast<std::size_t>(n));
        m.columns(*ts, e0, e1, cols.data(), n);
        for (std::int64_t e = e0; e < e1; ++e) {
          const double* col = cols.data() + (e - e0) * n;
          for (index_t i = 0; i < n; ++i) c[static_cast<std::size_t>(i)] = {col[i], i};
          auto b = c;
          detail::keep_best(b, k, true);
          best[static_cast<std::size_t>(e)] = std::move(b);
          auto w = c;
          detail::keep_best(w, k, false);
          worst[static_cast<std::size_t>(e)] = std::move(w);
        }
      });
    } else {
      const index_t chunk = std::max<index_t>(64, 8 * s.ctx().threads());
      std::vector<double> buf;
      for (index_t r0 = 0; r0 < n; r0 += chunk) {
        const index_t r1 = std::min(n, r0 + chunk);
        buf.assign(static_cast<std::size_t>((r1 - r0) * nt), 0.0);
        parallel_for_dynamic(s.ctx(), r1 - r0, [&](std::int64_t q) {
          m.row(*ts, r0 + q, buf.data() + q * nt);
        });
        parallel_for(s.ctx(), nt, [&](std::int64_t e) {
          auto& b = best[static_cast<std::size_t>(e)];
          auto& w = worst[static_cast<std::size_t>(e)];
          for (index_t r = r0; r < r1; ++r) {
            const detail::Candidate c{buf[static_cast<std::size_t>((r - r0) * nt + e)], r};
            b.push_back(c);
            w.push_back(c);
          }
          detail::keep_best(b, k, true);
          detail::keep_best(w, k, false);
        });
        detail::report(progress_, r1, n, sw, m.name() + " top_k");
      }
    }
    TopK out;
    out.helpful_index.resize(nt, k);
    out.helpful_value.resize(nt, k);
    out.harmful_index.resize(nt, k);
    out.harmful_value.resize(nt, k);
    for (index_t e = 0; e < nt; ++e) {
      for (index_t j = 0; j < k; ++j) {
        const auto& b = best[static_cast<std::size_t>(e)][static_cast<std::size_t>(j)];
        const auto& w = worst[static_cast<std::size_t>(e)][static_cast<std::size_t>(j)];
        out.helpful_index(e, j) = b.i;
        out.helpful_value(e, j) = b.v;
        out.harmful_index(e, j) = w.i;
        out.harmful_value(e, j) = w.v;
      }
    }
    return out;
  }
  TopK top_k(ConstMatrixView<float> X_test, ConstVectorView<float> y_test, index_t k) const {
    const auto [X, y] = to_double(X_test, y_test);
    return top_k(cview<double>(X), ConstVectorView<double>(y.data(), y.size()), k);
  }

  const detail::Method& method() const {
    if (!m_) throw StateError("orchard: influence explainer used before make()");
    return *m_;
  }

 private:
  static void require_local(const detail::Method& m) {
    if (!m.has_local()) {
      throw InvalidArgument("orchard: influence method '" + m.name() +
                            "' has only self-influence (self()); use another method for local()/top_k()");
    }
  }
  static std::pair<detail::RowMatrix, Eigen::VectorXd> to_double(ConstMatrixView<float> X,
                                                                 ConstVectorView<float> y) {
    detail::RowMatrix Xd(X.rows, X.cols);
    for (index_t i = 0; i < X.rows; ++i) {
      for (index_t j = 0; j < X.cols; ++j) Xd(i, j) = X(i, j);
    }
    Eigen::VectorXd yd(y.size);
    for (index_t i = 0; i < y.size; ++i) yd[i] = y[i];
    return {std::move(Xd), std::move(yd)};
  }

  std::shared_ptr<const detail::Method> m_;
  ProgressFn progress_;
};

}  // namespace orchard::influence
