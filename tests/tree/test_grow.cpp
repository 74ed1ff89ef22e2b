// The engine against naive references: brute-force best split, an exact greedy tree learner,
// a hand-built tree, closed-form leaves and thread-count invariance.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <orchard/tree.hpp>
#include <vector>

using namespace orchard;
using namespace orchard::tree;

namespace {

struct Toy {
  index_t n, d;
  std::vector<double> X;  // row-major
  std::vector<float> gh;  // g, h per row
  double x(index_t i, index_t f) const { return X[static_cast<std::size_t>(i * d + f)]; }
};

Toy make_toy(index_t n, index_t d, std::uint64_t seed, double nan_rate, int levels) {
  Rng rng(seed);
  Toy t{n, d, {}, {}};
  t.X.resize(static_cast<std::size_t>(n * d));
  t.gh.resize(static_cast<std::size_t>(2 * n));
  for (index_t i = 0; i < n; ++i) {
    double s = 0;
    for (index_t f = 0; f < d; ++f) {
      double v = static_cast<double>(rng.uniform_int(static_cast<std::uint64_t>(levels)));
      if (rng.uniform() < nan_rate) v = std::numeric_limits<double>::quiet_NaN();
      t.X[static_cast<std::size_t>(i * d + f)] = v;
      if (!std::isnan(v)) s += (f + 1) * (v - levels / 2.0);
    }
    t.gh[static_cast<std::size_t>(2 * i)] = static_cast<float>(s / levels + rng.normal());
    t.gh[static_cast<std::size_t>(2 * i + 1)] = static_cast<float>(0.5 + rng.uniform());
  }
  return t;
}

struct RefSplit {
  int feature = -1;
  double thr = 0;
  bool dl = true;
  double gain = 0;
};

// Brute force over raw values: every midpoint threshold, missing left or right.
RefSplit brute_split(const Toy& t, const std::vector<index_t>& rows, const SecondOrder& pol,
                     index_t min_data, double min_gain) {
  auto sums = [&](auto pred) {
    double s[3] = {0, 0, 0};
    for (index_t i : rows) {
      if (pred(i)) {
        s[0] += t.gh[static_cast<std::size_t>(2 * i)];
        s[1] += t.gh[static_cast<std::size_t>(2 * i + 1)];
        s[2] += 1;
      }
    }
    return std::vector<double>(s, s + 3);
  };
  const auto P = sums([](index_t) { return true; });
  RefSplit best;
  best.gain = min_gain;
  for (index_t f = 0; f < t.d; ++f) {
    std::vector<double> v;
    for (index_t i : rows) if (!std::isnan(t.x(i, f))) v.push_back(t.x(i, f));
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    // Thresholds halfway to the next value present anywhere in the training data, as binning
    // places its cuts.
    std::vector<double> g;
    for (index_t i = 0; i < t.n; ++i) if (!std::isnan(t.x(i, f))) g.push_back(t.x(i, f));
    std::sort(g.begin(), g.end());
    g.erase(std::unique(g.begin(), g.end()), g.end());
    std::vector<double> thrs;
    for (std::size_t k = 0; k + 1 < v.size(); ++k) {
      const double next = *std::upper_bound(g.begin(), g.end(), v[k]);
      thrs.push_back((v[k] + next) / 2);
    }
    if (!v.empty()) thrs.push_back(std::numeric_limits<double>::infinity());
    for (double thr : thrs) {
      for (int dl = 0; dl < 2; ++dl) {
        auto L = sums([&](index_t i) {
          const double x = t.x(i, f);
          return std::isnan(x) ? dl == 1 : x <= thr;
        });
        std::vector<double> R = {P[0] - L[0], P[1] - L[1], P[2] - L[2]};
        if (L[2] < static_cast<double>(min_data) || R[2] < static_cast<double>(min_data)) continue;
        if (!pol.admissible(L.data()) || !pol.admissible(R.data())) continue;
        const double g = pol.score(L.data()) + pol.score(R.data()) - pol.score(P.data());
        if (g > best.gain + 1e-9) best = {static_cast<int>(f), thr, dl == 1, g};
      }
    }
  }
  return best;
}

// Exact greedy depth-wise learner; returns a prediction function.
struct RefNode {
  RefSplit s;
  double value = 0;
  int left = -1, right = -1;
};
int exact_tree(const Toy& t, const std::vector<index_t>& rows, const SecondOrder& pol, int depth,
               int max_depth, std::vector<RefNode>& nodes) {
  double G = 0, H = 0;
  for (index_t i : rows) {
    G += t.gh[static_cast<std::size_t>(2 * i)];
    H += t.gh[static_cast<std::size_t>(2 * i + 1)];
  }
  const int id = static_cast<int>(nodes.size());
  nodes.push_back({});
  double s[3] = {G, H, static_cast<double>(rows.size())};
  pol.leaf_value(s, &nodes[static_cast<std::size_t>(id)].value);
  if (depth >= max_depth) return id;
  const RefSplit sp = brute_split(t, rows, pol, 1, 0.0);
  if (sp.feature < 0) return id;
  std::vector<index_t> l, r;
  for (index_t i : rows) {
    const double x = t.x(i, sp.feature);
    ((std::isnan(x) ? sp.dl : x <= sp.thr) ? l : r).push_back(i);
  }
  nodes[static_cast<std::size_t>(id)].s = sp;
  const int a = exact_tree(t, l, pol, depth + 1, max_depth, nodes);
  const int b = exact_tree(t, r, pol, depth + 1, max_depth, nodes);
  nodes[static_cast<std::size_t>(id)].left = a;
  nodes[static_cast<std::size_t>(id)].right = b;
  return id;
}
double ref_predict(const std::vector<RefNode>& nodes, const Toy& t, index_t i) {
  int k = 0;
  while (nodes[static_cast<std::size_t>(k)].left >= 0) {
    const auto& s = nodes[static_cast<std::size_t>(k)].s;
    const double x = t.x(i, s.feature);
    k = (std::isnan(x) ? s.dl : x <= s.thr) ? nodes[static_cast<std::size_t>(k)].left
                                           : nodes[static_cast<std::size_t>(k)].right;
  }
  return nodes[static_cast<std::size_t>(k)].value;
}

double our_predict(const Tree& tr, const Toy& t, index_t i) {
  return tr.values(tr.leaf([&](std::int32_t f) { return t.x(i, f); }))[0];
}

}  // namespace

