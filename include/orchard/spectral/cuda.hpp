#pragma once
// The CUDA path of orchard::spectral, for translation units compiled with nvcc. Including this
// header registers the GPU implementation, so spectrum()/report() with a Context whose device is
// Device::cuda run on the GPU from any translation unit of the program:
//
//   #include <orchard/spectral/cuda.hpp>   // in a .cu file
//   auto rep = orchard::spectral::report(Z, params, orchard::Context(0, orchard::Device::cuda));
//
// Gram G = ZᵀZ and column sums in float64 by cuBLAS (syrk/gemv over row blocks of
// Params::gram.block_rows), eigenvalues by cuSOLVER syevd; metrics as on the CPU.
#include "../spectral.hpp"

#if defined(__CUDACC__)
#include <string>
#include <type_traits>

#include "cuda/gram.cuh"

namespace orchard::spectral::cuda {

/// The Gram-path spectrum of Z on the GPU (Context::device_id() selects the device). Z must be
/// row-major contiguous; spectrum() gathers a subsample into such a block before calling this.
template <class T>
Spectrum gram_spectrum(ConstMatrixView<T> z, const Params& params, const Context& ctx) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  namespace cd = cuda_detail;
  params.validate();
  require(z.rows > 0, "Z.rows", z.rows, "must be > 0 (empty matrix)");
  require(z.cols > 0, "Z.cols", z.cols, "must be > 0 (empty matrix)");
  require(z.row_major_contiguous(), "Z.strides",
          std::to_string(z.row_stride) + "," + std::to_string(z.col_stride),
          "the CUDA path needs row-major contiguous rows");
  cd::check(cudaSetDevice(ctx.device_id()), "cudaSetDevice");
  const std::int64_t k = z.cols, n = z.rows;
  cd::Handles h;
  gpu::Buffer<double> d_gram(static_cast<std::size_t>(k * k));
  gpu::Buffer<double> d_sums(static_cast<std::size_t>(k));
  cd::check(cudaMemset(d_gram.get(), 0, d_gram.size() * sizeof(double)), "cudaMemset");
  cd::check(cudaMemset(d_sums.get(), 0, d_sums.size() * sizeof(double)), "cudaMemset");
  const std::int64_t bad =
      cd::accumulate_gram<T>(h, z.data, n, k, params.gram.block_rows, d_gram.get(), d_sums.get());
  if (bad >= 0) {
    const double v = static_cast<double>(z.data[bad]);
    require(false, "Z", v,
            "entries must be finite (row " + std::to_string(bad / k) + ", column " +
                std::to_string(bad % k) + ")");
  }
  Eigen::VectorXd scatter;
  if (params.centred) {
    gpu::Buffer<double> d_c(static_cast<std::size_t>(k * k));
    cd::check(cudaMemcpy(d_c.get(), d_gram.get(), d_c.size() * sizeof(double),
                         cudaMemcpyDeviceToDevice),
              "cudaMemcpy");
    cd::centre(h, d_c.get(), d_sums.get(), k, n);
    const auto w = cd::eigenvalues(h, d_c.get(), k);
    scatter = Eigen::Map<const Eigen::VectorXd>(w.data(), k);
  }
  const auto w = cd::eigenvalues(h, d_gram.get(), k);
  const Eigen::VectorXd raw = Eigen::Map<const Eigen::VectorXd>(w.data(), k);
  // An all-zero matrix has a zero spectrum: no centred metrics then (the CPU rule).
  if (raw.maxCoeff() <= 0) scatter.resize(0);
  Spectrum s = spectrum_from_eigenvalues(raw, scatter, n, k, n,
                                         static_cast<double>(std::numeric_limits<T>::epsilon()));
  s.on_device = true;
  return s;
}

namespace detail {
inline const bool registered = [] {
  auto& hooks = spectral::detail::cuda_hooks();
  hooks.f = &gram_spectrum<float>;
  hooks.d = &gram_spectrum<double>;
  return true;
}();
}  // namespace detail

}  // namespace orchard::spectral::cuda

#endif  // __CUDACC__
