#pragma once
// A GBRL ensemble as the function approximator of the RL algorithms: step() grows one tree on
// the loss gradients, and the rollout buffer is re-predicted incrementally (only new trees).
#include "../gbrl/ensemble.hpp"
#include "approximator.hpp"

namespace orchard::rl {

class GbrlModel : public Approximator {
 public:
  explicit GbrlModel(gbrl::Params p, Context ctx = Context(1)) : e_(std::move(p), ctx) {}
  explicit GbrlModel(gbrl::Ensemble e) : e_(std::move(e)) {}

  int output_dim() const override { return e_.n_outputs(); }
  RowMatrix predict(ConstMatrixView<double> x) const override { return e_.predict(x); }
  void step(ConstMatrixView<double> x, ConstMatrixView<double> grads) override { e_.step(x, grads); }
  void begin_buffer(ConstMatrixView<double> x) override { e_.cache_begin(x); }
  RowMatrix predict_buffer() override { return e_.cache_predict(); }
  void end_buffer() override { e_.cache_end(); }

  gbrl::Ensemble& ensemble() { return e_; }
  const gbrl::Ensemble& ensemble() const { return e_; }

 private:
  gbrl::Ensemble e_;
};

}  // namespace orchard::rl
