// Closed forms, variants, subsampling and input validation of orchard::spectral.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <orchard/spectral.hpp>
#include <vector>

#include "spectral_test_util.hpp"

using namespace orchard;
using namespace orchard::spectral;
using spectral_test::RowMat;

namespace {

// -Σ p ln p by hand.
double entropy_of(const std::vector<double>& p) {
  double h = 0;
  for (double x : p)
    if (x > 0) h -= x * std::log(x);
  return h;
}

// 8 rows, the Hadamard columns 1..k scaled by s: orthogonal, zero-mean columns with σⱼ = √8·sⱼ.
RowMat<double> orthogonal_columns(const std::vector<double>& s) {
  const Eigen::MatrixXd h = spectral_test::hadamard(8);
  RowMat<double> z(8, static_cast<Eigen::Index>(s.size()));
  for (std::size_t j = 0; j < s.size(); ++j)
    z.col(static_cast<Eigen::Index>(j)) = h.col(static_cast<Eigen::Index>(j) + 1) * s[j];
  return z;
}

Params with_method(Method m) {
  Params p;
  p.method = m;
  return p;
}

}  // namespace

TEST_CASE("orthogonal columns with known singular values: every metric by hand") {
  const RowMat<double> z = orthogonal_columns({4, 2, 1});
  for (Method m : {Method::svd, Method::gram}) {
    CAPTURE(to_string(m));
    const Report r = report(z, with_method(m), Context(1));
    // σ ∝ (4, 2, 1): p = (4/7, 2/7, 1/7).
    const double e = 1e-7;
    CHECK(r.rankme_eps0 == doctest::Approx(std::exp(entropy_of({4. / 7, 2. / 7, 1. / 7}))).epsilon(1e-12));
    CHECK(r.rankme == doctest::Approx(std::exp(entropy_of({4. / 7 + e, 2. / 7 + e, 1. / 7 + e}))).epsilon(1e-12));
    CHECK(r.rankme_eps1e5 ==
          doctest::Approx(std::exp(entropy_of({4. / 7 + 1e-5, 2. / 7 + 1e-5, 1. / 7 + 1e-5}))).epsilon(1e-12));
    CHECK(r.rankme_normalised ==
          doctest::Approx(entropy_of({4. / 7 + e, 2. / 7 + e, 1. / 7 + e}) / std::log(3.0)).epsilon(1e-12));
    CHECK(r.largest_singular_value == doctest::Approx(4 * std::sqrt(8.0)).epsilon(1e-12));
    CHECK(r.stable_rank == doctest::Approx(21.0 / 16.0).epsilon(1e-12));
    CHECK(r.condition_number == doctest::Approx(4.0).epsilon(1e-10));
    CHECK(r.numerical_rank == 3);
    // Zero-mean columns: the covariance eigenvalues are 8 s² / 7 ∝ (16, 4, 1).
    CHECK(r.participation_ratio == doctest::Approx(21.0 * 21.0 / 273.0).epsilon(1e-12));
    CHECK(r.nesum == doctest::Approx(21.0 / 16.0).epsilon(1e-12));
    CHECK(r.rankme_centred ==
          doctest::Approx(std::exp(entropy_of({16. / 21 + e, 4. / 21 + e, 1. / 21 + e}))).epsilon(1e-12));
  }
}

TEST_CASE("alpha-ReQ recovers an exact power law, and the covariance has the right scale") {
  std::vector<double> s;
  for (int i = 1; i <= 7; ++i) s.push_back(std::pow(i, -0.75));  // λᵢ ∝ i^-1.5
  const RowMat<double> z = orthogonal_columns(s);
  for (Method m : {Method::svd, Method::gram}) {
    const Spectrum sp = spectrum(z, with_method(m), Context(2));
    CHECK(sp.covariance(0) == doctest::Approx(8.0 / 7.0).epsilon(1e-12));
    const Report r = report(sp, Params{});
    CHECK(r.alpha_req == doctest::Approx(1.5).epsilon(1e-10));
    CHECK(r.alpha_req_points == 7);
  }
  const PowerLawFit f = power_law_fit(Eigen::Vector3d(8, 8 * std::pow(2, -0.5), 8 * std::pow(3, -0.5)), 0);
  CHECK(f.alpha == doctest::Approx(0.5).epsilon(1e-12));
  CHECK(f.log_c == doctest::Approx(std::log(8.0)).epsilon(1e-12));
  CHECK(std::isnan(power_law_fit(Eigen::Vector2d(1, 0), 0).alpha));
}

TEST_CASE("identity: RankMe K (eps 0), every rank K, condition number 1") {
  const Eigen::Index k = 12;
  const RowMat<float> z = RowMat<float>::Identity(k, k);
  for (Method m : {Method::svd, Method::gram}) {
    const Report r = report(z, with_method(m), Context(1));
    CHECK(r.rankme_eps0 == doctest::Approx(12.0).epsilon(1e-12));
    const double p = 1.0 / 12 + 1e-7;
    CHECK(r.rankme == doctest::Approx(std::exp(-12 * p * std::log(p))).epsilon(1e-12));
    CHECK(r.numerical_rank == 12);
    CHECK(r.stable_rank == doctest::Approx(12.0).epsilon(1e-12));
    CHECK(r.condition_number == doctest::Approx(1.0).epsilon(1e-12));
  }
}

