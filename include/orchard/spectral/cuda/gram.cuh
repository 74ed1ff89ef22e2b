#pragma once
// CUDA kernels and library calls of the spectral family: the float64 Gram G = ZᵀZ and column sums
// accumulated over row blocks by cuBLAS (syrk, gemv), eigenvalues by cuSOLVER (syevd).
// Kernels take raw pointers only.
#ifndef __CUDACC__
#error "orchard/spectral/cuda/gram.cuh must be compiled with nvcc"
#endif
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../../core/cuda/device.cuh"
#include "../../core/error.hpp"

namespace orchard::spectral::cuda_detail {

using gpu::check;

inline void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) {
    throw DeviceError(std::string("orchard spectral cuBLAS: ") + what + ": status " +
                      std::to_string(static_cast<int>(s)));
  }
}
inline void check(cusolverStatus_t s, const char* what) {
  if (s != CUSOLVER_STATUS_SUCCESS) {
    throw DeviceError(std::string("orchard spectral cuSOLVER: ") + what + ": status " +
                      std::to_string(static_cast<int>(s)));
  }
}

struct Handles {
  cublasHandle_t blas = nullptr;
  cusolverDnHandle_t solver = nullptr;
  Handles() {
    check(cublasCreate(&blas), "cublasCreate");
    check(cusolverDnCreate(&solver), "cusolverDnCreate");
  }
  ~Handles() {
    if (solver != nullptr) cusolverDnDestroy(solver);
    if (blas != nullptr) cublasDestroy(blas);
  }
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;
};

/// out[i·cols + j] = (double) in[i·cols + j] for a contiguous row-major block; the flat index of
/// the first non-finite entry goes to *first_bad (atomicMin; left alone when all are finite).
template <class T>
__global__ void to_double_checked(const T* in, std::int64_t count, double* out,
                                  unsigned long long* first_bad) {
  const std::int64_t stride = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < count; i += stride) {
    const double v = static_cast<double>(in[i]);
    if (!isfinite(v)) atomicMin(first_bad, static_cast<unsigned long long>(i));
    out[i] = v;
  }
}

__global__ static void fill_ones(double* p, std::int64_t n) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) p[i] = 1.0;
}

/// Accumulates the lower triangle of G (k × k, column-major, device) and the column sums of
/// `rows` contiguous row-major host rows of width k, streamed in blocks of `block_rows`.
/// Returns the flat index of the first non-finite entry, or -1.
template <class T>
std::int64_t accumulate_gram(Handles& h, const T* host, std::int64_t rows, std::int64_t k,
                             std::int64_t block_rows, double* d_gram, double* d_sums) {
  const std::int64_t chunk = rows < block_rows ? rows : block_rows;
  gpu::Buffer<T> d_in(static_cast<std::size_t>(chunk * k));
  gpu::Buffer<double> d_blk(static_cast<std::size_t>(chunk * k));
  gpu::Buffer<double> d_ones(static_cast<std::size_t>(chunk));
  gpu::Buffer<unsigned long long> d_bad(1);
  const unsigned long long none = ~0ull;
  check(cudaMemcpy(d_bad.get(), &none, sizeof(none), cudaMemcpyHostToDevice), "cudaMemcpy");
  fill_ones<<<static_cast<unsigned>((chunk + 255) / 256), 256>>>(d_ones.get(), chunk);
  check(cudaGetLastError(), "fill_ones");
  const double one = 1.0;
  std::int64_t bad = -1;
  for (std::int64_t b = 0; b < rows; b += chunk) {
    const std::int64_t r = rows - b < chunk ? rows - b : chunk;
    check(cudaMemcpy(d_in.get(), host + b * k, static_cast<std::size_t>(r * k) * sizeof(T),
                     cudaMemcpyHostToDevice),
          "cudaMemcpy rows");
    const std::int64_t count = r * k;
    const unsigned grid = static_cast<unsigned>((count + 255) / 256 < 4096 ? (count + 255) / 256 : 4096);
    to_double_checked<T><<<grid, 256>>>(d_in.get(), count, d_blk.get(), d_bad.get());
    check(cudaGetLastError(), "to_double_checked");
    unsigned long long first = none;
    check(cudaMemcpy(&first, d_bad.get(), sizeof(first), cudaMemcpyDeviceToHost), "cudaMemcpy flag");
    if (first != none) {
      bad = b * k + static_cast<std::int64_t>(first);
      break;
    }
    // The row-major r × k block is the column-major k × r matrix B; G += B Bᵀ, s += B 1.
    const int ki = static_cast<int>(k), ri = static_cast<int>(r);
    check(cublasDsyrk(h.blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, ki, ri, &one, d_blk.get(), ki,
                      &one, d_gram, ki),
          "cublasDsyrk");
    check(cublasDgemv(h.blas, CUBLAS_OP_N, ki, ri, &one, d_blk.get(), ki, d_ones.get(), 1, &one,
                      d_sums, 1),
          "cublasDgemv");
  }
  check(cudaDeviceSynchronize(), "gram");
  return bad;
}

/// Eigenvalues (ascending) of the symmetric k × k matrix whose lower triangle is in d_a (column-
/// major, overwritten).
inline std::vector<double> eigenvalues(Handles& h, double* d_a, std::int64_t k) {
  const int ki = static_cast<int>(k);
  gpu::Buffer<double> d_w(static_cast<std::size_t>(k));
  gpu::Buffer<int> d_info(1);
  int lwork = 0;
  check(cusolverDnDsyevd_bufferSize(h.solver, CUSOLVER_EIG_MODE_NOVECTOR, CUBLAS_FILL_MODE_LOWER,
                                    ki, d_a, ki, d_w.get(), &lwork),
        "cusolverDnDsyevd_bufferSize");
  gpu::Buffer<double> d_work(static_cast<std::size_t>(lwork > 0 ? lwork : 1));
  check(cusolverDnDsyevd(h.solver, CUSOLVER_EIG_MODE_NOVECTOR, CUBLAS_FILL_MODE_LOWER, ki, d_a, ki,
                         d_w.get(), d_work.get(), lwork, d_info.get()),
        "cusolverDnDsyevd");
  int info = 0;
  check(cudaMemcpy(&info, d_info.get(), sizeof(int), cudaMemcpyDeviceToHost), "cudaMemcpy info");
  if (info != 0) {
    throw DeviceError("orchard spectral cuSOLVER: syevd did not converge (info " +
                      std::to_string(info) + ")");
  }
  std::vector<double> w(static_cast<std::size_t>(k));
  check(cudaMemcpy(w.data(), d_w.get(), w.size() * sizeof(double), cudaMemcpyDeviceToHost),
        "cudaMemcpy eigenvalues");
  return w;
}

/// C = G − s sᵀ / n on the lower triangle (d_c holds a copy of G).
inline void centre(Handles& h, double* d_c, const double* d_sums, std::int64_t k, std::int64_t n) {
  const double alpha = -1.0 / static_cast<double>(n);
  check(cublasDsyr(h.blas, CUBLAS_FILL_MODE_LOWER, static_cast<int>(k), &alpha, d_sums, 1, d_c,
                   static_cast<int>(k)),
        "cublasDsyr");
}

}  // namespace orchard::spectral::cuda_detail
