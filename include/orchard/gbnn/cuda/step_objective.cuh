#pragma once
// GPU path of the GBNN per-step objective (squared loss on pseudo-residuals, J logistic hidden
// units, K linear outputs): the batched forward and backward pass as cuBLAS GEMMs plus three small
// element-wise kernels. Same packing and the same value/gradient as orchard::gbnn::NetObjective
// with OutputLoss::squared, so it can drive the same L-BFGS (operator()(w, grad)).
#ifndef __CUDACC__
#error "orchard/gbnn/cuda/*.cuh must be compiled by nvcc"
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <Eigen/Core>
#include <string>
#include <vector>

#include "../../core/error.hpp"

namespace orchard::gbnn::cuda {

namespace detail {

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw DeviceError(std::string("orchard gbnn cuda: ") + what + ": " +
                                          cudaGetErrorString(e));
}
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

// Et (K × n) = Pt + b2 − R, R row-major n × K (the same memory layout as column-major K × n).
template <class T>
__global__ void residual_error(T* P, const T* b2, const T* R, int K, long total) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i < total) P[i] = P[i] + b2[i % K] - R[i];
}

// Dt *= H (1 − H).
template <class T>
__global__ void sigmoid_backward(T* D, const T* H, long total) {
  const long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x;
  if (i < total) D[i] *= H[i] * (T(1) - H[i]);
}

inline unsigned grid_for(long total) { return static_cast<unsigned>((total + 255) / 256); }

}  // namespace detail

/// The per-step objective on one GPU. X (n × d row-major) and R (n × K row-major) are copied to
/// the device by bind(); each evaluation copies the parameters in and the gradient out.
template <class T>
class StepObjective {
 public:
  using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

  StepObjective(int device, long d, long J, long K, T alpha)
      : d_(d), J_(J), K_(K), alpha_(alpha) {
    detail::check(cudaSetDevice(device), "cudaSetDevice");
    detail::check(cublasCreate(&handle_), "cublasCreate");
  }
  ~StepObjective() {
    release();
    if (handle_ != nullptr) cublasDestroy(handle_);
  }
  StepObjective(const StepObjective&) = delete;
  StepObjective& operator=(const StepObjective&) = delete;

  long n_params() const { return d_ * J_ + J_ * K_ + J_ + K_; }

  /// Copies the rows the next evaluations use to the device (buffers grow, never shrink).
  void bind(const T* X, const T* R, long n) {
    if (n > cap_) {
      release();
      cap_ = n;
      alloc(&X_, n * d_);
      alloc(&R_, n * K_);
      alloc(&H_, n * J_);
      alloc(&E_, n * K_);
      alloc(&D_, n * J_);
      alloc(&ones_, n);
      alloc(&w_, n_params());
      alloc(&g_, n_params());
      std::vector<T> one(static_cast<std::size_t>(n), T(1));
      detail::check(cudaMemcpy(ones_, one.data(), sizeof(T) * n, cudaMemcpyHostToDevice), "copy");
    }
    n_ = n;
    detail::check(cudaMemcpy(X_, X, sizeof(T) * n * d_, cudaMemcpyHostToDevice), "copy X");
    detail::check(cudaMemcpy(R_, R, sizeof(T) * n * K_, cudaMemcpyHostToDevice), "copy R");
  }

  /// Objective value (½·mean squared error + α/(2n)‖W‖²); writes the gradient.
  T operator()(const Vec& w, Vec& grad) {
    const int d = static_cast<int>(d_), J = static_cast<int>(J_), K = static_cast<int>(K_),
              n = static_cast<int>(n_);
    const long P = n_params();
    detail::check(cudaMemcpy(w_, w.data(), sizeof(T) * P, cudaMemcpyHostToDevice), "copy w");
    const T* W1 = w_;                 // row-major d × J = column-major J × d (ld J)
    const T* W2 = w_ + d_ * J_;       // row-major J × K = column-major K × J (ld K)
    const T* b1 = W2 + J_ * K_;
    const T* b2 = b1 + J_;
    T* gW1 = g_;
    T* gW2 = g_ + d_ * J_;
    T* gb1 = gW2 + J_ * K_;
    T* gb2 = gb1 + J_;
    const T one = 1, zero = 0;
    const auto N = CUBLAS_OP_N, Tr = CUBLAS_OP_T;
    // forward: Ht = σ(W1ᵀ Xᵀ + b1), Et = W2ᵀ Ht + b2 − Rᵀ
    detail::check(detail::gemm(handle_, N, N, J, n, d, &one, W1, J, X_, d, &zero, H_, J), "gemm Z");
    detail::bias_sigmoid<<<detail::grid_for(n_ * J_), 256>>>(H_, b1, J, n_ * J_);
    detail::check(detail::gemm(handle_, N, N, K, n, J, &one, W2, K, H_, J, &zero, E_, K), "gemm P");
    detail::residual_error<<<detail::grid_for(n_ * K_), 256>>>(E_, b2, R_, K, n_ * K_);
    detail::check(cudaGetLastError(), "kernel launch");
    T sse = 0;
    detail::check(cublasSetPointerMode(handle_, CUBLAS_POINTER_MODE_HOST), "pointer mode");
    detail::check(detail::dot(handle_, static_cast<int>(n_ * K_), E_, E_, &sse), "dot");
    // backward
    detail::check(detail::gemm(handle_, N, Tr, K, J, n, &one, E_, K, H_, J, &zero, gW2, K),
                  "gemm gW2");
    detail::check(detail::gemv(handle_, N, K, n, &one, E_, K, ones_, &zero, gb2), "gemv gb2");
    detail::check(detail::gemm(handle_, Tr, N, J, n, K, &one, W2, K, E_, K, &zero, D_, J), "gemm D");
    detail::sigmoid_backward<<<detail::grid_for(n_ * J_), 256>>>(D_, H_, n_ * J_);
    detail::check(detail::gemm(handle_, N, Tr, J, d, n, &one, D_, J, X_, d, &zero, gW1, J),
                  "gemm gW1");
    detail::check(detail::gemv(handle_, N, J, n, &one, D_, J, ones_, &zero, gb1), "gemv gb1");
    grad.resize(P);
    detail::check(cudaMemcpy(grad.data(), g_, sizeof(T) * P, cudaMemcpyDeviceToHost), "copy grad");
    const T inv = T(1) / static_cast<T>(n_);
    const long nw = d_ * J_ + J_ * K_;
    grad *= inv;
    grad.head(nw) += (alpha_ * inv) * w.head(nw);
    return T(0.5) * sse * inv + T(0.5) * alpha_ * inv * w.head(nw).squaredNorm();
  }

 private:
  template <class P>
  void alloc(P** p, long count) {
    detail::check(cudaMalloc(reinterpret_cast<void**>(p), sizeof(T) * (count > 0 ? count : 1)),
                  "cudaMalloc");
  }
  void release() {
    for (T** p : {&X_, &R_, &H_, &E_, &D_, &ones_, &w_, &g_}) {
      if (*p != nullptr) cudaFree(*p);
      *p = nullptr;
    }
    cap_ = 0;
  }

  long d_, J_, K_, n_ = 0, cap_ = 0;
  T alpha_;
  cublasHandle_t handle_ = nullptr;
  T *X_ = nullptr, *R_ = nullptr, *H_ = nullptr, *E_ = nullptr, *D_ = nullptr, *ones_ = nullptr,
    *w_ = nullptr, *g_ = nullptr;
};

}  // namespace orchard::gbnn::cuda