TEST_CASE("split search equals a brute-force search over raw thresholds") {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    Toy t = make_toy(60, 4, seed, seed % 2 ? 0.15 : 0.0, 9);
    auto data = BinnedMatrix::fit(ConstMatrixView<double>(t.X.data(), t.n, t.d), BinParams{}, Context(1));
    SecondOrder pol;
    pol.lambda_l2 = 0.7;
    pol.lambda_l1 = seed == 3 ? 0.5 : 0.0;
    pol.min_child_weight = 2.0;
    std::vector<index_t> all(static_cast<std::size_t>(t.n));
    for (index_t i = 0; i < t.n; ++i) all[static_cast<std::size_t>(i)] = i;
    const RefSplit ref = brute_split(t, all, pol, 3, 0.0);
    GrowParams gp;
    gp.max_depth = 1;
    gp.min_data_in_leaf = 3;
    Tree tr = grow_tree(Context(1), data, pol, t.gh.data(), {}, {}, gp);
    REQUIRE(ref.feature >= 0);
    REQUIRE(tr.num_nodes() == 3);
    CHECK(tr.feature[0] == ref.feature);
    CHECK(tr.gain[0] == doctest::Approx(ref.gain).epsilon(1e-9));
    // Same partition of the training rows.
    for (index_t i = 0; i < t.n; ++i) {
      const double x = t.x(i, ref.feature);
      const bool rl = std::isnan(x) ? ref.dl : x <= ref.thr;
      CHECK((tr.leaf([&](std::int32_t f) { return t.x(i, f); }) == tr.left[0]) == rl);
    }
  }
}

