// The GBRL ensemble against references written here: brute-force best splits and a brute-force
// greedy / oblivious tree learner on small data, the published score formulas, and invariants of
// prediction (cache, tree sub-ranges, learning-rate ranges and schedules).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <orchard/gbrl.hpp>
#include <tuple>
#include <vector>

using namespace orchard;
using namespace orchard::gbrl;

namespace {

struct Data {
  RowMatrix x, g;
};

// Integer-valued features (few distinct values, so bins = values) and D-dimensional gradients.
Data make_data(index_t n, index_t nf, int d, int levels, std::uint64_t seed) {
  Rng rng(seed);
  Data s{RowMatrix(n, nf), RowMatrix(n, d)};
  for (index_t i = 0; i < n; ++i) {
    for (index_t f = 0; f < nf; ++f) s.x(i, f) = static_cast<double>(rng.uniform_int(static_cast<std::uint64_t>(levels)));
    for (int k = 0; k < d; ++k)
      s.g(i, k) = (k + 1) * (s.x(i, k % nf) > levels / 2 ? 1.0 : -0.5) + (k == 0 ? s.x(i, nf - 1) : 0) + rng.normal();
  }
  return s;
}

// The statistic the score sees: raw (cosine) or centred and scaled per column (l2).
RowMatrix transformed(const RowMatrix& g, Score s) {
  if (s == Score::cosine) return g;
  RowMatrix t = g;
  for (index_t k = 0; k < g.cols(); ++k) {
    const double mu = g.col(k).mean();
    double var = 0;
    for (index_t i = 0; i < g.rows(); ++i) var += (g(i, k) - mu) * (g(i, k) - mu);
    double sd = std::sqrt(var / static_cast<double>(g.rows()));
    if (!(sd > 0)) sd = 1;
    for (index_t i = 0; i < g.rows(); ++i) t(i, k) = (g(i, k) - mu) / sd;
  }
  return t;
}

std::vector<double> sums(const RowMatrix& t, const std::vector<index_t>& rows) {
  std::vector<double> s(static_cast<std::size_t>(t.cols()) + 1, 0.0);
  for (index_t i : rows) {
    for (index_t k = 0; k < t.cols(); ++k) s[static_cast<std::size_t>(k)] += t(i, k);
    s.back() += 1;
  }
  return s;
}

// A brute-force depth-wise learner over raw thresholds (midpoints of distinct values): at every
// node the split maximising the published score, children with >= min_data rows.
struct BruteNode {
  int feature = -1;
  double thr = 0;
  int left = -1, right = -1;
  std::vector<double> mean;  // mean raw gradient
};

int brute_grow(const Data& s, const RowMatrix& t, Score sc [[maybe_unused]], const std::vector<index_t>& rows,
               int depth, int max_depth, index_t min_data, std::vector<BruteNode>& out) {
  const int id = static_cast<int>(out.size());
  out.push_back({});
  const auto d = static_cast<int>(s.g.cols());
  std::vector<double> m(static_cast<std::size_t>(d), 0.0);
  for (index_t i : rows)
    for (int k = 0; k < d; ++k) m[static_cast<std::size_t>(k)] += s.g(i, k) / static_cast<double>(rows.size());
  out[static_cast<std::size_t>(id)].mean = m;
  if (depth >= max_depth) return id;
  const auto ps = sums(t, rows);
  const double pscore = split_score(Score::l2, ps.data(), std::vector<double>(ps.size(), 0.0).data(), d);
  double best = -1;
  int bf = -1;
  double bt = 0;
  for (index_t f = 0; f < s.x.cols(); ++f) {
    std::vector<double> vals;
    for (index_t i : rows) vals.push_back(s.x(i, f));
    std::sort(vals.begin(), vals.end());
    vals.erase(std::unique(vals.begin(), vals.end()), vals.end());
    for (std::size_t v = 0; v + 1 < vals.size(); ++v) {
      const double thr = (vals[v] + vals[v + 1]) / 2;
      std::vector<index_t> l, r;
      for (index_t i : rows) (s.x(i, f) <= thr ? l : r).push_back(i);
      if (static_cast<index_t>(l.size()) < min_data || static_cast<index_t>(r.size()) < min_data) continue;
      const auto ls = sums(t, l), rs = sums(t, r);
      // The published score (cosine = its square root) ranks splits as this gain does.
      const double gain = split_score(Score::l2, ls.data(), rs.data(), d) - pscore;
      if (gain > best + 1e-9) {
        best = gain;
        bf = static_cast<int>(f);
        bt = thr;
      }
    }
  }
  if (bf < 0 || best <= 0) return id;
  std::vector<index_t> l, r;
  for (index_t i : rows) (s.x(i, bf) <= bt ? l : r).push_back(i);
  out[static_cast<std::size_t>(id)].feature = bf;
  out[static_cast<std::size_t>(id)].thr = bt;
  const int li = brute_grow(s, t, sc, l, depth + 1, max_depth, min_data, out);
  const int ri = brute_grow(s, t, sc, r, depth + 1, max_depth, min_data, out);
  out[static_cast<std::size_t>(id)].left = li;
  out[static_cast<std::size_t>(id)].right = ri;
  return id;
}

const std::vector<double>& brute_leaf(const std::vector<BruteNode>& t, const RowMatrix& x, index_t i) {
  int n = 0;
  while (t[static_cast<std::size_t>(n)].feature >= 0) {
    const auto& q = t[static_cast<std::size_t>(n)];
    n = x(i, q.feature) <= q.thr ? q.left : q.right;
  }
  return t[static_cast<std::size_t>(n)].mean;
}

}  // namespace

