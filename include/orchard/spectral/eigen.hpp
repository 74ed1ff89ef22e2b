#pragma once
// The Eigen modules of the spectral family. GCC 12 at -O3 reports -Wmaybe-uninitialized inside
// Eigen's own triangular/selfadjoint matrix-vector kernels (used by the tridiagonalisation of
// SelfAdjointEigenSolver), and with -march=native an unused variable in Eigen 3.4.0's AVX-512
// bfloat16 code; both are about Eigen's code, not ours, so they are silenced for Eigen's headers
// only. (Include this before anything else that includes Eigen for the silencing to apply.)
// Under nvcc, core/nvcc_eigen.hpp silences Eigen's host/device annotation diagnostics. The host
// compiler also sees Eigen's own nvcc pragmas (-Wunknown-pragmas), silenced with the rest.
#include "../core/nvcc_eigen.hpp"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunknown-pragmas"
#endif
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
