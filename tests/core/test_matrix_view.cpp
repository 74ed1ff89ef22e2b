#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <orchard/core/matrix_view.hpp>
#include <xtensor/xtensor.hpp>

using namespace orchard;

TEST_CASE("views from a raw pointer, Eigen (both storage orders, blocks) and xtensor agree") {
  Eigen::MatrixXd cm(3, 4);
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm(3, 4);
  xt::xtensor<double, 2> xm = xt::zeros<double>({3, 4});
  std::vector<double> raw(12);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      const double v = 10 * i + j;
      cm(i, j) = rm(i, j) = xm(i, j) = raw[4 * i + j] = v;
    }
  ConstMatrixView<double> a(raw.data(), 3, 4);
  MatrixView<double> b(cm), c(rm), d(xm);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      CHECK(a(i, j) == 10 * i + j);
      CHECK(b(i, j) == a(i, j));
      CHECK(c(i, j) == a(i, j));
      CHECK(d(i, j) == a(i, j));
    }
  CHECK(c.row_major_contiguous());
  CHECK_FALSE(b.row_major_contiguous());
  auto blk = cm.block(1, 1, 2, 2);
  MatrixView<double> e(blk);
  CHECK(e.rows == 2);
  CHECK(e(1, 1) == 22);
  const Eigen::MatrixXd& ccm = cm;
  ConstMatrixView<double> f(ccm);
  ConstMatrixView<double> g = cview<double>(cm);
  CHECK(f(2, 3) == 23);
  CHECK(g(2, 3) == 23);
  ConstMatrixView<double> h = b;  // mutable converts to const
  CHECK(h.row_block(1, 3)(0, 2) == 12);
}

TEST_CASE("vector views and shape errors") {
  Eigen::VectorXf v = Eigen::VectorXf::LinSpaced(5, 0, 4);
  VectorView<float> a(v);
  CHECK(a.size == 5);
  CHECK(a[3] == 3.0f);
  xt::xtensor<float, 1> xv = {1.f, 2.f, 3.f};
  ConstVectorView<float> b(xv);
  CHECK(b[2] == 3.f);
  Eigen::MatrixXf m(2, 2);
  CHECK_THROWS_AS(VectorView<float>{m}, InvalidArgument);
  Eigen::MatrixXd row(1, 3);
  row << 1, 2, 3;
  auto r = row.row(0);
  VectorView<double> rv(r);
  CHECK(rv[2] == 3.0);
}
