#pragma once
// Generalised advantage estimation (Schulman et al. 2016) over a T x E rollout (row t holds the E
// environments at step t). done(t, e) = 1 when the episode of environment e ended at step t
// (terminated or truncated); truncated episodes should have gamma * V(final observation) already
// added to their last reward, which bootstraps them as Stable-Baselines3 does.
#include <Eigen/Dense>

#include "../core/error.hpp"
#include "vec_env.hpp"

namespace orchard::rl {

/// advantages(t, e) = sum_l (gamma lambda)^l delta(t + l, e) within the episode, with
/// delta(t) = r(t) + gamma (1 - done(t)) V(t + 1) - V(t) and V(T) = last_values; returns =
/// advantages + values.
inline void compute_gae(const RowMatrix& rewards, const RowMatrix& values, const RowMatrix& dones,
                        const Eigen::VectorXd& last_values, double gamma, double lambda,
                        RowMatrix& advantages, RowMatrix& returns) {
  const auto t_len = rewards.rows(), e_len = rewards.cols();
  require(values.rows() == t_len && values.cols() == e_len && dones.rows() == t_len &&
              dones.cols() == e_len,
          "values/dones.shape", std::to_string(values.rows()) + "x" + std::to_string(values.cols()),
          "must match rewards' shape");
  require(last_values.size() == e_len, "last_values.size", last_values.size(),
          "must equal the number of environments");
  require(gamma >= 0 && gamma <= 1, "gamma", gamma, "must lie in [0, 1]");
  require(lambda >= 0 && lambda <= 1, "gae_lambda", lambda, "must lie in [0, 1]");
  require(rewards.allFinite() && values.allFinite() && last_values.allFinite(), "rewards/values",
          "non-finite", "must be finite");
  advantages.resize(t_len, e_len);
  for (Eigen::Index e = 0; e < e_len; ++e) {
    double gae = 0;
    for (Eigen::Index t = t_len - 1; t >= 0; --t) {
      const double next_value = t == t_len - 1 ? last_values[e] : values(t + 1, e);
      const double nonterminal = 1.0 - dones(t, e);
      const double delta = rewards(t, e) + gamma * nonterminal * next_value - values(t, e);
      gae = delta + gamma * lambda * nonterminal * gae;
      advantages(t, e) = gae;
    }
  }
  returns = advantages + values;
}

}  // namespace orchard::rl
