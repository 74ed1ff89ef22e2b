// The CUDA path (cuBLAS syrk + cuSOLVER syevd) against the CPU Gram path. The shared CUDA test
// main exits 77 when no GPU is visible.
#include <doctest/doctest.h>

#include <limits>
#include <orchard/spectral/cuda.hpp>

#include "spectral_test_util.hpp"

using namespace orchard;
using namespace orchard::spectral;
using spectral_test::RowMat;

TEST_CASE("GPU Gram spectrum matches the CPU Gram spectrum (float and double)") {
  RowMat<float> zf = spectral_test::gaussian<float>(3000, 200, 1);
  for (int j = 0; j < 200; ++j) zf.col(j) *= static_cast<float>(1.0 / (1.0 + j));
  const RowMat<double> zd = zf.cast<double>();
  Params p;
  p.method = Method::gram;
  p.gram.block_rows = 700;  // several blocks, a partial last one
  const Context cpu(2), gpu(1, Device::cuda);
  for (int pass = 0; pass < 2; ++pass) {
    const Spectrum c = pass == 0 ? spectrum(zf, p, cpu) : spectrum(zd, p, cpu);
    const Spectrum g = pass == 0 ? spectrum(zf, p, gpu) : spectrum(zd, p, gpu);
    CHECK(g.on_device);
    CHECK_FALSE(c.on_device);
    REQUIRE(g.sigma.size() == c.sigma.size());
    CHECK((g.sigma - c.sigma).norm() <= 1e-9 * c.sigma.norm());
    CHECK((g.covariance - c.covariance).norm() <= 1e-9 * c.covariance.norm());
    const Report rc = report(c, p), rg = report(g, p);
    CHECK(rg.rankme == doctest::Approx(rc.rankme).epsilon(1e-9));
    CHECK(rg.nesum == doctest::Approx(rc.nesum).epsilon(1e-9));
    CHECK(rg.numerical_rank == rc.numerical_rank);
  }
}

TEST_CASE("GPU path: subsampling, bad input, closed form") {
  const RowMat<float> z = spectral_test::gaussian<float>(2000, 64, 2);
  Params p;
  p.max_rows = 500;
  p.subsample = Subsample::random;
  p.seed = 3;
  const Spectrum c = spectrum(z, p, Context(1));
  const Spectrum g = spectrum(z, p, Context(1, Device::cuda));
  CHECK(g.rows == 500);
  CHECK(g.input_rows == 2000);
  CHECK((g.sigma - c.sigma).norm() <= 1e-6 * c.sigma.norm());  // c used the exact SVD path

  RowMat<float> bad = z;
  bad(1234, 5) = std::numeric_limits<float>::quiet_NaN();
  Params all;
  all.max_rows = 0;
  CHECK_THROWS_AS(spectrum(bad, all, Context(1, Device::cuda)), InvalidArgument);
  const RowMat<float> zero = RowMat<float>::Zero(10, 4);
  CHECK_THROWS_AS(spectrum(zero, all, Context(1, Device::cuda)), InvalidArgument);

  const RowMat<float> eye = RowMat<float>::Identity(16, 16);
  const Report r = report(eye, all, Context(1, Device::cuda));
  CHECK(r.rankme_eps0 == doctest::Approx(16.0).epsilon(1e-12));
  CHECK(r.numerical_rank == 16);
}