TEST_CASE("depth-wise tree equals the exact greedy tree when values have <= max_bin levels") {
  for (std::uint64_t seed : {11u, 12u, 13u}) {
    Toy t = make_toy(300, 5, seed, seed == 12 ? 0.1 : 0.0, 12);
    auto data = BinnedMatrix::fit(ConstMatrixView<double>(t.X.data(), t.n, t.d), BinParams{}, Context(2));
    SecondOrder pol;
    pol.lambda_l2 = 1.0;
    pol.min_child_weight = 0.0;
    std::vector<index_t> all(static_cast<std::size_t>(t.n));
    for (index_t i = 0; i < t.n; ++i) all[static_cast<std::size_t>(i)] = i;
    std::vector<RefNode> nodes;
    exact_tree(t, all, pol, 0, 4, nodes);
    GrowParams gp;
    gp.max_depth = 4;
    std::vector<std::int32_t> node_of_row;
    Tree tr = grow_tree(Context(2), data, pol, t.gh.data(), {}, {}, gp, &node_of_row);
    CHECK(tr.num_nodes() == static_cast<std::int32_t>(nodes.size()));
    Toy probe = make_toy(200, 5, seed + 100, 0.1, 14);
    for (index_t i = 0; i < t.n; ++i) {
      CHECK(our_predict(tr, t, i) == doctest::Approx(ref_predict(nodes, t, i)).epsilon(1e-9));
      CHECK(node_of_row[static_cast<std::size_t>(i)] == tr.leaf([&](std::int32_t f) { return t.x(i, f); }));
      CHECK(leaf_binned(tr, data, i) == node_of_row[static_cast<std::size_t>(i)]);
    }
    for (index_t i = 0; i < probe.n; ++i) {
      CHECK(our_predict(tr, probe, i) == doctest::Approx(ref_predict(nodes, probe, i)).epsilon(1e-9));
    }
  }
}

TEST_CASE("a single leaf is -G/(H+lambda) with the L1 soft threshold") {
  Toy t = make_toy(50, 2, 5, 0.0, 5);
  auto data = BinnedMatrix::fit(ConstMatrixView<double>(t.X.data(), t.n, t.d), BinParams{}, Context(1));
  double G = 0, H = 0;
  for (index_t i = 0; i < t.n; ++i) {
    G += t.gh[static_cast<std::size_t>(2 * i)];
    H += t.gh[static_cast<std::size_t>(2 * i + 1)];
  }
  SecondOrder pol;
  pol.lambda_l2 = 2.5;
  pol.lambda_l1 = 0.3;
  GrowParams gp;
  gp.max_depth = 0;
  Tree tr = grow_tree(Context(1), data, pol, t.gh.data(), {}, {}, gp);
  REQUIRE(tr.num_nodes() == 1);
  const double t1 = G > 0.3 ? G - 0.3 : (G < -0.3 ? G + 0.3 : 0.0);
  CHECK(tr.value[0] == doctest::Approx(-t1 / (H + 2.5)).epsilon(1e-12));
  CHECK(tr.cover[0] == doctest::Approx(H).epsilon(1e-12));
}

