// SHAP against brute-force Shapley values and the sum rule; save / load / continue training
// against uninterrupted training; corrupted model files.
#include <doctest/doctest.h>

#include <fstream>
#include <orchard/gbrl.hpp>
#include <vector>

#include "orchard_test.hpp"

using namespace orchard;
using namespace orchard::gbrl;

namespace {
struct Set {
  RowMatrix x, y;
};
Set make(index_t n, std::uint64_t seed) {
  Rng rng(seed);
  Set s{RowMatrix(n, 3), RowMatrix(n, 2)};
  for (index_t i = 0; i < n; ++i) {
    for (int f = 0; f < 3; ++f) s.x(i, f) = rng.uniform(-1, 1);
    if (i % 7 == 0) s.x(i, 1) = std::nan("");
    const double x1 = std::isnan(s.x(i, 1)) ? 0.3 : s.x(i, 1);
    s.y(i, 0) = s.x(i, 0) + x1 * s.x(i, 2);
    s.y(i, 1) = std::abs(s.x(i, 2)) - x1;
  }
  return s;
}

// E[f(x) | x_S] of one tree, features outside S averaged with the node covers.
double cond_exp(const tree::Tree& t, std::int32_t nd, const RowMatrix& x, index_t i, unsigned s, int k) {
  if (t.is_leaf(nd)) return t.values(nd)[k];
  const auto u = static_cast<std::size_t>(nd);
  const int f = t.feature[u];
  if (s & (1u << f)) return cond_exp(t, t.goes_left(nd, x(i, f)) ? t.left[u] : t.right[u], x, i, s, k);
  const double c = t.cover[u];  // empty nodes (oblivious trees) split their weight evenly
  const double wl = c > 0 ? t.cover[static_cast<std::size_t>(t.left[u])] / c : 0.5;
  const double wr = c > 0 ? t.cover[static_cast<std::size_t>(t.right[u])] / c : 0.5;
  return wl * cond_exp(t, t.left[u], x, i, s, k) + wr * cond_exp(t, t.right[u], x, i, s, k);
}
}  // namespace

TEST_CASE("TreeSHAP equals brute-force Shapley values and sums to the prediction") {
  const Set s = make(300, 1);
  for (const char* growth : {"greedy", "oblivious"}) {
    Params p;
    p.n_outputs = 2;
    p.max_depth = 4;
    p.growth = growth;
    p.lr = {LrRange{0, -1, 0.5}};
    Ensemble e(p);
    e.fit(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.y), 6);
    const RowMatrix xs = s.x.topRows(15);
    const auto phi = shap_values(e, ConstMatrixView<double>(xs));
    const RowMatrix pred = e.predict(ConstMatrixView<double>(xs));
    const double fact[4] = {1, 1, 2, 6};
    for (index_t i = 0; i < xs.rows(); ++i) {
      for (int k = 0; k < 2; ++k) {
        const auto& m = phi[static_cast<std::size_t>(k)];
        CHECK(m.row(i).sum() == doctest::Approx(pred(i, k)).epsilon(1e-10));
        for (int f = 0; f < 3; ++f) {
          double ref = 0;
          for (unsigned sub = 0; sub < 8; ++sub) {
            if (sub & (1u << f)) continue;
            const int sz = __builtin_popcount(sub);
            const double w = fact[sz] * fact[3 - sz - 1] / fact[3];
            for (const auto& t : e.trees())
              ref += w * (cond_exp(t, 0, xs, i, sub | (1u << f), k) - cond_exp(t, 0, xs, i, sub, k));
          }
          CHECK(m(i, f) == doctest::Approx(ref).epsilon(1e-9).scale(1e-9));
        }
      }
    }
  }
}

