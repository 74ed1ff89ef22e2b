#pragma once
#ifndef __CUDACC__
#error "orchard/gbrl/cuda/predict.cuh needs nvcc (include it from a .cu file)"
#endif
// GPU prediction over a compiled forest (../forest.hpp): one thread per row walks trees
// [start, stop) in order and adds each tree's D leaf values to its own output row, exactly the
// CPU's additions in the CPU's order (no atomics, no reductions across threads), so the outputs
// are bit-identical to the CPU's.
#include <cstdint>

#include "../forest.hpp"

namespace orchard::gbrl::cuda_kernels {

/// The leaf number of a row (x: its n_features values) in compiled tree c.
__device__ inline std::int64_t leaf_of(const ForestView& f, const CompiledTree& c,
                                       const double* x) {
  if (c.form == kOblivious) {
    std::int64_t idx = 0;
    for (int l = 0; l < c.depth; ++l) {
      const std::int64_t e = c.split + l;
      idx = 2 * idx + (go_left(x[f.feat[e]], f.thr[e], f.flag[e]) ? 0 : 1);
    }
    return idx;
  }
  if (c.form == kComplete) {
    std::int64_t q = 0;
    for (int l = 0; l < c.depth; ++l) {
      const std::int64_t e = c.split + q;
      q = 2 * q + 1 + (go_left(x[f.feat[e]], f.thr[e], f.flag[e]) ? 0 : 1);
    }
    return q - ((std::int64_t{1} << c.depth) - 1);
  }
  const GNode* nodes = f.nodes + c.split;
  std::int64_t q = 0;
  for (int l = 0; l < c.depth; ++l) {
    const GNode& n = nodes[q];
    q = n.left + (go_left(x[n.feature], n.threshold, n.flags) ? 0 : 1);
  }
  return nodes[q].value;
}

/// out (n x f.d, row-major) += trees [start, stop) for row-major X (n x n_features).
__global__ static void predict_kernel(ForestView f, const double* __restrict__ x, std::int64_t n,
                                      std::int64_t n_features, std::int64_t start,
                                      std::int64_t stop, double* __restrict__ out) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const double* row = x + i * n_features;
  double* o = out + i * f.d;
  for (std::int64_t t = start; t < stop; ++t) {
    const CompiledTree c = f.trees[t];
    const double* v = f.values + c.values + leaf_of(f, c, row) * f.d;
    for (int k = 0; k < f.d; ++k) o[k] += v[k];
  }
}

}  // namespace orchard::gbrl::cuda_kernels