TEST_CASE("growth policies: leaf count, oblivious levels, min_data_in_leaf, subsample rows") {
  Toy t = make_toy(2000, 6, 21, 0.05, 40);
  auto data = BinnedMatrix::fit(ConstMatrixView<double>(t.X.data(), t.n, t.d), BinParams{}, Context(2));
  SecondOrder pol;
  GrowParams gp;
  gp.growth = Growth::leafwise;
  gp.num_leaves = 13;
  gp.max_depth = -1;
  gp.min_data_in_leaf = 20;
  std::vector<std::int32_t> where;
  Tree lw = grow_tree(Context(2), data, pol, t.gh.data(), {}, {}, gp, &where);
  CHECK(lw.num_leaves() == 13);
  std::vector<int> cnt(static_cast<std::size_t>(lw.num_nodes()), 0);
  for (auto w : where) ++cnt[static_cast<std::size_t>(w)];
  for (std::int32_t k = 0; k < lw.num_nodes(); ++k) {
    if (lw.is_leaf(k)) CHECK(cnt[static_cast<std::size_t>(k)] >= 20);
  }
  gp.growth = Growth::oblivious;
  gp.max_depth = 3;
  Tree ob = grow_tree(Context(2), data, pol, t.gh.data(), {}, {}, gp);
  CHECK(ob.num_leaves() == 8);
  for (std::int32_t k = 0; k < ob.num_nodes(); ++k) {
    if (ob.is_leaf(k)) continue;
    for (std::int32_t j = 0; j < ob.num_nodes(); ++j) {
      if (!ob.is_leaf(j) && ob.depth[static_cast<std::size_t>(j)] == ob.depth[static_cast<std::size_t>(k)]) {
        CHECK(ob.feature[static_cast<std::size_t>(j)] == ob.feature[static_cast<std::size_t>(k)]);
        CHECK(ob.threshold[static_cast<std::size_t>(j)] == ob.threshold[static_cast<std::size_t>(k)]);
      }
    }
  }
  // A row sample: rows outside it get -1, the others land where the tree sends them.
  std::vector<std::uint32_t> sample;
  for (std::uint32_t i = 0; i < 2000; i += 3) sample.push_back(i);
  gp.growth = Growth::depthwise;
  gp.max_depth = 3;
  gp.min_data_in_leaf = 1;
  Tree sd = grow_tree(Context(2), data, pol, t.gh.data(), sample, {}, gp, &where);
  for (std::uint32_t i = 0; i < 2000; ++i) {
    if (i % 3 == 0) {
      CHECK(where[i] == leaf_binned(sd, data, i));
    } else {
      CHECK(where[i] == -1);
    }
  }
  // Only the allowed features are used.
  std::vector<int> feats = {1, 4};
  Tree fs = grow_tree(Context(2), data, pol, t.gh.data(), {}, feats, gp);
  for (auto f : fs.feature) CHECK((f == -1 || f == 1 || f == 4));
  gp.feature_weights = {1, 1, 1, 1, 1, 0};
  Tree fw = grow_tree(Context(2), data, pol, t.gh.data(), {}, {}, gp);
  for (auto f : fw.feature) CHECK(f != 5);
}

TEST_CASE("categorical features split one category against the rest") {
  const index_t n = 400;
  std::vector<double> X(static_cast<std::size_t>(n));
  std::vector<float> gh(static_cast<std::size_t>(2 * n));
  for (index_t i = 0; i < n; ++i) {
    X[static_cast<std::size_t>(i)] = static_cast<double>(i % 5);
    gh[static_cast<std::size_t>(2 * i)] = i % 5 == 3 ? -2.0f : 0.5f;
    gh[static_cast<std::size_t>(2 * i + 1)] = 1.0f;
  }
  BinParams bp;
  bp.max_bin = 8;
  bp.categorical = {0};
  auto data = BinnedMatrix::fit(ConstMatrixView<double>(X.data(), n, 1), bp, Context(1));
  GrowParams gp;
  gp.max_depth = 1;
  Tree tr = grow_tree(Context(1), data, SecondOrder{}, gh.data(), {}, {}, gp);
  REQUIRE(tr.num_nodes() == 3);
  CHECK(tr.threshold[0] == 3.0);
  CHECK((tr.flags[0] & kCategorical) != 0);
  CHECK(tr.goes_left(0, 3.0));
  CHECK_FALSE(tr.goes_left(0, 4.0));
}

TEST_CASE("trees are bit-identical for 1 and N threads (multi-block histograms)") {
  Toy t = make_toy(70000, 4, 31, 0.02, 300);
  auto d1 = BinnedMatrix::fit(ConstMatrixView<double>(t.X.data(), t.n, t.d), BinParams{}, Context(1));
  auto d3 = BinnedMatrix::fit(ConstMatrixView<double>(t.X.data(), t.n, t.d), BinParams{}, Context(3));
  for (Growth g : {Growth::depthwise, Growth::leafwise, Growth::oblivious}) {
    GrowParams gp;
    gp.growth = g;
    gp.max_depth = 4;
    gp.num_leaves = 10;
    Tree a = grow_tree(Context(1), d1, SecondOrder{}, t.gh.data(), {}, {}, gp);
    Tree b = grow_tree(Context(3), d3, SecondOrder{}, t.gh.data(), {}, {}, gp);
    CHECK(a.feature == b.feature);
    CHECK(a.threshold == b.threshold);
    CHECK(a.value == b.value);
    CHECK(a.gain == b.gain);
  }
}

