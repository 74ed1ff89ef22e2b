// Byte-coded features (objective.hpp, ByteCodes): the codebook is exact (more than 256 distinct
// values disable it) and the coded path is bit-identical to the plain one, for any thread count.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include <orchard/gbnn.hpp>

#include "gbnn_test_data.hpp"

using namespace orchard;

namespace {

// n × d pixels k/255 (about half zero), as Fashion-MNIST's; float or double.
template <class T>
gbnn::RowMatrix<T> bytes_pixels(int n, int d, std::uint64_t seed) {
  Rng rng(seed);
  gbnn::RowMatrix<T> X(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j)
      X(i, j) = rng.bernoulli(0.5) ? T(0) : static_cast<T>(rng.uniform_int(256)) / T(255);
  return X;
}

template <class T>
void bytes_check_objective(int n, int d, int J, int K, gbnn::OutputLoss loss) {
  const auto X = bytes_pixels<T>(n, d, 5);
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(X.size()));
  const auto g = gbnn::detail::encode_bytes(X.data(), X.size(), codes.data());
  REQUIRE(g.ok);
  std::vector<T> back(static_cast<std::size_t>(X.size()));
  g.decode(codes.data(), X.size(), back.data());
  for (index_t i = 0; i < X.size(); ++i) REQUIRE(back[static_cast<std::size_t>(i)] == X.data()[i]);
  Rng rng(9);
  gbnn::RowMatrix<T> targets(n, loss == gbnn::OutputLoss::squared ? K : 1);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < targets.cols(); ++k) {
      if (loss == gbnn::OutputLoss::squared) targets(i, k) = static_cast<T>(rng.normal());
      if (loss == gbnn::OutputLoss::logistic) targets(i, k) = rng.bernoulli(0.4) ? T(1) : T(-1);
      if (loss == gbnn::OutputLoss::softmax) targets(i, k) = static_cast<T>(rng.uniform_int(K));
    }
  gbnn::NetObjective<T> plain, coded;
  plain.configure(n, d, J, K, loss, T(1e-3));
  coded.configure(n, d, J, K, loss, T(1e-3));
  gbnn::Vector<T> w(plain.n_params()), g1, g2, g3;
  gbnn::detail::glorot_init(rng, d, J, K, w);
  const Context one(1), two(2);
  plain.bind(X.data(), targets.data(), n, one);
  const T v1 = plain(w, g1);
  coded.bind_codes(codes.data(), g, targets.data(), n, one);
  const T v2 = coded(w, g2);
  coded.bind_codes(codes.data(), g, targets.data(), n, two);
  const T v3 = coded(w, g3);
  CHECK(v1 == v2);
  CHECK(v1 == v3);
  CHECK(g1 == g2);
  CHECK(g1 == g3);
}

}  // namespace

namespace {
template <class T>
gbnn::detail::ByteCodes<T> bytes_encode(const gbnn::RowMatrix<T>& X) {
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(X.size()));
  return gbnn::detail::encode_bytes(X.data(), X.size(), codes.data());
}
}  // namespace

TEST_CASE("byte codes: a codebook for at most 256 distinct values, arithmetic when exact") {
  // pixels / 255 by division (double, float): a codebook; k · (1/255) in float: arithmetic
  const auto Xd = bytes_pixels<double>(40, 30, 1);
  CHECK(bytes_encode(Xd).ok);
  CHECK(bytes_encode(bytes_pixels<float>(40, 30, 2)).ok);
  gbnn::RowMatrix<float> Xio(40, 30);  // io::load_fashion_mnist's k · (1/255) in float
  Rng rng(3);
  for (index_t i = 0; i < Xio.size(); ++i)
    Xio.data()[i] = static_cast<float>(rng.uniform_int(256)) * (1.0f / 255.0f);
  const auto bio = bytes_encode(Xio);
  CHECK(bio.ok);
  CHECK(bio.arithmetic);
  gbnn::RowMatrix<double> digits(30, 8);
  for (index_t i = 0; i < digits.size(); ++i)
    digits.data()[i] = static_cast<double>(2 + 3 * rng.uniform_int(5));  // 2, 5, …, 14
  const auto bi = bytes_encode(digits);
  CHECK(bi.ok);
  CHECK(bi.arithmetic);
  CHECK(bi.scale == 1.0);
  gbnn::RowMatrix<double> zeros = gbnn::RowMatrix<double>::Zero(4, 3);
  CHECK(bytes_encode(zeros).ok);
  // a value between two arithmetic grid points keeps the codebook but not the arithmetic rule;
  // −0.0 is its own entry (bits), so decoding stays exact
  for (const double odd : {0.5 / 255.0, -0.0, -3.0}) {
    auto Xb = digits;
    Xb(17 % 30, 5) = odd;
    CAPTURE(odd);
    const auto b = bytes_encode(Xb);
    CHECK(b.ok);
    CHECK_FALSE(b.arithmetic);
  }
  // 257 distinct values: no codebook
  gbnn::RowMatrix<double> many(257, 1);
  for (int i = 0; i < 257; ++i) many(i, 0) = i;
  CHECK_FALSE(bytes_encode(many).ok);
  many(256, 0) = 3;
  CHECK(bytes_encode(many).ok);
  auto Xn = gbnn_test::make_problem(1, 300, 4).X;  // continuous data
  CHECK_FALSE(bytes_encode(Xn).ok);
}

TEST_CASE("byte codes: objective and gradient bit-identical to the plain path, 1 and 2 threads") {
  // d = 37: the row kernel's 16-wide loop and tail; n = 150: partial chunks and 4-row groups
  bytes_check_objective<double>(150, 37, 1, 1, gbnn::OutputLoss::squared);
  bytes_check_objective<double>(150, 37, 2, 3, gbnn::OutputLoss::softmax);
  bytes_check_objective<float>(150, 37, 1, 1, gbnn::OutputLoss::logistic);
  bytes_check_objective<float>(150, 37, 2, 3, gbnn::OutputLoss::squared);
  // several row blocks (n · n_params above the one-block threshold), so 2 threads split them
  bytes_check_objective<float>(3000, 400, 2, 3, gbnn::OutputLoss::squared);
}

TEST_CASE("byte codes: the trained model is bit-identical with and without them") {
  const int n = 300, d = 20;
  auto X = bytes_pixels<double>(n, d, 8);
  gbnn_test::Vec y(n);
  for (int i = 0; i < n; ++i) y[i] = X(i, 0) + X(i, 1) > 0.6 ? (X(i, 2) > 0.3 ? 2.0 : 1.0) : 0.0;
  REQUIRE(bytes_encode(X).ok);  // so the fits take the codes
  for (int units : {1, 2}) {
    auto p = gbnn_test::small_params(2, 4, units);
    p.subsample = 0.5;
    gbnn::Model<double> a, b, c;
    a.fit(X, y, p, Context(1));
    c.fit(X, y, p, Context(2));
    p.byte_codes = false;
    b.fit(X, y, p, Context(1));
    CAPTURE(units);
    CHECK(a.W1() == b.W1());
    CHECK(a.W2() == b.W2());
    CHECK(a.rho() == b.rho());
    CHECK(a.W1() == c.W1());
    CHECK(a.decision_function(X) == b.decision_function(X));
    // a full-sample fit (no subsample copy) takes the codes too
    p.subsample = 1.0;
    gbnn::Model<double> e, f;
    f.fit(X, y, p, Context(1));
    p.byte_codes = true;
    e.fit(X, y, p, Context(1));
    CHECK(e.W1() == f.W1());
  }
}