TEST_CASE("one greedy tree equals a brute-force learner (cosine and l2, depths 1-3)") {
  for (Score sc : {Score::cosine, Score::l2}) {
    for (int depth = 1; depth <= 3; ++depth) {
      const Data s = make_data(60, 3, 3, 6, 10 + static_cast<std::uint64_t>(depth));
      Params p;
      p.n_outputs = 3;
      p.score = to_string(sc);
      p.max_depth = depth;
      p.min_data_in_leaf = 3;
      p.lr = {LrRange{0, -1, 0.5}};
      Ensemble e(p);
      e.step(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.g));
      std::vector<BruteNode> ref;
      std::vector<index_t> all(60);
      for (index_t i = 0; i < 60; ++i) all[static_cast<std::size_t>(i)] = i;
      brute_grow(s, transformed(s.g, sc), sc, all, 0, depth, 3, ref);
      const RowMatrix pred = e.predict(ConstMatrixView<double>(s.x));
      CHECK(e.trees()[0].num_leaves() == std::count_if(ref.begin(), ref.end(), [](const auto& q) { return q.feature < 0; }));
      CHECK(e.trees()[0].feature[0] == ref[0].feature);
      CHECK(e.trees()[0].threshold[0] == doctest::Approx(ref[0].thr));
      for (index_t i = 0; i < 60; ++i) {
        const auto& m = brute_leaf(ref, s.x, i);
        for (int k = 0; k < 3; ++k) CHECK(pred(i, k) == doctest::Approx(-0.5 * m[static_cast<std::size_t>(k)]).epsilon(1e-9));
      }
    }
  }
}

