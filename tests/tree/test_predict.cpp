// Batch prediction (predict_add, predict_leaves) against the plain per-row walk Tree::leaf,
// summed tree by tree: random trees with values on and next to the thresholds, NaN default
// directions, both comparison rules, float and double rows, rows that are not floats (the
// vector walk hands those blocks to the scalar walk), deep trees, several output columns.
// Results must be bit-identical, for 1 and 2 threads.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <orchard/tree.hpp>
#include <vector>

using namespace orchard;
using namespace orchard::tree;

namespace predict_test {

// Values the data and the thresholds share, so that x == t happens often.
double grid_value(Rng& rng) { return static_cast<double>(static_cast<int>(rng.uniform_int(33)) - 16) / 8.0; }

Tree random_tree(Rng& rng, index_t d, int max_depth, int n_outputs, Compare cmp, double leaf_stop) {
  Tree t;
  t.n_outputs = n_outputs;
  t.compare = cmp;
  std::vector<double> v(static_cast<std::size_t>(n_outputs));
  auto leaf = [&](std::int32_t depth) {
    for (auto& x : v) x = rng.normal();
    return t.add_leaf(v.data(), 1.0, depth);
  };
  leaf(0);
  for (std::int32_t i = 0; i < t.num_nodes(); ++i) {
    const int depth = t.depth[static_cast<std::size_t>(i)];
    if (depth >= max_depth || (depth >= 2 && rng.bernoulli(leaf_stop))) continue;
    const auto f = static_cast<std::int32_t>(rng.uniform_int(static_cast<std::uint64_t>(d)));
    double thr;
    const double u = rng.uniform();
    if (u < 0.4) {
      thr = grid_value(rng);                        // a float the data also hold
    } else if (u < 0.7) {
      thr = grid_value(rng) + 1.0 / 16 + 1e-12;     // not a float
    } else if (u < 0.8) {
      thr = static_cast<double>(static_cast<float>(rng.normal())) * (1 + 1e-9);  // next to a float
    } else if (u < 0.9) {
      thr = rng.normal();
    } else {
      const double big[] = {1e300, -1e300, std::numeric_limits<double>::infinity(), 3.5e38, -3.5e38};
      thr = big[rng.uniform_int(5)];
    }
    const std::uint8_t fl = rng.bernoulli(0.5) ? kDefaultLeft : 0;
    const auto l = leaf(depth + 1);
    const auto r = leaf(depth + 1);
    t.set_split(i, f, thr, -1, fl, l, r, 1.0);
  }
  t.validate(d);
  return t;
}

// Rows of floats (as double), with NaN, +-inf and values right next to the float grid.
std::vector<double> random_rows(Rng& rng, index_t n, index_t d, double nan_rate, double non_float_rate) {
  std::vector<double> X(static_cast<std::size_t>(n * d));
  for (auto& x : X) {
    const double u = rng.uniform();
    if (u < nan_rate) {
      x = std::numeric_limits<double>::quiet_NaN();
    } else if (u < 0.6) {
      x = grid_value(rng);
    } else if (u < 0.62) {
      x = rng.bernoulli(0.5) ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    } else if (u < 0.64) {
      x = rng.bernoulli(0.5) ? 3.4e38 : -3.4e38;  // floats
    } else {
      x = static_cast<double>(static_cast<float>(rng.normal()));
    }
    if (rng.bernoulli(non_float_rate)) x = grid_value(rng) + 1.0 / 16 + (rng.bernoulli(0.5) ? 1e-12 : -1e-12);
  }
  return X;
}

template <class T>
std::vector<double> reference_sum(const std::vector<Tree>& trees, const std::vector<int>& group,
                                  const std::vector<T>& X, index_t n, index_t d, index_t out_cols) {
  std::vector<double> out(static_cast<std::size_t>(n * out_cols));
  for (index_t i = 0; i < n; ++i) {
    for (index_t c = 0; c < out_cols; ++c) out[static_cast<std::size_t>(i * out_cols + c)] = 0.25 * static_cast<double>(c + 1);
    for (std::size_t t = 0; t < trees.size(); ++t) {
      const auto leaf = trees[t].leaf([&](std::int32_t f) { return static_cast<double>(X[static_cast<std::size_t>(i * d + f)]); });
      const double* v = trees[t].values(leaf);
      const index_t col = group.empty() ? 0 : group[t];
      for (int k = 0; k < trees[t].n_outputs; ++k) out[static_cast<std::size_t>(i * out_cols + col + k)] += v[k];
    }
  }
  return out;
}

template <class T>
void check_forest(const std::vector<Tree>& trees, const std::vector<int>& group, const std::vector<T>& X,
                  index_t n, index_t d, index_t out_cols) {
  const auto want = reference_sum(trees, group, X, n, d, out_cols);
  for (int threads : {1, 2}) {
    std::vector<double> out(static_cast<std::size_t>(n * out_cols));
    for (index_t i = 0; i < n; ++i) {
      for (index_t c = 0; c < out_cols; ++c) out[static_cast<std::size_t>(i * out_cols + c)] = 0.25 * static_cast<double>(c + 1);
    }
    predict_add<T>(Context(threads), trees, group, ConstMatrixView<T>(X.data(), n, d), out.data(), out_cols);
    std::size_t bad = 0;
    for (std::size_t k = 0; k < out.size(); ++k) bad += out[k] == want[k] ? 0 : 1;  // bit for bit
    CHECK(bad == 0);
    std::vector<std::int32_t> leaves(static_cast<std::size_t>(n) * trees.size());
    predict_leaves<T>(Context(threads), trees, ConstMatrixView<T>(X.data(), n, d), leaves.data());
    std::size_t bad_leaf = 0;
    for (index_t i = 0; i < n; ++i) {
      for (std::size_t t = 0; t < trees.size(); ++t) {
        const auto want_leaf = trees[t].leaf([&](std::int32_t f) { return static_cast<double>(X[static_cast<std::size_t>(i * d + f)]); });
        bad_leaf += leaves[static_cast<std::size_t>(i) * trees.size() + t] == want_leaf ? 0 : 1;
      }
    }
    CHECK(bad_leaf == 0);
  }
}

}  // namespace predict_test

