// The evaluation harness: shapes, and measures that must separate good from uninformative methods.
#include <doctest/doctest.h>

#include "common.hpp"

using namespace itest;
namespace inf = orchard::influence;

TEST_CASE("label-noise detection: loss and BoostIn beat random") {
  // nearly clean binary labels (the thresholded regression target), so the flipped 40 % stand out
  Data tr = make_data(300, 4, 0, 501);
  for (Eigen::Index i = 0; i < tr.y.size(); ++i) tr.y[i] = tr.y[i] > 0 ? 1 : 0;
  inf::eval::Options o;
  o.train = train_params(1, 10, 3);
  o.threads = 2;
  o.influence.threads = 2;
  o.fractions = {0.2, 0.4};
  const auto lo = inf::eval::label_noise("loss", orchard::cview<double>(tr.X), vview(tr.y), o);
  const auto bi = inf::eval::label_noise("boostin", orchard::cview<double>(tr.X), vview(tr.y), o);
  const auto rd = inf::eval::label_noise("random", orchard::cview<double>(tr.X), vview(tr.y), o);
  REQUIRE(lo.value.size() == 2);
  CHECK(lo.value[1] > rd.value[1] + 0.1);
  CHECK(bi.value[1] > rd.value[1] + 0.1);
  const auto rk = inf::eval::rank({rd, lo});
  CHECK(rk.front().first == "loss");
}

TEST_CASE("remove_single: removing BoostIn's most helpful rows raises the test loss") {
  const Data tr = make_data(200, 3, 1, 511), te = make_data(20, 3, 1, 512);
  inf::eval::Options o;
  o.train = train_params(1, 8, 2);
  o.threads = 2;
  o.influence = iparams(o.train, 2);
  o.fractions = {0.05, 0.1};
  o.n_test = 4;
  const auto m = train(tr, o.train);
  const auto c = inf::eval::remove_single("boostin", m, orchard::cview<double>(tr.X), vview(tr.y),
                                          orchard::cview<double>(te.X), vview(te.y), o);
  REQUIRE(c.value.size() == 2);
  CHECK(c.value[1] > 0);
  const auto s = inf::eval::remove_set("boostin", m, orchard::cview<double>(tr.X), vview(tr.y),
                                       orchard::cview<double>(te.X), vview(te.y), orchard::cview<double>(te.X),
                                       vview(te.y), o);
  CHECK(s.value[1] > 0);
  CHECK_THROWS_AS(inf::eval::relabel_single("boostin", m, orchard::cview<double>(tr.X), vview(tr.y),
                                            orchard::cview<double>(te.X), vview(te.y),
                                            [&] { auto q = o; q.fractions = {1.5}; return q; }()),
                  orchard::InvalidArgument);
}
