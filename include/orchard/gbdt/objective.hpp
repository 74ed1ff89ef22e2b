#pragma once
// The three objectives: squared error (regression), logistic (binary), softmax (multiclass).
// Gradients and hessians per row, the base score from the labels and the output transform.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"

namespace orchard::gbdt {

enum class Objective { squared_error, logistic, softmax };

inline Objective parse_objective(const std::string& s) {
  if (s == "regression" || s == "squared_error" || s == "reg:squarederror" || s == "l2") {
    return Objective::squared_error;
  }
  if (s == "binary" || s == "logistic" || s == "binary:logistic") return Objective::logistic;
  if (s == "multiclass" || s == "softmax" || s == "multi:softmax" || s == "multi:softprob") {
    return Objective::softmax;
  }
  throw InvalidArgument("orchard: argument 'objective' = " + s +
                        ": expected 'regression', 'binary' or 'multiclass'");
}
inline const char* to_string(Objective o) {
  return o == Objective::squared_error ? "regression" : o == Objective::logistic ? "binary" : "multiclass";
}

ORCHARD_HD inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

/// Softmax of k raw scores in place.
inline void softmax(double* z, int k) {
  double m = z[0];
  for (int j = 1; j < k; ++j) m = std::max(m, z[j]);
  double s = 0;
  for (int j = 0; j < k; ++j) {
    z[j] = std::exp(z[j] - m);
    s += z[j];
  }
  for (int j = 0; j < k; ++j) z[j] /= s;
}

/// Base scores (raw margin) from labels: mean, log-odds, log class priors.
inline std::vector<double> base_score_from_labels(Objective o, const std::vector<double>& y, int k) {
  const double n = static_cast<double>(y.size());
  if (o == Objective::squared_error) {
    double s = 0;
    for (double v : y) s += v;
    return {s / n};
  }
  if (o == Objective::logistic) {
    double s = 0;
    for (double v : y) s += v;
    const double p = std::clamp(s / n, 1e-15, 1 - 1e-15);
    return {std::log(p / (1 - p))};
  }
  std::vector<double> c(static_cast<std::size_t>(k), 0.0);
  for (double v : y) c[static_cast<std::size_t>(v)] += 1;
  for (auto& v : c) v = std::log(std::max(v / n, 1e-15));
  return c;
}

}  // namespace orchard::gbdt