TEST_CASE("batch prediction equals the per-row walk bit for bit (vector and scalar walks)") {
  using namespace predict_test;
  const index_t n = 1003, d = 9;  // not a multiple of the 16-row groups
  Rng rng(2024);
  for (Compare cmp : {Compare::less_equal, Compare::float_less}) {
    for (int max_depth : {1, 6, 8}) {
      CAPTURE(max_depth);
      std::vector<Tree> trees;
      for (int t = 0; t < 24; ++t) trees.push_back(random_tree(rng, d, max_depth, 1, cmp, 0.15));
      for (double nan_rate : {0.0, 0.05}) {
        CAPTURE(nan_rate);
        // Float rows; double rows that are floats; double rows of which a few are not.
        auto Xd = random_rows(rng, n, d, nan_rate, 0.0);
        std::vector<float> Xf(Xd.begin(), Xd.end());
        check_forest<float>(trees, {}, Xf, n, d, 1);
        check_forest<double>(trees, {}, Xd, n, d, 1);
        auto Xm = random_rows(rng, n, d, nan_rate, 0.002);
        check_forest<double>(trees, {}, Xm, n, d, 1);
      }
    }
  }
}

TEST_CASE("batch prediction with output columns, multi-output leaves, deep and categorical trees") {
  using namespace predict_test;
  const index_t n = 517, d = 5;
  Rng rng(77);
  auto X = random_rows(rng, n, d, 0.03, 0.0);
  // Three classes, round-major as gbdt stores them.
  std::vector<Tree> trees;
  std::vector<int> group;
  for (int t = 0; t < 30; ++t) {
    trees.push_back(random_tree(rng, d, 6, 1, Compare::less_equal, 0.2));
    group.push_back(t % 3);
  }
  check_forest<double>(trees, group, X, n, d, 3);
  // Two-output leaves at columns 0..1 and 1..2.
  std::vector<Tree> multi;
  std::vector<int> mgroup;
  for (int t = 0; t < 12; ++t) {
    multi.push_back(random_tree(rng, d, 5, 2, Compare::less_equal, 0.2));
    mgroup.push_back(t % 2);
  }
  check_forest<double>(multi, mgroup, X, n, d, 3);
  // Deeper than the vector walk's level limit, and a categorical split: the scalar walk.
  std::vector<Tree> deep = {random_tree(rng, d, 12, 1, Compare::less_equal, 0.0)};
  for (int t = 0; t < 5; ++t) deep.push_back(random_tree(rng, d, 6, 1, Compare::less_equal, 0.2));
  check_forest<double>(deep, {}, X, n, d, 1);
  std::vector<Tree> cat = trees;
  cat[3].flags[0] |= kCategorical;
  check_forest<double>(cat, {}, X, n, d, 1);
  // Trees that are single leaves.
  std::vector<Tree> stumps(20);
  for (auto& t : stumps) {
    const double v = rng.normal();
    t.add_leaf(&v, 1.0, 0);
  }
  check_forest<double>(stumps, {}, X, n, d, 1);
}
