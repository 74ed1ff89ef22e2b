// GPU kernels against the CPU engine: histograms (fixed-point, deterministic), per-feature best
// splits, batch prediction. Skipped (exit 77) without a visible GPU.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <orchard/tree.hpp>
#include <orchard/tree/cuda/engine.cuh>
#include <vector>

using namespace orchard;
using namespace orchard::tree;

namespace {
struct Data {
  std::vector<double> X;
  std::vector<float> gh;
  index_t n, d;
};
Data make(index_t n, index_t d, std::uint64_t seed) {
  Rng rng(seed);
  Data s{std::vector<double>(static_cast<std::size_t>(n * d)), std::vector<float>(static_cast<std::size_t>(2 * n)), n, d};
  for (index_t i = 0; i < n; ++i) {
    double f = 0;
    for (index_t j = 0; j < d; ++j) {
      double v = rng.normal();
      if (rng.uniform() < 0.05) v = std::numeric_limits<double>::quiet_NaN();
      s.X[static_cast<std::size_t>(i * d + j)] = v;
      if (!std::isnan(v) && j < 3) f += v;
    }
    s.gh[static_cast<std::size_t>(2 * i)] = static_cast<float>(f + rng.normal());
    s.gh[static_cast<std::size_t>(2 * i + 1)] = static_cast<float>(0.2 + rng.uniform());
  }
  return s;
}
}  // namespace

TEST_CASE("GPU histogram equals the CPU histogram; repeated launches are bit-identical") {
  Data s = make(20000, 6, 1);
  auto data = BinnedMatrix::fit(ConstMatrixView<double>(s.X.data(), s.n, s.d), BinParams{}, Context(2));
  const HistLayout layout = HistLayout::make(data.mapper(), 2);
  std::vector<double> cpu(layout.size()), scratch;
  std::vector<int> feats = {0, 1, 2, 3, 4, 5};
  build_histogram<2, std::uint8_t>(Context(2), data, layout, feats, nullptr, 0, s.n, s.gh.data(), cpu.data(), scratch);
  const auto gpu = cuda::histogram(data, s.gh.data(), {});
  const auto again = cuda::histogram(data, s.gh.data(), {});
  REQUIRE(gpu.size() == cpu.size());
  CHECK(gpu == again);
  for (std::size_t i = 0; i < cpu.size(); ++i) CHECK(gpu[i] == doctest::Approx(cpu[i]).epsilon(1e-9).scale(1e-6));
  // A row subset (a node).
  std::vector<std::uint32_t> rows;
  for (std::uint32_t i = 0; i < 20000; i += 3) rows.push_back(i);
  std::vector<float> ord(2 * rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ord[2 * i] = s.gh[2 * rows[i]];
    ord[2 * i + 1] = s.gh[2 * rows[i] + 1];
  }
  build_histogram<2, std::uint8_t>(Context(2), data, layout, feats, rows.data(), 0,
                                   static_cast<index_t>(rows.size()), ord.data(), cpu.data(), scratch);
  const auto sub = cuda::histogram(data, s.gh.data(), rows);
  for (std::size_t i = 0; i < cpu.size(); ++i) CHECK(sub[i] == doctest::Approx(cpu[i]).epsilon(1e-9).scale(1e-6));
}

TEST_CASE("GPU split search picks the CPU split; GPU prediction equals CPU prediction") {
  Data s = make(5000, 5, 2);
  auto data = BinnedMatrix::fit(ConstMatrixView<double>(s.X.data(), s.n, s.d), BinParams{}, Context(2));
  const HistLayout layout = HistLayout::make(data.mapper(), 2);
  std::vector<double> hist(layout.size()), scratch;
  std::vector<int> feats = {0, 1, 2, 3, 4};
  build_histogram<2, std::uint8_t>(Context(1), data, layout, feats, nullptr, 0, s.n, s.gh.data(), hist.data(), scratch);
  double parent[3] = {0, 0, 0};
  for (std::int64_t b = 0; b < layout.bins(0); ++b) {
    for (int k = 0; k < 3; ++k) parent[k] += hist[static_cast<std::size_t>(b * 3 + k)];
  }
  SecondOrder pol;
  const auto gpu = cuda::best_splits(data, hist, parent, pol, 5);
  SplitConstraints c;
  c.min_data_in_leaf = 5;
  for (int f = 0; f < 5; ++f) {
    const auto cpu = orchard::tree::detail::scan_feature(pol, layout.feature(hist.data(), f), data.mapper().num_bins(f), false,
                                          parent, pol.score(parent), c, 1.0);
    CHECK(gpu[static_cast<std::size_t>(f)].bin == cpu.bin);
    CHECK(gpu[static_cast<std::size_t>(f)].default_left == (cpu.default_left ? 1 : 0));
    CHECK(gpu[static_cast<std::size_t>(f)].gain - pol.score(parent) == doctest::Approx(cpu.gain).epsilon(1e-12));
  }
  GrowParams gp;
  gp.max_depth = 5;
  std::vector<Tree> trees;
  for (int t = 0; t < 4; ++t) trees.push_back(grow_tree(Context(2), data, pol, s.gh.data(), {}, {}, gp));
  std::vector<int> cls = {0, 1, 0, 1};
  std::vector<double> cpu(static_cast<std::size_t>(2 * s.n), 0.5), gpu_out = cpu;
  predict_add<double>(Context(2), trees, cls, ConstMatrixView<double>(s.X.data(), s.n, s.d), cpu.data(), 2);
  cuda::predict_add<double>(trees, cls, s.X.data(), s.n, s.d, 2, gpu_out.data());
  CHECK(cpu == gpu_out);
}
