#pragma once
// SHAP values of every output of a GBRL ensemble: the engine's TreeSHAP (tree/shap.hpp) walks
// each tree's paths once per row and gives all D outputs at once (the path weights do not depend
// on the output). Node weights are the training counts (the tree's cover). For each output k,
// sum_f phi[f] + expected = prediction.
#include <Eigen/Dense>
#include <vector>

#include "../core/parallel.hpp"
#include "../tree/shap.hpp"
#include "ensemble.hpp"

namespace orchard::gbrl {

/// SHAP values of every output: result[k] is N x (n_features + 1), the last column holding the
/// expected value (bias + the trees' expected values). Rows sum to the prediction of output k.
inline std::vector<RowMatrix> shap_values(const Ensemble& e, ConstMatrixView<double> x,
                                          const Context& ctx = Context(1)) {
  require(e.n_features() >= 1, "model", "unfitted", "SHAP needs a fitted model");
  require(x.cols == e.n_features(), "X.cols", x.cols, "must equal the model's feature count");
  const int d = e.n_outputs();
  const index_t nf = e.n_features();
  const tree::TreeShap shap(e.trees());
  std::vector<double> base(e.bias());
  for (std::size_t t = 0; t < e.trees().size(); ++t)
    for (int k = 0; k < d; ++k) base[static_cast<std::size_t>(k)] += shap.expected(t, k);
  std::vector<RowMatrix> out(static_cast<std::size_t>(d), RowMatrix::Zero(x.rows, nf + 1));
  parallel_for_dynamic(ctx, x.rows, [&](std::int64_t i) {
    std::vector<double> phi(static_cast<std::size_t>(nf * d), 0.0);
    tree::TreeShap::Scratch scratch;  // one path buffer per row, grown to the deepest tree
    const double* row = x.row_ptr(i);
    const index_t stride = x.col_stride;
    const auto at = [&](std::int32_t f) { return row[f * stride]; };
    for (std::size_t t = 0; t < e.trees().size(); ++t) shap.explain_all(t, at, phi.data(), scratch);
    for (int k = 0; k < d; ++k) {
      auto& m = out[static_cast<std::size_t>(k)];
      for (index_t f = 0; f < nf; ++f) m(i, f) = phi[static_cast<std::size_t>(f * d + k)];
      m(i, nf) = base[static_cast<std::size_t>(k)];
    }
  }, 16);
  return out;
}

}  // namespace orchard::gbrl
