#pragma once
// GPU path of the network objective (J logistic hidden units, K linear outputs; squared, logistic
// or softmax loss): the batched forward and backward pass as cuBLAS GEMMs plus small element-wise
// kernels. Same packing, value and gradient as orchard::gbnn::NetObjective, so it drives the same
// L-BFGS (GBNN's per-step fits, the MLP baseline) and the MLP's Adam minibatches. Registered by
// <orchard/gbnn/cuda.hpp>; used when the Context's device is Device::cuda.
#ifndef __CUDACC__
#error "orchard/gbnn/cuda/*.cuh must be compiled by nvcc"
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <vector>

#include "../../core/cuda/device.cuh"
#include "../../core/error.hpp"
#include "../objective.hpp"

namespace orchard::gbnn::cuda {

namespace detail {

inline void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw DeviceError(std::string("orchard gbnn cuda: ") + what + " failed (cuBLAS status " +
                      std::to_string(static_cast<int>(s)) + ")");
}

inline cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t a, cublasOperation_t b, int m,
                           int n, int k, const double* alpha, const double* A, int lda,
                           const double* B, int ldb, const double* beta, double* C, int ldc) {
  return cublasDgemm(h, a, b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t a, cublasOperation_t b, int m,
                           int n, int k, const float* alpha, const float* A, int lda,
                           const float* B, int ldb, const float* beta, float* C, int ldc) {
  return cublasSgemm(h, a, b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline cublasStatus_t gemv(cublasHandle_t h, cublasOperation_t t, int m, int n,
                           const double* alpha, const double* A, int lda, const double* x,
                           const double* beta, double* y) {
  return cublasDgemv(h, t, m, n, alpha, A, lda, x, 1, beta, y, 1);
}
inline cublasStatus_t gemv(cublasHandle_t h, cublasOperation_t t, int m, int n, const float* alpha,
                           const float* A, int lda, const float* x, const float* beta, float* y) {
  return cublasSgemv(h, t, m, n, alpha, A, lda, x, 1, beta, y, 1);
}
inline cublasStatus_t dot(cublasHandle_t h, int n, const double* x, const double* y, double* r) {
  return cublasDdot(h, n, x, 1, y, 1, r);
}
inline cublasStatus_t dot(cublasHandle_t h, int n, const float* x, const float* y, float* r) {
  return cublasSdot(h, n, x, 1, y, 1, r);
}

// Zt (J × n, column-major) += b1, then the logistic function.
template <class T>
__global__ void bias_sigmoid(T* Z, const T* b1, int J, long total) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i < total) Z[i] = T(1) / (T(1) + exp(-(Z[i] + b1[i % J])));
}

// ln(1 + e^x) without overflow.
template <class T>
__device__ T log1pexp_dev(T x) {
  return x > T(0) ? x + log1p(exp(-x)) : log1p(exp(x));
}

// Output column i of Et (K × n, column-major: row i of the n × K outputs) gets + b2; then the
// loss of row i goes to row_loss[i] and the column is replaced by d loss / d out.
// kind 0: squared ½Σ(out − r)², targets n × K row-major; 1: logistic ln(1 + e^{−y·out}),
// targets y ∈ {−1, +1}; 2: softmax cross-entropy, targets class indices.
template <class T>
__global__ void output_loss(T* E, const T* b2, const T* targets, int K, long n, int kind,
                            T* row_loss) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  T* e = E + i * K;
  for (int k = 0; k < K; ++k) e[k] += b2[k];
  T loss = 0;
  if (kind == 0) {
    const T* r = targets + i * K;
    for (int k = 0; k < K; ++k) {
      e[k] -= r[k];
      loss += e[k] * e[k];
    }
    loss *= T(0.5);
  } else if (kind == 1) {
    const T y = targets[i];
    const T yz = y * e[0];
    loss = log1pexp_dev(-yz);
    e[0] = -y / (T(1) + exp(yz));  // −y·σ(−yz)
  } else {
    const int c = static_cast<int>(targets[i]);
    T mx = e[0];
    for (int k = 1; k < K; ++k) mx = e[k] > mx ? e[k] : mx;
    T sum = 0;
    for (int k = 0; k < K; ++k) sum += exp(e[k] - mx);
    const T lse = mx + log(sum);
    loss = lse - e[c];
    for (int k = 0; k < K; ++k) e[k] = exp(e[k] - lse);
    e[c] -= T(1);
  }
  row_loss[i] = loss;
}

// Dt *= H (1 − H).
template <class T>
__global__ void sigmoid_backward(T* D, const T* H, long total) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i < total) D[i] *= H[i] * (T(1) - H[i]);
}

inline unsigned grid_for(long total) { return static_cast<unsigned>((total + 255) / 256); }

}  // namespace detail

/// The network objective on one GPU, sized for up to max_rows rows at construction (evaluations
/// allocate nothing). bind() copies X (n × d row-major) and the targets to the device; each
/// evaluation copies the parameters in and the gradient out.
template <class T>
class NetObjective final : public gbnn::Objective<T> {
 public:
  using Vec = Vector<T>;

