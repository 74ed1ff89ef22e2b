#pragma once
// The CUDA path of orchard::gbnn, for translation units compiled with nvcc. Including this header
// registers the GPU network objective, so Model::fit and Mlp::fit with a Context whose device is
// Device::cuda evaluate every L-BFGS objective (and the MLP's Adam minibatches) on the GPU, from
// any translation unit of the program:
//
//   #include <orchard/gbnn/cuda.hpp>   // in a .cu file
//   model.fit(X, y, params, orchard::Context(2, orchard::Device::cuda));
//
// The batched forward and backward passes run as cuBLAS GEMMs (Context::device_id() selects the
// device); pseudo-residuals, Newton steps and F stay on the CPU. Without this header a CUDA
// Context makes fit throw orchard::DeviceError.
#include "../core/nvcc_eigen.hpp"
#include "../gbnn.hpp"

#if defined(__CUDACC__)
#include <memory>

#include "cuda/step_objective.cuh"

namespace orchard::gbnn::cuda {

/// The factory cuda_hooks() holds: the GPU objective on ctx.device_id().
template <class T>
std::unique_ptr<gbnn::Objective<T>> make_objective(const Context& ctx, index_t max_rows, index_t d,
                                                   index_t hidden, index_t outputs,
                                                   OutputLoss loss, T alpha) {
  return std::make_unique<NetObjective<T>>(ctx.device_id(), max_rows, d, hidden, outputs, loss,
                                           alpha);
}

namespace registration {
inline const bool registered = [] {
  auto& hooks = gbnn::detail::cuda_hooks();
  hooks.f = &make_objective<float>;
  hooks.d = &make_objective<double>;
  return true;
}();
}  // namespace registration

}  // namespace orchard::gbnn::cuda

#endif  // __CUDACC__
