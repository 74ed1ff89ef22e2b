#pragma once
// The function-approximator interface the RL algorithms train: predict outputs for a batch of
// observations, and apply one update given per-sample gradients of the loss with respect to the
// outputs (a functional-gradient step: a gradient-boosted ensemble fits one new tree to them).
// A linear model implements it too, as a baseline and for tests.
#include <Eigen/Dense>
#include <string>

#include "../core/error.hpp"
#include "../core/matrix_view.hpp"
#include "vec_env.hpp"

namespace orchard::rl {

/// Copies a view into a row-major Eigen matrix.
inline RowMatrix to_matrix(ConstMatrixView<double> x) {
  RowMatrix m(x.rows, x.cols);
  for (index_t i = 0; i < x.rows; ++i)
    for (index_t j = 0; j < x.cols; ++j) m(i, j) = x(i, j);
  return m;
}

class Approximator {
 public:
  virtual ~Approximator() = default;
  virtual int output_dim() const = 0;
  /// Outputs for the rows of X (N x output_dim).
  virtual RowMatrix predict(ConstMatrixView<double> x) const = 0;
  /// One update from d loss_i / d output_i for each row of X (grads: N x output_dim).
  virtual void step(ConstMatrixView<double> x, ConstMatrixView<double> grads) = 0;

  /// A fixed buffer that will be re-predicted after every step (PPO's rollout buffer). The
  /// default re-predicts it fully; an ensemble overrides these to add only the new trees.
  virtual void begin_buffer(ConstMatrixView<double> x) { buffer_ = to_matrix(x); }
  virtual RowMatrix predict_buffer() { return predict(ConstMatrixView<double>(buffer_)); }
  virtual void end_buffer() { buffer_.resize(0, 0); }

 protected:
  RowMatrix buffer_;
};

/// outputs = X W + b, updated by plain gradient descent on the mean loss.
class LinearModel : public Approximator {
 public:
  LinearModel(int n_features, int n_outputs, double lr) : lr_(lr) {
    require(n_features >= 1, "n_features", n_features, "must be >= 1");
    require(n_outputs >= 1, "n_outputs", n_outputs, "must be >= 1");
    require(lr > 0 && std::isfinite(lr), "lr", lr, "must be positive and finite");
    w_.setZero(n_features, n_outputs);
    b_.setZero(n_outputs);
  }
  int output_dim() const override { return static_cast<int>(w_.cols()); }
  RowMatrix predict(ConstMatrixView<double> x) const override {
    require(x.cols == w_.rows(), "X.cols", x.cols, "must equal n_features");
    RowMatrix out = to_matrix(x) * w_;
    out.rowwise() += b_.transpose();
    return out;
  }
  void step(ConstMatrixView<double> x, ConstMatrixView<double> grads) override {
    require(x.cols == w_.rows(), "X.cols", x.cols, "must equal n_features");
    require(grads.rows == x.rows && grads.cols == w_.cols(), "grads.shape",
            std::to_string(grads.rows) + "x" + std::to_string(grads.cols),
            "must be N x n_outputs");
    require(x.rows > 0, "X.rows", x.rows, "must be > 0");
    const RowMatrix xm = to_matrix(x), gm = to_matrix(grads);
    require(gm.allFinite(), "grads", "non-finite", "must be finite");
    const double inv_n = 1.0 / static_cast<double>(x.rows);
    w_ -= lr_ * inv_n * (xm.transpose() * gm);
    b_ -= lr_ * inv_n * gm.colwise().sum().transpose();
  }
  const Eigen::MatrixXd& weights() const { return w_; }
  const Eigen::VectorXd& bias() const { return b_; }

 private:
  double lr_;
  Eigen::MatrixXd w_;
  Eigen::VectorXd b_;
};

/// Actor and critic: one shared model (outputs = policy outputs, then the value) or two models.
class ActorCritic {
 public:
  static ActorCritic shared(Approximator& model, int policy_outputs) {
    require(model.output_dim() == policy_outputs + 1, "model.output_dim", model.output_dim(),
            "a shared actor-critic needs policy outputs + 1 (the value) = " +
                std::to_string(policy_outputs + 1));
    return ActorCritic(&model, &model, policy_outputs);
  }
  static ActorCritic separate(Approximator& actor, Approximator& critic, int policy_outputs) {
    require(actor.output_dim() == policy_outputs, "actor.output_dim", actor.output_dim(),
            "must equal the policy outputs " + std::to_string(policy_outputs));
    require(critic.output_dim() == 1, "critic.output_dim", critic.output_dim(), "must be 1");
    require(&actor != &critic, "critic", "same object as actor",
            "use ActorCritic::shared for one model");
    return ActorCritic(&actor, &critic, policy_outputs);
  }
  bool is_shared() const { return actor_ == critic_; }
  int policy_outputs() const { return p_; }
  Approximator& actor() { return *actor_; }
  Approximator& critic() { return *critic_; }

  void predict(ConstMatrixView<double> x, RowMatrix& pout, Eigen::VectorXd& v) const {
    if (is_shared()) {
      split(actor_->predict(x), pout, v);
    } else {
      pout = actor_->predict(x);
      v = critic_->predict(x).col(0);
    }
  }
  void begin_buffer(ConstMatrixView<double> x) {
    actor_->begin_buffer(x);
    if (!is_shared()) critic_->begin_buffer(x);
  }
  void predict_buffer(RowMatrix& pout, Eigen::VectorXd& v) {
    if (is_shared()) {
      split(actor_->predict_buffer(), pout, v);
    } else {
      pout = actor_->predict_buffer();
      v = critic_->predict_buffer().col(0);
    }
  }
  void end_buffer() {
    actor_->end_buffer();
    if (!is_shared()) critic_->end_buffer();
  }
  /// One update: the shared model gets [g_out | g_value], separate models one step each.
  void step(ConstMatrixView<double> x, const RowMatrix& g_out, const Eigen::VectorXd& g_value) {
    if (is_shared()) {
      RowMatrix g(g_out.rows(), p_ + 1);
      g.leftCols(p_) = g_out;
      g.col(p_) = g_value;
      actor_->step(x, ConstMatrixView<double>(g));
    } else {
      actor_->step(x, ConstMatrixView<double>(g_out));
      RowMatrix gv = g_value;
      critic_->step(x, ConstMatrixView<double>(gv));
    }
  }

 private:
  ActorCritic(Approximator* a, Approximator* c, int p) : actor_(a), critic_(c), p_(p) {
    require(p >= 1, "policy_outputs", p, "must be >= 1");
  }
  void split(const RowMatrix& all, RowMatrix& pout, Eigen::VectorXd& v) const {
    pout = all.leftCols(p_);
    v = all.col(p_);
  }
  Approximator* actor_;
  Approximator* critic_;
  int p_;
};

}  // namespace orchard::rl
