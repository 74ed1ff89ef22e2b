// Published ranges (numpy 1.24, see docs/spectral.md): iid N(0,1) 25600 × 256 gives RankMe
// 255.7082 (ε 1e-7), 255.6785 (ε 0), 258.6708 (ε 1e-5); a fresh draw lands within ~0.05 %.
#include <doctest/doctest.h>

#include <orchard/spectral.hpp>

#include "spectral_test_util.hpp"

using namespace orchard;
using namespace orchard::spectral;

TEST_SUITE("realdata") {
  TEST_CASE("iid N(0,1) 25600 x 256 lands on the published RankMe values") {
    const auto z = spectral_test::gaussian<float>(25600, 256, 2023);
    Params p;
    p.method = Method::gram;
    const Report r = report(z, p, Context(0));
    CHECK(r.rankme == doctest::Approx(255.7082).epsilon(5e-4));
    CHECK(r.rankme_eps0 == doctest::Approx(255.6785).epsilon(5e-4));
    CHECK(r.rankme_eps1e5 == doctest::Approx(258.6708).epsilon(5e-4));
    CHECK(r.numerical_rank == 256);
    p.method = Method::svd;
    CHECK(report(z, p, Context(0)).rankme == doctest::Approx(r.rankme).epsilon(1e-6));
  }
}
