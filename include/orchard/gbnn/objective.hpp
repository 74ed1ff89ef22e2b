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
#include <algorithm>
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

namespace detail {

/// Σ_c x_r[c]·w[c] for R rows x_r (R = 1..4, consecutive rows `stride` apart), each in a fixed
/// order that does not depend on the vector width: 16 interleaved partial sums per row (the
/// compiler turns them into SIMD lanes; the R rows are independent chains sharing the loads of
/// w), then a fixed pairwise tree.
template <int R, class S, class T>
inline void dot_rows(const S* x, index_t stride, const T* w, index_t n, T* out) {
  constexpr index_t L = 16;
  using Acc = Eigen::Array<T, L, 1>;  // fixed size: Eigen keeps it in SIMD registers
  Acc acc[R];
  for (int r = 0; r < R; ++r) acc[r].setZero();
  index_t c = 0;
  for (; c + L <= n; c += L) {
    const Acc wv = Eigen::Map<const Acc>(w + c);
    for (int r = 0; r < R; ++r)
      acc[r] += Eigen::Map<const Eigen::Array<S, L, 1>>(x + r * stride + c).template cast<T>() * wv;
  }
  for (int r = 0; r < R; ++r) {
    T a[L];
    for (index_t l = 0; l < L; ++l) a[l] = acc[r][l];
    for (index_t l = 0; c + l < n; ++l) a[l] += static_cast<T>(x[r * stride + c + l]) * w[c + l];
    for (index_t l = 0; l < 8; ++l) a[l] += a[l + 8];
    for (index_t l = 0; l < 4; ++l) a[l] += a[l + 4];
    a[0] += a[2];
    a[1] += a[3];
    out[r] = a[0] + a[1];
  }
}

/// y[c] += a_0·x_0[c] + … + a_{R−1}·x_{R−1}[c], added in row order (R = 1..4 rows `stride`
/// apart): the same rounding as R separate row updates, with one pass over y.
template <int R, class S, class T>
inline void axpy_rows(const T* a, const S* x, index_t stride, T* y, index_t n) {
  for (index_t c = 0; c < n; ++c) {
    T v = y[c];
    for (int r = 0; r < R; ++r) v += a[r] * static_cast<T>(x[r * stride + c]);
    y[c] = v;
  }
}

/// dot_rows / axpy_rows over any number of rows, four at a time.
template <class S, class T>
inline void dot_many(const S* x, index_t rows, index_t stride, const T* w, index_t n, T* out,
                     index_t out_stride) {
  T o[4];
  index_t i = 0;
  for (; i + 4 <= rows; i += 4) {
    dot_rows<4>(x + i * stride, stride, w, n, o);
    for (int r = 0; r < 4; ++r) out[(i + r) * out_stride] = o[r];
  }
  for (; i < rows; ++i) {
    dot_rows<1>(x + i * stride, stride, w, n, o);
    out[i * out_stride] = o[0];
  }
}
template <class S, class T>
inline void axpy_many(const T* a, index_t a_stride, const S* x, index_t rows, index_t stride, T* y,
                      index_t n) {
  index_t i = 0;
  for (; i + 4 <= rows; i += 4) {
    const T c[4] = {a[i * a_stride], a[(i + 1) * a_stride], a[(i + 2) * a_stride],
                    a[(i + 3) * a_stride]};
    axpy_rows<4>(c, x + i * stride, stride, y, n);
  }
  for (; i < rows; ++i) axpy_rows<1>(a + i * a_stride, x + i * stride, stride, y, n);
}

}  // namespace detail

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
    // rows of X per sub-block of the GEMM path: about 512 KB, inside the per-core L2 cache
    sub_rows_ = std::clamp<index_t>((index_t{512} << 10) / (d_ * index_t(sizeof(T))), 16, 1024);
    reserve_blocks(n);
  }

  index_t n_params() const override { return d_ * J_ + J_ * K_ + J_ + K_; }
  index_t features() const { return d_; }
  index_t hidden() const { return J_; }
  index_t outputs() const { return K_; }

  /// Objective value; writes the gradient (size n_params()).
  T operator()(const Vec& w, Vec& grad) override {
    // Eigen's own GEMM threading would change the blocking (and the rounding) with the thread
    // count outside a parallel region: all parallelism goes through the fixed row blocks.
    detail::EigenSingleThread single;
    const index_t d = d_, J = J_, K = K_;
    using CMap = Eigen::Map<const RowMatrix<T>>;
    CMap W1(w.data(), d, J);
    CMap W2(w.data() + d * J, J, K);
    Eigen::Map<const Vec> b1(w.data() + d * J + J * K, J);
    Eigen::Map<const Vec> b2(w.data() + d * J + J * K + J, K);
    const index_t nb = num_blocks(n_, block_), sub = sub_rows_;
    if (J <= kRowKernelUnits) {
      // W1 transposed once per evaluation, so each unit's weights are contiguous
      for (index_t c = 0; c < d; ++c)
        for (index_t j = 0; j < J; ++j) W1t_[j * d + c] = W1(c, j);
      parallel_blocks(*ctx_, n_, block_, [&](index_t b, index_t s, index_t e) {
        row_kernel_block(X_, b, s, e, W2, b1, b2);
      });
    } else {
    parallel_blocks(*ctx_, n_, block_, [&](index_t b, index_t s, index_t e) {
      T* g = partial_.row(b).data();
      Eigen::Map<RowMatrix<T>> gW1(g, d, J), gW2(g + d * J, J, K);
      Eigen::Map<Vec> gb1(g + d * J + J * K, J), gb2(g + d * J + J * K + J, K);
      T loss = 0;
      // Cache-sized sub-blocks: the forward pass, the output error and the backward pass of a
      // sub-block run while its rows of X are still in cache, so X is streamed from memory once
      // per evaluation; the sub-block partials accumulate in row order inside the block.
      for (index_t q = s; q < e; q += sub) {
        const index_t m = std::min(sub, e - q);
        CMap Xq(X_ + q * d, m, d);
        auto Hq = H_.middleRows(q, m);
        Hq.noalias() = Xq * W1;
        for (index_t i = 0; i < m; ++i)
          for (index_t j = 0; j < J; ++j) Hq(i, j) = sigmoid(static_cast<T>(Hq(i, j) + b1[j]));
        loss += output_and_delta(q, m, W2, b2);
        auto Eq = E_.middleRows(q, m);
        auto Dq = D_.middleRows(q, m);
        if (q == s) {
          gW2.noalias() = Hq.transpose() * Eq;
          gb2.noalias() = Eq.colwise().sum().transpose();
          gW1.noalias() = Xq.transpose() * Dq;
          gb1.noalias() = Dq.colwise().sum().transpose();
        } else {
          gW2.noalias() += Hq.transpose() * Eq;
          gb2.noalias() += Eq.colwise().sum().transpose();
          gW1.noalias() += Xq.transpose() * Dq;
          gb1.noalias() += Dq.colwise().sum().transpose();
        }
      }
      block_loss_[b] = loss;
    });
    }
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
      if (J_ <= kRowKernelUnits) grad_t_.resize(std::max<index_t>(nb, 1), d_ * J_);
    }
    if (J_ <= kRowKernelUnits) W1t_.resize(d_ * J_);
  }

  /// Up to this many hidden units the objective runs row by row (dot products and axpys on one
  /// row of X while it is in L1); above it, through Eigen GEMMs on cache-sized sub-blocks.
  static constexpr index_t kRowKernelUnits = 2;
  /// Rows per chunk of the row kernel: the forward pass of a chunk, its output error and its
  /// backward pass run while the chunk's rows of X are in the L1/L2 cache.
  static constexpr index_t kChunkRows = 16;

  /// Block b (rows [s, e)) of an evaluation by the row kernel: writes the block's loss and its
  /// partial gradient (packing order) into block_loss_[b] and partial_.row(b).
  template <class S, class W2Type, class B1Type, class B2Type>
  void row_kernel_block(const S* X, index_t b, index_t s, index_t e, const W2Type& W2,
                        const B1Type& b1, const B2Type& b2) {
    const index_t d = d_, J = J_, K = K_;
    T* g = partial_.row(b).data();
    Eigen::Map<RowMatrix<T>> gW1(g, d, J), gW2(g + d * J, J, K);
    Eigen::Map<Vec> gb1(g + d * J + J * K, J), gb2(g + d * J + J * K + J, K);
    T* gw1t = grad_t_.row(b).data();  // this block's W1 gradient, transposed (J × d)
    std::fill(gw1t, gw1t + J * d, T(0));
    gW2.setZero();
    gb1.setZero();
    gb2.setZero();
    const T* w1t = W1t_.data();
    T loss = 0;
    for (index_t q = s; q < e; q += kChunkRows) {
      const index_t m = std::min(kChunkRows, e - q);
      auto Hq = H_.middleRows(q, m);
      for (index_t j = 0; j < J; ++j)
        detail::dot_many(X + q * d, m, d, w1t + j * d, d, &Hq(0, j), J);
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < J; ++j) Hq(i, j) = sigmoid(static_cast<T>(Hq(i, j) + b1[j]));
      loss += output_and_delta(q, m, W2, b2);
      auto Eq = E_.middleRows(q, m);
      auto Dq = D_.middleRows(q, m);
      gW2.noalias() += Hq.transpose() * Eq;
      gb2.noalias() += Eq.colwise().sum().transpose();
      gb1.noalias() += Dq.colwise().sum().transpose();
      for (index_t j = 0; j < J; ++j)
        detail::axpy_many(&Dq(0, j), J, X + q * d, m, d, gw1t + j * d, d);
    }
    for (index_t c = 0; c < d; ++c)
      for (index_t j = 0; j < J; ++j) gW1(c, j) = gw1t[j * d + c];
    block_loss_[b] = loss;
  }

  /// Rows [q, q + m) with their hidden activations in H_: outputs into E_, replaced by
  /// d loss / d out, and the hidden units' deltas into D_; returns the rows' summed loss.
  template <class W2Type, class B2Type>
  T output_and_delta(index_t q, index_t m, const W2Type& W2, const B2Type& b2) {
    auto Hq = H_.middleRows(q, m);
    auto Eq = E_.middleRows(q, m);
    Eq.noalias() = Hq * W2;
    Eq.rowwise() += b2.transpose();
    const T loss = output_loss(Eq, q, m);
    auto Dq = D_.middleRows(q, m);
    Dq.noalias() = Eq * W2.transpose();
    Dq.array() *= Hq.array() * (T(1) - Hq.array());
    return loss;
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

  index_t d_ = 0, J_ = 0, K_ = 0, n_ = 0, block_ = 128, sub_rows_ = 64;
  OutputLoss loss_ = OutputLoss::squared;
  T alpha_ = 0;
  const T* X_ = nullptr;
  const T* targets_ = nullptr;
  const Context* ctx_ = nullptr;
  RowMatrix<T> H_, E_, D_, partial_, grad_t_;
  Vec block_loss_, W1t_;
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
