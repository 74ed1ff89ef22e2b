#pragma once
// TreeSHAP (Lundberg, Erion, Lee 2018, the polynomial-time path algorithm): exact Shapley values
// of one tree's output with the path-dependent conditional expectation, where a feature outside
// the coalition follows both children weighted by their cover. The child fractions are
// cover[child] / (cover[left] + cover[right]) (1/2 each when both are 0), and the expected value
// uses the same fractions, so contributions + expected value == the tree's output exactly
// (up to rounding).
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "../core/error.hpp"
#include "tree.hpp"

namespace orchard::tree {

/// Depth of a tree from its structure (children come after their parent), not from the stored
/// depths, so a loaded tree cannot make a path buffer too small.
inline int structural_depth(const Tree& t) {
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

/// TreeSHAP over a set of trees with one or more outputs per leaf. The path weights do not
/// depend on the output, so explain_all() gives every output of a multi-output tree in one walk
/// of its paths. A subtree whose path element has zero and one fractions both 0 (an empty child)
/// has weight 0 for every feature and is skipped.
class TreeShap {
 public:
  struct Elem {
    std::int32_t d;  ///< feature (-1 for the root's dummy element)
    double z, o, w;  ///< zero fraction, one fraction, permutation weight
  };
  struct Scratch {
    std::vector<Elem> buf;
  };

  explicit TreeShap(std::span<const tree::Tree> trees) : trees_(trees) {
    offset_.resize(trees.size() + 1, 0);
    depth_.resize(trees.size());
    for (std::size_t t = 0; t < trees.size(); ++t) {
      offset_[t + 1] = offset_[t] + static_cast<std::size_t>(trees[t].n_outputs);
      depth_[t] = structural_depth(trees[t]);
    }
    expected_.assign(offset_.back(), 0.0);
    for (std::size_t t = 0; t < trees.size(); ++t) {
      expected_rec(trees[t], 0, expected_.data() + offset_[t]);
    }
  }

  /// The expected value of tree t's output k (cover-weighted mean of its leaves).
  double expected(std::size_t t, int k = 0) const {
    return expected_[offset_[t] + static_cast<std::size_t>(k)];
  }

  /// Adds tree t's contributions for the row x (x(f) -> double) to phi[f] for leaf output
  /// `output`; returns the tree's expected value of that output (the bias term).
  template <class Row>
  double explain(std::size_t t, const Row& x, double* phi, Scratch& s, int output = 0) const {
    const Tree& tr = trees_[t];
    require(output >= 0 && output < tr.n_outputs, "output", output, "must index the leaf outputs");
    walk(t, x, phi, s, output, 1);
    return expected(t, output);
  }

  /// Adds tree t's contributions of every output k for the row x to phi[f * n_outputs + k].
  template <class Row>
  void explain_all(std::size_t t, const Row& x, double* phi, Scratch& s) const {
    walk(t, x, phi, s, 0, trees_[t].n_outputs);
  }

 private:
  template <class Row>
  void walk(std::size_t t, const Row& x, double* phi, Scratch& s, int k0, int nk) const {
    // Room for every path (one per depth level) stored back to back.
    const int depth = depth_[t];
    const auto need = static_cast<std::size_t>((depth + 2) * (depth + 3) / 2 + 4);
    if (s.buf.size() < need) s.buf.resize(need);
    recurse(trees_[t], x, phi, s.buf.data(), 0, 0, 1.0, 1.0, -1, k0, nk);
  }

  static double frac(const Tree& tr, std::int32_t node, std::int32_t child) {
    const auto k = static_cast<std::size_t>(node);
    const double a = tr.cover[static_cast<std::size_t>(tr.left[k])];
    const double b = tr.cover[static_cast<std::size_t>(tr.right[k])];
    if (a + b <= 0) return 0.5;
    return tr.cover[static_cast<std::size_t>(child)] / (a + b);
  }

  // out[k] = expected value of output k below node: frac(left) E(left) + frac(right) E(right).
  static void expected_rec(const Tree& tr, std::int32_t node, double* out) {
    const auto k = static_cast<std::size_t>(node);
    const int d = tr.n_outputs;
    if (tr.feature[k] < 0) {
      const double* v = tr.values(node);
      for (int j = 0; j < d; ++j) out[j] = v[j];
      return;
    }
    std::vector<double> a(static_cast<std::size_t>(d)), b(static_cast<std::size_t>(d));
    expected_rec(tr, tr.left[k], a.data());
    expected_rec(tr, tr.right[k], b.data());
    const double fl = frac(tr, node, tr.left[k]), fr = frac(tr, node, tr.right[k]);
    for (int j = 0; j < d; ++j) out[j] = fl * a[static_cast<std::size_t>(j)] + fr * b[static_cast<std::size_t>(j)];
  }

  static void extend(Elem* m, int l, double pz, double po, std::int32_t pi) {
    m[l] = {pi, pz, po, l == 0 ? 1.0 : 0.0};
    for (int i = l - 1; i >= 0; --i) {
      m[i + 1].w += po * m[i].w * (i + 1) / (l + 1);
      m[i].w = pz * m[i].w * (l - i) / (l + 1);
    }
  }
  // Removes element i from a path of length l (in place).
  static void unwind(Elem* m, int l, int i) {
    double n = m[l - 1].w;
    const double o = m[i].o, z = m[i].z;
    for (int j = l - 2; j >= 0; --j) {
      if (o != 0) {
        const double t = m[j].w;
        m[j].w = n * l / ((j + 1) * o);
        n = t - m[j].w * z * (l - (j + 1)) / l;
      } else {
        m[j].w = m[j].w * l / (z * (l - (j + 1)));
      }
    }
    for (int j = i; j < l - 1; ++j) {
      m[j].d = m[j + 1].d;
      m[j].z = m[j + 1].z;
      m[j].o = m[j + 1].o;
    }
  }
  // Sum of the weights after removing element i, without changing the path.
  static double unwound_sum(const Elem* m, int l, int i) {
    double n = m[l - 1].w, total = 0;
    const double o = m[i].o, z = m[i].z;
    for (int j = l - 2; j >= 0; --j) {
      if (o != 0) {
        const double w = n * l / ((j + 1) * o);
        total += w;
        n = m[j].w - w * z * (l - (j + 1)) / l;
      } else {
        total += m[j].w * l / (z * (l - (j + 1)));
      }
    }
    return total;
  }

  // Outputs [k0, k0 + nk) of the leaves go to phi[f * nk + (k - k0)].
  template <class Row>
  void recurse(const Tree& tr, const Row& x, double* phi, Elem* parent, int l, std::int32_t node,
               double pz, double po, std::int32_t pi, int k0, int nk) const {
    Elem* m = parent + l;  // this level's copy of the path, after the parent's
    for (int i = 0; i < l; ++i) m[i] = parent[i];
    extend(m, l, pz, po, pi);
    const int len = l + 1;
    const auto k = static_cast<std::size_t>(node);
    if (tr.feature[k] < 0) {
      const double* v = tr.values(node) + k0;
      for (int i = 1; i < len; ++i) {
        const double w = unwound_sum(m, len, i) * (m[i].o - m[i].z);
        double* p = phi + static_cast<std::size_t>(m[i].d) * static_cast<std::size_t>(nk);
        for (int j = 0; j < nk; ++j) p[j] += w * v[j];
      }
      return;
    }
    const std::int32_t f = tr.feature[k];
    const bool left = tr.goes_left(node, x(f));
    const std::int32_t hot = left ? tr.left[k] : tr.right[k];
    const std::int32_t cold = left ? tr.right[k] : tr.left[k];
    double iz = 1, io = 1;
    int n = len;
    for (int i = 1; i < len; ++i) {
      if (m[i].d == f) {
        iz = m[i].z;
        io = m[i].o;
        unwind(m, len, i);
        n = len - 1;
        break;
      }
    }
    const double hz = iz * frac(tr, node, hot), cz = iz * frac(tr, node, cold);
    if (hz != 0 || io != 0) recurse(tr, x, phi, m, n, hot, hz, io, f, k0, nk);
    if (cz != 0) recurse(tr, x, phi, m, n, cold, cz, 0.0, f, k0, nk);
  }

  std::span<const tree::Tree> trees_;
  std::vector<std::size_t> offset_;  ///< first expected value of each tree
  std::vector<int> depth_;
  std::vector<double> expected_;
};

}  // namespace orchard::tree
