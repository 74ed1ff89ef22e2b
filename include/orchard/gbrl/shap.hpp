#pragma once
// TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2) for multi-output trees: one pass over a
// tree's paths gives the SHAP values of every output at once (the path weights do not depend on
// the output). Node weights are the training counts (the tree's cover). For each output k,
// sum_f phi[f] + expected = prediction.
#include <Eigen/Dense>
#include <algorithm>
#include <vector>

#include "../core/parallel.hpp"
#include "ensemble.hpp"

namespace orchard::gbrl {

namespace detail {

struct PathElem {
  int feature;
  double zero, one, weight;
};

class TreeShap {
 public:
  TreeShap(const tree::Tree& t, int d) : t_(t), d_(d) {}

  /// Expected value of the tree: leaf values averaged with the cover fractions.
  void expected(double* out) const { expected_rec(0, 1.0, out); }

  /// Path entries explain() needs for a tree of depth `depth` (one path copy per level).
  static std::size_t path_size(int depth) {
    return static_cast<std::size_t>((depth + 2) * (depth + 3) / 2 + 2);
  }
  /// Adds the SHAP values of row x to phi (n_features x d, row-major); path: path_size(depth of
  /// the tree) entries of scratch.
  template <class Row>
  void explain(const Row& x, double* phi, PathElem* path) const {
    recurse(x, phi, 0, path, 0, 1.0, 1.0, -1);
  }

 private:
  double frac(std::int32_t node, std::int32_t child) const {
    const double c = t_.cover[static_cast<std::size_t>(node)];
    return c > 0 ? t_.cover[static_cast<std::size_t>(child)] / c : 0.5;
  }
  void expected_rec(std::int32_t nd, double w, double* out) const {
    if (t_.is_leaf(nd)) {
      const double* v = t_.values(nd);
      for (int k = 0; k < d_; ++k) out[k] += w * v[k];
      return;
    }
    const auto u = static_cast<std::size_t>(nd);
    expected_rec(t_.left[u], w * frac(nd, t_.left[u]), out);
    expected_rec(t_.right[u], w * frac(nd, t_.right[u]), out);
  }

  static void extend(PathElem* m, int depth, double zero, double one, int feature) {
    m[depth] = {feature, zero, one, depth == 0 ? 1.0 : 0.0};
    for (int i = depth - 1; i >= 0; --i) {
      m[i + 1].weight += one * m[i].weight * (i + 1) / static_cast<double>(depth + 1);
      m[i].weight = zero * m[i].weight * (depth - i) / static_cast<double>(depth + 1);
    }
  }
  static void unwind(PathElem* m, int depth, int idx) {
    const double one = m[idx].one, zero = m[idx].zero;
    double next = m[depth].weight;
    for (int i = depth - 1; i >= 0; --i) {
      if (one != 0) {
        const double tmp = m[i].weight;
        m[i].weight = next * (depth + 1) / ((i + 1) * one);
        next = tmp - m[i].weight * zero * (depth - i) / static_cast<double>(depth + 1);
      } else {
        m[i].weight = m[i].weight * (depth + 1) / (zero * (depth - i));
      }
    }
    for (int i = idx; i < depth; ++i) {
      m[i].feature = m[i + 1].feature;
      m[i].zero = m[i + 1].zero;
      m[i].one = m[i + 1].one;
    }
  }
  static double unwound_sum(const PathElem* m, int depth, int idx) {
    const double one = m[idx].one, zero = m[idx].zero;
    double next = m[depth].weight, total = 0;
    for (int i = depth - 1; i >= 0; --i) {
      if (one != 0) {
        const double tmp = next * (depth + 1) / ((i + 1) * one);
        total += tmp;
        next = m[i].weight - tmp * zero * ((depth - i) / static_cast<double>(depth + 1));
      } else if (zero != 0) {
        total += (m[i].weight / zero) / ((depth - i) / static_cast<double>(depth + 1));
      }
    }
    return total;
  }

