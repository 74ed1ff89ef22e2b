#pragma once
// Actor-critic losses and their closed-form gradients with respect to the model outputs.
//
// Per sample i, with logp = log pi(a_i | out_i), r = exp(logp - old_logp_i), advantage A_i,
// value V_i, target R_i and entropy H_i:
//   ppo:  loss_i = -min(r A, clip(r, 1 - eps, 1 + eps) A) + vf_coef 0.5 (V - R)^2 - ent_coef H
//   a2c:  loss_i = -logp A                                + vf_coef 0.5 (V - R)^2 - ent_coef H
//   awr:  loss_i = -logp w   (w = the advantage weight)   + vf_coef 0.5 (V - R)^2 - ent_coef H
// The reported loss is the mean over the batch. g_out row i and g_value[i] hold d loss_i / d out_i
// and d loss_i / d V_i (per-sample, NOT divided by N: what a tree fits), g_extra holds
// d mean-loss / d (distribution parameters), e.g. the Gaussian log-std.
#include <Eigen/Dense>
#include <cmath>
#include <string>

#include "../core/error.hpp"
#include "vec_env.hpp"

namespace orchard::rl {

enum class Objective { ppo, a2c, awr };

inline Objective parse_objective(const std::string& name) {
  if (name == "ppo") return Objective::ppo;
  if (name == "a2c") return Objective::a2c;
  if (name == "awr") return Objective::awr;
  throw InvalidArgument("orchard: argument 'algorithm' = " + name +
                        ": expected 'ppo', 'a2c' or 'awr'");
}

struct LossParams {
  double clip_range = 0.2;  ///< PPO's epsilon
  double vf_coef = 0.5;     ///< weight of the value loss
  double ent_coef = 0.0;    ///< weight of the entropy bonus
};

struct LossTerms {
  double policy = 0;         ///< mean policy loss
  double value = 0;          ///< mean 0.5 (V - R)^2
  double entropy = 0;        ///< mean entropy
  double total = 0;          ///< mean total loss
  double clip_fraction = 0;  ///< PPO: share of samples with |r - 1| > eps
  double approx_kl = 0;      ///< mean (r - 1) - log r
};

/// A batch: model outputs (N x n_outputs), values (N), actions (N x action_dim), old log-probs,
/// advantages (or AWR weights) and value targets.
struct LossBatch {
  const RowMatrix* outputs = nullptr;
  const Eigen::VectorXd* values = nullptr;
  const RowMatrix* actions = nullptr;
  const Eigen::VectorXd* old_log_prob = nullptr;
  const Eigen::VectorXd* advantages = nullptr;
  const Eigen::VectorXd* returns = nullptr;
};

template <class Dist>
LossTerms actor_critic_loss(const Dist& dist, Objective obj, const LossParams& p,
                            const LossBatch& b, RowMatrix& g_out, Eigen::VectorXd& g_value,
                            Eigen::VectorXd& g_extra) {
  require(b.outputs && b.values && b.actions && b.advantages && b.returns, "batch", "incomplete",
          "outputs, values, actions, advantages and returns are required");
  const Eigen::Index n = b.outputs->rows();
  require(n > 0, "batch.size", n, "must be > 0");
  require(b.outputs->cols() == dist.n_outputs(), "outputs.cols", b.outputs->cols(),
          "must equal the distribution's output count " + std::to_string(dist.n_outputs()));
  require(b.values->size() == n && b.actions->rows() == n && b.advantages->size() == n &&
              b.returns->size() == n,
          "batch rows", n, "values, actions, advantages and returns must have one row per sample");
  require(b.actions->cols() == dist.action_dim(), "actions.cols", b.actions->cols(),
          "must equal the action dimension");
  if (obj == Objective::ppo) {
    require(b.old_log_prob != nullptr && b.old_log_prob->size() == n, "old_log_prob", "missing",
            "PPO needs one old log-probability per sample");
    require(p.clip_range > 0, "clip_range", p.clip_range, "must be > 0");
  }
  require(b.outputs->allFinite(), "outputs", "non-finite", "model outputs must be finite");
  require(b.values->allFinite(), "values", "non-finite", "values must be finite");
  g_out.setZero(n, dist.n_outputs());
  g_value.setZero(n);
  g_extra.setZero(dist.n_extra());
  LossTerms t;
  const double inv_n = 1.0 / static_cast<double>(n);
  Eigen::VectorXd extra_i(dist.n_extra());
  for (Eigen::Index i = 0; i < n; ++i) {
    const double* out = b.outputs->row(i).data();
    double* go = g_out.row(i).data();
    const double* act = b.actions->row(i).data();
    const double adv = (*b.advantages)[i];
    extra_i.setZero();
    double* ge = dist.n_extra() > 0 ? extra_i.data() : nullptr;
    // logp with its gradient scaled by d loss / d logp (known once logp is).
    const double logp = dist.log_prob(out, act, nullptr, nullptr, 0.0);
    double dloss_dlogp = 0, pol = 0;
    if (obj == Objective::ppo) {
      const double old = (*b.old_log_prob)[i];
      const double r = std::exp(logp - old);
      const double eps = p.clip_range;
      const double rc = std::clamp(r, 1 - eps, 1 + eps);
      const double unclipped = r * adv, clipped = rc * adv;
      if (unclipped <= clipped) {
        pol = -unclipped;
        dloss_dlogp = -r * adv;  // d(r A)/d logp = r A
      } else {
        pol = -clipped;
        dloss_dlogp = (r > 1 - eps && r < 1 + eps) ? -r * adv : 0.0;
      }
      if (std::abs(r - 1) > eps) t.clip_fraction += inv_n;
      t.approx_kl += ((r - 1) - (logp - old)) * inv_n;
    } else {
      pol = -logp * adv;
      dloss_dlogp = -adv;
    }
    dist.log_prob(out, act, go, ge, dloss_dlogp);
    const double h = dist.entropy(out, go, ge, -p.ent_coef);
    const double v = (*b.values)[i], target = (*b.returns)[i];
    const double vl = 0.5 * (v - target) * (v - target);
    g_value[i] = p.vf_coef * (v - target);
    t.policy += pol * inv_n;
    t.value += vl * inv_n;
    t.entropy += h * inv_n;
    if (dist.n_extra() > 0) g_extra += extra_i * inv_n;
  }
  t.total = t.policy + p.vf_coef * t.value - p.ent_coef * t.entropy;
  return t;
}

/// AWR weights min(exp(A / beta), max_weight).
inline Eigen::VectorXd awr_weights(const Eigen::VectorXd& adv, double beta, double max_weight) {
  require(beta > 0, "awr_beta", beta, "must be > 0");
  require(max_weight > 0, "awr_max_weight", max_weight, "must be > 0");
  Eigen::VectorXd w(adv.size());
  for (Eigen::Index i = 0; i < adv.size(); ++i) w[i] = std::min(std::exp(adv[i] / beta), max_weight);
  return w;
}

}  // namespace orchard::rl
