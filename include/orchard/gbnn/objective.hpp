#pragma once
// The objective of a one-hidden-layer network with logistic hidden units and linear outputs,
// evaluated with its gradient over fixed row blocks (forward and backward fused per block, so a
// block of X is read from memory once per evaluation). It is the per-step objective of GBNN
// (squared loss on pseudo-residuals) and the objective of the plain MLP baseline (squared,
// logistic or softmax loss):
//   E(w) = (1/n) Σ_i loss(out_i, target_i) + α/(2n) (‖W1‖² + ‖W2‖²)
// with out = σ(X W1 + b1) W2 + b2. Parameters are packed as W1 (d×J, row-major), W2 (J×K,
// row-major), b1 (J), b2 (K) — scikit-learn's packing order of coefficients then intercepts.
#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <memory>
#include <type_traits>

#include "common.hpp"

namespace orchard::gbnn {

/// The loss on the network's outputs.
///  squared:  ½ Σ_k (out_k − r_k)²      (targets: n × K real values)
///  logistic: ln(1 + exp(−y·out))        (targets: n × 1, y in {−1, +1}; out is the logit)
///  softmax:  logsumexp(out) − out_c     (targets: n × 1, class index c)
enum class OutputLoss { squared, logistic, softmax };

/// What the L-BFGS driver and the Adam loop see: NetObjective on the CPU, or the GPU objective
/// registered by <orchard/gbnn/cuda.hpp>. Both have the same packing, value and gradient.
template <class T>
class Objective {
 public:
  virtual ~Objective() = default;
  /// Rows the next evaluations use: X is n × d row-major contiguous, targets as OutputLoss says
  /// (squared: n × K row-major; logistic: n labels in {−1, +1}; softmax: n class indices).
  virtual void bind(const T* X, const T* targets, index_t n, const Context& ctx) = 0;
  /// Objective value; writes the gradient (size n_params()).
  virtual T operator()(const Vector<T>& w, Vector<T>& grad) = 0;
  virtual index_t n_params() const = 0;
};

template <class T>
class NetObjective final : public Objective<T> {
 public:
  using Vec = Vector<T>;

  /// Sizes every buffer for up to `max_rows` rows; evaluations then allocate nothing.
  void configure(index_t max_rows, index_t d, index_t hidden, index_t outputs, OutputLoss loss,
                 T alpha) {
    d_ = d;
    J_ = hidden;
    K_ = outputs;
    loss_ = loss;
    alpha_ = alpha;
    H_.resize(max_rows, J_);
    E_.resize(max_rows, K_);
    D_.resize(max_rows, J_);
    reserve_blocks(max_rows);
  }

  /// Rows the next evaluations use: X is n × d row-major contiguous, targets as OutputLoss says.
  void bind(const T* X, const T* targets, index_t n, const Context& ctx) override {
    require(n > 0 && n <= H_.rows(), "rows", n, "must lie in [1, configured rows]");
    X_ = X;
    targets_ = targets;
    n_ = n;
    ctx_ = &ctx;
    block_ = detail::block_rows(n, n_params(), n_params());
    reserve_blocks(n);
  }

  index_t n_params() const override { return d_ * J_ + J_ * K_ + J_ + K_; }
  index_t features() const { return d_; }
  index_t hidden() const { return J_; }
  index_t outputs() const { return K_; }

  /// Objective value; writes the gradient (size n_params()).
  T operator()(const Vec& w, Vec& grad) override {
    const index_t d = d_, J = J_, K = K_;
    using CMap = Eigen::Map<const RowMatrix<T>>;
    CMap W1(w.data(), d, J);
    CMap W2(w.data() + d * J, J, K);
    Eigen::Map<const Vec> b1(w.data() + d * J + J * K, J);
    Eigen::Map<const Vec> b2(w.data() + d * J + J * K + J, K);
    const index_t nb = num_blocks(n_, block_);
    parallel_blocks(*ctx_, n_, block_, [&](index_t b, index_t s, index_t e) {
      const index_t m = e - s;
      CMap Xb(X_ + s * d, m, d);
      auto Hb = H_.middleRows(s, m);
      Hb.noalias() = Xb * W1;
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < J; ++j) Hb(i, j) = sigmoid(static_cast<T>(Hb(i, j) + b1[j]));
      auto Eb = E_.middleRows(s, m);
      Eb.noalias() = Hb * W2;
      Eb.rowwise() += b2.transpose();
      block_loss_[b] = output_loss(Eb, s, m);
      T* g = partial_.row(b).data();
      Eigen::Map<RowMatrix<T>> gW1(g, d, J), gW2(g + d * J, J, K);
      Eigen::Map<Vec> gb1(g + d * J + J * K, J), gb2(g + d * J + J * K + J, K);
      gW2.noalias() = Hb.transpose() * Eb;
      gb2.noalias() = Eb.colwise().sum().transpose();
      auto Db = D_.middleRows(s, m);
      Db.noalias() = Eb * W2.transpose();
      Db.array() *= Hb.array() * (T(1) - Hb.array());
      gW1.noalias() = Xb.transpose() * Db;
      gb1.noalias() = Db.colwise().sum().transpose();
    });
    // Fixed-order reduction of the block partials (parallel over parameter chunks).
    const index_t P = n_params();
    grad.resize(P);
    parallel_blocks(*ctx_, P, 4096, [&](index_t, index_t p0, index_t p1) {
      for (index_t p = p0; p < p1; ++p) {
        T acc = partial_(0, p);
        for (index_t b = 1; b < nb; ++b) acc += partial_(b, p);
        grad[p] = acc;
      }
    });
    T loss = 0;
    for (index_t b = 0; b < nb; ++b) loss += block_loss_[b];
    const T inv = T(1) / static_cast<T>(n_);
    const index_t nw = d * J + J * K;
    grad *= inv;
    grad.head(nw) += (alpha_ * inv) * w.head(nw);
    loss = loss * inv + T(0.5) * alpha_ * inv * w.head(nw).squaredNorm();
    return loss;
  }

