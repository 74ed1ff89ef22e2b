// The shared interface: self() is the diagonal of local() on the training rows, top_k() equals
// sorting local(), results do not depend on the thread count, bad input gives clear errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "common.hpp"

using namespace itest;
namespace inf = orchard::influence;

namespace {
const char* kLocalMethods[] = {"boostin", "boostin_w1", "boostin_w2", "leaf_influence_sp", "leaf_influence",
                               "leaf_refit", "trex", "tree_sim", "leaf_sim", "input_sim", "loo", "target",
                               "random", "subsample"};
bool self_is_diagonal(const std::string& m) { return m != "target" && m != "random" && m != "subsample"; }
}  // namespace

TEST_CASE("self() is the diagonal of local() on the training rows") {
  for (int kind = 0; kind < 3; ++kind) {
    const Data tr = make_data(40, 3, kind, 201 + kind);
    const auto tp = train_params(kind, 3, 2);
    const auto m = train(tr, tp);
    for (const char* name : kLocalMethods) {
      if (!self_is_diagonal(name)) continue;
      CAPTURE(kind);
      CAPTURE(name);
      auto ex = inf::make(name, m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp, 2));
      const Eigen::MatrixXd L = ex.local(orchard::cview<double>(tr.X), vview(tr.y));
      const Eigen::VectorXd s = ex.self();
      REQUIRE(s.size() == 40);
      const Eigen::VectorXd d = L.diagonal();
      CHECK(max_abs(s - d) <= 1e-10 * (1 + max_abs(d)));
    }
  }
}

TEST_CASE("top_k equals sorting the full matrix; results are thread-count invariant") {
  for (int kind = 0; kind < 3; ++kind) {
    const Data tr = make_data(50, 3, kind, 301 + kind), te = make_data(7, 3, kind, 311 + kind);
    const auto tp = train_params(kind, 3, 2);
    const auto m = train(tr, tp);
    for (const char* name : kLocalMethods) {
      CAPTURE(kind);
      CAPTURE(name);
      auto p1 = iparams(tp, 1);
      p1.subsample_models = 12;
      auto p3 = p1;
      p3.threads = 3;
      auto e1 = inf::make(name, m, orchard::cview<double>(tr.X), vview(tr.y), p1);
      auto e3 = inf::make(name, m, orchard::cview<double>(tr.X), vview(tr.y), p3);
      const Eigen::MatrixXd L1 = e1.local(orchard::cview<double>(te.X), vview(te.y));
      const Eigen::MatrixXd L3 = e3.local(orchard::cview<double>(te.X), vview(te.y));
      CHECK((L1.array() == L3.array()).all());
      const Eigen::VectorXd s1 = e1.self(), s3 = e3.self();
      CHECK((s1.array() == s3.array()).all());
      const int k = 6;
      const auto tk = e3.top_k(orchard::cview<double>(te.X), vview(te.y), k);
      REQUIRE(tk.helpful_index.rows() == 7);
      REQUIRE(tk.helpful_index.cols() == k);
      bool ok = true;
      for (int e = 0; e < 7; ++e) {
        std::vector<long> idx(50);
        std::iota(idx.begin(), idx.end(), 0);
        auto col = L1.col(e);
        std::stable_sort(idx.begin(), idx.end(), [&](long a, long b) { return col[a] > col[b]; });
        for (int j = 0; j < k; ++j) ok = ok && tk.helpful_index(e, j) == idx[j] && tk.helpful_value(e, j) == col[idx[j]];
        std::stable_sort(idx.begin(), idx.end(), [&](long a, long b) { return col[a] < col[b]; });
        for (int j = 0; j < k; ++j) ok = ok && tk.harmful_index(e, j) == idx[j] && tk.harmful_value(e, j) == col[idx[j]];
      }
      CHECK(ok);
    }
  }
}

