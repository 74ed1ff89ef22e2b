#pragma once
// TreeSHAP (Lundberg, Erion, Lee 2018, the polynomial-time path algorithm): exact Shapley values
// of one tree's output with the path-dependent conditional expectation, where a feature outside
// the coalition follows both children weighted by their cover. The child fractions are
// cover[child] / (cover[left] + cover[right]) (1/2 each when both are 0), and the expected value
// uses the same fractions, so contributions + expected value == the tree's output exactly
// (up to rounding).
#include <cstdint>
#include <span>
#include <vector>

#include "../core/error.hpp"
#include "tree.hpp"

namespace orchard::tree {

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
    expected_.resize(trees.size());
    for (std::size_t t = 0; t < trees.size(); ++t) expected_[t] = expected_value(t, 0);
  }

  double expected(std::size_t t) const { return expected_[t]; }

  /// Adds tree t's contributions for the row x (x(f) -> double) to phi[f] for leaf output
  /// `output`; returns the tree's expected value (the bias term).
  template <class Row>
  double explain(std::size_t t, const Row& x, double* phi, Scratch& s, int output = 0) const {
    const Tree& tr = trees_[t];
    require(output >= 0 && output < tr.n_outputs, "output", output, "must index the leaf outputs");
    const std::int32_t depth = tr.max_depth();
    // Room for every path (one per depth level) stored back to back.
    const auto need = static_cast<std::size_t>((depth + 2) * (depth + 3) / 2 + 4);
    if (s.buf.size() < need) s.buf.resize(need);
    recurse(tr, x, phi, s.buf.data(), 0, 0, 1.0, 1.0, -1, output);
    return output == 0 ? expected_[t] : expected_value(t, 0, output);
  }

 private:
  double frac(const Tree& tr, std::int32_t node, std::int32_t child) const {
    const auto k = static_cast<std::size_t>(node);
    const double a = tr.cover[static_cast<std::size_t>(tr.left[k])];
    const double b = tr.cover[static_cast<std::size_t>(tr.right[k])];
    if (a + b <= 0) return 0.5;
    return tr.cover[static_cast<std::size_t>(child)] / (a + b);
  }

  double expected_value(std::size_t t, std::int32_t node, int output = 0) const {
    const Tree& tr = trees_[t];
    const auto k = static_cast<std::size_t>(node);
    if (tr.feature[k] < 0) return tr.values(node)[output];
    return frac(tr, node, tr.left[k]) * expected_value(t, tr.left[k], output) +
           frac(tr, node, tr.right[k]) * expected_value(t, tr.right[k], output);
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

  template <class Row>
  void recurse(const Tree& tr, const Row& x, double* phi, Elem* parent, int l, std::int32_t node,
               double pz, double po, std::int32_t pi, int output) const {
    Elem* m = parent + l;  // this level's copy of the path, after the parent's
    for (int i = 0; i < l; ++i) m[i] = parent[i];
    extend(m, l, pz, po, pi);
    const int len = l + 1;
    const auto k = static_cast<std::size_t>(node);
    if (tr.feature[k] < 0) {
      const double v = tr.values(node)[output];
      for (int i = 1; i < len; ++i) {
        const double w = unwound_sum(m, len, i);
        phi[m[i].d] += w * (m[i].o - m[i].z) * v;
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
    recurse(tr, x, phi, m, n, hot, iz * frac(tr, node, hot), io, f, output);
    recurse(tr, x, phi, m, n, cold, iz * frac(tr, node, cold), 0.0, f, output);
  }

  std::span<const tree::Tree> trees_;
  std::vector<double> expected_;
};

}  // namespace orchard::tree
