// Microbenchmarks of orchard::gbnn: the per-step objective (fused forward/backward), a short GBNN
// fit, the MLP baseline, and prediction through the additive model vs the merged network.
#include <benchmark/benchmark.h>

#include <orchard/gbnn.hpp>
#include <vector>

using namespace orchard;

namespace {

template <class T>
struct Data {
  gbnn::RowMatrix<T> X, R;
  Eigen::Matrix<T, Eigen::Dynamic, 1> y;
  Data(index_t n, index_t d, index_t K) : X(n, d), R(n, K), y(n) {
    Rng rng(1);
    for (index_t i = 0; i < n; ++i) {
      for (index_t j = 0; j < d; ++j) X(i, j) = static_cast<T>(rng.uniform());
      for (index_t k = 0; k < K; ++k) R(i, k) = static_cast<T>(rng.normal());
      y[i] = static_cast<T>(X(i, 0) + X(i, 1) > 1.0 ? (X(i, 2) > 0.5 ? 2 : 1) : 0);
    }
  }
};

// One objective + gradient evaluation of a GBNN step network: n rows, J units, threads, d inputs,
// K outputs (784 and 10: a Fashion-MNIST-sized step).
template <class T>
void BM_step_objective(benchmark::State& st) {
  const index_t n = st.range(0), J = st.range(1);
  const index_t d = st.range(3), K = st.range(4);
  Data<T> data(n, d, K);
  const Context ctx(static_cast<int>(st.range(2)));
  gbnn::NetObjective<T> obj;
  obj.configure(n, d, J, K, gbnn::OutputLoss::squared, T(1e-4));
  obj.bind(data.X.data(), data.R.data(), n, ctx);
  Eigen::Matrix<T, Eigen::Dynamic, 1> w = Eigen::Matrix<T, Eigen::Dynamic, 1>::Constant(obj.n_params(), T(0.01)), g;
  for (auto _ : st) benchmark::DoNotOptimize(obj(w, g));
  st.SetItemsProcessed(st.iterations() * n);
}
// At 784 inputs J <= 2 runs the row kernel (X read once per evaluation), J = 8 the lane kernel,
// J = 16 the GEMM sub-blocks; n = 2500 is the Fashion-MNIST compare's subsample. Narrow rows
// (d <= 512) take the lane kernel at any J <= 8: 228 × 30 with one output is the breast-cancer
// compare's subsample, 800 × 64 with 10 a digits-sized step.
BENCHMARK(BM_step_objective<double>)->Args({10000, 1, 1, 784, 10})->Args({10000, 1, 2, 784, 10})->Args({10000, 8, 2, 784, 10});
BENCHMARK(BM_step_objective<float>)
    ->Args({2500, 1, 1, 784, 10})
    ->Args({2500, 2, 1, 784, 10})
    ->Args({10000, 1, 2, 784, 10})
    ->Args({10000, 8, 2, 784, 10})
    ->Args({10000, 16, 2, 784, 10})
    ->Args({228, 1, 1, 30, 1})
    ->Args({800, 1, 1, 64, 10});

// The same evaluation on byte-coded features (pixels k/255, half of them zero) through the AMX
// integer tiles (gbnn/int8_tiles.hpp), against the float kernels on the same values: n rows, J
// units, threads, tiles (1) or float (0).
void BM_step_objective_codes(benchmark::State& st) {
  const index_t n = st.range(0), J = st.range(1), d = 784, K = 10;
  Rng rng(1);
  gbnn::RowMatrix<float> X(n, d), R(n, K);
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j < d; ++j)
      X(i, j) = rng.bernoulli(0.5) ? 0.0f : static_cast<float>(rng.uniform_int(256) / 255.0);
    for (index_t k = 0; k < K; ++k) R(i, k) = static_cast<float>(rng.normal());
  }
  X(0, 0) = 1.0f;
  const Context ctx(static_cast<int>(st.range(2)));
  gbnn::NetObjective<float> obj;
  obj.configure(n, d, J, K, gbnn::OutputLoss::squared, 1e-4f);
  std::vector<std::uint8_t> codes;
  double scale = 0;
  if (st.range(3) == 1) {
    if (!gbnn::detail::byte_codes(X.data(), n, d, codes, scale) ||
        !obj.bind_codes(codes.data(), nullptr, n, scale, R.data(), ctx)) {
      st.SkipWithError("no AMX-INT8 on this CPU");
      return;
    }
  } else {
    obj.bind(X.data(), R.data(), n, ctx);
  }
  Eigen::VectorXf w = Eigen::VectorXf::Constant(obj.n_params(), 0.01f), g;
  for (auto _ : st) benchmark::DoNotOptimize(obj(w, g));
  st.SetItemsProcessed(st.iterations() * n);
}
BENCHMARK(BM_step_objective_codes)
    ->Args({2500, 1, 1, 1})
    ->Args({2500, 1, 1, 0})
    ->Args({2500, 1, 2, 1})
    ->Args({2500, 1, 2, 0})
    ->Args({10000, 2, 2, 1})
    ->Args({10000, 2, 2, 0});

void BM_gbnn_fit(benchmark::State& st) {
  Data<double> data(2000, 50, 1);
  gbnn::Params p;
  p.steps = 10;
  p.units = static_cast<int>(st.range(0));
  const Context ctx(2);
  for (auto _ : st) {
    gbnn::Model<double> m;
    m.fit(data.X, data.y, p, ctx);
    benchmark::DoNotOptimize(m.rho().data());
  }
}
BENCHMARK(BM_gbnn_fit)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond);

void BM_mlp_fit(benchmark::State& st) {
  Data<double> data(2000, 50, 1);
  gbnn::MlpParams p;
  p.hidden = 40;
  p.solver = st.range(0) == 0 ? gbnn::Solver::lbfgs : gbnn::Solver::adam;
  p.max_iter = st.range(0) == 0 ? 200 : 20;
  const Context ctx(2);
  for (auto _ : st) {
    gbnn::Mlp<double> m;
    m.fit(data.X, data.y, p, ctx);
    benchmark::DoNotOptimize(m.network().W1.data());
  }
}
BENCHMARK(BM_mlp_fit)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Prediction of a 40-step model: step by step (additive) vs one merged network.
void BM_predict(benchmark::State& st) {
  Data<double> data(4000, 50, 1);
  gbnn::Params p;
  p.steps = 40;
  p.max_iter = 20;
  const Context ctx(2);
  gbnn::Model<double> m;
  m.fit(data.X, data.y, p, ctx);
  const auto net = m.to_network();
  for (auto _ : st) {
    if (st.range(0) == 0) benchmark::DoNotOptimize(m.decision_function(data.X, -1, ctx).data());
    else benchmark::DoNotOptimize(net.raw(data.X, -1, ctx).data());
  }
  st.SetItemsProcessed(st.iterations() * data.X.rows());
}
BENCHMARK(BM_predict)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