TEST_CASE("rank-r products have numerical rank r (float and double, both paths)") {
  for (int r : {1, 7, 20}) {
    const RowMat<double> a = spectral_test::gaussian(300, r, 11 + static_cast<std::uint64_t>(r));
    const RowMat<double> b = spectral_test::gaussian(r, 40, 99);
    const RowMat<double> zd = a * b;
    const RowMat<float> zf = zd.cast<float>();
    for (Method m : {Method::svd, Method::gram}) {
      CAPTURE(r);
      CAPTURE(to_string(m));
      CHECK(report(zd, with_method(m), Context(2)).numerical_rank == r);
      CHECK(report(zf, with_method(m), Context(2)).numerical_rank == r);
    }
  }
  // numpy's tolerance: σ₁ · max(N, K) · u of the input type.
  const RowMat<double> z = spectral_test::gaussian(50, 10, 3);
  const Spectrum sd = spectrum(z, with_method(Method::svd), Context(1));
  CHECK(sd.rank_tolerance == doctest::Approx(sd.sigma(0) * 50 * std::numeric_limits<double>::epsilon()));
  const RowMat<float> zf = z.cast<float>();
  const Spectrum sf = spectrum(zf, with_method(Method::svd), Context(1));
  CHECK(sf.rank_tolerance == doctest::Approx(sf.sigma(0) * 50 * std::numeric_limits<float>::epsilon()));
}

TEST_CASE("SVD against a naive Jacobi-free check: σ² are the eigenvalues of ZᵀZ") {
  const RowMat<double> z = spectral_test::gaussian(40, 6, 5);
  const Spectrum s = spectrum(z, with_method(Method::svd), Context(1));
  Eigen::MatrixXd g = z.transpose() * z;
  Eigen::VectorXd ev = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(g).eigenvalues().reverse();
  for (int i = 0; i < 6; ++i) CHECK(s.sigma(i) * s.sigma(i) == doctest::Approx(ev(i)).epsilon(1e-10));
}

TEST_CASE("identical rows: raw rank 1, centred metrics defined as 0") {
  RowMat<double> z(20, 5);
  for (int i = 0; i < 20; ++i) z.row(i) << 1, 2, 3, 4, 5;
  for (Method m : {Method::svd, Method::gram}) {
    const Report r = report(z, with_method(m), Context(1));
    CHECK(r.rankme_eps0 == doctest::Approx(1.0).epsilon(1e-6));
    CHECK(r.numerical_rank == 1);
    CHECK(r.participation_ratio == 0);
    CHECK(r.nesum == 0);
    CHECK(r.rankme_centred == 0);
    CHECK(std::isnan(r.alpha_req));
  }
  Params p;
  p.centred = false;
  CHECK(std::isnan(report(z, p, Context(1)).nesum));
}

TEST_CASE("subsampling: first rows, or seeded random rows") {
  const RowMat<double> z = spectral_test::gaussian(500, 8, 21);
  Params p;
  p.max_rows = 100;
  const Spectrum s_first = spectrum(z, p, Context(1));
  const RowMat<double> head = z.topRows(100);
  CHECK(s_first.rows == 100);
  CHECK(s_first.input_rows == 500);
  CHECK((s_first.sigma - spectrum(head, p, Context(1)).sigma).norm() == 0);

  p.subsample = Subsample::random;
  p.seed = 7;
  Rng rng(7);
  const auto rows = rng.sample_without_replacement(500, 100);
  RowMat<double> picked(100, 8);
  for (int i = 0; i < 100; ++i) picked.row(i) = z.row(rows[static_cast<std::size_t>(i)]);
  for (Method m : {Method::svd, Method::gram}) {
    p.method = m;
    const Spectrum s_rand = spectrum(z, p, Context(2));
    Params q = p;
    q.max_rows = 0;
    CHECK((s_rand.sigma - spectrum(picked, q, Context(2)).sigma).norm() <= 1e-12 * s_rand.sigma(0));
    CHECK((s_rand.sigma - spectrum(z, p, Context(1)).sigma).norm() == 0);  // same seed, same rows
    p.seed = 8;
    CHECK((s_rand.sigma - spectrum(z, p, Context(1)).sigma).norm() > 1e-6);
    p.seed = 7;
  }
}