TEST_CASE("one oblivious tree equals a brute-force level-wise search") {
  const Data s = make_data(50, 3, 2, 5, 21);
  Params p;
  p.n_outputs = 2;
  p.growth = "oblivious";
  p.max_depth = 2;
  p.lr = {LrRange{0, -1, 1.0}};
  Ensemble e(p);
  e.step(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.g));
  // Brute force: level 1 and 2 splits maximising the summed score over the level's nodes.
  std::vector<std::vector<index_t>> level{{}};
  for (index_t i = 0; i < 50; ++i) level[0].push_back(i);
  std::vector<std::pair<int, double>> chosen;
  for (int l = 0; l < 2; ++l) {
    double best = -1;
    std::pair<int, double> bs{-1, 0};
    for (int f = 0; f < 3; ++f) {
      for (int v = 0; v + 1 < 5; ++v) {
        const double thr = v + 0.5;
        double total = 0;
        for (const auto& rows : level) {
          std::vector<index_t> a, b;
          for (index_t i : rows) (s.x(i, f) <= thr ? a : b).push_back(i);
          const auto as = sums(s.g, a), bs2 = sums(s.g, b);
          total += split_score(Score::l2, as.data(), bs2.data(), 2);
        }
        if (total > best + 1e-9) {
          best = total;
          bs = {f, thr};
        }
      }
    }
    chosen.push_back(bs);
    std::vector<std::vector<index_t>> next;
    for (const auto& rows : level) {
      std::vector<index_t> a, b;
      for (index_t i : rows) (s.x(i, bs.first) <= bs.second ? a : b).push_back(i);
      next.push_back(a);
      next.push_back(b);
    }
    level = next;
  }
  const RowMatrix pred = e.predict(ConstMatrixView<double>(s.x));
  const auto& t = e.trees()[0];
  CHECK(t.feature[0] == chosen[0].first);
  CHECK(t.threshold[0] == doctest::Approx(chosen[0].second));
  for (const auto& rows : level) {
    if (rows.empty()) continue;
    const auto sm = sums(s.g, rows);
    for (index_t i : rows)
      for (int k = 0; k < 2; ++k) CHECK(pred(i, k) == doctest::Approx(-sm[static_cast<std::size_t>(k)] / sm[2]).epsilon(1e-9));
  }
}

TEST_CASE("cosine score = sqrt(l2 on raw gradients) = cosine(G, leaf means) * ||G||") {
  Rng rng(5);
  const int n = 30, d = 4;
  RowMatrix g(n, d);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < d; ++k) g(i, k) = rng.normal(k * 0.3, 1.0);
  std::vector<index_t> l, r;
  for (int i = 0; i < n; ++i) (i % 3 == 0 ? l : r).push_back(i);
  const auto ls = sums(g, l), rs = sums(g, r);
  // Per-sample definition: cos between stacked gradients and stacked leaf means.
  double dot = 0, gg = 0, vv = 0;
  for (const auto* part : {&l, &r}) {
    const auto& sm = part == &l ? ls : rs;
    for (index_t i : *part)
      for (int k = 0; k < d; ++k) {
        const double v = sm[static_cast<std::size_t>(k)] / sm[d];
        dot += g(i, k) * v;
        gg += g(i, k) * g(i, k);
        vv += v * v;
      }
  }
  const double cos = dot / (std::sqrt(gg) * std::sqrt(vv));
  const double c = split_score(Score::cosine, ls.data(), rs.data(), d);
  CHECK(c == doctest::Approx(std::sqrt(split_score(Score::l2, ls.data(), rs.data(), d))).epsilon(1e-12));
  CHECK(c == doctest::Approx(cos * std::sqrt(gg)).epsilon(1e-12));
}

