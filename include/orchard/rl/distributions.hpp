#pragma once
// Action distributions parameterised by a model's outputs, with closed-form gradients of the
// log-probability and the entropy. Gradients are ADDED, scaled, into caller buffers: g_out (one
// per model output) and g_extra (the distribution's own parameters: the Gaussian's log-std).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"

namespace orchard::rl {

/// Softmax policy over n actions; the model outputs the n logits.
struct Categorical {
  int n = 2;

  int n_outputs() const { return n; }
  int action_dim() const { return 1; }
  int n_extra() const { return 0; }

  /// log softmax(out)[a]; adds scale * d/d out to g_out when non-null.
  double log_prob(const double* out, const double* act, double* g_out, double* /*g_extra*/,
                  double scale) const {
    const int a = static_cast<int>(act[0]);
    const double lse = logsumexp(out);
    if (g_out != nullptr) {
      for (int j = 0; j < n; ++j) g_out[j] += scale * ((j == a ? 1.0 : 0.0) - std::exp(out[j] - lse));
    }
    return out[a] - lse;
  }
  /// -sum p log p; adds scale * dH/d out = scale * (-p_j (log p_j + H)).
  double entropy(const double* out, double* g_out, double* /*g_extra*/, double scale) const {
    const double lse = logsumexp(out);
    double h = 0;
    for (int j = 0; j < n; ++j) {
      const double lp = out[j] - lse;
      h -= std::exp(lp) * lp;
    }
    if (g_out != nullptr) {
      for (int j = 0; j < n; ++j) {
        const double lp = out[j] - lse;
        g_out[j] += scale * (-std::exp(lp) * (lp + h));
      }
    }
    return h;
  }
  void sample(const double* out, Rng& rng, double* act) const {
    const double lse = logsumexp(out);
    double u = rng.uniform();
    int a = n - 1;
    for (int j = 0; j < n; ++j) {
      u -= std::exp(out[j] - lse);
      if (u < 0) {
        a = j;
        break;
      }
    }
    act[0] = a;
  }
  void mode(const double* out, double* act) const {
    act[0] = static_cast<double>(std::max_element(out, out + n) - out);
  }

 private:
  double logsumexp(const double* out) const {
    const double m = *std::max_element(out, out + n);
    double s = 0;
    for (int j = 0; j < n; ++j) s += std::exp(out[j] - m);
    return m + std::log(s);
  }
};

/// Diagonal Gaussian: the model outputs the means, log_std is a learned state-independent vector
/// (the distribution's extra parameters).
struct DiagGaussian {
  std::vector<double> log_std;

  explicit DiagGaussian(int dim = 1, double log_std_init = 0.0)
      : log_std(static_cast<std::size_t>(dim), log_std_init) {
    require(dim >= 1, "action_dim", dim, "must be >= 1");
  }
  int n_outputs() const { return static_cast<int>(log_std.size()); }
  int action_dim() const { return n_outputs(); }
  int n_extra() const { return n_outputs(); }

  double log_prob(const double* out, const double* act, double* g_out, double* g_extra,
                  double scale) const {
    double lp = 0;
    for (int k = 0; k < n_outputs(); ++k) {
      const double ls = log_std[static_cast<std::size_t>(k)];
      const double inv_var = std::exp(-2 * ls);
      const double d = act[k] - out[k];
      lp += -0.5 * d * d * inv_var - ls - 0.5 * std::log(2 * std::numbers::pi);
      if (g_out != nullptr) g_out[k] += scale * d * inv_var;
      if (g_extra != nullptr) g_extra[k] += scale * (d * d * inv_var - 1.0);
    }
    return lp;
  }
  double entropy(const double* /*out*/, double* /*g_out*/, double* g_extra, double scale) const {
    double h = 0;
    for (int k = 0; k < n_outputs(); ++k) {
      h += 0.5 + 0.5 * std::log(2 * std::numbers::pi) + log_std[static_cast<std::size_t>(k)];
      if (g_extra != nullptr) g_extra[k] += scale;
    }
    return h;
  }
  void sample(const double* out, Rng& rng, double* act) const {
    for (int k = 0; k < n_outputs(); ++k) {
      act[k] = out[k] + std::exp(log_std[static_cast<std::size_t>(k)]) * rng.normal();
    }
  }
  void mode(const double* out, double* act) const {
    for (int k = 0; k < n_outputs(); ++k) act[k] = out[k];
  }
};

}  // namespace orchard::rl
