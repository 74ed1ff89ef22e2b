#pragma once
// The Eigen modules of the spectral family. GCC 12 at -O3 reports -Wmaybe-uninitialized inside
// Eigen's own triangular/selfadjoint matrix-vector kernels (used by the tridiagonalisation of
// SelfAdjointEigenSolver); the warning is about Eigen's code, not ours, so it is silenced for
// Eigen's headers only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