TEST_CASE("prediction: cache, tree sub-ranges, thread counts, learning-rate ranges and schedules") {
  const Data s = make_data(300, 4, 3, 20, 3);
  Params p;
  p.n_outputs = 3;
  p.max_depth = 5;
  p.lr = {LrRange{0, 2, 0.1}, LrRange{2, 3, 0.4, "linear", 0.1, 6}};
  p.bias = {1.0, -1.0, 0.5};
  Ensemble e(p);
  e.cache_begin(ConstMatrixView<double>(s.x));
  Rng rng(9);
  for (int t = 0; t < 8; ++t) {
    RowMatrix g = s.g;
    for (index_t i = 0; i < g.rows(); ++i) g(i, t % 3) += rng.normal();
    // Minibatch of the buffer (every other row).
    RowMatrix xb(150, 4), gb(150, 3);
    for (index_t i = 0; i < 150; ++i) {
      xb.row(i) = s.x.row(2 * i + t % 2);
      gb.row(i) = g.row(2 * i + t % 2);
    }
    e.step(ConstMatrixView<double>(xb), ConstMatrixView<double>(gb));
    const RowMatrix& c = e.cache_predict();
    const RowMatrix full = e.predict(ConstMatrixView<double>(s.x));
    CHECK((c - full).cwiseAbs().maxCoeff() < 1e-12);
  }
  e.cache_end();
  CHECK_THROWS_AS(e.cache_predict(), StateError);
  const RowMatrix all = e.predict(ConstMatrixView<double>(s.x));
  const RowMatrix a = e.predict(ConstMatrixView<double>(s.x), 0, 3);
  const RowMatrix b = e.predict(ConstMatrixView<double>(s.x), 3, -1, false);
  CHECK((a + b - all).cwiseAbs().maxCoeff() < 1e-12);
  CHECK_THROWS_AS(e.predict(ConstMatrixView<double>(s.x), 5, 3), InvalidArgument);
  CHECK_THROWS_AS(e.predict(ConstMatrixView<double>(s.x), 0, 9), InvalidArgument);
  e.set_context(Context(2));
  CHECK(e.predict(ConstMatrixView<double>(s.x)) == all);
  CHECK(e.learning_rate(0, 100) == 0.1);
  CHECK(e.learning_rate(2, 0) == 0.4);
  CHECK(e.learning_rate(2, 3) == doctest::Approx(0.25));
  CHECK(e.learning_rate(2, 60) == doctest::Approx(0.1));
  // A depth-0 tree is one leaf: prediction moves by -lr * mean gradient, per output range.
  Params q = p;
  q.max_depth = 0;
  Ensemble z(q);
  z.step(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.g));
  z.step(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.g));
  const RowMatrix pz = z.predict(ConstMatrixView<double>(s.x.topRows(1)));
  CHECK(pz(0, 0) == doctest::Approx(1.0 - 2 * 0.1 * s.g.col(0).mean()));
  CHECK(pz(0, 2) == doctest::Approx(0.5 - (0.4 + 0.35) * s.g.col(2).mean()));
}