  template <class Row>
  void recurse(const Row& x, double* phi, std::int32_t nd, PathElem* parent, int depth,
               double zero, double one, int feature) const {
    PathElem* m = parent + depth + 1;  // a fresh copy of the path for this level
    std::copy(parent, parent + depth + 1, m);
    extend(m, depth, zero, one, feature);
    const auto u = static_cast<std::size_t>(nd);
    if (t_.is_leaf(nd)) {
      const double* v = t_.values(nd);
      for (int i = 1; i <= depth; ++i) {
        const double w = unwound_sum(m, depth, i);
        const double s = w * (m[i].one - m[i].zero);
        double* p = phi + static_cast<std::size_t>(m[i].feature) * static_cast<std::size_t>(d_);
        for (int k = 0; k < d_; ++k) p[k] += s * v[k];
      }
      return;
    }
    const int f = t_.feature[u];
    const bool left = t_.goes_left(nd, x(f));
    const std::int32_t hot = left ? t_.left[u] : t_.right[u];
    const std::int32_t cold = left ? t_.right[u] : t_.left[u];
    double iz = 1, io = 1;
    int k = 1;
    for (; k <= depth; ++k)
      if (m[k].feature == f) break;
    if (k <= depth) {
      iz = m[k].zero;
      io = m[k].one;
      unwind(m, depth, k);
      --depth;
    }
    recurse(x, phi, hot, m, depth + 1, iz * frac(nd, hot), io, f);
    // A cold child without training samples has weight 0 on every path: nothing to add.
    const double cz = iz * frac(nd, cold);
    if (cz > 0) recurse(x, phi, cold, m, depth + 1, cz, 0.0, f);
  }

  const tree::Tree& t_;
  int d_;
};

// Depth from the structure (children come after their parent), not from the stored depths.
inline int structural_depth(const tree::Tree& t) {
  std::vector<int> level(static_cast<std::size_t>(t.num_nodes()), 0);
  int depth = 0;
  for (std::int32_t nd = 0; nd < t.num_nodes(); ++nd) {
    const auto u = static_cast<std::size_t>(nd);
    depth = std::max(depth, level[u]);
    if (!t.is_leaf(nd)) {
      level[static_cast<std::size_t>(t.left[u])] = level[u] + 1;
      level[static_cast<std::size_t>(t.right[u])] = level[u] + 1;
    }
  }
  return depth;
}

template <class T>
struct ShapRow {
  const T* p;
  index_t stride;
  double operator()(std::int32_t f) const { return static_cast<double>(p[f * stride]); }
};

}  // namespace detail

/// SHAP values of every output: result[k] is N x (n_features + 1), the last column holding the
/// expected value (bias + the trees' expected values). Rows sum to the prediction of output k.
inline std::vector<RowMatrix> shap_values(const Ensemble& e, ConstMatrixView<double> x,
                                          const Context& ctx = Context(1)) {
  require(e.n_features() >= 1, "model", "unfitted", "SHAP needs a fitted model");
  require(x.cols == e.n_features(), "X.cols", x.cols, "must equal the model's feature count");
  const int d = e.n_outputs();
  const index_t nf = e.n_features();
  std::vector<double> base(e.bias());
  for (const auto& t : e.trees()) detail::TreeShap(t, d).expected(base.data());
  std::vector<RowMatrix> out(static_cast<std::size_t>(d), RowMatrix::Zero(x.rows, nf + 1));
  // One path buffer per row, sized for the deepest tree.
  int depth = 0;
  for (const auto& t : e.trees()) depth = std::max(depth, detail::structural_depth(t));
  parallel_for_dynamic(ctx, x.rows, [&](std::int64_t i) {
    std::vector<double> phi(static_cast<std::size_t>(nf * d), 0.0);
    std::vector<detail::PathElem> path(detail::TreeShap::path_size(depth));
    const detail::ShapRow<double> row{x.row_ptr(i), x.col_stride};
    for (const auto& t : e.trees()) detail::TreeShap(t, d).explain(row, phi.data(), path.data());
    for (int k = 0; k < d; ++k) {
      auto& m = out[static_cast<std::size_t>(k)];
      for (index_t f = 0; f < nf; ++f) m(i, f) = phi[static_cast<std::size_t>(f * d + k)];
      m(i, nf) = base[static_cast<std::size_t>(k)];
    }
  }, 16);
  return out;
}

}  // namespace orchard::gbrl
