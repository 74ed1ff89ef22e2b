// The streaming Gram: against a naive reference, thread-count invariance, shards that add up,
// block sources, row order, and agreement with the exact SVD path.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <orchard/spectral.hpp>
#include <vector>

#include "spectral_test_util.hpp"

using namespace orchard;
using namespace orchard::spectral;
using spectral_test::RowMat;

namespace {

Eigen::MatrixXd naive_gram(const RowMat<float>& z) {
  const Eigen::Index k = z.cols();
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(k, k);
  for (Eigen::Index i = 0; i < z.rows(); ++i)
    for (Eigen::Index a = 0; a < k; ++a)
      for (Eigen::Index b = 0; b < k; ++b)
        g(a, b) += static_cast<double>(z(i, a)) * static_cast<double>(z(i, b));
  return g;
}

GramOptions small_tiles() {
  GramOptions o;
  o.block_rows = 100;  // several blocks, a partial last one
  o.tile = 16;         // several tiles, partial edge tiles
  return o;
}

}  // namespace

TEST_CASE("Gram and column sums match a naive reference (float input, strided view)") {
  const RowMat<float> z = spectral_test::gaussian<float>(437, 70, 1);
  GramAccumulator acc(70, small_tiles());
  acc.add(ConstMatrixView<float>(z), Context(2));
  CHECK(acc.rows() == 437);
  const Eigen::MatrixXd ref = naive_gram(z);
  CHECK((acc.gram() - ref).norm() <= 1e-12 * ref.norm());
  const Eigen::VectorXd sums = z.cast<double>().colwise().sum().transpose();
  CHECK((acc.column_sums() - sums).norm() <= 1e-12 * sums.norm());
  // A column-major copy (strided rows) gives the same Gram bit for bit.
  const Eigen::MatrixXf zc = z;
  GramAccumulator acc_c(70, small_tiles());
  acc_c.add(ConstMatrixView<float>(zc), Context(2));
  CHECK((acc_c.gram() - acc.gram()).norm() == 0);
}

TEST_CASE("the Gram path is bit-identical for any thread count") {
  const RowMat<float> z = spectral_test::gaussian<float>(1000, 70, 2);
  Params p;
  p.method = Method::gram;
  p.gram = small_tiles();
  Eigen::MatrixXd g1;
  Report r1;
  for (int t : {1, 2, 3, 5}) {
    GramAccumulator acc(70, small_tiles());
    acc.add(ConstMatrixView<float>(z), Context(t));
    const Report r = report(z, p, Context(t));
    if (t == 1) {
      g1 = acc.gram();
      r1 = r;
      continue;
    }
    CAPTURE(t);
    CHECK((acc.gram() - g1).cwiseAbs().maxCoeff() == 0);
    CHECK(r.rankme == r1.rankme);
    CHECK(r.participation_ratio == r1.participation_ratio);
    CHECK(r.alpha_req == r1.alpha_req);
  }
  // Default options (tile 256 > K) too.
  Params d;
  d.method = Method::gram;
  CHECK(report(z, d, Context(1)).rankme == report(z, d, Context(2)).rankme);
}

TEST_CASE("partial Grams of shards add up to the whole") {
  const RowMat<double> z = spectral_test::gaussian(900, 33, 3);
  GramAccumulator whole(33, small_tiles());
  whole.add(ConstMatrixView<double>(z), Context(2));
  GramAccumulator a(33, small_tiles()), b(33, small_tiles()), c(33);
  a.add(ConstMatrixView<double>(z).row_block(0, 250), Context(1));
  b.add(ConstMatrixView<double>(z).row_block(250, 700), Context(2));
  c.add(ConstMatrixView<double>(z).row_block(700, 900), Context(3));
  a.merge(b);
  a.merge(c);
  CHECK(a.rows() == 900);
  CHECK((a.gram() - whole.gram()).norm() <= 1e-13 * whole.gram().norm());
  CHECK((a.column_sums() - whole.column_sums()).norm() <= 1e-12 * whole.column_sums().norm());
  // Centred scatter = Σ (z − z̄)(z − z̄)ᵀ.
  const RowMat<double> zc = z.rowwise() - z.colwise().mean();
  const Eigen::MatrixXd sc = zc.transpose() * zc;
  CHECK((a.centred_scatter() - sc).norm() <= 1e-10 * sc.norm());
  const Params p;
  CHECK(report(spectrum(a, std::numeric_limits<double>::epsilon(), p), p).rankme ==
        doctest::Approx(report(spectrum(whole, std::numeric_limits<double>::epsilon(), p), p).rankme)
            .epsilon(1e-12));
  GramAccumulator other(34);
  CHECK_THROWS_AS(a.merge(other), InvalidArgument);
  // A bad block leaves the accumulator untouched.
  RowMat<double> bad = z.topRows(10);
  bad(9, 32) = std::numeric_limits<double>::infinity();
  const Eigen::MatrixXd before = a.gram();
  CHECK_THROWS_AS(a.add(ConstMatrixView<double>(bad), Context(2)), InvalidArgument);
  CHECK(a.rows() == 900);
  CHECK((a.gram() - before).norm() == 0);
}