TEST_CASE("save, load, continue training equals uninterrupted training") {
  const Set s = make(400, 2);
  orchard_test::TempDir dir("gbrl_io");
  for (bool persistent : {false, true}) {
    for (const char* growth : {"greedy", "oblivious"}) {
      Params p;
      p.n_outputs = 2;
      p.max_depth = 3;
      p.growth = growth;
      p.score = "l2";
      p.persistent_bins = persistent;
      p.lr = {LrRange{0, 1, 0.2}, LrRange{1, 2, 0.3, "linear", 0.05, 8}};
      Ensemble full(p), half(p);
      full.fit(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.y), 10);
      half.fit(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.y), 5);
      const auto path = (dir / "m.json").string();
      half.save(path);
      Ensemble back = Ensemble::load(path);
      CHECK(back.predict(ConstMatrixView<double>(s.x)) == half.predict(ConstMatrixView<double>(s.x)));
      back.fit(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.y), 5);
      CHECK(back.num_trees() == 10);
      CHECK(back.predict(ConstMatrixView<double>(s.x)) == full.predict(ConstMatrixView<double>(s.x)));
    }
  }
}

TEST_CASE("corrupted, truncated or foreign model files throw") {
  const Set s = make(100, 3);
  Params p;
  p.n_outputs = 2;
  Ensemble e(p);
  e.fit(ConstMatrixView<double>(s.x), ConstMatrixView<double>(s.y), 3);
  orchard_test::TempDir dir("gbrl_bad");
  const std::string text = e.to_json().dump();
  auto write = [&](const std::string& name, const std::string& content) {
    const auto path = (dir / name).string();
    std::ofstream(path) << content;
    return path;
  };
  CHECK_THROWS_AS(Ensemble::load(write("trunc.json", text.substr(0, text.size() / 2))), ParseError);
  CHECK_THROWS_AS(Ensemble::load(write("empty.json", "")), ParseError);
  CHECK_THROWS_AS(Ensemble::load((dir / "missing.json").string()), IoError);
  auto edited = [&](auto edit) {
    nlohmann::json j = e.to_json();
    edit(j);
    return write("edit.json", j.dump());
  };
  CHECK_THROWS_AS(Ensemble::load(edited([](nlohmann::json& j) { j["version"] = 99; })), FormatError);
  CHECK_THROWS_AS(Ensemble::load(edited([](nlohmann::json& j) { j["format"] = "xgboost"; })), FormatError);
  CHECK_THROWS_AS(Ensemble::load(edited([](nlohmann::json& j) { j["trees"][0]["left"][0] = 0; })), FormatError);
  CHECK_THROWS_AS(Ensemble::load(edited([](nlohmann::json& j) { j["trees"][1]["feature"][0] = 17; })), FormatError);
  CHECK_THROWS_AS(Ensemble::load(edited([](nlohmann::json& j) { j["bias"] = {1.0}; })), FormatError);
  CHECK_THROWS_AS(Ensemble::load(edited([](nlohmann::json& j) { j["tree_lr"].erase(0); })), FormatError);
  CHECK_THROWS_AS(Ensemble::load(edited([](nlohmann::json& j) { j["params"]["score"] = "gini"; })), FormatError);
  CHECK_THROWS_AS(Ensemble::load(edited([](nlohmann::json& j) { j["trees"][0]["value"] = "x"; })), FormatError);
  CHECK_THROWS_AS(Ensemble::load(edited([](nlohmann::json& j) { j.erase("params"); })), FormatError);
}

TEST_CASE("the docs/gbrl.md usage example runs") {
  orchard_test::TempDir dir("gbrl_doc");
  const std::string path = (dir / "model.json").string();
  // ---- begin docs/gbrl.md example
  gbrl::Params p;
  p.n_outputs = 2;                   // e.g. one policy mean and one value
  p.max_depth = 4;
  p.score = "cosine";
  p.lr = {gbrl::LrRange{0, 1, 0.1}, gbrl::LrRange{1, 2, 0.05, "linear", 0.01, 500}};
  gbrl::Ensemble e(p);
  gbrl::RowMatrix X = gbrl::RowMatrix::Random(256, 8);
  gbrl::RowMatrix G = gbrl::RowMatrix::Random(256, 2);  // dLoss/dOutputs of your loss
  e.step(X, G);                                         // grows one tree
  gbrl::RowMatrix out = e.predict(X);                   // bias - lr * leaf(x)
  auto phi = gbrl::shap_values(e, X);                   // per output: N x (features + 1)
  e.save(path);
  gbrl::Ensemble back = gbrl::Ensemble::load(path);     // continue with back.step(...)
  // ---- end docs/gbrl.md example
  CHECK(back.predict(X) == out);
  CHECK(phi[1].row(0).sum() == doctest::Approx(out(0, 1)));
}
