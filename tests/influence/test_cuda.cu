// GPU BoostIn equals the CPU result bit for bit (run only where a GPU is visible).
// Eigen under nvcc warns about its own defaulted members (#20012); not our code.
#pragma nv_diag_suppress 20012
#include <doctest/doctest.h>

#include <orchard/influence/cuda/boostin.cuh>

#include "common.hpp"

using namespace itest;
namespace inf = orchard::influence;

TEST_CASE("cuda BoostIn equals the CPU BoostIn bit for bit") {
  for (int kind = 0; kind < 3; ++kind) {
    const Data tr = make_data(3000, 5, kind, 601 + kind), te = make_data(300, 5, kind, 611 + kind);
    const auto tp = train_params(kind, 20, 4);
    const auto m = train(tr, tp);
    for (const char* name : {"boostin", "boostin_w2"}) {
      auto ex = inf::make(name, m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp, 0));
      const Eigen::MatrixXd cpu = ex.local(orchard::cview<double>(te.X), vview(te.y));
      const Eigen::MatrixXd gpu = inf::cuda::boostin_local(ex, orchard::cview<double>(te.X), vview(te.y), 0, 1 << 20);
      REQUIRE(gpu.rows() == cpu.rows());
      REQUIRE(gpu.cols() == cpu.cols());
      CHECK((gpu.array() == cpu.array()).all());
    }
  }
  auto ex = inf::make("leaf_sim", train(make_data(50, 3, 1, 1), train_params(1, 2, 2)),
                      orchard::cview<double>(make_data(50, 3, 1, 1).X), vview(make_data(50, 3, 1, 1).y), {});
  const Data te = make_data(3, 3, 1, 2);
  CHECK_THROWS_AS(inf::cuda::boostin_local(ex, orchard::cview<double>(te.X), vview(te.y)), orchard::InvalidArgument);
}
