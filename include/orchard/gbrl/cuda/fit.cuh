#pragma once
#ifndef __CUDACC__
#error "orchard/gbrl/cuda/fit.cuh needs nvcc (include it from a .cu file)"
#endif
// GPU kernels of GBRL tree fitting, level by level (the host loop is in ../cuda.hpp).
//
// Statistics (N x D floats: raw or centred/scaled gradients) are quantised to 64-bit fixed point
// with one power-of-two scale chosen on the host so that no sum can overflow. Every histogram
// bin, node sum and child sum is then an integer sum: atomics add integers, which is associative,
// so results do not depend on launch geometry or thread order (deterministic), and a child's sums
// are exactly its parent's minus its sibling's. Split scores are evaluated in double from those
// exact sums with the CPU engine's candidate order and tie rules (first best in bin order,
// missing-right before missing-left).
//
// Layouts (S = D + 1 values per bin: D sums, then the count):
//   codes     feature-major, n per feature (tree::BinnedMatrix storage)
//   slot[r]   the row's node among the level's open nodes, -1 once its node is final
//   hist      per open node of the chunk: total_bins x S integers, feature f at feature_offset[f]
#include <cstdint>
#include <limits>

namespace orchard::gbrl::cuda_kernels {

/// Per open node and feature: the best candidate of the scan.
struct FeatureBest {
  double gain;  ///< (score(L) + score(R) - score(P)) * weight; -inf when none
  int bin;
  int default_left;
};

/// What the host decided for an open node: a split, or final (feature < 0).
struct SlotSplit {
  int feature;
  int bin;
  int categorical;
  int default_left;
  int missing_bin;
  int left_node, right_node;  ///< record ids of the children
  int left_slot, right_slot;  ///< the children's open slots at the next level (-1: final)
};

__device__ inline long long quantise(float v, double scale) {
  return __double2ll_rn(static_cast<double>(v) * scale);
}

/// Histograms of the rows whose slot lies in [s0, s1). One block per (row chunk, feature).
/// With shared = 1 the block accumulates (s1 - s0) x bins(f) x S integers in shared memory
/// first, then adds the non-zero ones to global memory; either way only integers are added.
template <class Code>
__global__ void histogram_kernel(const Code* __restrict__ codes, std::int64_t n,
                                 const int* __restrict__ slot, int s0, int s1,
                                 const float* __restrict__ stats, int d, double scale,
                                 const std::int64_t* __restrict__ feature_offset,
                                 std::int64_t total_bins, int shared,
                                 unsigned long long* __restrict__ hist) {
  extern __shared__ unsigned long long sh[];
  const int f = blockIdx.y;
  const int s = d + 1;
  const std::int64_t off = feature_offset[f];
  const int nb = static_cast<int>(feature_offset[f + 1] - off);
  const int ns = s1 - s0;
  if (shared) {
    for (int i = threadIdx.x; i < ns * nb * s; i += blockDim.x) sh[i] = 0ull;
    __syncthreads();
  }
  const Code* col = codes + static_cast<std::int64_t>(f) * n;
  for (std::int64_t r = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; r < n;
       r += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const int q = slot[r];
    if (q < s0 || q >= s1) continue;
    const int b = col[r];
    unsigned long long* e = shared ? sh + (static_cast<std::int64_t>(q - s0) * nb + b) * s
                                   : hist + ((q - s0) * total_bins + off + b) * s;
    const float* g = stats + r * d;
    for (int k = 0; k < d; ++k) atomicAdd(e + k, static_cast<unsigned long long>(quantise(g[k], scale)));
    atomicAdd(e + d, 1ull);
  }
  if (shared) {
    __syncthreads();
    for (int i = threadIdx.x; i < ns * nb * s; i += blockDim.x) {
      if (sh[i] == 0ull) continue;
      const int q = i / (nb * s), rest = i % (nb * s);
      atomicAdd(hist + (q * total_bins + off) * s + rest, sh[i]);
    }
  }
}

/// Sums (S integers) of the nodes first_node .. first_node + count - 1 from their rows.
__global__ static void node_sums_kernel(const int* __restrict__ node, std::int64_t n,
                                        const float* __restrict__ stats, int d, double scale,
                                        int first_node, int count,
                                        unsigned long long* __restrict__ sums) {
  for (std::int64_t r = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; r < n;
       r += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const int q = node[r] - first_node;
    if (q < 0 || q >= count) continue;
    unsigned long long* e = sums + static_cast<std::int64_t>(q) * (d + 1);
    const float* g = stats + r * d;
    for (int k = 0; k < d; ++k) atomicAdd(e + k, static_cast<unsigned long long>(quantise(g[k], scale)));
    atomicAdd(e + d, 1ull);
  }
}

// Node score n ||m||^2 = ||sum||^2 / n of the integer sums a (+ sign * b) in real units.
__device__ inline double score_of(const long long* a, const long long* b, long long sign,
                                  const long long* p, int d, double inv_scale, bool from_parent) {
  // from_parent: the child is p - (a + sign * b); otherwise a + sign * b.
  long long cnt = a[d] + sign * b[d];
  if (from_parent) cnt = p[d] - cnt;
  if (cnt <= 0) return 0.0;
  double sq = 0;
  for (int k = 0; k < d; ++k) {
    long long v = a[k] + sign * b[k];
    if (from_parent) v = p[k] - v;
    const double x = static_cast<double>(v) * inv_scale;
    sq += x * x;
  }
  return sq / static_cast<double>(cnt);
}

/// Depth-wise split search: one thread per (open node of the chunk, feature), scanning the bins
/// in order as the CPU engine does. work: S integers per thread (the running left sums).
__global__ static void split_kernel(const unsigned long long* __restrict__ hist,
                                    const std::int64_t* __restrict__ feature_offset,
                                    std::int64_t total_bins, int n_features,
                                    const unsigned long long* __restrict__ parent, int ns, int d,
                                    double inv_scale, const unsigned char* __restrict__ categorical,
                                    const double* __restrict__ feature_weight,
                                    double min_data, long long* __restrict__ work,
                                    FeatureBest* __restrict__ out) {
  const std::int64_t t = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (t >= static_cast<std::int64_t>(ns) * n_features) return;
  const int q = static_cast<int>(t / n_features), f = static_cast<int>(t % n_features);
  const int s = d + 1;
  FeatureBest best{-std::numeric_limits<double>::infinity(), -1, 1};
  const double w = feature_weight[f];
  const long long* p = reinterpret_cast<const long long*>(parent) + static_cast<std::int64_t>(q) * s;
  if (w <= 0 || static_cast<double>(p[d]) < 2 * min_data) {
    out[t] = best;
    return;
  }
  const std::int64_t off = feature_offset[f];
  const int nb = static_cast<int>(feature_offset[f + 1] - off);
  const int mb = nb - 1;
  const long long* h = reinterpret_cast<const long long*>(hist) + (q * total_bins + off) * s;
  const long long* miss = h + static_cast<std::int64_t>(mb) * s;
  const bool has_missing = miss[d] > 0;
  const bool cat = categorical[f] != 0;
  long long* L = work + t * s;
  for (int k = 0; k < s; ++k) L[k] = 0;
  const double ps = score_of(p, p, 0, p, d, inv_scale, false);
  double best_raw = -std::numeric_limits<double>::infinity();
  auto consider = [&](long long sign, int b, int dl) {
    // left = L + sign * miss, right = parent - left
    const long long nl = L[d] + sign * miss[d], nr = p[d] - nl;
    if (static_cast<double>(nl) < min_data || static_cast<double>(nr) < min_data) return;
    const double g = score_of(L, miss, sign, p, d, inv_scale, false) +
                     score_of(L, miss, sign, p, d, inv_scale, true);
    if (g > best_raw) {
      best_raw = g;
      best.bin = b;
      best.default_left = dl;
    }
  };
  for (int b = 0; b < (cat ? mb : mb - 1); ++b) {
    const long long* e = h + static_cast<std::int64_t>(b) * s;
    if (e[d] <= 0) continue;
    if (cat) {
      for (int k = 0; k < s; ++k) L[k] = e[k];
    } else {
      for (int k = 0; k < s; ++k) L[k] += e[k];
    }
    consider(0, b, 0);
    if (has_missing) consider(1, b, 1);
  }
  if (!cat && has_missing && mb >= 1) {
    const long long* e = h + static_cast<std::int64_t>(mb - 1) * s;
    for (int k = 0; k < s; ++k) L[k] += e[k];
    consider(0, mb - 1, 0);
  }
  if (best.bin >= 0) best.gain = (best_raw - ps) * w;
  out[t] = best;
}

/// Oblivious trees, part 1: for every (open node of the chunk, feature, bin < missing bin,
/// missing direction) the node's term score(L) + score(R) - score(P), as the CPU engine sums
/// them (no minimum counts, every bin). contrib: per node total_bins x 2 doubles.
__global__ static void oblivious_terms_kernel(const unsigned long long* __restrict__ hist,
                                              const std::int64_t* __restrict__ feature_offset,
                                              std::int64_t total_bins, int n_features,
                                              const unsigned long long* __restrict__ parent,
                                              int ns, int d, double inv_scale,
                                              const unsigned char* __restrict__ categorical,
                                              long long* __restrict__ work,
                                              double* __restrict__ contrib) {
  const std::int64_t t = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (t >= static_cast<std::int64_t>(ns) * n_features) return;
  const int q = static_cast<int>(t / n_features), f = static_cast<int>(t % n_features);
  const int s = d + 1;
  const long long* p = reinterpret_cast<const long long*>(parent) + static_cast<std::int64_t>(q) * s;
  const std::int64_t off = feature_offset[f];
  const int nb = static_cast<int>(feature_offset[f + 1] - off);
  const int mb = nb - 1;
  const long long* h = reinterpret_cast<const long long*>(hist) + (q * total_bins + off) * s;
  const long long* miss = h + static_cast<std::int64_t>(mb) * s;
  const bool cat = categorical[f] != 0;
  const double ps = score_of(p, p, 0, p, d, inv_scale, false);
  long long* L = work + t * s;
  for (int k = 0; k < s; ++k) L[k] = 0;
  double* c = contrib + (q * total_bins + off) * 2;
  for (int b = 0; b < mb; ++b) {
    const long long* e = h + static_cast<std::int64_t>(b) * s;
    for (int k = 0; k < s; ++k) L[k] = cat ? e[k] : L[k] + e[k];
    for (int dl = 0; dl < 2; ++dl) {
      c[2 * b + dl] = score_of(L, miss, dl, p, d, inv_scale, false) +
                      score_of(L, miss, dl, p, d, inv_scale, true) - ps;
    }
  }
}

/// Oblivious trees, part 2: totals[bin][dl] += the terms of nodes 0..ns-1 of the chunk, in node
/// order (the CPU engine's order), one thread per (bin, direction).
__global__ static void oblivious_sum_kernel(const double* __restrict__ contrib, int ns,
                                            std::int64_t total_bins, double* __restrict__ totals) {
  const std::int64_t t = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (t >= total_bins * 2) return;
  double acc = totals[t];
  for (int q = 0; q < ns; ++q) acc += contrib[q * total_bins * 2 + t];
  totals[t] = acc;
}

/// Moves every open row to its child: node[r] = the child's record, slot[r] = its next slot.
template <class Code>
__global__ void route_kernel(const Code* __restrict__ codes, std::int64_t n,
                             const SlotSplit* __restrict__ split, int* __restrict__ slot,
                             int* __restrict__ node) {
  for (std::int64_t r = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; r < n;
       r += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const int q = slot[r];
    if (q < 0) continue;
    const SlotSplit sp = split[q];
    if (sp.feature < 0) {
      slot[r] = -1;
      continue;
    }
    const int c = codes[static_cast<std::int64_t>(sp.feature) * n + r];
    const bool left = c == sp.missing_bin ? sp.default_left != 0
                                          : (sp.categorical ? c == sp.bin : c <= sp.bin);
    node[r] = left ? sp.left_node : sp.right_node;
    slot[r] = left ? sp.left_slot : sp.right_slot;
  }
}

}  // namespace orchard::gbrl::cuda_kernels