TEST_CASE("compiled prediction (oblivious, complete, node forms) equals a walk of the trees") {
  // Features with missing values (NaN) in training and in prediction, a categorical feature,
  // shallow trees (complete and oblivious forms) and deep unbalanced ones (node form).
  Rng rng(21);
  const index_t n = 600, nf = 5;
  RowMatrix x(n, nf), g(n, 3);
  for (index_t i = 0; i < n; ++i) {
    x(i, 0) = static_cast<double>(rng.uniform_int(5));
    for (index_t f = 1; f < nf; ++f) x(i, f) = rng.normal();
    g(i, 0) = x(i, 1) + (x(i, 0) == 2 ? 1.5 : 0.0) + 0.1 * rng.normal();
    g(i, 1) = std::sin(2 * x(i, 2)) * x(i, 3) + 0.1 * rng.normal();
    g(i, 2) = rng.normal();
  }
  RowMatrix xt = x;
  for (index_t i = 0; i < n; ++i)
    for (index_t f = 1; f < nf; ++f)
      if (rng.uniform() < 0.1) xt(i, f) = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    const char* growth;
    int depth;
    index_t min_data;
    bool nan_in_training;
  };
  for (const Case c : {Case{"oblivious", 4, 1, false}, Case{"oblivious", 6, 1, true}, Case{"greedy", 4, 1, false},
                       Case{"greedy", 5, 1, true}, Case{"greedy", 14, 40, false}, Case{"greedy", 12, 5, true}}) {
    CAPTURE(c.growth);
    CAPTURE(c.depth);
    Params p;
    p.n_outputs = 3;
    p.growth = c.growth;
    p.max_depth = c.depth;
    p.min_data_in_leaf = c.min_data;
    p.categorical = {0};
    p.bias = {0.5, -0.25, 0.0};
    Ensemble e(p);
    for (int t = 0; t < 6; ++t) {
      RowMatrix gt = g;
      gt.col(t % 3) *= -1.0;
      e.step(ConstMatrixView<double>(c.nan_in_training ? xt : x), ConstMatrixView<double>(gt));
    }
    // Reference: bias + each tree's leaf values, trees in order (the same additions).
    RowMatrix ref(n, 3);
    for (index_t i = 0; i < n; ++i) {
      for (int k = 0; k < 3; ++k) ref(i, k) = p.bias[static_cast<std::size_t>(k)];
      auto row = [&](std::int32_t f) { return xt(i, f); };
      for (const auto& t : e.trees()) {
        const double* v = t.values(t.leaf(row));
        for (int k = 0; k < 3; ++k) ref(i, k) += v[k];
      }
    }
    const RowMatrix got = e.predict(ConstMatrixView<double>(xt));
    CHECK(got == ref);
    e.set_context(Context(2));
    CHECK(e.predict(ConstMatrixView<double>(xt)) == ref);
    // Blocks of every size (one row, a partial block of lanes).
    const RowMatrix top = xt.topRows(13);
    const RowMatrix few = e.predict(ConstMatrixView<double>(top));
    CHECK(few == ref.topRows(13));
  }
}

TEST_CASE("categorical codes, feature weights, min_data_in_leaf, uniform bins, deep trees") {
  Rng rng(2);
  const index_t n = 400;
  RowMatrix x(n, 3), g(n, 2);
  for (index_t i = 0; i < n; ++i) {
    x(i, 0) = static_cast<double>(rng.uniform_int(6));  // category code
    x(i, 1) = rng.normal();
    x(i, 2) = rng.normal();
    g(i, 0) = (x(i, 0) == 3 ? 2.0 : 0.0) + 0.1 * rng.normal();
    g(i, 1) = (x(i, 0) == 3 ? -1.0 : 0.0) + 0.5 * x(i, 2) + 0.1 * rng.normal();
  }
  Params p;
  p.n_outputs = 2;
  p.max_depth = 1;
  p.categorical = {0};
  Ensemble e(p);
  e.step(ConstMatrixView<double>(x), ConstMatrixView<double>(g));
  const auto& t = e.trees()[0];
  CHECK(t.feature[0] == 0);
  CHECK((t.flags[0] & tree::kCategorical) != 0);
  CHECK(t.threshold[0] == 3.0);
  // Weight 0 on the category feature: the split moves elsewhere.
  p.feature_weights = {0.0, 1.0, 1.0};
  Ensemble w(p);
  w.step(ConstMatrixView<double>(x), ConstMatrixView<double>(g));
  CHECK(w.trees()[0].feature[0] != 0);
  // min_data_in_leaf bounds every leaf's count (cover).
  Params m;
  m.n_outputs = 2;
  m.max_depth = 10;
  m.min_data_in_leaf = 25;
  Ensemble md(m);
  md.step(ConstMatrixView<double>(x), ConstMatrixView<double>(g));
  for (std::int32_t nd = 0; nd < md.trees()[0].num_nodes(); ++nd)
    if (md.trees()[0].is_leaf(nd)) CHECK(md.trees()[0].cover[static_cast<std::size_t>(nd)] >= 25);
  // Depth 10 greedy on 4000 rows.
  RowMatrix xb(4000, 3), gb(4000, 2);
  for (index_t i = 0; i < 4000; ++i) {
    for (int f = 0; f < 3; ++f) xb(i, f) = rng.normal();
    gb(i, 0) = std::sin(3 * xb(i, 0)) + xb(i, 1) * xb(i, 2);
    gb(i, 1) = rng.normal();
  }
  Params deep;
  deep.n_outputs = 2;
  deep.max_depth = 10;
  Ensemble de(deep);
  de.step(ConstMatrixView<double>(xb), ConstMatrixView<double>(gb));
  CHECK(de.trees()[0].max_depth() == 10);
  // Uniform candidates: thresholds on the equal-width grid of the batch.
  Params u;
  u.n_outputs = 2;
  u.max_depth = 3;
  u.split_candidates = "uniform";
  u.max_bin = 8;
  Ensemble ue(u);
  ue.step(ConstMatrixView<double>(xb), ConstMatrixView<double>(gb));
  const auto& ut = ue.trees()[0];
  const int f0 = ut.feature[0];
  const double lo = xb.col(f0).minCoeff(), hi = xb.col(f0).maxCoeff();
  const double pos = (ut.threshold[0] - lo) / (hi - lo) * 8;
  CHECK(pos == doctest::Approx(std::round(pos)).epsilon(1e-9));
}