TEST_CASE("a block source streams the same spectrum, and max_rows stops it early") {
  const RowMat<float> z = spectral_test::gaussian<float>(1000, 40, 4);
  Params p;
  p.method = Method::gram;
  p.max_rows = 0;
  const Spectrum whole = spectrum(z, p, Context(2));
  index_t next_row = 0, calls = 0;
  BlockSource<float> src = [&]() {
    ++calls;
    const index_t end = std::min<index_t>(1000, next_row + 37);
    ConstMatrixView<float> b = ConstMatrixView<float>(z).row_block(next_row, end);
    next_row = end;
    return b;
  };
  const Spectrum streamed = spectrum<float>(src, 40, p, Context(2));
  CHECK(streamed.rows == 1000);
  CHECK((streamed.sigma - whole.sigma).norm() <= 1e-12 * whole.sigma.norm());
  next_row = 0;
  calls = 0;
  p.max_rows = 100;
  const Spectrum head = spectrum<float>(src, 40, p, Context(2));
  CHECK(head.rows == 100);
  CHECK(calls == 3);  // stops after the block that reaches 100 rows
  const RowMat<float> first = z.topRows(100);
  CHECK((head.sigma - spectrum(first, p, Context(1)).sigma).norm() <= 1e-12 * head.sigma.norm());
}

TEST_CASE("invariance to row order") {
  const RowMat<double> z = spectral_test::gaussian(600, 30, 5);
  std::vector<int> perm(600);
  std::iota(perm.begin(), perm.end(), 0);
  Rng rng(9);
  rng.shuffle(perm.begin(), perm.end());
  RowMat<double> zp(600, 30);
  for (int i = 0; i < 600; ++i) zp.row(i) = z.row(perm[static_cast<std::size_t>(i)]);
  for (Method m : {Method::svd, Method::gram}) {
    Params p;
    p.method = m;
    const Report a = report(z, p, Context(2)), b = report(zp, p, Context(2));
    CHECK(a.rankme == doctest::Approx(b.rankme).epsilon(1e-12));
    CHECK(a.nesum == doctest::Approx(b.nesum).epsilon(1e-10));
    CHECK(a.alpha_req == doctest::Approx(b.alpha_req).epsilon(1e-10));
  }
}

TEST_CASE("Gram and SVD paths agree (1e-4 relative on RankMe and companions)") {
  for (auto [n, k] : {std::pair<int, int>{2000, 64}, {50, 120}}) {
    CAPTURE(n);
    // Decaying column scales make the spectrum non-trivial.
    RowMat<float> z = spectral_test::gaussian<float>(n, k, 6);
    for (int j = 0; j < k; ++j) z.col(j) *= static_cast<float>(std::pow(j + 1.0, -0.8));
    Params ps, pg;
    ps.method = Method::svd;
    pg.method = Method::gram;
    const Report s = report(z, ps, Context(2)), g = report(z, pg, Context(2));
    CHECK(g.rankme == doctest::Approx(s.rankme).epsilon(1e-4));
    CHECK(g.rankme_eps0 == doctest::Approx(s.rankme_eps0).epsilon(1e-4));
    CHECK(g.rankme_eps1e5 == doctest::Approx(s.rankme_eps1e5).epsilon(1e-4));
    CHECK(g.rankme_centred == doctest::Approx(s.rankme_centred).epsilon(1e-4));
    CHECK(g.stable_rank == doctest::Approx(s.stable_rank).epsilon(1e-8));
    CHECK(g.participation_ratio == doctest::Approx(s.participation_ratio).epsilon(1e-8));
    CHECK(g.nesum == doctest::Approx(s.nesum).epsilon(1e-8));
    CHECK(g.alpha_req == doctest::Approx(s.alpha_req).epsilon(1e-4));
    CHECK(g.numerical_rank == s.numerical_rank);
    CHECK(g.numerical_rank == std::min(n, k));
  }
}