TEST_CASE("bad input gives clear orchard errors") {
  const Data tr = make_data(40, 3, 1, 401), te = make_data(5, 3, 1, 402);
  const auto tp = train_params(1, 3, 2);
  const auto m = train(tr, tp);
  const auto p = iparams(tp);
  const auto X = orchard::cview<double>(tr.X);
  CHECK_THROWS_WITH_AS(inf::make("boostinn", m, X, vview(tr.y), p), doctest::Contains("unknown influence method"),
                       orchard::InvalidArgument);
  auto pk = p;
  pk.kernel = "rbf";
  CHECK_THROWS_WITH_AS(inf::make("trex", m, X, vview(tr.y), pk), doctest::Contains("kernel"), orchard::InvalidArgument);
  pk = p;
  pk.measure = "manhattan";
  CHECK_THROWS_WITH_AS(inf::make("input_sim", m, X, vview(tr.y), pk), doctest::Contains("measure"), orchard::InvalidArgument);
  pk = p;
  pk.target = "soft";
  CHECK_THROWS_WITH_AS(inf::make("trex", m, X, vview(tr.y), pk), doctest::Contains("target"), orchard::InvalidArgument);
  Eigen::VectorXd ybad = tr.y;
  ybad[3] = 2;
  CHECK_THROWS_WITH_AS(inf::make("boostin", m, X, vview(ybad), p), doctest::Contains("y_train[3]"), orchard::InvalidArgument);
  auto ex = inf::make("boostin", m, X, vview(tr.y), p);
  RowMatrix Xw(5, 4);
  Xw.setZero();
  CHECK_THROWS_WITH_AS(ex.local(orchard::cview<double>(Xw), vview(te.y)), doctest::Contains("X_test.cols"),
                       orchard::InvalidArgument);
  Eigen::VectorXd yt = te.y;
  yt[1] = 0.5;
  CHECK_THROWS_WITH_AS(ex.local(orchard::cview<double>(te.X), vview(yt)), doctest::Contains("y_test[1]"),
                       orchard::InvalidArgument);
  Eigen::VectorXd yshort = te.y.head(4);
  CHECK_THROWS_AS(ex.local(orchard::cview<double>(te.X), vview(yshort)), orchard::InvalidArgument);
  CHECK_THROWS_WITH_AS(ex.top_k(orchard::cview<double>(te.X), vview(te.y), 0), doctest::Contains("'k'"),
                       orchard::InvalidArgument);
  CHECK_THROWS_WITH_AS(ex.top_k(orchard::cview<double>(te.X), vview(te.y), 41), doctest::Contains("'k'"),
                       orchard::InvalidArgument);
  // multiclass: a label outside the model's classes
  const Data tr3 = make_data(40, 3, 2, 403);
  const auto m3 = train(tr3, train_params(2, 2, 2));
  auto ex3 = inf::make("leaf_sim", m3, orchard::cview<double>(tr3.X), vview(tr3.y), p);
  Eigen::VectorXd y3 = tr3.y.head(5);
  y3[2] = 3;
  CHECK_THROWS_WITH_AS(ex3.local(orchard::cview<double>(tr3.X.topRows(5)), vview(y3)), doctest::Contains("not a class"),
                       orchard::InvalidArgument);
  // Newton check: a model trained on half the rows per round has no Newton leaves on all rows
  auto ts = tp;
  ts.subsample = 0.5;
  const auto ms = train(tr, ts);
  CHECK_THROWS_WITH_AS(inf::make("leaf_influence", ms, X, vview(tr.y), p), doctest::Contains("Newton"),
                       orchard::InvalidArgument);
  CHECK_NOTHROW(inf::make("boostin", ms, X, vview(tr.y), p));
  // LOO with parameters that do not reproduce the model
  auto pl = p;
  pl.train.learning_rate = 0.1;
  CHECK_THROWS_WITH_AS(inf::make("loo", m, X, vview(tr.y), pl), doctest::Contains("does not reproduce"),
                       orchard::InvalidArgument);
}
