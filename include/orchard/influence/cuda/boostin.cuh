#pragma once
// GPU BoostIn for large n_train x n_test: one thread block per test row walks the trees in order
// and, through the inverted index (leaf -> training rows, dv), adds dv * G to the test row's
// column; a barrier between trees keeps the order of additions per element equal to the CPU
// path, and the fused multiply-add (the CPU kernel fuses too, trees in the same order) make the
// result bit-identical to Explainer::local().
#ifndef __CUDACC__
#error "orchard/influence/cuda/boostin.cuh must be compiled with nvcc"
#endif
#include <cuda_runtime.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../../core/cuda/device.cuh"
#include "../boostin.hpp"
#include "../explainer.hpp"

namespace orchard::influence::cuda {

namespace kernels {

/// out (n x m_chunk, column-major: column e at out + e * n).
template <class Index>
__global__ void boostin_columns(const Index* __restrict__ leaf_start, const std::int32_t* __restrict__ leaf_rows,
                                const double* __restrict__ dv, const std::int32_t* __restrict__ test_leaf,
                                const double* __restrict__ test_G, Index T, Index n, double* __restrict__ out) {
  const Index e = blockIdx.x;
  double* col = out + e * n;
  for (Index i = threadIdx.x; i < n; i += blockDim.x) col[i] = 0.0;
  __syncthreads();
  for (Index t = 0; t < T; ++t) {
    const Index l = test_leaf[e * T + t];
    const double G = test_G[e * T + t];
    const Index b = leaf_start[l], end = leaf_start[l + 1];
    for (Index j = b + threadIdx.x; j < end; j += blockDim.x) {
      const std::int32_t i = leaf_rows[j];
      col[i] = __fma_rn(dv[j], G, col[i]);
    }
    __syncthreads();
  }
}

}  // namespace kernels


/// BoostIn local influence on the GPU (ctx device id); `ex` must come from make("boostin" /
/// "boostin_w1" / "boostin_w2"). Same result as ex.local(), bit for bit. Test rows are processed
/// in chunks so the output chunk stays under max_chunk_bytes of device memory.
inline Eigen::MatrixXd boostin_local(const Explainer& ex, ConstMatrixView<double> X_test,
                                     ConstVectorView<double> y_test, int device_id = 0,
                                     std::size_t max_chunk_bytes = std::size_t{1} << 30) {
  const auto* b = dynamic_cast<const influence::detail::BoostIn*>(&ex.method());
  if (b == nullptr) {
    throw InvalidArgument("orchard: argument 'explainer' = " + ex.name() + ": the GPU path needs a BoostIn explainer");
  }
  orchard::gpu::check(cudaSetDevice(device_id), "cudaSetDevice");
  const Structure& st = b->structure();
  const auto ts = b->prepare(X_test, y_test);
  const index_t n = st.n(), T = st.trees(), m = ts->m;
  std::vector<index_t> start(static_cast<std::size_t>(st.total_leaves() + 1));
  for (index_t l = 0; l <= st.total_leaves(); ++l) start[static_cast<std::size_t>(l)] = l < st.total_leaves() ? st.leaf_begin(l) : st.leaf_end(l - 1);
  orchard::gpu::Buffer<index_t> d_start(start.size());
  d_start.upload(start.data(), start.size());
  orchard::gpu::Buffer<std::int32_t> d_rows(st.leaf_rows().size());
  d_rows.upload(st.leaf_rows().data(), st.leaf_rows().size());
  const std::vector<double> dv = b->dv_index_order();
  orchard::gpu::Buffer<double> d_dv(dv.size());
  d_dv.upload(dv.data(), dv.size());
  const index_t chunk = std::max<index_t>(1, std::min<index_t>(m, static_cast<index_t>(max_chunk_bytes / (sizeof(double) * static_cast<std::size_t>(n)))));
  orchard::gpu::Buffer<std::int32_t> d_leaf(static_cast<std::size_t>(chunk * T));
  orchard::gpu::Buffer<double> d_G(static_cast<std::size_t>(chunk * T));
  orchard::gpu::Buffer<double> d_out(static_cast<std::size_t>(chunk * n));
  Eigen::MatrixXd out(n, m);
  for (index_t e0 = 0; e0 < m; e0 += chunk) {
    const index_t c = std::min(chunk, m - e0);
    d_leaf.upload(ts->leaf.data() + e0 * T, static_cast<std::size_t>(c * T));
    d_G.upload(ts->G.data() + e0 * T, static_cast<std::size_t>(c * T));
    kernels::boostin_columns<index_t><<<static_cast<unsigned>(c), 256>>>(d_start.get(), d_rows.get(), d_dv.get(), d_leaf.get(), d_G.get(), T,
                                                                         n, d_out.get());
    orchard::gpu::check(cudaGetLastError(), "kernel launch");
    orchard::gpu::check(cudaMemcpy(out.data() + e0 * n, d_out.get(), static_cast<std::size_t>(c * n) * sizeof(double),
                             cudaMemcpyDeviceToHost),
                  "download");
  }
  return out;
}

}  // namespace orchard::influence::cuda