TEST_CASE("bad input throws InvalidArgument naming the argument") {
  const Context ctx(1);
  const Params p;
  auto throws_naming = [](auto&& fn, const std::string& name) {
    try {
      fn();
      FAIL("no throw for " << name);
    } catch (const InvalidArgument& e) {
      CHECK_MESSAGE(std::string(e.what()).find("'" + name + "'") != std::string::npos, e.what());
    }
  };
  RowMat<double> z = spectral_test::gaussian(30, 4, 1);
  for (Method m : {Method::svd, Method::gram}) {
    Params q = p;
    q.method = m;
    RowMat<double> bad = z;
    bad(17, 2) = std::numeric_limits<double>::quiet_NaN();
    throws_naming([&] { spectrum(bad, q, ctx); }, "Z");
    try {
      spectrum(bad, q, ctx);
    } catch (const InvalidArgument& e) {
      CHECK(std::string(e.what()).find("row 17, column 2") != std::string::npos);
    }
    RowMat<float> badf = z.cast<float>();
    badf(3, 0) = std::numeric_limits<float>::infinity();
    throws_naming([&] { spectrum(badf, q, ctx); }, "Z");
    const RowMat<double> zero = RowMat<double>::Zero(10, 3);
    throws_naming([&] { spectrum(zero, q, ctx); }, "Z");  // all zero
  }
  const RowMat<double> no_rows(0, 4);
  const RowMat<float> no_cols(5, 0);
  throws_naming([&] { spectrum(no_rows, p, ctx); }, "Z.rows");
  throws_naming([&] { spectrum(no_cols, p, ctx); }, "Z.cols");
  Params q = p;
  q.eps = -1;
  throws_naming([&] { spectrum(z, q, ctx); }, "eps");
  q = p;
  q.max_rows = -3;
  throws_naming([&] { spectrum(z, q, ctx); }, "max_rows");
  q = p;
  q.subsample = Subsample::random;
  BlockSource<double> src = [&]() { return ConstMatrixView<double>(); };
  throws_naming([&] { spectrum<double>(src, 4, q, ctx); }, "subsample");
  throws_naming([&] { spectrum<double>(src, 4, p, ctx); }, "Z.rows");
  throws_naming([&] { spectrum<double>(src, 0, p, ctx); }, "cols");
  throws_naming([&] { parse_method("qr"); }, "method");
  throws_naming([&] { GramAccumulator(0); }, "cols");
  GramAccumulator acc(3);
  throws_naming([&] { acc.add(ConstMatrixView<double>(z), ctx); }, "block.cols");
  const std::vector<std::int64_t> groups(29, 0);
  throws_naming([&] { lidar(z, groups, p, ctx); }, "groups.size");
  CHECK_THROWS_AS(spectrum(z, p, Context(1, Device::cuda)), DeviceError);
}

TEST_CASE("LiDAR: equilateral class means with isotropic within-class noise give exactly 2") {
  // 3 groups of 8 rows in K = 4: means on an equilateral triangle in the (e1, e2) plane (Σ_b has
  // two equal eigenvalues), offsets ±a eⱼ within each group (Σ_w ∝ I), so Σ_lidar ∝ Σ_b.
  const double a = 0.3, pi = std::acos(-1.0);
  RowMat<double> z(24, 4);
  std::vector<std::int64_t> groups;
  for (int g = 0; g < 3; ++g) {
    const Eigen::RowVector4d mu(std::cos(2 * pi * g / 3), std::sin(2 * pi * g / 3), 0, 0);
    for (int j = 0; j < 4; ++j) {
      for (int sgn : {1, -1}) {
        const int row = g * 8 + j * 2 + (sgn > 0 ? 0 : 1);
        z.row(row) = mu;
        z(row, j) += sgn * a;
        groups.push_back(100 + g);
      }
    }
  }
  Params p;
  p.lidar_eps = 0;
  CHECK(lidar(z, groups, p, Context(1)) == doctest::Approx(2.0).epsilon(1e-9));
  p.lidar_eps = 1e-8;
  const double e = 1e-8;
  CHECK(lidar(z, groups, p, Context(2)) ==
        doctest::Approx(std::exp(entropy_of({0.5 + e, 0.5 + e, e, e}))).epsilon(1e-9));
  const Report r = report(z, groups, p, Context(1));
  REQUIRE(r.lidar.has_value());
  CHECK(*r.lidar == doctest::Approx(std::exp(entropy_of({0.5 + e, 0.5 + e, e, e}))).epsilon(1e-9));
}

TEST_CASE("LiDAR is invariant to an invertible linear map (delta small) and to thread count") {
  const RowMat<double> base = spectral_test::gaussian(60, 5, 31);
  std::vector<std::int64_t> groups;
  RowMat<double> z(60, 5);
  for (int i = 0; i < 60; ++i) {
    groups.push_back(i / 6);
    z.row(i) = base.row(i / 6) * 2.0 + base.row(i) * 0.5;  // 10 groups of 6
  }
  Eigen::MatrixXd a = spectral_test::gaussian(5, 5, 32);
  a.diagonal().array() += 4;
  const RowMat<double> za = z * a;
  Params p;
  p.lidar_delta = 1e-12;
  const double l1 = lidar(z, groups, p, Context(1));
  CHECK(l1 > 1);
  CHECK(l1 < 5);
  CHECK(lidar(za, groups, p, Context(1)) == doctest::Approx(l1).epsilon(1e-6));
  CHECK(lidar(z, groups, p, Context(3)) == l1);
}
