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
#include <vector>

#include "common.hpp"
#include "int8_tiles.hpp"

namespace orchard::gbnn {

/// The loss on the network's outputs.
///  squared:  ½ Σ_k (out_k − r_k)²      (targets: n × K real values)
///  logistic: ln(1 + exp(−y·out))        (targets: n × 1, y in {−1, +1}; out is the logit)
///  softmax:  logsumexp(out) − out_c     (targets: n × 1, class index c)
enum class OutputLoss { squared, logistic, softmax };

namespace detail {

/// The 16 lanes of v summed in a fixed pairwise tree: lanes l += l + 8, then l += l + 4, then
/// l += l + 2, then 0 + 1 (the same order whatever the vector width).
template <class T>
inline T tree_sum16(const Eigen::Array<T, 16, 1>& v) {
  const Eigen::Array<T, 8, 1> a8 = v.template head<8>() + v.template tail<8>();
  const Eigen::Array<T, 4, 1> a4 = a8.template head<4>() + a8.template tail<4>();
  const Eigen::Array<T, 2, 1> a2 = a4.template head<2>() + a4.template tail<2>();
  return a2[0] + a2[1];
}

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
  // The tail: lane l takes element c + l (rem < L of them), in 8- and 4-lane pieces where they
  // fit, then one by one; the same lane arithmetic as a scalar loop, without its cost on narrow
  // rows (d = 30: 14 of 30 elements are tail).
  const index_t rem = n - c;
  for (int r = 0; r < R; ++r) {
    const S* xr = x + r * stride + c;
    index_t l = 0;
    if (rem >= 8) {
      acc[r].template segment<8>(0) +=
          Eigen::Map<const Eigen::Array<S, 8, 1>>(xr).template cast<T>() *
          Eigen::Map<const Eigen::Array<T, 8, 1>>(w + c);
      l = 8;
    }
    if (rem - l >= 4) {
      acc[r].template segment<4>(l) +=
          Eigen::Map<const Eigen::Array<S, 4, 1>>(xr + l).template cast<T>() *
          Eigen::Map<const Eigen::Array<T, 4, 1>>(w + c + l);
      l += 4;
    }
    for (; l < rem; ++l) acc[r][l] += static_cast<T>(xr[l]) * w[c + l];
    out[r] = tree_sum16<T>(acc[r]);
  }
}

/// W consecutive columns of axpy_rows.
template <int W, int R, class S, class T>
inline void axpy_piece(const T* a, const S* x, index_t stride, T* y) {
  using A = Eigen::Array<T, W, 1>;
  A v = Eigen::Map<const A>(y);
  for (int r = 0; r < R; ++r)
    v += a[r] * Eigen::Map<const Eigen::Array<S, W, 1>>(x + r * stride).template cast<T>();
  Eigen::Map<A> out(y);
  out = v;
}
/// y[c] += a_0·x_0[c] + … + a_{R−1}·x_{R−1}[c], added in row order (R = 1..4 rows `stride`
/// apart): the same rounding as R separate row updates, with one pass over y.
template <int R, class S, class T>
inline void axpy_rows(const T* a, const S* x, index_t stride, T* y, index_t n) {
  // 16-, 8- and 4-column pieces, then single columns: each y[c] gets the same R updates in the
  // same order whatever piece it falls in (narrow rows such as d = 30 then run no long scalar
  // loop)
  index_t c = 0;
  for (; c + 16 <= n; c += 16) axpy_piece<16, R>(a, x + c, stride, y + c);
  if (n - c >= 8) {
    axpy_piece<8, R>(a, x + c, stride, y + c);
    c += 8;
  }
  if (n - c >= 4) {
    axpy_piece<4, R>(a, x + c, stride, y + c);
    c += 4;
  }
  for (; c < n; ++c) {
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

/// One SIMD lane per row: `xt` is a 16-row chunk stored column by column (d × 16;
/// lane l is row l of the chunk). z[l] = Σ_c xt[c][l]·w[c] for the 16 rows at once, column c
/// added to partial sum c mod 4 in column order, then (p0 + p1) + (p2 + p3): every row's sum in
/// the same fixed order whatever the vector width, and no per-row reduction or tail.
template <class T>
inline void dot_lanes(const T* xt, const T* w, index_t d, T* z) {
  using L = Eigen::Array<T, 16, 1>;
  auto x = [xt](index_t c) { return Eigen::Map<const L>(xt + c * 16); };
  L p0 = L::Zero(), p1 = L::Zero(), p2 = L::Zero(), p3 = L::Zero();
  index_t c = 0;
  for (; c + 4 <= d; c += 4) {
    p0 += x(c) * w[c];
    p1 += x(c + 1) * w[c + 1];
    p2 += x(c + 2) * w[c + 2];
    p3 += x(c + 3) * w[c + 3];
  }
  if (c < d) p0 += x(c) * w[c];
  if (c + 1 < d) p1 += x(c + 1) * w[c + 1];
  if (c + 2 < d) p2 += x(c + 2) * w[c + 2];
  Eigen::Map<L> out(z);
  out = (p0 + p1) + (p2 + p3);
}
/// acc[c][l] += Σ_t a_t[l]·xt_t[c][l] over `chunks` consecutive 16-row chunks (layout as
/// dot_lanes; a_t = a + t·a_stride), added in chunk order: each lane keeps its own partial W1
/// gradient, reduced over the lanes once per block by reduce_lanes. Eight columns at a time, so
/// their partial sums stay in registers across the chunks.
template <class T>
inline void axpy_lanes(const T* a, index_t a_stride, const T* xt, index_t chunks, index_t d, T* acc) {
  using L = Eigen::Array<T, 16, 1>;
  const index_t cs = 16 * d;  // one chunk of xt
  index_t c = 0;
  for (; c + 8 <= d; c += 8) {
    L p[8];
    for (int u = 0; u < 8; ++u) p[u] = Eigen::Map<const L>(acc + (c + u) * 16);
    for (index_t t = 0; t < chunks; ++t) {
      const L av = Eigen::Map<const L>(a + t * a_stride);
      const T* x = xt + t * cs + c * 16;
      for (int u = 0; u < 8; ++u) p[u] += av * Eigen::Map<const L>(x + u * 16);
    }
    for (int u = 0; u < 8; ++u) Eigen::Map<L>(acc + (c + u) * 16) = p[u];
  }
  for (; c < d; ++c) {
    L p = Eigen::Map<const L>(acc + c * 16);
    for (index_t t = 0; t < chunks; ++t)
      p += Eigen::Map<const L>(a + t * a_stride) * Eigen::Map<const L>(xt + t * cs + c * 16);
    Eigen::Map<L>(acc + c * 16) = p;
  }
}
/// out[c·stride] = the 16 lanes of acc[c] summed by tree_sum16.
template <class T>
inline void reduce_lanes(const T* acc, index_t d, T* out, index_t stride) {
  for (index_t c = 0; c < d; ++c)
    out[c * stride] = tree_sum16<T>(Eigen::Map<const Eigen::Array<T, 16, 1>>(acc + c * 16));
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
    if (lane_kernel()) Xt_.resize(round_up(max_rows, kChunkRows) * d_);
    reserve_blocks(max_rows);
  }

  /// Rows the next evaluations use: X is n × d row-major contiguous, targets as OutputLoss says.
  void bind(const T* X, const T* targets, index_t n, const Context& ctx) override {
    require(n > 0 && n <= H_.rows(), "rows", n, "must lie in [1, configured rows]");
    X_ = X;
    targets_ = targets;
    n_ = n;
    ctx_ = &ctx;
    tiles_ = false;
    block_ = detail::block_rows(n, n_params(), n_params());
    if (lane_kernel()) {
      // whole chunks per block; each chunk's rows stored column by column, the last one padded
      // with zero rows (x = 0 and a zero delta add exactly nothing to any gradient lane)
      block_ = round_up(block_, kChunkRows);
      const index_t d = d_;
      std::fill(Xt_.data() + (n / kChunkRows) * kChunkRows * d, Xt_.data() + round_up(n, kChunkRows) * d, T(0));
      for (index_t i = 0; i < n; ++i) {
        T* chunk = Xt_.data() + (i / kChunkRows) * kChunkRows * d + i % kChunkRows;
        for (index_t c = 0; c < d; ++c) chunk[c * kChunkRows] = X[i * d + c];
      }
      if (loss_ == OutputLoss::squared) lane_targets();
    }
    reserve_blocks(n);
  }

  /// Whether bind_codes can bind: T = float, the squared loss, at most kLaneUnits units and
  /// kMaxTileFeatures features, and a CPU and kernel with AMX-INT8.
  bool tiles_apply() const {
    return std::is_same_v<T, float> && loss_ == OutputLoss::squared && J_ <= kLaneUnits &&
           d_ <= detail::kMaxTileFeatures && detail::amx_int8_usable();
  }

  /// Binds byte-coded rows instead (int8_tiles.hpp): rows rows[0..n) (rows == nullptr: 0..n) of
  /// the N × d code matrix `codes`, whose features are codes · scale, with their targets; the
  /// evaluations then run on AMX integer tiles. Returns false and binds nothing where that path
  /// does not apply (tiles_apply()).
  bool bind_codes(const std::uint8_t* codes, const index_t* rows, index_t n, double scale,
                  const T* targets, const Context& ctx) {
    if (!tiles_apply()) return false;
    require(n > 0 && n <= H_.rows(), "rows", n, "must lie in [1, configured rows]");
    quad_.assign(codes, rows, n, d_, ctx);
    code_scale_ = scale;
    X_ = nullptr;
    targets_ = targets;
    n_ = n;
    ctx_ = &ctx;
    tiles_ = true;
    lane_targets();
    // the same number of blocks as the float path, each of whole super-blocks, and at most
    // kMaxTileBlock rows, so that no 32-bit sum of the backward products can overflow
    const index_t nb = num_blocks(n, detail::block_rows(n, n_params(), n_params()));
    block_ = std::min(round_up((n + nb - 1) / nb, detail::kSuperRows), detail::kMaxTileBlock);
    reserve_blocks(n);
    if (thread_tiles_.size() < static_cast<std::size_t>(ctx.threads()))
      thread_tiles_.resize(static_cast<std::size_t>(ctx.threads()));
    const index_t nbt = num_blocks(n, block_);
    const index_t sums = nbt * 2 * quad_.column_tiles() * detail::kPieces * 16;
    if (static_cast<index_t>(gsums_.size()) < sums) gsums_.resize(sums);
    const index_t pieces = nbt * block_ * detail::kPieces;
    if (static_cast<index_t>(apieces_.size()) < pieces) apieces_.resize(pieces);
    return true;
  }

  index_t n_params() const override { return d_ * J_ + J_ * K_ + J_ + K_; }
  /// Tl_ from the bound targets (lane paths with the squared loss).
  void lane_targets() {
    const index_t K = K_;
    Tl_.setZero(round_up(n_, kChunkRows) * K);
    for (index_t i = 0; i < n_; ++i)
      for (index_t k = 0; k < K; ++k)
        Tl_[((i / kChunkRows) * K + k) * kChunkRows + i % kChunkRows] = targets_[i * K + k];
  }
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
    const index_t nb = num_blocks(n_, block_);
    if (tiles_) {
      // each unit's weights contiguous (W1 itself when J = 1)
      const T* w1t = w.data();
      if (J > 1) {
        for (index_t c = 0; c < d; ++c)
          for (index_t j = 0; j < J; ++j) W1t_[j * d + c] = W1(c, j);
        w1t = W1t_.data();
      }
      w1t_ = w1t;  // each thread builds its weight tiles from these (tile_block)
      ++eval_id_;  // numbers this objective's evaluations for its thread_tiles_
      parallel_blocks(*ctx_, n_, block_, [&](index_t b, index_t s, index_t e) {
        tile_block(b, s, e, W2, b1, b2);
      });
    } else if (lane_kernel() || J <= kRowKernelUnits) {
      // W1 transposed once per evaluation, so each unit's weights are contiguous
      for (index_t c = 0; c < d; ++c)
        for (index_t j = 0; j < J; ++j) W1t_[j * d + c] = W1(c, j);
      parallel_blocks(*ctx_, n_, block_, [&](index_t b, index_t s, index_t e) {
        if (lane_kernel()) lane_kernel_block(b, s, e, W2, b1, b2);
        else row_kernel_block(b, s, e, W2, b1, b2);
      });
    } else {
      parallel_blocks(*ctx_, n_, block_, [&](index_t b, index_t s, index_t e) {
        gemm_block(b, s, e, W1, W2, b1, b2);
      });
    }
    // Fixed-order reduction of the block partials (parallel over parameter chunks).
    const index_t P = n_params();
    grad.resize(P);
    // Parallel over parameter chunks only when the sum (P·nb adds) is worth waking threads for,
    // not on every small evaluation; each p is summed over the blocks in block order either way.
    const index_t reduce_chunk = P * nb >= (index_t{1} << 15) ? 4096 : std::max<index_t>(P, 1);
    parallel_blocks(*ctx_, P, reduce_chunk, [&](index_t, index_t p0, index_t p1) {
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
    // the tile path's blocks (bind_codes) can be more: at most kMaxTileBlock rows each
    const index_t nb = num_blocks(n, tiles_ ? block_ : detail::block_rows(n, n_params(), n_params()));
    if (partial_.rows() < nb || partial_.cols() != n_params()) {
      partial_.resize(std::max<index_t>(nb, 1), n_params());
      block_loss_.resize(std::max<index_t>(nb, 1));
    }
    // sized on their own: (d, J) can change with n_params() equal
    if (tiles_) {
      // lane sums of the W2 / bias gradients and loss, a super-block's pre-activations, the
      // block's deltas (J × 16 lanes per 16-row chunk) and its W1 gradient (J × d)
      const index_t width =
          (J_ * K_ + J_ + K_ + 1) * kChunkRows + J_ * (detail::kSuperRows + block_ + d_);
      if (grad_t_.rows() < nb || grad_t_.cols() != width) grad_t_.resize(std::max<index_t>(nb, 1), width);
      W1t_.resize(d_ * J_);
    } else if (lane_kernel() || J_ <= kRowKernelUnits) {
      // lane kernel: lane sums of the gradient and loss, then a sub-block's deltas
      const index_t width =
          lane_kernel() ? (n_params() + 1 + kSubChunks * J_) * kChunkRows : d_ * J_;
      if (grad_t_.rows() < nb || grad_t_.cols() != width) grad_t_.resize(std::max<index_t>(nb, 1), width);
      W1t_.resize(d_ * J_);
    }
  }

  static index_t round_up(index_t n, index_t m) { return (n + m - 1) / m * m; }
  /// The lane kernel (one SIMD lane per row, no per-row reduction or tail) for up to kLaneUnits
  /// units, except wide rows with J <= 2, where the row kernel is as fast or ~5 % faster.
  /// Per evaluation (float, one thread), against the row kernel at J = 1: 7.2 → 1.1 µs on
  /// 228 × 30 rows, 27 → 12 µs on 800 × 64, 225 → 200 µs on 2500 × 400; against the GEMM path
  /// at J = 4: 22 → 4.3 µs on 228 × 30, 1024 → 441 µs on 2500 × 400, 1762 → 1098 µs on 2500 × 784.
  bool lane_kernel() const {
    return J_ <= kLaneUnits && (d_ <= kNarrowFeatures || J_ > kRowKernelUnits);
  }

  /// Up to kRowKernelUnits hidden units, rows wider than kNarrowFeatures run row by row (dot
  /// products and axpys on one row of X while it is in L1); up to kLaneUnits, other rows run on
  /// the lane kernel; above that, through Eigen GEMMs on cache-sized sub-blocks.
  static constexpr index_t kRowKernelUnits = 2;
  /// Rows per chunk of the row kernel: the forward pass of a chunk, its output error and its
  /// backward pass run while the chunk's rows of X are in the L1/L2 cache.
  static constexpr index_t kChunkRows = 16;
  static constexpr index_t kNarrowFeatures = 512;
  static constexpr index_t kLaneUnits = 8;
  /// Most chunks per sub-block of the lane kernel: the forward pass of a sub-block runs chunk by
  /// chunk, then its W1 gradient column group by column group, while its rows of X (at most
  /// 256 KB) are still in L2.
  static constexpr index_t kSubChunks = 64;

  /// Block b (rows [s, e)) of an evaluation through Eigen GEMMs (J > kLaneUnits), with the
  /// same outputs as row_kernel_block. Cache-sized sub-blocks (about 512 KB of X, inside the
  /// per-core L2): the forward pass, the output error and the backward pass of a sub-block run
  /// while its rows of X are still in cache, so X is streamed from memory once per evaluation; the
  /// sub-block partials accumulate in row order inside the block.
  template <class W1Type, class W2Type, class B1Type, class B2Type>
  void gemm_block(index_t b, index_t s, index_t e, const W1Type& W1, const W2Type& W2,
                  const B1Type& b1, const B2Type& b2) {
    const index_t d = d_, J = J_, K = K_;
    const index_t sub = std::clamp<index_t>((index_t{512} << 10) / (d * index_t(sizeof(T))), 16, 1024);
    T* g = partial_.row(b).data();
    Eigen::Map<RowMatrix<T>> gW1(g, d, J), gW2(g + d * J, J, K);
    Eigen::Map<Vec> gb1(g + d * J + J * K, J), gb2(g + d * J + J * K + J, K);
    T loss = 0;
    for (index_t q = s; q < e; q += sub) {
      const index_t m = std::min(sub, e - q);
      Eigen::Map<const RowMatrix<T>> Xq(X_ + q * d, m, d);
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
  }

  /// Block b (rows [s, e)) of an evaluation by the row kernel: writes the block's loss and its
  /// partial gradient (packing order) into block_loss_[b] and partial_.row(b).
  ///
  /// Everything but the two passes over X runs as plain loops over the chunk's rows: with J <= 2
  /// units the outputs, loss, deltas and the W2 / bias gradients of a row are a few dozen flops,
  /// and Eigen's dynamic-size products on 16-row chunks cost far more in dispatch than in
  /// arithmetic (on 228 × 30 data they were most of an evaluation's ~13 µs).
  template <class W2Type, class B1Type, class B2Type>
  void row_kernel_block(index_t b, index_t s, index_t e, const W2Type& W2, const B1Type& b1,
                        const B2Type& b2) {
    const index_t d = d_, J = J_, K = K_;
    T* g = partial_.row(b).data();
    T* gw2 = g + d * J;  // J × K, row-major
    T* gb1 = gw2 + J * K;
    T* gb2 = gb1 + J;
    T* gw1t = grad_t_.row(b).data();  // this block's W1 gradient, transposed (J × d)
    std::fill(gw1t, gw1t + J * d, T(0));
    std::fill(gw2, gb2 + K, T(0));
    const T* w1t = W1t_.data();
    const T* w2 = W2.data();  // J × K, row-major
    T loss = 0;
    for (index_t q = s; q < e; q += kChunkRows) {
      const index_t m = std::min(kChunkRows, e - q);
      T* Hq = H_.row(q).data();  // m × J, row-major, contiguous
      T* Dq = D_.row(q).data();  // m × J
      const T* Xq = X_ + q * d;
      for (index_t j = 0; j < J; ++j) detail::dot_many(Xq, m, d, w1t + j * d, d, Hq + j, J);
      loss += stages(q, m, Hq, E_.row(q).data(), Dq, w2, b1, b2, gw2, gb1, gb2);
      for (index_t j = 0; j < J; ++j) detail::axpy_many(Dq + j, J, Xq, m, d, gw1t + j * d, d);
    }
    Eigen::Map<RowMatrix<T>> gW1(g, d, J);
    for (index_t c = 0; c < d; ++c)
      for (index_t j = 0; j < J; ++j) gW1(c, j) = gw1t[j * d + c];
    block_loss_[b] = loss;
  }

  /// Block b (rows [s, e), s on a super-block) of an evaluation on AMX integer tiles
  /// (bind_codes): the same outputs as row_kernel_block. Per super-block of 256 rows, the
  /// forward products of each unit, their pre-activations and the squared-loss lane work of
  /// its 16-row chunks; then per unit the block's deltas as fixed-point bytes on one scale (the
  /// block's largest |δ|) and the backward products of all its rows, whose integer sums are
  /// converted to the W1 gradient once.
  template <class W2Type, class B1Type, class B2Type>
  void tile_block([[maybe_unused]] index_t b, [[maybe_unused]] index_t s,
                  [[maybe_unused]] index_t e, [[maybe_unused]] const W2Type& W2,
                  [[maybe_unused]] const B1Type& b1, [[maybe_unused]] const B2Type& b2) {
#if ORCHARD_GBNN_AMX
    using detail::kPieces;
    using detail::kSuperRows;
    using detail::kTileRows;
    const index_t d = d_, J = J_;
    const index_t rest = J * K_ + J + K_;
    const index_t rows = round_up(e - s, kTileRows), row_tiles = rows / kTileRows;
    T* acc_w2 = grad_t_.row(b).data();
    T* acc_loss = acc_w2 + rest * kChunkRows;
    T* z = acc_loss + kChunkRows;  // a super-block's: chunk c, unit j, lane l at (c·J + j)·16 + l
    T* dt = z + J * kSuperRows;    // the block's, the same layout
    T* gw = dt + J * block_;       // the block's W1 gradient, unit by unit (J × d)
    std::fill(acc_w2, acc_loss + kChunkRows, T(0));
    const index_t ct = quad_.column_tiles();
    std::int32_t* G = gsums_.data() + b * 2 * ct * kPieces * 16;
    std::int8_t* A = apieces_.data() + b * (block_ / kTileRows) * kPieces * kTileRows;
    detail::ThreadWeightTiles& wt = thread_tiles_[static_cast<std::size_t>(thread_index())];
    wt.build(eval_id_, w1t_, d, J);
    alignas(64) double v[16];
    alignas(64) T zrow[kSuperRows];
    for (index_t q0 = s; q0 < e; q0 += kSuperRows) {
      for (index_t j = 0; j < J; ++j) {
        detail::tile_forward(quad_, q0, wt.bytes.data() + j * ct * 1024, wt.scale[j] * code_scale_, zrow);
        for (index_t c = 0; c < kSuperRows / kChunkRows; ++c)
          std::copy(zrow + c * kChunkRows, zrow + (c + 1) * kChunkRows, z + (c * J + j) * kChunkRows);
      }
      for (index_t c = 0; c < kSuperRows / kChunkRows; ++c) {
        const index_t q = q0 + c * kChunkRows;
        if (q >= s + rows) break;
        T* dc = dt + (q - s) * J;
        if (q < e)
          squared_lanes(q, std::min(kChunkRows, e - q), z + c * J * kChunkRows, dc, W2, b1, b2, acc_w2);
        else
          std::fill(dc, dc + J * kChunkRows, T(0));
      }
    }
    for (index_t j = 0; j < J; ++j) {
      T* gj = gw + j * d;
      using L = Eigen::Array<T, kChunkRows, 1>;
      L lane_max = L::Zero();  // per lane: a scalar max is a chain of dependent instructions
      for (index_t c = 0; c < rows / kChunkRows; ++c)
        lane_max = lane_max.max(Eigen::Map<const L>(dt + (c * J + j) * kChunkRows).abs());
      const T mx = lane_max.maxCoeff();
      if (mx == T(0)) {  // no delta: no gradient
        std::fill(gj, gj + d, T(0));
        continue;
      }
      // δ·127/mx in [−127, 127] as pieces: in float every step after the multiply is exact
      const T inv = T(127) / mx;
      alignas(64) T rest_of[kTileRows];
      for (index_t u = 0; u < row_tiles; ++u) {  // row 64u + i: byte i of A's tile u, row p
        for (index_t c = 0; c < kTileRows / kChunkRows; ++c) {
          const T* dc = dt + ((u * kTileRows / kChunkRows + c) * J + j) * kChunkRows;
          for (index_t l = 0; l < kChunkRows; ++l) rest_of[c * kChunkRows + l] = dc[l] * inv;
        }
        for (int p = 0; p < kPieces; ++p)
          detail::next_piece(rest_of, kTileRows, A + (u * kPieces + p) * kTileRows);
      }
      detail::amx_backward(quad_.rows_at(s), ct, row_tiles, A, G);
      const double scale = code_scale_ / static_cast<double>(inv);  // the pieces are δ·inv
      for (index_t t = 0; t < ct; ++t) {
        const std::int32_t* Ga = G + t * kPieces * 16;
        const std::int32_t* Gb = G + (ct + t) * kPieces * 16;
        for (index_t k = 0; k < 16; ++k)
          v[k] = static_cast<double>(Ga[(kPieces - 1) * 16 + k] + Gb[(kPieces - 1) * 16 + k]);
        for (int p = kPieces - 2; p >= 0; --p)
          for (index_t k = 0; k < 16; ++k)
            v[k] = v[k] * (1.0 / 128) + static_cast<double>(Ga[p * 16 + k] + Gb[p * 16 + k]);
        const index_t c0 = t * 16, nc = std::min<index_t>(16, d - c0);
        for (index_t k = 0; k < nc; ++k) gj[c0 + k] = static_cast<T>(scale * v[k]);
      }
    }
    T* g = partial_.row(b).data();
    for (index_t c = 0; c < d; ++c)
      for (index_t j = 0; j < J; ++j) g[c * J + j] = gw[j * d + c];
    T loss = 0;
    detail::reduce_lanes(acc_w2, rest, g + d * J, 1);
    detail::reduce_lanes(acc_loss, 1, &loss, 1);
    block_loss_[b] = T(0.5) * loss;
#endif
  }

  /// Block b (rows [s, e), whole chunks) of an evaluation by the lane kernel: the same outputs
  /// as row_kernel_block, from the chunked column-by-column copy Xt_ of X. Every partial sum is
  /// kept per lane (row i of the block in lane i mod 16, chunks in row order) and the lanes are
  /// reduced once per block; with the squared loss (every GBNN step) the work between the two
  /// passes runs on the 16 lanes too, so no scalar sum serialises the rows.
  template <class W2Type, class B1Type, class B2Type>
  void lane_kernel_block(index_t b, index_t s, index_t e, const W2Type& W2, const B1Type& b1,
                         const B2Type& b2) {
    const index_t d = d_, J = J_;
    const index_t rest = J * K_ + J + K_;  // W2, b1, b2 gradients, after W1 in the packing order
    T* g = partial_.row(b).data();
    T* acc = grad_t_.row(b).data();  // lanes: W1 gradient (J × d, per unit), W2, b1, b2, loss
    T* acc_w2 = acc + J * d * kChunkRows;
    T* acc_loss = acc_w2 + rest * kChunkRows;
    // the deltas of a sub-block's chunks (chunk t, unit j at (t·J + j)·16), for its W1 gradient
    T* deltas = acc_loss + kChunkRows;
    std::fill(acc, acc_loss + kChunkRows, T(0));
    std::fill(g + d * J, g + d * J + rest, T(0));
    const index_t sub =
        std::clamp<index_t>((index_t{256} << 10) / (kChunkRows * d * index_t(sizeof(T))), 1,
                            kSubChunks) * kChunkRows;
    T loss = 0;
    for (index_t q0 = s; q0 < e; q0 += sub) {
      const index_t q1 = std::min(e, q0 + sub);
      for (index_t q = q0; q < q1; q += kChunkRows)
        loss += lane_chunk(q, std::min(kChunkRows, e - q),
                           deltas + (q - q0) / kChunkRows * J * kChunkRows, W2, b1, b2, g + d * J,
                           acc_w2);
      for (index_t j = 0; j < J; ++j)
        detail::axpy_lanes(deltas + j * kChunkRows, J * kChunkRows, Xt_.data() + q0 * d,
                           (q1 - q0) / kChunkRows + ((q1 - q0) % kChunkRows != 0), d,
                           acc + j * d * kChunkRows);
    }
    for (index_t j = 0; j < J; ++j) detail::reduce_lanes(acc + j * d * kChunkRows, d, g + j, J);
    if (loss_ == OutputLoss::squared) {
      detail::reduce_lanes(acc_w2, rest, g + d * J, 1);
      detail::reduce_lanes(acc_loss, 1, &loss, 1);
      loss *= T(0.5);
    }
    block_loss_[b] = loss;
  }

  /// The lane kernel's forward pass and output error for the chunk of m rows at q: writes its
  /// deltas (J × 16 lanes, zero in padding lanes) to dt and adds its W2 / bias gradients and loss,
  /// per lane from acc_w2 on (squared loss; the returned loss is then 0) or row by row into
  /// g_rest (other losses; returns the chunk's loss).
  template <class W2Type, class B1Type, class B2Type>
  T lane_chunk(index_t q, index_t m, T* dt, const W2Type& W2, const B1Type& b1, const B2Type& b2,
               T* g_rest, T* acc_w2) {
    const index_t d = d_, J = J_, K = K_;
    const T* xt = Xt_.data() + q * d;
    const T* w1t = W1t_.data();
    const T* w2 = W2.data();
    alignas(64) T buf[kChunkRows];
    if (loss_ != OutputLoss::squared) {  // logistic / softmax outputs (the MLP baseline): by row
      T* Hq = H_.row(q).data();
      T* Dq = D_.row(q).data();
      for (index_t j = 0; j < J; ++j) {
        detail::dot_lanes(xt, w1t + j * d, d, buf);
        for (index_t i = 0; i < m; ++i) Hq[i * J + j] = buf[i];
      }
      const T loss =
          stages(q, m, Hq, E_.row(q).data(), Dq, w2, b1, b2, g_rest, g_rest + J * K, g_rest + J * K + J);
      for (index_t j = 0; j < J; ++j)
        for (index_t i = 0; i < kChunkRows; ++i) dt[j * kChunkRows + i] = i < m ? Dq[i * J + j] : T(0);
      return loss;
    }
    alignas(64) T z[kLaneUnits * kChunkRows];
    for (index_t j = 0; j < J; ++j) detail::dot_lanes(xt, w1t + j * d, d, z + j * kChunkRows);
    squared_lanes(q, m, z, dt, W2, b1, b2, acc_w2);
    return 0;
  }

  /// The squared-loss work between the two passes over X for the chunk of m rows at q, on the
  /// 16 lanes: from the pre-activations z (J × 16 lanes) to the deltas dt (J × 16 lanes, zero in
  /// padding lanes), adding the W2 / bias gradients and the loss per lane from acc_w2 on.
  template <class W2Type, class B1Type, class B2Type>
  void squared_lanes(index_t q, index_t m, const T* z, T* dt, const W2Type& W2, const B1Type& b1,
                     const B2Type& b2, T* acc_w2) const {
    if (J_ == 1) squared_lanes_units<1>(q, m, z, dt, W2, b1, b2, acc_w2);
    else squared_lanes_units<0>(q, m, z, dt, W2, b1, b2, acc_w2);
  }

  /// squared_lanes with J a compile-time constant where it is 1 (JJ = 0: J_), so that h, the
  /// deltas and the loss lanes stay in registers across the outputs; the sums are added in the
  /// same order either way.
  // GCC 12 warns that its AVX-512 intrinsics (in Eigen's exp, inlined here with J = 1) read an
  // uninitialised "__Y" (GCC bug 105593, fixed in 12.3)
#pragma GCC diagnostic push
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
  template <int JJ, class W2Type, class B1Type, class B2Type>
  void squared_lanes_units(index_t q, index_t m, const T* z, T* dt, const W2Type& W2,
                           const B1Type& b1, const B2Type& b2, T* acc_w2) const {
    using L = Eigen::Array<T, kChunkRows, 1>;
    const index_t J = JJ > 0 ? JJ : J_, K = K_;
    const T* w2 = W2.data();
    const T* tl = Tl_.data() + q * K;  // this chunk's targets, output k in lanes k·16 …
    auto lane = [](T* p) { return Eigen::Map<L>(p); };
    T* acc_b1 = acc_w2 + J * K * kChunkRows;
    T* acc_b2 = acc_b1 + J * kChunkRows;
    L loss = lane(acc_b2 + K * kChunkRows);
    const L row_lane = L::LinSpaced(kChunkRows, T(0), T(kChunkRows - 1));
    L h[kLaneUnits], delta[kLaneUnits];
    for (index_t j = 0; j < J; ++j) {
      h[j] = T(1) / (T(1) + (-(Eigen::Map<const L>(z + j * kChunkRows) + b1[j])).exp());
      delta[j].setZero();
    }
    for (index_t k = 0; k < K; ++k) {
      // b2 + h_0·w2 as one expression: a separate constant array was built with 256-bit
      // stores and read back with one 512-bit load, a store-forwarding stall on every output
      L o = h[0] * w2[k] + b2[k];
      for (index_t j = 1; j < J; ++j) o += h[j] * w2[j * K + k];
      L err = o - Eigen::Map<const L>(tl + k * kChunkRows);
      if (m < kChunkRows) err = (row_lane < T(m)).select(err, T(0));  // padding lanes: no error
      loss += err * err;
      lane(acc_b2 + k * kChunkRows) += err;
      for (index_t j = 0; j < J; ++j) {
        lane(acc_w2 + (j * K + k) * kChunkRows) += h[j] * err;
        delta[j] += err * w2[j * K + k];
      }
    }
    lane(acc_b2 + K * kChunkRows) = loss;
    for (index_t j = 0; j < J; ++j) {
      delta[j] *= h[j] * (T(1) - h[j]);
      lane(acc_b1 + j * kChunkRows) += delta[j];
      lane(dt + j * kChunkRows) = delta[j];
    }
  }
#pragma GCC diagnostic pop

  /// chunk_stages with J and K as compile-time constants where they are 1.
  template <class B1Type, class B2Type>
  T stages(index_t q, index_t m, T* Hq, T* Eq, T* Dq, const T* w2, const B1Type& b1,
           const B2Type& b2, T* gw2, T* gb1, T* gb2) const {
    if (J_ == 1 && K_ == 1) return chunk_stages<1, 1>(q, m, Hq, Eq, Dq, w2, b1, b2, gw2, gb1, gb2);
    if (J_ == 1) return chunk_stages<1, 0>(q, m, Hq, Eq, Dq, w2, b1, b2, gw2, gb1, gb2);
    if (K_ == 1) return chunk_stages<0, 1>(q, m, Hq, Eq, Dq, w2, b1, b2, gw2, gb1, gb2);
    return chunk_stages<0, 0>(q, m, Hq, Eq, Dq, w2, b1, b2, gw2, gb1, gb2);
  }

  /// The row kernel's work between its two passes over X, for the chunk's m rows with their
  /// pre-activations in Hq (m × J): hidden activations, outputs Eq (m × K) replaced by d loss /
  /// d out, deltas Dq (m × J), and the W2 / bias gradients added in row order; returns the
  /// chunk's loss. Stage by stage over the rows (so one row's exp and divide overlap the next
  /// row's), with J and K compile-time constants when they are 1 (JJ / KK = 0: J_ / K_).
  template <int JJ, int KK, class B1Type, class B2Type>
  T chunk_stages(index_t q, index_t m, T* Hq, T* Eq, T* Dq, const T* w2, const B1Type& b1,
                 const B2Type& b2, T* gw2, T* gb1, T* gb2) const {
    const index_t J = JJ > 0 ? JJ : J_, K = KK > 0 ? KK : K_;
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j < J; ++j)
        Hq[i * J + j] = sigmoid(static_cast<T>(Hq[i * J + j] + b1[j]));
    for (index_t i = 0; i < m; ++i)
      for (index_t k = 0; k < K; ++k) {
        T o = b2[k];
        for (index_t j = 0; j < J; ++j) o += Hq[i * J + j] * w2[j * K + k];
        Eq[i * K + k] = o;
      }
    const T loss = output_loss(Eq, q, m);
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j < J; ++j) {
        T a = 0;
        for (index_t k = 0; k < K; ++k) a += Eq[i * K + k] * w2[j * K + k];
        const T h = Hq[i * J + j];
        Dq[i * J + j] = a * h * (T(1) - h);
      }
    for (index_t i = 0; i < m; ++i) {
      for (index_t j = 0; j < J; ++j) {
        gb1[j] += Dq[i * J + j];
        for (index_t k = 0; k < K; ++k) gw2[j * K + k] += Hq[i * J + j] * Eq[i * K + k];
      }
      for (index_t k = 0; k < K; ++k) gb2[k] += Eq[i * K + k];
    }
    return loss;
  }

  /// One row's outputs `out` (K values) of row i: replaced by d loss / d out; returns its loss.
  T row_loss(T* out, index_t i) const {
    const index_t K = K_;
    switch (loss_) {
      case OutputLoss::squared: {
        const T* r = targets_ + i * K;
        T l = 0;
        for (index_t k = 0; k < K; ++k) {
          out[k] -= r[k];
          l += out[k] * out[k];
        }
        return T(0.5) * l;
      }
      case OutputLoss::logistic: {
        const T y = targets_[i];
        const T yz = y * out[0];
        out[0] = -y * sigmoid(-yz);
        return log1pexp(-yz);
      }
      case OutputLoss::softmax: {
        const auto c = static_cast<index_t>(targets_[i]);
        T mx = out[0];
        for (index_t k = 1; k < K; ++k) mx = std::max(mx, out[k]);
        T sum = 0;
        for (index_t k = 0; k < K; ++k) sum += std::exp(out[k] - mx);
        const T lse = mx + std::log(sum);
        const T l = lse - out[c];
        for (index_t k = 0; k < K; ++k) out[k] = std::exp(out[k] - lse);
        out[c] -= T(1);
        return l;
      }
    }
    return 0;
  }

  /// Rows [q, q + m) with their hidden activations in H_: outputs into E_, replaced by
  /// d loss / d out, and the hidden units' deltas into D_; returns the rows' summed loss.
  template <class W2Type, class B2Type>
  T output_and_delta(index_t q, index_t m, const W2Type& W2, const B2Type& b2) {
    auto Hq = H_.middleRows(q, m);
    auto Eq = E_.middleRows(q, m);
    Eq.noalias() = Hq * W2;
    Eq.rowwise() += b2.transpose();
    const T loss = output_loss(&Eq(0, 0), q, m);
    auto Dq = D_.middleRows(q, m);
    Dq.noalias() = Eq * W2.transpose();
    Dq.array() *= Hq.array() * (T(1) - Hq.array());
    return loss;
  }

  // Replaces the outputs of rows [q, q + m) (Eq: m × K, row-major, those rows of E_) by
  // d loss / d out and returns the rows' summed loss, one row at a time in row order.
  T output_loss(T* Eq, index_t q, index_t m) const {
    T loss = 0;
    for (index_t i = 0; i < m; ++i) loss += row_loss(Eq + i * K_, q + i);
    return loss;
  }

  index_t d_ = 0, J_ = 0, K_ = 0, n_ = 0, block_ = 128;
  OutputLoss loss_ = OutputLoss::squared;
  T alpha_ = 0;
  const T* X_ = nullptr;
  const T* targets_ = nullptr;
  const Context* ctx_ = nullptr;
  RowMatrix<T> H_, E_, D_, partial_, grad_t_;
  Vec block_loss_, W1t_, Xt_;
  // squared-loss targets of the lane paths in 16-row chunks, output by output (chunk c, output
  // k, lane l at (c·K + k)·16 + l), so the output error runs on the lanes
  Vec Tl_;
  // the AMX path (bind_codes): the bound rows' codes, their scale, the evaluation's unit
  // weights (unit by unit) and number, each thread's weight tiles, and each block's backward sums
  bool tiles_ = false;
  detail::QuadCodes quad_;
  double code_scale_ = 1;
  const T* w1t_ = nullptr;
  std::uint64_t eval_id_ = 0;
  std::vector<detail::ThreadWeightTiles> thread_tiles_;  // one per thread of the Context
  std::vector<std::int32_t> gsums_;
  std::vector<std::int8_t> apieces_;
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
