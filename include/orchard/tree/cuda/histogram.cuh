#pragma once
#ifndef __CUDACC__
#error "orchard/tree/cuda/histogram.cuh needs nvcc (include it from a .cu file)"
#endif
// GPU histogram build for the (g, h) statistic. Gradients are quantised to 64-bit fixed point
// (scale chosen on the host so no sum can overflow), so the shared-memory and global atomics add
// integers: the result is the same for every launch and thread order (integer addition is
// associative), then converted back to doubles in a fixed order.
#include <cstdint>

namespace orchard::tree::cuda {

/// One block per (feature, row chunk): shared-memory bins, then one global atomic per bin.
/// hist_q: per (feature, bin) 3 integers (g, h, count); codes feature-major (n rows per feature).
template <class Code>
__global__ void histogram_kernel(const Code* __restrict__ codes, std::int64_t n,
                                 const std::uint32_t* __restrict__ rows, std::int64_t m,
                                 const float* __restrict__ gh, double scale,
                                 const std::int64_t* __restrict__ feature_offset, int max_bins,
                                 unsigned long long* __restrict__ hist_q) {
  extern __shared__ unsigned long long sh[];  // max_bins * 3
  const int f = blockIdx.y;
  const std::int64_t off = feature_offset[f];
  const int nb = static_cast<int>(feature_offset[f + 1] - off);
  for (int i = threadIdx.x; i < nb * 3; i += blockDim.x) sh[i] = 0ull;
  __syncthreads();
  const Code* col = codes + static_cast<std::int64_t>(f) * n;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < m;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t r = rows != nullptr ? rows[i] : i;
    const int b = col[r];
    const long long g = __double2ll_rn(static_cast<double>(gh[2 * r]) * scale);
    const long long h = __double2ll_rn(static_cast<double>(gh[2 * r + 1]) * scale);
    atomicAdd(&sh[3 * b], static_cast<unsigned long long>(g));
    atomicAdd(&sh[3 * b + 1], static_cast<unsigned long long>(h));
    atomicAdd(&sh[3 * b + 2], 1ull);
  }
  __syncthreads();
  (void)max_bins;
  for (int i = threadIdx.x; i < nb * 3; i += blockDim.x) {
    if (sh[i] != 0ull) atomicAdd(&hist_q[off * 3 + i], sh[i]);
  }
}

/// Fixed-point sums back to doubles: (g, h) / scale, count as is.
__global__ static void dequantise_kernel(const unsigned long long* __restrict__ q, std::int64_t bins,
                                         double inv_scale, double* __restrict__ out) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= bins) return;
  out[3 * i] = static_cast<double>(static_cast<long long>(q[3 * i])) * inv_scale;
  out[3 * i + 1] = static_cast<double>(static_cast<long long>(q[3 * i + 1])) * inv_scale;
  out[3 * i + 2] = static_cast<double>(q[3 * i + 2]);
}

}  // namespace orchard::tree::cuda