TEST_CASE("supervised fit (MultiRMSE) and distillation") {
  Rng rng(8);
  const index_t n = 500;
  RowMatrix x(n, 2), y(n, 2);
  for (index_t i = 0; i < n; ++i) {
    x(i, 0) = rng.uniform(-2, 2);
    x(i, 1) = rng.uniform(-2, 2);
    y(i, 0) = std::sin(x(i, 0)) + 0.5 * x(i, 1);
    y(i, 1) = x(i, 0) * x(i, 1);
  }
  Params p;
  p.n_outputs = 2;
  p.max_depth = 4;
  p.lr = {LrRange{0, -1, 0.3}};
  Ensemble e(p);
  std::vector<double> rmse;
  e.fit(ConstMatrixView<double>(x), ConstMatrixView<double>(y), 60, [&](const FitProgress& f) {
    rmse.push_back(f.rmse);
    return true;
  });
  CHECK(e.num_trees() == 60);
  const RowMatrix pr = e.predict(ConstMatrixView<double>(x));
  const double final_rmse = std::sqrt((pr - y).squaredNorm() / static_cast<double>(y.size()));
  CHECK(final_rmse < 0.25 * rmse.front());
  for (std::size_t i = 1; i < rmse.size(); ++i) CHECK(rmse[i] <= rmse[i - 1] + 1e-12);
  Params sp = p;
  sp.max_depth = 3;
  const Ensemble st = e.distill(ConstMatrixView<double>(x), sp, 20);
  CHECK(st.num_trees() == 20);
  const RowMatrix ps = st.predict(ConstMatrixView<double>(x));
  const double gap = std::sqrt((ps - pr).squaredNorm() / static_cast<double>(y.size()));
  CHECK(gap < 0.5 * rmse.front());
}

