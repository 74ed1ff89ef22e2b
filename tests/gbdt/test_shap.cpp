// TreeSHAP: local accuracy (contributions + expected value == raw margin) and equality with
// brute-force Shapley values of the same path-dependent value function on small trees.
#include <doctest/doctest.h>

#include <cmath>
#include <orchard/gbdt.hpp>
#include <vector>

#include "synth.hpp"

using namespace orchard;

namespace {
// v(S): expected tree output when features in S are known (follow x), others averaged by cover.
double cond_value(const tree::Tree& t, std::int32_t node, const std::vector<double>& x, unsigned S) {
  const auto k = static_cast<std::size_t>(node);
  if (t.is_leaf(node)) return t.values(node)[0];
  const int f = t.feature[k];
  if (S & (1u << f)) {
    return cond_value(t, t.goes_left(node, x[static_cast<std::size_t>(f)]) ? t.left[k] : t.right[k], x, S);
  }
  const double a = t.cover[static_cast<std::size_t>(t.left[k])], b = t.cover[static_cast<std::size_t>(t.right[k])];
  const double fa = a + b > 0 ? a / (a + b) : 0.5;
  return fa * cond_value(t, t.left[k], x, S) + (1 - fa) * cond_value(t, t.right[k], x, S);
}
std::vector<double> brute_shapley(const tree::Tree& t, const std::vector<double>& x, int M) {
  std::vector<double> phi(static_cast<std::size_t>(M), 0.0);
  std::vector<double> fact(static_cast<std::size_t>(M) + 1, 1.0);
  for (int i = 1; i <= M; ++i) fact[static_cast<std::size_t>(i)] = fact[static_cast<std::size_t>(i) - 1] * i;
  for (int i = 0; i < M; ++i) {
    for (unsigned S = 0; S < (1u << M); ++S) {
      if (S & (1u << i)) continue;
      const int s = __builtin_popcount(S);
      const double w = fact[static_cast<std::size_t>(s)] * fact[static_cast<std::size_t>(M - s - 1)] / fact[static_cast<std::size_t>(M)];
      phi[static_cast<std::size_t>(i)] += w * (cond_value(t, 0, x, S | (1u << i)) - cond_value(t, 0, x, S));
    }
  }
  return phi;
}
}  // namespace

TEST_CASE("TreeSHAP equals brute-force Shapley values on small trees") {
  auto s = gbdt_test::make(300, 4, 0, 31, 0.1);
  gbdt::Params p;
  p.num_rounds = 3;
  p.max_depth = 4;
  p.min_child_weight = 0;
  auto m = gbdt::train(p, s.X, s.y);
  tree::TreeShap shap(m.trees);
  tree::TreeShap::Scratch scratch;
  for (std::size_t t = 0; t < m.trees.size(); ++t) {
    for (int i = 0; i < 20; ++i) {
      std::vector<double> x(4);
      for (int f = 0; f < 4; ++f) x[static_cast<std::size_t>(f)] = s.X(i, f);
      std::vector<double> phi(4, 0.0);
      const double e = shap.explain(t, [&](std::int32_t f) { return x[static_cast<std::size_t>(f)]; }, phi.data(), scratch);
      const auto ref = brute_shapley(m.trees[t], x, 4);
      for (int f = 0; f < 4; ++f) CHECK(phi[static_cast<std::size_t>(f)] == doctest::Approx(ref[static_cast<std::size_t>(f)]).epsilon(1e-9).scale(1e-9));
      CHECK(e == doctest::Approx(cond_value(m.trees[t], 0, x, 0u)).epsilon(1e-12));
    }
  }
}

TEST_CASE("contributions + expected value == raw prediction (regression, binary, multiclass)") {
  for (int kind : {0, 1, 2}) {
    auto s = gbdt_test::make(500, 5, kind, 32 + static_cast<std::uint64_t>(kind), 0.1);
    gbdt::Params p;
    p.objective = kind == 0 ? "regression" : kind == 1 ? "binary" : "multiclass";
    p.num_rounds = 10;
    p.growth = kind == 2 ? "leafwise" : "depthwise";
    auto m = gbdt::train(p, s.X, s.y);
    auto raw = m.predict_raw(s.X);
    auto c = m.contributions(s.X, 2);
    REQUIRE(c.cols() == m.num_class * 6);
    for (int i = 0; i < 500; ++i) {
      for (int k = 0; k < m.num_class; ++k) {
        CHECK(c.row(i).segment(k * 6, 6).sum() == doctest::Approx(raw(i, k)).epsilon(1e-9));
      }
    }
  }
}
