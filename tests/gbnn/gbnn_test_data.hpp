#pragma once
// Small synthetic problems shared by the gbnn unit tests.
#include <orchard/core.hpp>
#include <orchard/gbnn.hpp>

namespace gbnn_test {

using Mat = orchard::gbnn::RowMatrix<double>;
using Vec = Eigen::VectorXd;

struct Problem {
  Mat X;
  Vec y;
};

/// kind 0: regression, 1: binary, 2: three classes.
inline Problem make_problem(int kind, int n = 160, int d = 4, std::uint64_t seed = 7) {
  orchard::Rng rng(seed);
  Problem p{Mat(n, d), Vec(n)};
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) p.X(i, j) = rng.normal();
    const double a = p.X(i, 0), b = p.X(i, 1);
    if (kind == 0) p.y[i] = std::sin(a) + 0.5 * a * b + 0.1 * rng.normal();
    if (kind == 1) p.y[i] = a + b * b + 0.3 * rng.normal() > 1.0 ? 1.0 : 0.0;
    if (kind == 2) p.y[i] = a > 0.5 ? 2.0 : (b + 0.2 * rng.normal() > 0 ? 1.0 : 0.0);
  }
  return p;
}

inline orchard::gbnn::Params small_params(int kind, int steps = 6, int units = 2) {
  orchard::gbnn::Params p;
  p.task = kind == 0 ? orchard::gbnn::Task::regression : orchard::gbnn::Task::classification;
  p.steps = steps;
  p.units = units;
  p.max_iter = 40;
  p.seed = 11;
  return p;
}

}  // namespace gbnn_test
