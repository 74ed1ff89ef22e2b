#pragma once
// LiDAR (Thilak et al. 2023, "LiDAR: Sensing Linear Probing Performance in Joint Embedding SSL
// Architectures"): the effective rank of the linear-discriminant-analysis matrix built from
// augmentation groups. Each group holds the embeddings of several augmentations of one source
// sample (a surrogate class):
//   μ_g = mean of group g, μ = mean of the group means,
//   Σ_b = Σ_g (μ_g − μ)(μ_g − μ)ᵀ / (G − 1),
//   Σ_w = Σ_g Σ_{i∈g} (zᵢ − μ_g)(zᵢ − μ_g)ᵀ / (N − G) + δ I,
//   Σ_lidar = Σ_w^{−1/2} Σ_b Σ_w^{−1/2},
//   LiDAR = exp(−Σ pₖ ln pₖ), pₖ = λₖ / Σλ + ε over the eigenvalues λ of Σ_lidar.
// Defaults δ = 1e-4 and ε = 1e-8 (Params::lidar_delta, Params::lidar_eps). With groups of equal
// size q the divisor N − G equals G(q − 1), the paper's normalisation.
#include "eigen.hpp"
#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "spectrum.hpp"

namespace orchard::spectral {

namespace detail {

template <class T>
double lidar_impl(ConstMatrixView<T> z, std::span<const std::int64_t> groups,
                  const Params& params, const Context& ctx) {
  params.validate();
  require(z.rows > 0, "Z.rows", z.rows, "must be > 0 (empty matrix)");
  require(z.cols > 0, "Z.cols", z.cols, "must be > 0 (empty matrix)");
  require(static_cast<index_t>(groups.size()) == z.rows, "groups.size", groups.size(),
          "must equal the number of rows of Z (" + std::to_string(z.rows) + ")");
  const index_t n = z.rows, k = z.cols;
  // Dense group ids in order of first appearance.
  std::map<std::int64_t, index_t> id_of;
  std::vector<index_t> gid(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    auto it = id_of.try_emplace(groups[static_cast<std::size_t>(i)],
                                static_cast<index_t>(id_of.size())).first;
    gid[static_cast<std::size_t>(i)] = it->second;
  }
  const index_t ng = static_cast<index_t>(id_of.size());
  require(ng >= 2, "groups", ng, "LiDAR needs at least 2 distinct groups");
  std::vector<index_t> count(static_cast<std::size_t>(ng), 0);
  for (index_t g : gid) ++count[static_cast<std::size_t>(g)];
  for (const auto& [label, g] : id_of) {
    require(count[static_cast<std::size_t>(g)] >= 2, "groups", label,
            "every group needs at least 2 rows (augmentations)");
  }
  // Group means, summed in row order (column ranges in parallel: thread-count invariant).
  Eigen::MatrixXd means = Eigen::MatrixXd::Zero(ng, k);
  parallel_blocks(ctx, k, 64, [&](index_t, index_t lo, index_t hi) {
    for (index_t i = 0; i < n; ++i) {
      const index_t g = gid[static_cast<std::size_t>(i)];
      for (index_t j = lo; j < hi; ++j) means(g, j) += static_cast<double>(z(i, j));
    }
  });
  require(means.allFinite(), "Z", "non-finite", "entries must be finite");
  for (index_t g = 0; g < ng; ++g) means.row(g) /= static_cast<double>(count[static_cast<std::size_t>(g)]);
  const Eigen::RowVectorXd grand = means.colwise().mean();
  const Eigen::MatrixXd dev = means.rowwise() - grand;
  EigenSingleThread single;
  Eigen::MatrixXd sb = dev.transpose() * dev / static_cast<double>(ng - 1);

  // Within-group scatter: the Gram of the rows minus their group mean, streamed in blocks.
  GramAccumulator acc(k, params.gram);
  const index_t block = params.gram.block_rows;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> buf(std::min(block, n), k);
  for (index_t b0 = 0; b0 < n; b0 += block) {
    const index_t r = std::min(block, n - b0);
    for (index_t i = 0; i < r; ++i) {
      const index_t g = gid[static_cast<std::size_t>(b0 + i)];
      for (index_t j = 0; j < k; ++j) buf(i, j) = static_cast<double>(z(b0 + i, j)) - means(g, j);
    }
    acc.add(ConstMatrixView<double>(buf.data(), r, k), ctx);
  }
  Eigen::MatrixXd sw = acc.gram() / static_cast<double>(n - ng);
  sw.diagonal().array() += params.lidar_delta;

  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(sw);
  const Eigen::VectorXd d = es.eigenvalues().cwiseMax(params.lidar_delta * 1e-3);
  const Eigen::MatrixXd w =
      es.eigenvectors() * d.cwiseSqrt().cwiseInverse().asDiagonal() * es.eigenvectors().transpose();
  const Eigen::MatrixXd m = w * sb * w;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> em(m, Eigen::EigenvaluesOnly);
  const Eigen::VectorXd lambda = em.eigenvalues().cwiseMax(0.0);
  require(lambda.sum() > 0, "Z", "identical group means",
          "the between-group scatter is zero, LiDAR is undefined");
  return effective_rank(lambda, params.lidar_eps);
}

}  // namespace detail

/// LiDAR of embeddings Z (N × K) whose rows are grouped by `groups` (one label per row; rows of
/// one group are augmentations of one source sample). Needs ≥ 2 groups of ≥ 2 rows each.
inline double lidar(ConstMatrixView<float> z, std::span<const std::int64_t> groups,
                    const Params& params, const Context& ctx) {
  return detail::lidar_impl<float>(z, groups, params, ctx);
}
inline double lidar(ConstMatrixView<double> z, std::span<const std::int64_t> groups,
                    const Params& params, const Context& ctx) {
  return detail::lidar_impl<double>(z, groups, params, ctx);
}

/// report() with LiDAR from the given augmentation groups.
inline Report report(ConstMatrixView<float> z, std::span<const std::int64_t> groups,
                     const Params& params, const Context& ctx) {
  Report r = report(z, params, ctx);
  r.lidar = lidar(z, groups, params, ctx);
  return r;
}
inline Report report(ConstMatrixView<double> z, std::span<const std::int64_t> groups,
                     const Params& params, const Context& ctx) {
  Report r = report(z, params, ctx);
  r.lidar = lidar(z, groups, params, ctx);
  return r;
}

}  // namespace orchard::spectral
