#pragma once
#ifndef __CUDACC__
#error "orchard/tree/cuda/split.cuh needs nvcc (include it from a .cu file)"
#endif
// GPU split search with the second-order policy: one block per feature; the block's threads
// compute prefix sums cooperatively is not needed for <= 65536 bins, so one thread scans the
// feature's bins in order (the same candidate order and tie rule as the CPU search).
#include <cstdint>

#include "../second_order.hpp"

namespace orchard::tree::cuda {

struct DeviceSplit {
  double gain;  ///< score(L) + score(R) (parent score not subtracted), -inf when none
  int bin;
  int default_left;
};

__global__ static void split_kernel(const double* __restrict__ hist,
                                    const std::int64_t* __restrict__ feature_offset,
                                    const double* __restrict__ parent, SecondOrder policy,
                                    double min_data, DeviceSplit* __restrict__ out) {
  const int f = blockIdx.x;
  if (threadIdx.x != 0) return;
  const double* h = hist + feature_offset[f] * 3;
  const int nb = static_cast<int>(feature_offset[f + 1] - feature_offset[f]);
  const int mb = nb - 1;
  const double* miss = h + 3 * mb;
  const bool has_missing = miss[2] > 0;
  DeviceSplit best{-1.0 / 0.0, -1, 0};
  double L[3] = {0, 0, 0}, R[3], Lm[3], Rm[3];
  auto consider = [&](const double* l, const double* r, int b, int dl) {
    if (l[2] < min_data || r[2] < min_data || !policy.admissible(l) || !policy.admissible(r)) return;
    const double g = policy.score(l) + policy.score(r);
    if (g > best.gain) best = DeviceSplit{g, b, dl};
  };
  if (parent[2] >= 2 * min_data) {
    for (int b = 0; b + 1 < mb; ++b) {
      const double* e = h + 3 * b;
      if (e[2] <= 0) continue;
      for (int k = 0; k < 3; ++k) L[k] += e[k];
      for (int k = 0; k < 3; ++k) R[k] = parent[k] - L[k];
      consider(L, R, b, 0);
      if (has_missing) {
        for (int k = 0; k < 3; ++k) {
          Lm[k] = L[k] + miss[k];
          Rm[k] = R[k] - miss[k];
        }
        consider(Lm, Rm, b, 1);
      }
    }
    if (has_missing && mb >= 1) {
      const double* e = h + 3 * (mb - 1);
      for (int k = 0; k < 3; ++k) L[k] += e[k];
      for (int k = 0; k < 3; ++k) R[k] = parent[k] - L[k];
      consider(L, R, mb - 1, 0);
    }
  }
  out[f] = best;
}

}  // namespace orchard::tree::cuda
