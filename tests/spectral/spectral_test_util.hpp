#pragma once
// Small helpers of the spectral tests: seeded random matrices and Sylvester–Hadamard columns.
#include <Eigen/Core>
#include <orchard/core/random.hpp>

namespace spectral_test {

template <class T = double>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class T = double>
RowMat<T> gaussian(Eigen::Index n, Eigen::Index k, std::uint64_t seed) {
  orchard::Rng rng(seed);
  RowMat<T> z(n, k);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < k; ++j) z(i, j) = static_cast<T>(rng.normal());
  return z;
}

/// Sylvester's Hadamard matrix of order n (a power of 2): entries ±1, HᵀH = n I, and every column
/// but the first sums to zero.
inline Eigen::MatrixXd hadamard(Eigen::Index n) {
  Eigen::MatrixXd h = Eigen::MatrixXd::Ones(1, 1);
  while (h.rows() < n) {
    const Eigen::Index m = h.rows();
    Eigen::MatrixXd g(2 * m, 2 * m);
    g << h, h, h, -h;
    h = g;
  }
  return h;
}

}  // namespace spectral_test
