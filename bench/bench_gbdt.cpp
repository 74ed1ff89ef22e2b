// Microbenchmarks of the tree engine and the booster: histogram build, split search, tree
// growth, batch prediction, binning. Synthetic data, fixed seed.
#include <benchmark/benchmark.h>

#include <orchard/gbdt.hpp>
#include <orchard/tree.hpp>
#include <map>
#include <vector>

using namespace orchard;

namespace {
struct Synth {
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X;
  Eigen::VectorXf y;
  std::vector<float> gh;
};
const Synth& synth(int n) {
  static std::map<int, Synth> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  Synth s;
  const int d = 28;
  Rng rng(1);
  s.X.resize(n, d);
  s.y.resize(n);
  s.gh.resize(2 * static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    double f = 0;
    for (int j = 0; j < d; ++j) {
      s.X(i, j) = static_cast<float>(rng.normal());
      if (j < 20) f += s.X(i, j) * ((j % 3) - 1);
    }
    s.y[i] = f + rng.normal() > 0 ? 1.0f : 0.0f;
    s.gh[2 * static_cast<std::size_t>(i)] = static_cast<float>(0.5 - s.y[i]);
    s.gh[2 * static_cast<std::size_t>(i) + 1] = 0.25f;
  }
  return cache.emplace(n, std::move(s)).first->second;
}
const tree::BinnedMatrix& binned(int n) {
  static std::map<int, tree::BinnedMatrix> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  const auto& s = synth(n);
  return cache.emplace(n, tree::BinnedMatrix::fit(ConstMatrixView<float>(s.X), tree::BinParams{}, Context(0))).first->second;
}
}  // namespace

static void BM_Binning(benchmark::State& st) {
  const auto& s = synth(static_cast<int>(st.range(0)));
  for (auto _ : st) {
    auto b = tree::BinnedMatrix::fit(ConstMatrixView<float>(s.X), tree::BinParams{}, Context(0));
    benchmark::DoNotOptimize(b);
  }
  st.SetItemsProcessed(st.iterations() * st.range(0));
}
BENCHMARK(BM_Binning)->Arg(200000)->Unit(benchmark::kMillisecond);

static void BM_HistogramRoot(benchmark::State& st) {
  const int n = static_cast<int>(st.range(0));
  const auto& s = synth(n);
  const auto& data = binned(n);
  const auto layout = tree::HistLayout::make(data.mapper(), 2);
  std::vector<double> hist(layout.size()), scratch;
  std::vector<int> feats(28);
  for (int f = 0; f < 28; ++f) feats[static_cast<std::size_t>(f)] = f;
  for (auto _ : st) {
    tree::build_histogram<2, std::uint8_t>(Context(0), data, layout, feats, nullptr, 0, n, s.gh.data(),
                                           hist.data(), scratch);
    benchmark::DoNotOptimize(hist.data());
  }
  st.SetItemsProcessed(st.iterations() * n * 28);
}
BENCHMARK(BM_HistogramRoot)->Arg(200000)->Unit(benchmark::kMillisecond);

static void BM_SplitSearch(benchmark::State& st) {
  const int n = 200000;
  const auto& s = synth(n);
  const auto& data = binned(n);
  const auto layout = tree::HistLayout::make(data.mapper(), 2);
  std::vector<double> hist(layout.size()), scratch;
  std::vector<int> feats(28);
  for (int f = 0; f < 28; ++f) feats[static_cast<std::size_t>(f)] = f;
  tree::build_histogram<2, std::uint8_t>(Context(0), data, layout, feats, nullptr, 0, n, s.gh.data(), hist.data(), scratch);
  double parent[3] = {0, 0, 0};
  for (std::int64_t b = 0; b < layout.bins(0); ++b) {
    for (int k = 0; k < 3; ++k) parent[k] += hist[static_cast<std::size_t>(b * 3 + k)];
  }
  tree::SecondOrder pol;
  for (auto _ : st) {
    auto sp = tree::find_best_split(Context(1), pol, data.mapper(), layout, feats, hist.data(), parent, {});
    benchmark::DoNotOptimize(sp);
  }
}
BENCHMARK(BM_SplitSearch)->Unit(benchmark::kMicrosecond);

static void BM_GrowTree(benchmark::State& st) {
  const int n = static_cast<int>(st.range(0));
  const auto& s = synth(n);
  const auto& data = binned(n);
  tree::GrowParams gp;
  gp.max_depth = 6;
  tree::GrowWorkspace ws;
  for (auto _ : st) {
    auto t = tree::grow_tree(Context(0), data, tree::SecondOrder{}, s.gh.data(), {}, {}, gp, nullptr, &ws);
    benchmark::DoNotOptimize(t);
  }
  st.SetItemsProcessed(st.iterations() * n);
}
BENCHMARK(BM_GrowTree)->Arg(200000)->Unit(benchmark::kMillisecond);

static void BM_Predict(benchmark::State& st) {
  const int n = 50000;
  const auto& s = synth(n);
  gbdt::Params p;
  p.objective = "binary";
  p.num_rounds = 100;
  static gbdt::Model m = gbdt::train(p, s.X, s.y);
  for (auto _ : st) {
    auto r = m.predict_raw(s.X);
    benchmark::DoNotOptimize(r.data());
  }
  st.SetItemsProcessed(st.iterations() * n);
}
BENCHMARK(BM_Predict)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