TEST_CASE("bad input throws with the argument named") {
  const Data s = make_data(20, 2, 2, 4, 1);
  Params p;
  p.n_outputs = 2;
  Ensemble e(p);
  RowMatrix g3(20, 3), g19(19, 2);
  g3.setZero();
  g19.setZero();
  CHECK_THROWS_AS(e.step(ConstMatrixView<double>(s.x), ConstMatrixView<double>(g3)), InvalidArgument);
  CHECK_THROWS_AS(e.step(ConstMatrixView<double>(s.x), ConstMatrixView<double>(g19)), InvalidArgument);
  RowMatrix gn = s.g;
  gn(3, 1) = std::nan("");
  CHECK_THROWS_WITH_AS(e.step(ConstMatrixView<double>(s.x), ConstMatrixView<double>(gn)),
                       doctest::Contains("grads(3,1)"), InvalidArgument);
  e.step(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.g));
  RowMatrix x3(20, 3);
  x3.setZero();
  CHECK_THROWS_AS(e.predict(ConstMatrixView<double>(x3)), InvalidArgument);
  RowMatrix xi = s.x;
  xi(0, 0) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(e.step(ConstMatrixView<double>(xi), ConstMatrixView<double>(s.g)), InvalidArgument);
  auto bad = [](auto edit) {
    Params q;
    q.n_outputs = 3;
    edit(q);
    return Ensemble(q);
  };
  CHECK_THROWS_WITH_AS(bad([](Params& q) { q.lr = {LrRange{0, 2, 0.1}, LrRange{1, 3, 0.1}}; }),
                       doctest::Contains("overlaps"), InvalidArgument);
  CHECK_THROWS_AS(bad([](Params& q) { q.lr = {LrRange{0, 4, 0.1}}; }), InvalidArgument);
  CHECK_THROWS_AS(bad([](Params& q) { q.lr = {LrRange{0, 2, 0.1}}; }), InvalidArgument);
  CHECK_THROWS_AS(bad([](Params& q) { q.lr = {LrRange{0, 3, 0.1, "cosine"}}; }), InvalidArgument);
  CHECK_THROWS_AS(bad([](Params& q) { q.score = "gini"; }), InvalidArgument);
  CHECK_THROWS_AS(bad([](Params& q) { q.growth = "leafy"; }), InvalidArgument);
  CHECK_THROWS_AS(bad([](Params& q) { q.split_candidates = "random"; }), InvalidArgument);
  CHECK_THROWS_AS(bad([](Params& q) { q.max_depth = 31; }), InvalidArgument);
  CHECK_THROWS_AS(bad([](Params& q) { q.bias = {1.0}; }), InvalidArgument);
  CHECK_THROWS_AS(bad([](Params& q) { q.n_outputs = 0; }), InvalidArgument);
  Params c;
  c.n_outputs = 2;
  c.categorical = {0};
  Ensemble ce(c);
  RowMatrix xc = s.x;
  xc(0, 0) = 0.5;  // not an integer code
  CHECK_THROWS_AS(ce.step(ConstMatrixView<double>(xc), ConstMatrixView<double>(s.g)), InvalidArgument);
  // A CUDA context without <orchard/gbrl/cuda.hpp> linked in (this CPU-only program): fit and
  // prediction say so instead of silently running on the CPU.
  Ensemble ge(p, Context(1, Device::cuda));
  CHECK_THROWS_AS(ge.step(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.g)), DeviceError);
  Ensemble ok(p);
  ok.step(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.g));
  ok.set_context(Context(1, Device::cuda));
  CHECK_THROWS_AS(ok.predict(ConstMatrixView<double>(s.x)), DeviceError);
}

TEST_CASE("trees are bit-identical for 1 and N threads (sorted-row and histogram engine paths)") {
  // 900 x 40 (rows few next to the bins: sorted rows, parallel scans) and 6000 x 3 (histograms).
  for (const auto& [n, nf, d] : {std::tuple<index_t, index_t, int>{900, 40, 7}, {6000, 3, 2}}) {
    const Data s = make_data(n, nf, d, 300, 77);
    for (const char* growth : {"greedy", "oblivious"}) {
      for (Score sc : {Score::cosine, Score::l2}) {
        Params p;
        p.n_outputs = d;
        p.growth = growth;
        p.score = to_string(sc);
        p.max_depth = 5;
        Ensemble one(p, Context(1)), many(p, Context(3));
        for (int t = 0; t < 2; ++t) {
          one.step(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.g));
          many.step(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.g));
        }
        for (std::size_t t = 0; t < 2; ++t) {
          CHECK(one.trees()[t].feature == many.trees()[t].feature);
          CHECK(one.trees()[t].threshold == many.trees()[t].threshold);
          CHECK(one.trees()[t].value == many.trees()[t].value);
          CHECK(one.trees()[t].gain == many.trees()[t].gain);
        }
        CHECK(one.trees()[0].num_leaves() > 8);
      }
    }
  }
}
