// Influence benchmarks (the spec's setting: binary, 20 features, 100 trees of depth 5):
// BoostIn fit and per-test-row time at n_train = 1k / 10k / 50k, TREX fit, LeafInfluence at 1k.
#include <benchmark/benchmark.h>

#include <map>
#include <orchard/gbdt.hpp>
#include <orchard/influence.hpp>

namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Setup {
  RowMatrix X, Xt;
  Eigen::VectorXd y, yt;
  orchard::gbdt::Model model;
};

void synth(int n, std::uint64_t seed, RowMatrix& X, Eigen::VectorXd& y) {
  orchard::Rng rng(seed);
  X.resize(n, 20);
  y.resize(n);
  for (int i = 0; i < n; ++i) {
    double f = 0;
    for (int j = 0; j < 20; ++j) {
      X(i, j) = rng.normal();
      if (j < 10) f += (j % 2 ? 1 : -1) * X(i, j) * (1 + 0.1 * j);
    }
    f += X(i, 0) * X(i, 1);
    y[i] = rng.uniform() < 1 / (1 + std::exp(-f)) ? 1 : 0;
  }
}

const Setup& setup(int n) {
  static std::map<int, Setup> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  Setup s;
  synth(n, 1, s.X, s.y);
  synth(1000, 2, s.Xt, s.yt);
  orchard::gbdt::Params p;
  p.objective = "binary";
  p.num_rounds = 100;
  p.max_depth = 5;
  p.learning_rate = 0.1;
  p.lambda_l2 = 1.0;
  s.model = orchard::gbdt::train(p, orchard::cview<double>(s.X), orchard::ConstVectorView<double>(s.y.data(), s.y.size()));
  return cache.emplace(n, std::move(s)).first->second;
}

orchard::influence::Params params() {
  orchard::influence::Params p;
  p.learning_rate = 0.1;
  p.lambda_l2 = 1.0;
  return p;
}

void BM_BoostInFit(benchmark::State& st) {
  const auto& s = setup(static_cast<int>(st.range(0)));
  for (auto _ : st) {
    auto ex = orchard::influence::make("boostin", s.model, orchard::cview<double>(s.X),
                                       orchard::ConstVectorView<double>(s.y.data(), s.y.size()), params());
    benchmark::DoNotOptimize(ex);
  }
}
BENCHMARK(BM_BoostInFit)->Arg(1000)->Arg(10000)->Arg(50000)->Unit(benchmark::kMillisecond);

// local() on 100 test rows (divide the time by 100 for the per-row time).
void BM_BoostInLocal100Rows(benchmark::State& st) {
  const auto& s = setup(static_cast<int>(st.range(0)));
  auto ex = orchard::influence::make("boostin", s.model, orchard::cview<double>(s.X),
                                     orchard::ConstVectorView<double>(s.y.data(), s.y.size()), params());
  const RowMatrix Xt = s.Xt.topRows(100);
  const Eigen::VectorXd yt = s.yt.head(100);
  for (auto _ : st) {
    auto I = ex.local(orchard::cview<double>(Xt), orchard::ConstVectorView<double>(yt.data(), yt.size()));
    benchmark::DoNotOptimize(I.data());
  }
}
BENCHMARK(BM_BoostInLocal100Rows)->Arg(1000)->Arg(10000)->Arg(50000)->Unit(benchmark::kMillisecond);

void BM_TrexFit(benchmark::State& st) {
  const auto& s = setup(static_cast<int>(st.range(0)));
  for (auto _ : st) {
    auto ex = orchard::influence::make("trex", s.model, orchard::cview<double>(s.X),
                                       orchard::ConstVectorView<double>(s.y.data(), s.y.size()), params());
    benchmark::DoNotOptimize(ex);
  }
}
BENCHMARK(BM_TrexFit)->Arg(10000)->Arg(50000)->Unit(benchmark::kMillisecond)->Iterations(1);

// LeafInfluence: fit plus local() on one test row = all n leaf-derivative vectors (the
// reference's fit).
void BM_LeafInfluence(benchmark::State& st) {
  const auto& s = setup(static_cast<int>(st.range(0)));
  const RowMatrix Xt = s.Xt.topRows(1);
  const Eigen::VectorXd yt = s.yt.head(1);
  for (auto _ : st) {
    auto ex = orchard::influence::make("leaf_influence", s.model, orchard::cview<double>(s.X),
                                       orchard::ConstVectorView<double>(s.y.data(), s.y.size()), params());
    auto I = ex.local(orchard::cview<double>(Xt), orchard::ConstVectorView<double>(yt.data(), yt.size()));
    benchmark::DoNotOptimize(I.data());
  }
}
BENCHMARK(BM_LeafInfluence)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