 private:
  void reserve_blocks(index_t n) {
    const index_t nb = num_blocks(n, detail::block_rows(n, n_params(), n_params()));
    if (partial_.rows() < nb || partial_.cols() != n_params()) {
      partial_.resize(std::max<index_t>(nb, 1), n_params());
      block_loss_.resize(std::max<index_t>(nb, 1));
    }
  }

  // Replaces the outputs in Eb by d loss / d out and returns the block's summed loss.
  template <class Block>
  T output_loss(Block& Eb, index_t s, index_t m) const {
    const index_t K = K_;
    T loss = 0;
    switch (loss_) {
      case OutputLoss::squared: {
        Eigen::Map<const RowMatrix<T>> Rb(targets_ + s * K, m, K);
        Eb -= Rb;
        loss = T(0.5) * Eb.squaredNorm();
        break;
      }
      case OutputLoss::logistic:
        for (index_t i = 0; i < m; ++i) {
          const T y = targets_[s + i];
          const T yz = y * Eb(i, 0);
          loss += log1pexp(-yz);
          Eb(i, 0) = -y * sigmoid(-yz);
        }
        break;
      case OutputLoss::softmax:
        for (index_t i = 0; i < m; ++i) {
          const auto c = static_cast<index_t>(targets_[s + i]);
          const T mx = Eb.row(i).maxCoeff();
          T sum = 0;
          for (index_t k = 0; k < K; ++k) sum += std::exp(Eb(i, k) - mx);
          const T lse = mx + std::log(sum);
          loss += lse - Eb(i, c);
          for (index_t k = 0; k < K; ++k) Eb(i, k) = std::exp(Eb(i, k) - lse);
          Eb(i, c) -= T(1);
        }
        break;
    }
    return loss;
  }

  index_t d_ = 0, J_ = 0, K_ = 0, n_ = 0, block_ = 128;
  OutputLoss loss_ = OutputLoss::squared;
  T alpha_ = 0;
  const T* X_ = nullptr;
  const T* targets_ = nullptr;
  const Context* ctx_ = nullptr;
  RowMatrix<T> H_, E_, D_, partial_;
  Vec block_loss_;
};

namespace detail {

/// Makes the GPU objective (filled in by <orchard/gbnn/cuda.hpp>, a translation unit compiled
/// with nvcc), so a Context with Device::cuda reaches the GPU from any translation unit.
template <class T>
using GpuObjectiveFactory = std::unique_ptr<Objective<T>> (*)(const Context& ctx, index_t max_rows,
                                                              index_t d, index_t hidden,
                                                              index_t outputs, OutputLoss loss,
                                                              T alpha);
struct CudaHooks {
  GpuObjectiveFactory<float> f = nullptr;
  GpuObjectiveFactory<double> d = nullptr;
};
inline CudaHooks& cuda_hooks() {
  static CudaHooks hooks;
  return hooks;
}

/// The network objective on the Context's device, sized for up to max_rows rows.
template <class T>
std::unique_ptr<Objective<T>> make_objective(const Context& ctx, index_t max_rows, index_t d,
                                             index_t hidden, index_t outputs, OutputLoss loss,
                                             T alpha) {
  if (ctx.device() == Device::cuda) {
    GpuObjectiveFactory<T> make = nullptr;
    if constexpr (std::is_same_v<T, float>) make = cuda_hooks().f;
    else if constexpr (std::is_same_v<T, double>) make = cuda_hooks().d;
    if (make == nullptr) {
      throw DeviceError(
          "orchard: argument 'ctx.device' = cuda: the gbnn CUDA path is not linked in; include "
          "<orchard/gbnn/cuda.hpp> in a translation unit compiled with nvcc");
    }
    return make(ctx, max_rows, d, hidden, outputs, loss, alpha);
  }
  auto cpu = std::make_unique<NetObjective<T>>();
  cpu->configure(max_rows, d, hidden, outputs, loss, alpha);
  return cpu;
}

}  // namespace detail

/// H = σ(X W1 + b1) for rows [s, e) of X (row-major contiguous, d columns).
template <class T, class HBlock, class W1Type, class B1Type>
void hidden_rows(const T* X, index_t d, index_t s, index_t e, const W1Type& W1, const B1Type& b1,
                 HBlock&& H) {
  Eigen::Map<const RowMatrix<T>> Xb(X + s * d, e - s, d);
  H.noalias() = Xb * W1;
  for (index_t i = 0; i < H.rows(); ++i)
    for (index_t j = 0; j < H.cols(); ++j) H(i, j) = sigmoid(static_cast<T>(H(i, j) + b1[j]));
}

}  // namespace orchard::gbnn
