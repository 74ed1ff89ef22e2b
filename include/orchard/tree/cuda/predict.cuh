#pragma once
#ifndef __CUDACC__
#error "orchard/tree/cuda/predict.cuh needs nvcc (include it from a .cu file)"
#endif
// GPU prediction: one thread per row walks every tree in order (same sums as the CPU, which
// also adds trees in order). Trees are packed back to back: node arrays of all trees with
// tree_offset[t] the first node of tree t.
#include <cstdint>

namespace orchard::tree::cuda {

struct DeviceNode {
  double threshold;
  std::int32_t feature;  ///< -1 for a leaf
  std::int32_t left;     ///< right = left + 1 (tree-local ids); leaf: unused
  std::int32_t flags;    ///< bit 0: default left
  double value;          ///< leaf value
};

template <class T>
__global__ void predict_kernel(const T* __restrict__ X, std::int64_t n, std::int64_t d,
                               const DeviceNode* __restrict__ nodes,
                               const std::int64_t* __restrict__ tree_offset,
                               const int* __restrict__ tree_class, std::int64_t n_trees,
                               int n_out, double* __restrict__ out) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const T* row = X + i * d;
  for (std::int64_t t = 0; t < n_trees; ++t) {
    const DeviceNode* nd = nodes + tree_offset[t];
    int k = 0;
    while (nd[k].feature >= 0) {
      const double x = static_cast<double>(row[nd[k].feature]);
      const bool l = (x <= nd[k].threshold) || (isnan(x) && (nd[k].flags & 1));
      k = nd[k].left + (l ? 0 : 1);
    }
    out[i * n_out + tree_class[t]] += nd[k].value;
  }
}

}  // namespace orchard::tree::cuda