TEST_CASE("prediction of a hand-built tree; blocked batch prediction; validation") {
  Tree t;
  const double v0 = 0, v1 = 1, v2 = 2, v3 = 3;
  t.add_leaf(&v0, 1, 0);
  t.add_leaf(&v1, 1, 1);
  t.add_leaf(&v0, 1, 1);
  t.add_leaf(&v2, 1, 2);
  t.add_leaf(&v3, 1, 2);
  t.set_split(0, 0, 0.5, -1, 0, 1, 2, 1.0);            // x0 <= 0.5 ? leaf 1 : node 2, NaN right
  t.set_split(2, 1, 10.0, -1, kDefaultLeft, 3, 4, 1.0);  // x1 <= 10 ? 3 : 4, NaN left
  t.validate(2);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> X = {0.1, 99, 0.5, nan, 0.7, 10, 0.7, 11, nan, 3, 2, nan};
  std::vector<double> want = {1, 1, 2, 3, 2, 2};
  std::vector<double> out(6, 0.0);
  std::vector<Tree> trees = {t};
  predict_add<double>(Context(2), trees, {}, ConstMatrixView<double>(X.data(), 6, 2), out.data(), 1);
  CHECK(out == want);
  Tree bad = t;
  bad.left[2] = 1;
  CHECK_THROWS_AS(bad.validate(2), FormatError);
  CHECK_THROWS_AS(t.validate(1), FormatError);
  Tree back = Tree::from_json(t.to_json(), 2);
  CHECK(back.threshold == t.threshold);
  CHECK_THROWS_AS(Tree::from_json(nlohmann::json::object(), 2), FormatError);
}

TEST_CASE("uint16 codes (max_bin > 255) grow the same tree as uint8 codes on the same cuts") {
  Toy t = make_toy(3000, 4, 41, 0.05, 200);  // 200 distinct values: identical cuts for both
  BinParams narrow, wide;
  wide.max_bin = 1000;
  auto a = BinnedMatrix::fit(ConstMatrixView<double>(t.X.data(), t.n, t.d), narrow, Context(2));
  auto b = BinnedMatrix::fit(ConstMatrixView<double>(t.X.data(), t.n, t.d), wide, Context(2));
  REQUIRE_FALSE(a.wide());
  REQUIRE(b.mapper().num_bins(0) == a.mapper().num_bins(0));
  // A feature with 3000 distinct values and max_bin 4000 forces uint16 codes.
  std::vector<double> X2 = t.X;
  for (index_t i = 0; i < t.n; ++i) X2[static_cast<std::size_t>(i * t.d + 3)] = static_cast<double>(i);
  auto c8 = BinnedMatrix::fit(ConstMatrixView<double>(X2.data(), t.n, t.d), narrow, Context(2));
  BinParams exact;
  exact.max_bin = 4000;
  auto c16 = BinnedMatrix::fit(ConstMatrixView<double>(X2.data(), t.n, t.d), exact, Context(2));
  REQUIRE(c16.wide());
  GrowParams gp;
  gp.max_depth = 4;
  for (Growth g : {Growth::depthwise, Growth::leafwise, Growth::oblivious}) {
    gp.growth = g;
    Tree ta = grow_tree(Context(2), a, SecondOrder{}, t.gh.data(), {}, {}, gp);
    Tree tb = grow_tree(Context(2), b, SecondOrder{}, t.gh.data(), {}, {}, gp);
    CHECK(ta.feature == tb.feature);
    CHECK(ta.threshold == tb.threshold);
    CHECK(ta.value == tb.value);
    // Trees on uint16 codes route training rows by code exactly as by raw value.
    Tree t8 = grow_tree(Context(2), c8, SecondOrder{}, t.gh.data(), {}, {}, gp);
    Tree t16 = grow_tree(Context(2), c16, SecondOrder{}, t.gh.data(), {}, {}, gp);
    for (index_t i = 0; i < t.n; i += 97) {
      CHECK(leaf_binned(t16, c16, i) == t16.leaf([&](std::int32_t f) { return X2[static_cast<std::size_t>(i * t.d + f)]; }));
    }
    CHECK(t8.num_nodes() > 1);
    CHECK(t16.num_nodes() > 1);
  }
}

