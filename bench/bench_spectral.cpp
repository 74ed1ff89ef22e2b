// Spectral family microbenchmarks: 25600 × {256, 2048} float32 embeddings, the streaming Gram path
// (Gram only, eigenvalues, the whole raw and centred spectrum) and the exact SVD path for the small
// matrix. Built twice: bench_spectral (project flags) and bench_spectral_native (-march=native).
#include <benchmark/benchmark.h>

#include <map>
#include <orchard/spectral.hpp>

namespace {

namespace sp = orchard::spectral;
using RowMatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

const RowMatF& data(Eigen::Index k) {
  static std::map<Eigen::Index, RowMatF> cache;
  auto it = cache.find(k);
  if (it == cache.end()) {
    orchard::Rng rng(1);
    RowMatF z(25600, k);
    for (Eigen::Index i = 0; i < z.size(); ++i) z.data()[i] = static_cast<float>(rng.normal());
    it = cache.emplace(k, std::move(z)).first;
  }
  return it->second;
}

void BM_GramAccumulate(benchmark::State& state) {
  const auto& z = data(state.range(0));
  const orchard::Context ctx(static_cast<int>(state.range(1)));
  for (auto _ : state) {
    sp::GramAccumulator acc(z.cols());
    acc.add(orchard::ConstMatrixView<float>(z), ctx);
    benchmark::DoNotOptimize(acc.lower().data());
  }
  const double flops = static_cast<double>(z.rows()) * z.cols() * (z.cols() + 1);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Spectrum(benchmark::State& state, sp::Method method, bool centred) {
  const auto& z = data(state.range(0));
  const orchard::Context ctx(static_cast<int>(state.range(1)));
  sp::Params p;
  p.method = method;
  p.centred = centred;
  double rankme = 0;
  for (auto _ : state) {
    rankme = sp::report(orchard::ConstMatrixView<float>(z), p, ctx).rankme;
    benchmark::DoNotOptimize(rankme);
  }
  state.counters["RankMe"] = rankme;
}

void args(benchmark::internal::Benchmark* b) {
  for (int k : {256, 2048})
    for (int t : {1, 2}) b->Args({k, t});
  b->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1)->Repetitions(1);
}

BENCHMARK(BM_GramAccumulate)->Apply(args);
BENCHMARK_CAPTURE(BM_Spectrum, gram_raw, sp::Method::gram, false)->Apply(args);
BENCHMARK_CAPTURE(BM_Spectrum, gram_centred, sp::Method::gram, true)->Apply(args);
BENCHMARK_CAPTURE(BM_Spectrum, svd_raw, sp::Method::svd, false)
    ->Args({256, 1})->Args({256, 2})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
