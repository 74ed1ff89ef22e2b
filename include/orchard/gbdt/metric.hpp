#pragma once
// Evaluation metrics on raw scores (n x k, row-major): rmse, logloss, auc, error, mlogloss, merror.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "objective.hpp"

namespace orchard::gbdt {

enum class Metric { rmse, logloss, auc, error, mlogloss, merror };

inline Metric parse_metric(const std::string& s) {
  if (s == "rmse") return Metric::rmse;
  if (s == "logloss") return Metric::logloss;
  if (s == "auc") return Metric::auc;
  if (s == "error") return Metric::error;
  if (s == "mlogloss") return Metric::mlogloss;
  if (s == "merror") return Metric::merror;
  throw InvalidArgument("orchard: argument 'eval_metric' = " + s +
                        ": expected rmse, logloss, auc, error, mlogloss or merror");
}
inline const char* to_string(Metric m) {
  switch (m) {
    case Metric::rmse: return "rmse";
    case Metric::logloss: return "logloss";
    case Metric::auc: return "auc";
    case Metric::error: return "error";
    case Metric::mlogloss: return "mlogloss";
    case Metric::merror: return "merror";
  }
  return "?";
}
inline bool higher_is_better(Metric m) { return m == Metric::auc; }
inline Metric default_metric(Objective o) {
  return o == Objective::squared_error ? Metric::rmse
         : o == Objective::logistic    ? Metric::logloss
                                       : Metric::mlogloss;
}
/// Which objectives a metric applies to.
inline bool metric_fits(Metric m, Objective o) {
  switch (m) {
    case Metric::rmse: return true;
    case Metric::logloss:
    case Metric::auc:
    case Metric::error: return o == Objective::logistic;
    case Metric::mlogloss:
    case Metric::merror: return o == Objective::softmax;
  }
  return false;
}

/// Area under the ROC curve of scores s for 0/1 labels y (ties get their average rank).
inline double auc(const double* s, const double* y, std::size_t n) {
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return s[a] < s[b]; });
  double pos = 0, rank_sum = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && s[idx[j]] == s[idx[i]]) ++j;
    const double avg = (static_cast<double>(i) + static_cast<double>(j) + 1) / 2;  // 1-based
    for (std::size_t k = i; k < j; ++k) {
      if (y[idx[k]] > 0.5) {
        rank_sum += avg;
        pos += 1;
      }
    }
    i = j;
  }
  const double neg = static_cast<double>(n) - pos;
  if (pos == 0 || neg == 0) return 0.5;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

/// The metric of raw scores F (n x k row-major) against labels y.
inline double evaluate(Metric m, Objective o, const double* F, const double* y, std::size_t n, int k) {
  (void)o;
  double s = 0;
  switch (m) {
    case Metric::rmse:
      for (std::size_t i = 0; i < n; ++i) s += (F[i * k] - y[i]) * (F[i * k] - y[i]);
      return std::sqrt(s / static_cast<double>(n));
    case Metric::logloss:
      for (std::size_t i = 0; i < n; ++i) {
        const double p = std::clamp(sigmoid(F[i]), 1e-15, 1 - 1e-15);
        s -= y[i] > 0.5 ? std::log(p) : std::log(1 - p);
      }
      return s / static_cast<double>(n);
    case Metric::auc: return auc(F, y, n);
    case Metric::error:
      for (std::size_t i = 0; i < n; ++i) s += ((F[i] > 0) != (y[i] > 0.5)) ? 1 : 0;
      return s / static_cast<double>(n);
    case Metric::mlogloss:
    case Metric::merror: {
      std::vector<double> z(static_cast<std::size_t>(k));
      for (std::size_t i = 0; i < n; ++i) {
        std::copy(F + i * k, F + i * k + k, z.begin());
        const auto c = static_cast<std::size_t>(y[i]);
        if (m == Metric::merror) {
          const auto am = static_cast<std::size_t>(std::max_element(z.begin(), z.end()) - z.begin());
          s += am != c ? 1 : 0;
        } else {
          softmax(z.data(), k);
          s -= std::log(std::clamp(z[c], 1e-15, 1.0));
        }
      }
      return s / static_cast<double>(n);
    }
  }
  return 0;
}

}  // namespace orchard::gbdt
