// The GPU network objective against the CPU one (value and gradient; squared, logistic and
// softmax losses; double and float), and GPU training (Context with Device::cuda) against CPU
// training of the same model.
// (<orchard/gbnn/cuda.hpp> comes first: it silences Eigen's nvcc diagnostics.)
#include <orchard/gbnn/cuda.hpp>

#include <doctest/doctest.h>

#include "gbnn_test_data.hpp"

using namespace orchard;

namespace {

template <class T>
void compare_cpu_gpu(long n, long d, long J, long K, gbnn::OutputLoss loss, double tol) {
  Rng rng(4);
  const long tc = loss == gbnn::OutputLoss::squared ? K : 1;
  gbnn::RowMatrix<T> X(n, d), R(n, tc);
  for (long i = 0; i < n; ++i) {
    for (long j = 0; j < d; ++j) X(i, j) = static_cast<T>(rng.uniform());
    for (long k = 0; k < tc; ++k) {
      if (loss == gbnn::OutputLoss::squared) R(i, k) = static_cast<T>(rng.normal());
      if (loss == gbnn::OutputLoss::logistic) R(i, k) = rng.bernoulli(0.4) ? T(1) : T(-1);
      if (loss == gbnn::OutputLoss::softmax) R(i, k) = static_cast<T>(rng.uniform_int(K));
    }
  }
  const Context ctx(2);
  gbnn::NetObjective<T> cpu;
  cpu.configure(n, d, J, K, loss, T(1e-2));
  cpu.bind(X.data(), R.data(), n, ctx);
  gbnn::cuda::NetObjective<T> gpu(0, n, d, J, K, loss, T(1e-2));
  gpu.bind(X.data(), R.data(), n, ctx);
  Eigen::Matrix<T, Eigen::Dynamic, 1> w(cpu.n_params()), gc, gg;
  for (long q = 0; q < w.size(); ++q) w[q] = static_cast<T>(rng.normal(0, 0.3));
  const T fc = cpu(w, gc), fg = gpu(w, gg);
  CHECK(static_cast<double>(fg) == doctest::Approx(static_cast<double>(fc)).epsilon(tol));
  const double scale = std::max(1.0, static_cast<double>(gc.cwiseAbs().maxCoeff()));
  CHECK(static_cast<double>((gc - gg).cwiseAbs().maxCoeff()) <= tol * scale);
}

}  // namespace

TEST_CASE("gbnn cuda: network objective matches the CPU (double)") {
  compare_cpu_gpu<double>(3000, 784, 1, 10, gbnn::OutputLoss::squared, 1e-10);
  compare_cpu_gpu<double>(1000, 50, 8, 3, gbnn::OutputLoss::squared, 1e-10);
  compare_cpu_gpu<double>(1000, 50, 8, 1, gbnn::OutputLoss::logistic, 1e-10);
  compare_cpu_gpu<double>(1000, 50, 8, 5, gbnn::OutputLoss::softmax, 1e-10);
}

TEST_CASE("gbnn cuda: network objective matches the CPU (float)") {
  compare_cpu_gpu<float>(3000, 784, 2, 10, gbnn::OutputLoss::squared, 2e-3);
  compare_cpu_gpu<float>(1000, 50, 8, 5, gbnn::OutputLoss::softmax, 2e-3);
}

// Training on the GPU follows the CPU trajectory: a fixed number of L-BFGS iterations (ftol = tol = 0)
// from the same seeded start, so only rounding differs (GEMM summation order). Stated tolerance:
// 1e-6 on every class probability, in double.
TEST_CASE("gbnn cuda: GBNN fit on the GPU equals the CPU fit (1e-6)") {
  for (int kind : {0, 1, 2}) {
    auto pr = gbnn_test::make_problem(kind, 400, 6);
    auto p = gbnn_test::small_params(kind, 5, 3);
    p.max_iter = 30;
    p.ftol = 0;
    p.subsample = 0.5;
    gbnn::Model<double> cpu, gpu;
    cpu.fit(pr.X, pr.y, p, Context(2));
    gpu.fit(pr.X, pr.y, p, Context(2, Device::cuda));
    REQUIRE(gpu.n_steps() == cpu.n_steps());
    const auto pc = cpu.predict_proba(pr.X), pg = gpu.predict_proba(pr.X);
    CHECK_MESSAGE((pc - pg).cwiseAbs().maxCoeff() <= 1e-6, "kind " << kind);
    CHECK_MESSAGE((cpu.rho() - gpu.rho()).cwiseAbs().maxCoeff() <= 1e-6, "kind " << kind);
  }
}

TEST_CASE("gbnn cuda: MLP fit on the GPU equals the CPU fit (L-BFGS 1e-6, Adam 1e-6)") {
  for (int kind : {0, 1, 2}) {
    auto pr = gbnn_test::make_problem(kind, 400, 6);
    gbnn::MlpParams mp;
    mp.task = kind == 0 ? gbnn::Task::regression : gbnn::Task::classification;
    mp.hidden = 12;
    mp.max_iter = 30;
    mp.ftol = 0;
    mp.tol = 0;
    mp.seed = 3;
    for (auto solver : {gbnn::Solver::lbfgs, gbnn::Solver::adam}) {
      mp.solver = solver;
      gbnn::Mlp<double> cpu, gpu;
      cpu.fit(pr.X, pr.y, mp, Context(2));
      gpu.fit(pr.X, pr.y, mp, Context(2, Device::cuda));
      const auto pc = cpu.predict_proba(pr.X), pg = gpu.predict_proba(pr.X);
      CHECK_MESSAGE((pc - pg).cwiseAbs().maxCoeff() <= 1e-6,
                    "kind " << kind << " solver " << static_cast<int>(solver));
    }
  }
}

TEST_CASE("gbnn cuda: float training on the GPU reaches the CPU's training loss (1e-2)") {
  auto pr = gbnn_test::make_problem(2, 400, 6);
  const gbnn::RowMatrix<float> X = pr.X.cast<float>();
  const Eigen::VectorXf y = pr.y.cast<float>();
  auto p = gbnn_test::small_params(2, 5, 3);
  gbnn::Model<float> cpu, gpu;
  cpu.fit(X, y, p, Context(2));
  gpu.fit(X, y, p, Context(2, Device::cuda));
  CHECK(gpu.train_losses().back() == doctest::Approx(cpu.train_losses().back()).epsilon(1e-2));
}
