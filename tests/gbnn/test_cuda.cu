// The GPU per-step objective against the CPU one (value and gradient), double and float.
// Eigen 3.4 headers under nvcc 13 warn about defaulted __host__ __device__ members (#20012).
#pragma nv_diag_suppress 20012
#include <doctest/doctest.h>

#include <orchard/gbnn.hpp>
#include <orchard/gbnn/cuda/step_objective.cuh>

using namespace orchard;

template <class T>
static void compare_cpu_gpu(long n, long d, long J, long K, double tol) {
  Rng rng(4);
  gbnn::RowMatrix<T> X(n, d), R(n, K);
  for (long i = 0; i < n; ++i) {
    for (long j = 0; j < d; ++j) X(i, j) = static_cast<T>(rng.uniform());
    for (long k = 0; k < K; ++k) R(i, k) = static_cast<T>(rng.normal());
  }
  const Context ctx(2);
  gbnn::NetObjective<T> cpu;
  cpu.configure(n, d, J, K, gbnn::OutputLoss::squared, T(1e-2));
  cpu.bind(X.data(), R.data(), n, ctx);
  gbnn::cuda::StepObjective<T> gpu(0, d, J, K, T(1e-2));
  gpu.bind(X.data(), R.data(), n);
  Eigen::Matrix<T, Eigen::Dynamic, 1> w(cpu.n_params()), gc, gg;
  for (long q = 0; q < w.size(); ++q) w[q] = static_cast<T>(rng.normal(0, 0.3));
  const T fc = cpu(w, gc), fg = gpu(w, gg);
  CHECK(static_cast<double>(fg) == doctest::Approx(static_cast<double>(fc)).epsilon(tol));
  const double scale = std::max(1.0, static_cast<double>(gc.cwiseAbs().maxCoeff()));
  CHECK(static_cast<double>((gc - gg).cwiseAbs().maxCoeff()) <= tol * scale);
}

TEST_CASE("gbnn cuda: step objective matches the CPU (double)") {
  compare_cpu_gpu<double>(3000, 784, 1, 10, 1e-10);
  compare_cpu_gpu<double>(1000, 50, 8, 3, 1e-10);
}

TEST_CASE("gbnn cuda: step objective matches the CPU (float)") {
  compare_cpu_gpu<float>(3000, 784, 2, 10, 2e-3);
}