namespace {
// A width-2 policy scoring ||s||^2 / n; the Fused variant adds pair_score_parent, which the
// engine then uses for every candidate.
struct GrowNormScore {
  static constexpr int kWidth = 2;
  int width() const { return 2; }
  int n_outputs() const { return 2; }
  double score(const double* s) const { return s[2] > 0 ? (s[0] * s[0] + s[1] * s[1]) / s[2] : 0.0; }
  bool admissible(const double*) const { return true; }
  void leaf_value(const double* s, double* out) const {
    out[0] = s[2] > 0 ? s[0] / s[2] : 0.0;
    out[1] = s[2] > 0 ? s[1] / s[2] : 0.0;
  }
  double cover(const double* s) const { return s[2]; }
};
struct GrowNormScoreFused : GrowNormScore {
  static constexpr bool kAnyChild = true;
  double pair_score_parent(const double* l, const double* p) const {
    const double r[3] = {p[0] - l[0], p[1] - l[1], p[2] - l[2]};
    return score(l) + score(r);
  }
};

void check_same_tree(const Tree& a, const Tree& b) {
  CHECK(a.feature == b.feature);
  CHECK(a.bin == b.bin);
  CHECK(a.flags == b.flags);
  CHECK(a.threshold == b.threshold);
  CHECK(a.value == b.value);
  CHECK(a.gain == b.gain);
  CHECK(a.cover == b.cover);
}
}  // namespace

TEST_CASE("sorted_rows node statistics grow the same trees as histograms") {
  // Statistics on a 1/16 grid: every sum is exact, so both paths see identical numbers.
  Toy t = make_toy(300, 5, 41, 0.1, 30);
  for (auto& v : t.gh) v = std::round(v * 16.0f) / 16.0f;
  std::vector<double> X = t.X;
  for (index_t i = 0; i < t.n; ++i) X[static_cast<std::size_t>(i * t.d + 4)] = static_cast<double>(i % 7);
  BinParams bp;
  bp.categorical = {4};
  auto data = BinnedMatrix::fit(ConstMatrixView<double>(X.data(), t.n, t.d), bp, Context(1));
  std::vector<std::uint32_t> sample;
  for (std::uint32_t i = 0; i < 300; ++i)
    if (i % 4 != 1) sample.push_back(i);
  auto run = [&](const auto& pol) {
    for (Growth g : {Growth::depthwise, Growth::leafwise, Growth::oblivious}) {
      GrowParams gp;
      gp.growth = g;
      gp.max_depth = g == Growth::leafwise ? 5 : 4;
      gp.num_leaves = 12;
      gp.min_data_in_leaf = 4;
      gp.feature_weights = {1.0, 0.5, 1.0, 2.0, 1.0};
      for (int use_sample = 0; use_sample < 2; ++use_sample) {
        std::span<const std::uint32_t> rows;
        if (use_sample) rows = sample;
        std::vector<std::int32_t> wh, ws;
        gp.node_stats = NodeStats::histograms;
        const Tree h = grow_tree(Context(1), data, pol, t.gh.data(), rows, {}, gp, &wh);
        gp.node_stats = NodeStats::sorted_rows;
        const Tree s1 = grow_tree(Context(1), data, pol, t.gh.data(), rows, {}, gp, &ws);
        const Tree s2 = grow_tree(Context(2), data, pol, t.gh.data(), rows, {}, gp);
        CHECK(h.num_leaves() > 4);
        check_same_tree(h, s1);
        check_same_tree(s1, s2);
        CHECK(wh == ws);
      }
    }
  };
  run(SecondOrder{});
  run(GrowNormScore{});
  run(GrowNormScoreFused{});
  // automatic picks sorted_rows for few rows and histograms for many; either way the same tree.
  GrowParams gp;
  gp.max_depth = 3;
  gp.node_stats = NodeStats::automatic;
  const Tree a = grow_tree(Context(1), data, GrowNormScoreFused{}, t.gh.data(), {}, {}, gp);
  gp.node_stats = NodeStats::histograms;
  check_same_tree(a, grow_tree(Context(1), data, GrowNormScoreFused{}, t.gh.data(), {}, {}, gp));
}
