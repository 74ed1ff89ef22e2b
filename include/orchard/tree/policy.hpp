#pragma once
// The split-policy concept: what the engine needs to know about the per-sample statistic and the
// split score. The engine never sees a loss or an objective; boosting code (gbdt, gbrl) passes
// per-sample statistics and a policy.
//
// Per-sample statistic: `width()` floats per row (GBDT: g, h; GBRL: a D-vector of gradients).
// A histogram bin, a node and a child all hold `width() + 1` doubles: the sums of the statistic
// followed by the sample count. Every policy function reads such a `sums` array.
//
//   P::kWidth                  compile-time width, or 0 when it is only known at run time
//   p.width()                  floats per sample statistic (== kWidth when kWidth > 0)
//   p.n_outputs()              values per leaf
//   p.score(sums)              node score; split gain = score(left) + score(right) - score(parent)
//   p.admissible(sums)         may a child with these sums exist (e.g. hessian >= min_child_weight)
//   p.leaf_value(sums, out)    writes n_outputs() leaf values
//   p.cover(sums)              weight of a node for TreeSHAP and importance (hessian, count, ...)
#include <concepts>

namespace orchard::tree {

template <class P>
concept SplitPolicy = requires(const P& p, const double* sums, double* out) {
  { P::kWidth } -> std::convertible_to<int>;
  { p.width() } -> std::convertible_to<int>;
  { p.n_outputs() } -> std::convertible_to<int>;
  { p.score(sums) } -> std::convertible_to<double>;
  { p.admissible(sums) } -> std::convertible_to<bool>;
  { p.leaf_value(sums, out) };
  { p.cover(sums) } -> std::convertible_to<double>;
};

}  // namespace orchard::tree