  NetObjective(int device, index_t max_rows, index_t d, index_t J, index_t K, OutputLoss loss,
               T alpha)
      : device_(select(device)), cap_(checked_rows(max_rows)), d_(d), J_(J), K_(K),
        tcols_(loss == OutputLoss::squared ? K : 1), loss_(loss), alpha_(alpha),
        X_(sz(cap_ * d_)), R_(sz(cap_ * tcols_)), H_(sz(cap_ * J_)), E_(sz(cap_ * K_)),
        D_(sz(cap_ * J_)), rows_(sz(cap_)), ones_(std::vector<T>(sz(cap_), T(1)).data(), sz(cap_)),
        w_(sz(n_params())), g_(sz(n_params())) {
    detail::check(cublasCreate(&handle_), "cublasCreate");
  }
  ~NetObjective() override {
    if (handle_ != nullptr) cublasDestroy(handle_);
  }
  NetObjective(const NetObjective&) = delete;
  NetObjective& operator=(const NetObjective&) = delete;

  index_t n_params() const override { return d_ * J_ + J_ * K_ + J_ + K_; }

  /// Copies the rows the next evaluations use to the device.
  void bind(const T* X, const T* targets, index_t n, const Context&) override {
    require(n > 0 && n <= cap_, "rows", n, "must lie in [1, configured rows]");
    gpu::check(cudaSetDevice(device_), "cudaSetDevice");
    n_ = n;
    X_.upload(X, static_cast<std::size_t>(n * d_));
    R_.upload(targets, static_cast<std::size_t>(n * tcols_));
  }

  /// Objective value (mean loss + α/(2n)‖W‖²); writes the gradient.
  T operator()(const Vec& w, Vec& grad) override {
    const int d = static_cast<int>(d_), J = static_cast<int>(J_), K = static_cast<int>(K_),
              n = static_cast<int>(n_);
    const index_t P = n_params();
    w_.upload(w.data(), static_cast<std::size_t>(P));
    const T* W1 = w_.get();           // row-major d × J = column-major J × d (ld J)
    const T* W2 = W1 + d_ * J_;       // row-major J × K = column-major K × J (ld K)
    const T* b1 = W2 + J_ * K_;
    const T* b2 = b1 + J_;
    T* gW1 = g_.get();
    T* gW2 = gW1 + d_ * J_;
    T* gb1 = gW2 + J_ * K_;
    T* gb2 = gb1 + J_;
    T *X = X_.get(), *H = H_.get(), *E = E_.get(), *D = D_.get(), *ones = ones_.get();
    const T one = 1, zero = 0;
    const auto N = CUBLAS_OP_N, Tr = CUBLAS_OP_T;
    detail::check(cublasSetPointerMode(handle_, CUBLAS_POINTER_MODE_HOST), "pointer mode");
    // forward: Ht = σ(W1ᵀ Xᵀ + b1), Et = W2ᵀ Ht + b2, then loss and d loss / d out in place
    detail::check(detail::gemm(handle_, N, N, J, n, d, &one, W1, J, X, d, &zero, H, J), "gemm Z");
    detail::bias_sigmoid<<<detail::grid_for(n_ * J_), 256>>>(H, b1, J, n_ * J_);
    detail::check(detail::gemm(handle_, N, N, K, n, J, &one, W2, K, H, J, &zero, E, K), "gemm P");
    const int kind = loss_ == OutputLoss::squared ? 0 : loss_ == OutputLoss::logistic ? 1 : 2;
    detail::output_loss<<<detail::grid_for(n_), 256>>>(E, b2, R_.get(), K, n_, kind, rows_.get());
    gpu::check(cudaGetLastError(), "kernel launch");
    T sum = 0;
    detail::check(detail::dot(handle_, n, rows_.get(), ones, &sum), "dot");
    // backward
    detail::check(detail::gemm(handle_, N, Tr, K, J, n, &one, E, K, H, J, &zero, gW2, K),
                  "gemm gW2");
    detail::check(detail::gemv(handle_, N, K, n, &one, E, K, ones, &zero, gb2), "gemv gb2");
    detail::check(detail::gemm(handle_, Tr, N, J, n, K, &one, W2, K, E, K, &zero, D, J), "gemm D");
    detail::sigmoid_backward<<<detail::grid_for(n_ * J_), 256>>>(D, H, n_ * J_);
    detail::check(detail::gemm(handle_, N, Tr, J, d, n, &one, D, J, X, d, &zero, gW1, J),
                  "gemm gW1");
    detail::check(detail::gemv(handle_, N, J, n, &one, D, J, ones, &zero, gb1), "gemv gb1");
    grad.resize(P);
    g_.download(grad.data(), static_cast<std::size_t>(P));
    const T inv = T(1) / static_cast<T>(n_);
    const index_t nw = d_ * J_ + J_ * K_;
    grad *= inv;
    grad.head(nw) += (alpha_ * inv) * w.head(nw);
    return sum * inv + T(0.5) * alpha_ * inv * w.head(nw).squaredNorm();
  }

 private:
  static int select(int device) {
    gpu::check(cudaSetDevice(device), "cudaSetDevice");
    return device;
  }
  static index_t checked_rows(index_t rows) {
    require(rows > 0, "rows", rows, "must be > 0");
    return rows;
  }
  static std::size_t sz(index_t v) { return static_cast<std::size_t>(v); }

  int device_;
  index_t cap_, d_, J_, K_, tcols_, n_ = 0;
  OutputLoss loss_;
  T alpha_;
  gpu::Buffer<T> X_, R_, H_, E_, D_, rows_, ones_, w_, g_;
  cublasHandle_t handle_ = nullptr;
};

}  // namespace orchard::gbnn::cuda
