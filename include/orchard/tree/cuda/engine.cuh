#pragma once
#ifndef __CUDACC__
#error "orchard/tree/cuda/engine.cuh needs nvcc (include it from a .cu file)"
#endif
// Host entry points of the GPU kernels: histogram of a node, best split per feature, batch
// prediction. They take the CPU engine's types, copy to the device, run the kernel and copy back.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "../../core/cuda/device.cuh"
#include "../../core/error.hpp"
#include "../binning.hpp"
#include "../histogram.hpp"
#include "../predict.hpp"
#include "../second_order.hpp"
#include "../tree.hpp"
#include "histogram.cuh"
#include "predict.cuh"
#include "split.cuh"

namespace orchard::tree::cuda {

using orchard::gpu::Buffer;
using orchard::gpu::check;
using orchard::gpu::quantise_scale;

/// Histogram (layout of HistLayout::make(mapper, 2)) of `rows` (empty = all rows) on the GPU.
inline std::vector<double> histogram(const BinnedMatrix& data, const float* gh,
                                     std::span<const std::uint32_t> rows) {
  const HistLayout layout = HistLayout::make(data.mapper(), 2);
  const auto n = data.rows();
  const auto d = data.cols();
  const std::int64_t m = rows.empty() ? n : static_cast<std::int64_t>(rows.size());
  double max_abs = 0;
  for (std::int64_t i = 0; i < 2 * n; ++i) max_abs = std::max(max_abs, std::fabs(static_cast<double>(gh[i])));
  const double scale = quantise_scale(max_abs, m);
  const std::int64_t bins = layout.offset.back();
  int max_bins = 0;
  for (int f = 0; f < d; ++f) max_bins = std::max<int>(max_bins, static_cast<int>(layout.bins(f)));
  Buffer<float> d_gh(gh, static_cast<std::size_t>(2 * n));
  Buffer<std::uint32_t> d_rows(rows.data(), rows.size());
  Buffer<std::int64_t> d_off(layout.offset.data(), layout.offset.size());
  Buffer<unsigned long long> d_q(static_cast<std::size_t>(bins * 3));
  check(cudaMemset(d_q.get(), 0, static_cast<std::size_t>(bins * 3) * sizeof(unsigned long long)), "memset");
  Buffer<double> d_out(static_cast<std::size_t>(bins * 3));
  const int threads = 256;
  const int chunks = static_cast<int>(std::min<std::int64_t>(64, (m + threads - 1) / threads));
  const dim3 grid(static_cast<unsigned>(std::max(chunks, 1)), static_cast<unsigned>(d));
  const std::size_t shmem = static_cast<std::size_t>(max_bins) * 3 * sizeof(unsigned long long);
  if (data.wide()) {
    Buffer<std::uint16_t> d_codes(data.column<std::uint16_t>(0), static_cast<std::size_t>(n * d));
    histogram_kernel<std::uint16_t><<<grid, threads, shmem>>>(d_codes.get(), n, rows.empty() ? nullptr : d_rows.get(), m,
                                                              d_gh.get(), scale, d_off.get(), max_bins, d_q.get());
    check(cudaDeviceSynchronize(), "histogram_kernel");
  } else {
    Buffer<std::uint8_t> d_codes(data.column<std::uint8_t>(0), static_cast<std::size_t>(n * d));
    histogram_kernel<std::uint8_t><<<grid, threads, shmem>>>(d_codes.get(), n, rows.empty() ? nullptr : d_rows.get(), m,
                                                             d_gh.get(), scale, d_off.get(), max_bins, d_q.get());
    check(cudaDeviceSynchronize(), "histogram_kernel");
  }
  dequantise_kernel<<<static_cast<unsigned>((bins + 255) / 256), 256>>>(d_q.get(), bins, 1.0 / scale, d_out.get());
  check(cudaDeviceSynchronize(), "dequantise_kernel");
  return d_out.download();
}

/// Best split per feature of a node histogram (score(L) + score(R), bin, default_left).
inline std::vector<DeviceSplit> best_splits(const BinnedMatrix& data, const std::vector<double>& hist,
                                            const double* parent, const SecondOrder& policy,
                                            std::int64_t min_data_in_leaf) {
  const HistLayout layout = HistLayout::make(data.mapper(), 2);
  Buffer<double> d_hist(hist.data(), hist.size());
  Buffer<std::int64_t> d_off(layout.offset.data(), layout.offset.size());
  Buffer<double> d_parent(parent, 3);
  Buffer<DeviceSplit> d_out(static_cast<std::size_t>(data.cols()));
  split_kernel<<<static_cast<unsigned>(data.cols()), 32>>>(d_hist.get(), d_off.get(), d_parent.get(), policy,
                                                           static_cast<double>(min_data_in_leaf), d_out.get());
  check(cudaDeviceSynchronize(), "split_kernel");
  return d_out.download();
}

/// out (n x n_out, row-major) += the trees' leaf values for row-major X (only trees with the
/// default-left/<= rules and one output; others throw).
template <class T>
void predict_add(std::span<const Tree> trees, std::span<const int> tree_class, const T* X,
                 std::int64_t n, std::int64_t d, int n_out, double* out) {
  std::vector<DeviceNode> nodes;
  std::vector<std::int64_t> offset;
  for (const auto& t : trees) {
    const PackedTree pt(t, 1);
    if (!pt.simple || t.n_outputs != 1) {
      throw DeviceError("orchard: CUDA prediction supports numeric '<=' trees with one output");
    }
    offset.push_back(static_cast<std::int64_t>(nodes.size()));
    for (std::int32_t q = 0; q < static_cast<std::int32_t>(pt.nodes.size()); ++q) {
      const auto& p = pt.nodes[static_cast<std::size_t>(q)];
      const bool leaf = pt.is_leaf(q);
      nodes.push_back(DeviceNode{p.threshold, leaf ? -1 : static_cast<std::int32_t>(p.offset), p.left,
                                 p.flags, leaf ? t.values(pt.tree_node(q))[0] : 0.0});
    }
  }
  Buffer<T> d_X(X, static_cast<std::size_t>(n * d));
  Buffer<DeviceNode> d_nodes(nodes.data(), nodes.size());
  Buffer<std::int64_t> d_off(offset.data(), offset.size());
  Buffer<int> d_cls(tree_class.data(), tree_class.size());
  Buffer<double> d_out(out, static_cast<std::size_t>(n * n_out));
  predict_kernel<T><<<static_cast<unsigned>((n + 127) / 128), 128>>>(
      d_X.get(), n, d, d_nodes.get(), d_off.get(), d_cls.get(), static_cast<std::int64_t>(trees.size()), n_out, d_out.get());
  check(cudaDeviceSynchronize(), "predict_kernel");
  const auto h = d_out.download();
  std::copy(h.begin(), h.end(), out);
}

}  // namespace orchard::tree::cuda
