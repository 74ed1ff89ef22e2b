#pragma once
#ifndef __CUDACC__
#error "orchard/core/cuda/device.cuh needs nvcc (include it from a .cu file)"
#endif
// What the families' host-side CUDA code shares: a status check that throws DeviceError, an
// owning device array, and the fixed-point scale of deterministic (integer-atomic) histograms.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../error.hpp"

namespace orchard::gpu {

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    throw DeviceError(std::string("orchard: CUDA ") + what + ": " + cudaGetErrorString(e));
  }
}

/// Device array of n elements of T (RAII; n = 0 holds nothing).
template <class T>
class Buffer {
 public:
  explicit Buffer(std::size_t n = 0) : n_(n) {
    if (n > 0) check(cudaMalloc(&p_, n * sizeof(T)), "cudaMalloc");
  }
  Buffer(const T* host, std::size_t n) : Buffer(n) { upload(host, n); }
  ~Buffer() {
    if (p_ != nullptr) cudaFree(p_);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void upload(const T* host, std::size_t n) {
    if (n > 0) check(cudaMemcpy(p_, host, n * sizeof(T), cudaMemcpyHostToDevice), "upload");
  }
  void download(T* host, std::size_t n) const {
    if (n > 0) check(cudaMemcpy(host, p_, n * sizeof(T), cudaMemcpyDeviceToHost), "download");
  }
  std::vector<T> download() const {
    std::vector<T> h(n_);
    download(h.data(), n_);
    return h;
  }
  void zero() {
    if (n_ > 0) check(cudaMemset(p_, 0, n_ * sizeof(T)), "cudaMemset");
  }
  T* get() const { return p_; }
  std::size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

/// Power-of-two fixed-point scale for n rows of statistics bounded by max_abs: every sum of
/// quantised values stays below 2^62 in magnitude.
inline double quantise_scale(double max_abs, std::int64_t n) {
  if (!(max_abs > 0)) return 1.0;
  const double bound = std::ldexp(1.0, 62) / (static_cast<double>(std::max<std::int64_t>(n, 1)) * max_abs);
  return std::ldexp(1.0, static_cast<int>(std::floor(std::log2(bound))));
}

}  // namespace orchard::gpu
