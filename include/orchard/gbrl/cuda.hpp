#pragma once
// The CUDA path of orchard::gbrl, for translation units compiled with nvcc. Including this header
// registers the GPU implementation, so an Ensemble whose Context has Device::cuda grows its trees
// and predicts on the GPU from any translation unit of the program:
//
//   #include <orchard/gbrl/cuda.hpp>   // in a .cu file
//   orchard::gbrl::Ensemble e(params, orchard::Context(1, orchard::Device::cuda));
//
// Fit (cuda/fit.cuh): the tree grows level by level on the device. Per level, histograms of the
// open nodes (fixed-point integer sums, so deterministic), a split scan per (node, feature) with
// the CPU engine's candidates and tie rules, the choice of the best feature per node on the host
// (a few bytes per node), then rows are routed to the children and the children's sums added from
// their rows. The tree that comes back has the CPU engine's node numbering; leaf values are the
// exact mean raw gradients, computed by Ensemble::step from the rows' leaves as on the CPU.
// Histogram memory is bounded: open nodes are processed in chunks.
// Predict (cuda/predict.cuh): one thread per row, trees in order: bit-identical to the CPU.
#include "../gbrl.hpp"

#if defined(__CUDACC__)
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../core/cuda/device.cuh"
#include "cuda/fit.cuh"
#include "cuda/predict.cuh"

namespace orchard::gbrl::cuda {

using orchard::gpu::Buffer;
using orchard::gpu::check;
using orchard::gpu::quantise_scale;

/// Bytes of histograms held at once; open nodes beyond it are processed in chunks of nodes
/// (a tuning knob; the tests lower it to exercise the chunked path).
inline std::size_t histogram_budget = std::size_t{256} << 20;

namespace impl {

struct Rec {
  std::vector<long long> sums;  ///< d integer sums, then the count
  int depth = 0;
  int feature = -1, bin = -1;
  std::uint8_t flags = 0;
  double gain = 0;
  int left = -1, right = -1;
};

inline unsigned grid_for(std::int64_t n, int threads, std::int64_t max_blocks = 4096) {
  return static_cast<unsigned>(std::max<std::int64_t>(1, std::min(max_blocks, (n + threads - 1) / threads)));
}

template <class Code>
tree::Tree fit(const detail::CudaFitInput& in, std::vector<std::int32_t>& node_of_row) {
  namespace k = cuda_kernels;
  check(cudaSetDevice(in.device_id), "cudaSetDevice");
  const tree::BinnedMatrix& data = *in.data;
  const tree::BinMapper& map = data.mapper();
  const tree::GrowParams& gp = *in.grow;
  const bool oblivious = gp.growth == tree::Growth::oblivious;
  const std::int64_t n = data.rows();
  const int nf = static_cast<int>(data.cols());
  const int d = in.d, s = d + 1;
  if (nf > 65535) {
    throw DeviceError("orchard::gbrl: the CUDA fit takes at most 65535 features (got " + std::to_string(nf) + ")");
  }
  const tree::HistLayout layout = tree::HistLayout::make(map, d);
  const std::int64_t total_bins = layout.offset.back();
  int max_nb = 0;
  for (int f = 0; f < nf; ++f) max_nb = std::max(max_nb, map.num_bins(f));
  double max_abs = 0;
  for (std::int64_t i = 0; i < n * d; ++i) max_abs = std::max(max_abs, std::fabs(static_cast<double>(in.stats[i])));
  const double scale = quantise_scale(max_abs, n), inv_scale = 1.0 / scale;
  std::vector<unsigned char> cat(static_cast<std::size_t>(nf));
  std::vector<double> weight(static_cast<std::size_t>(nf), 1.0);
  for (int f = 0; f < nf; ++f) {
    cat[static_cast<std::size_t>(f)] = map.categorical(f) ? 1 : 0;
    if (!gp.feature_weights.empty()) weight[static_cast<std::size_t>(f)] = gp.feature_weights[static_cast<std::size_t>(f)];
  }

  Buffer<Code> d_codes(data.column<Code>(0), static_cast<std::size_t>(n * nf));
  Buffer<float> d_stats(in.stats, static_cast<std::size_t>(n * d));
  Buffer<std::int64_t> d_off(layout.offset.data(), layout.offset.size());
  Buffer<unsigned char> d_cat(cat.data(), cat.size());
  Buffer<double> d_weight(weight.data(), weight.size());
  Buffer<int> d_slot(static_cast<std::size_t>(n)), d_node(static_cast<std::size_t>(n));
  d_slot.zero();
  d_node.zero();
  const int threads = 256;

  std::vector<Rec> recs(1);
  // Sums of records [first, first + count) from their rows.
  auto node_sums = [&](int first, int count) {
    Buffer<unsigned long long> d_sums(static_cast<std::size_t>(count) * static_cast<std::size_t>(s));
    d_sums.zero();
    k::node_sums_kernel<<<grid_for(n, threads), threads>>>(d_node.get(), n, d_stats.get(), d, scale, first,
                                                           count, d_sums.get());
    check(cudaGetLastError(), "node_sums_kernel");
    std::vector<unsigned long long> h(d_sums.size());
    d_sums.download(h.data(), h.size());
    for (int q = 0; q < count; ++q) {
      auto& r = recs[static_cast<std::size_t>(first + q)].sums;
      r.resize(static_cast<std::size_t>(s));
      for (int j = 0; j < s; ++j) r[static_cast<std::size_t>(j)] = static_cast<long long>(h[static_cast<std::size_t>(q * s + j)]);
    }
  };
  node_sums(0, 1);

  std::vector<int> open;
  if (gp.max_depth > 0) open.push_back(0);
  const std::size_t per_node = static_cast<std::size_t>(total_bins) * static_cast<std::size_t>(s) * sizeof(long long);
  for (int depth = 0; depth < gp.max_depth && !open.empty(); ++depth) {
    const int ns = static_cast<int>(open.size());
    const int chunk = static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(ns), histogram_budget / per_node)));
    Buffer<unsigned long long> d_hist(static_cast<std::size_t>(chunk) * static_cast<std::size_t>(total_bins) * static_cast<std::size_t>(s));
    Buffer<long long> d_work(static_cast<std::size_t>(chunk) * static_cast<std::size_t>(nf) * static_cast<std::size_t>(s));
    Buffer<unsigned long long> d_parent(static_cast<std::size_t>(chunk) * static_cast<std::size_t>(s));
    Buffer<k::FeatureBest> d_best(oblivious ? 0 : static_cast<std::size_t>(chunk) * static_cast<std::size_t>(nf));
    Buffer<double> d_contrib(oblivious ? static_cast<std::size_t>(chunk) * static_cast<std::size_t>(total_bins) * 2 : 0);
    Buffer<double> d_totals(oblivious ? static_cast<std::size_t>(total_bins) * 2 : 0);
    d_totals.zero();
    d_contrib.zero();  // the missing bins' entries are never written
    std::vector<k::FeatureBest> best(oblivious ? 0 : static_cast<std::size_t>(ns) * static_cast<std::size_t>(nf));
    for (int s0 = 0; s0 < ns; s0 += chunk) {
      const int s1 = std::min(ns, s0 + chunk), cn = s1 - s0;
      d_hist.zero();
      std::vector<unsigned long long> parent(static_cast<std::size_t>(cn) * static_cast<std::size_t>(s));
      for (int q = 0; q < cn; ++q) {
        const auto& r = recs[static_cast<std::size_t>(open[static_cast<std::size_t>(s0 + q)])].sums;
        for (int j = 0; j < s; ++j) parent[static_cast<std::size_t>(q * s + j)] = static_cast<unsigned long long>(r[static_cast<std::size_t>(j)]);
      }
      d_parent.upload(parent.data(), parent.size());
      const std::size_t sh_bytes = static_cast<std::size_t>(cn) * static_cast<std::size_t>(max_nb) * static_cast<std::size_t>(s) * sizeof(unsigned long long);
      const int shared = sh_bytes <= 48 * 1024 ? 1 : 0;
      const dim3 grid(grid_for(n, threads, 64), static_cast<unsigned>(nf));
      k::histogram_kernel<Code><<<grid, threads, shared ? sh_bytes : 0>>>(
          d_codes.get(), n, d_slot.get(), s0, s1, d_stats.get(), d, scale, d_off.get(), total_bins, shared,
          d_hist.get());
      check(cudaGetLastError(), "histogram_kernel");
      const std::int64_t tasks = static_cast<std::int64_t>(cn) * nf;
      if (oblivious) {
        k::oblivious_terms_kernel<<<grid_for(tasks, 64, 1 << 30), 64>>>(
            d_hist.get(), d_off.get(), total_bins, nf, d_parent.get(), cn, d, inv_scale, d_cat.get(),
            d_work.get(), d_contrib.get());
        check(cudaGetLastError(), "oblivious_terms_kernel");
        k::oblivious_sum_kernel<<<grid_for(total_bins * 2, threads, 1 << 30), threads>>>(
            d_contrib.get(), cn, total_bins, d_totals.get());
        check(cudaGetLastError(), "oblivious_sum_kernel");
      } else {
        k::split_kernel<<<grid_for(tasks, 64, 1 << 30), 64>>>(
            d_hist.get(), d_off.get(), total_bins, nf, d_parent.get(), cn, d, inv_scale, d_cat.get(),
            d_weight.get(), static_cast<double>(gp.min_data_in_leaf), d_work.get(), d_best.get());
        check(cudaGetLastError(), "split_kernel");
        d_best.download(best.data() + static_cast<std::size_t>(s0) * static_cast<std::size_t>(nf),
                        static_cast<std::size_t>(tasks));
      }
    }
    // The host decides: per node (depth-wise) or one split for the level (oblivious), with the
    // CPU engine's rules (first strictly better feature, gain > max(min_split_gain, 0)).
    std::vector<k::SlotSplit> table(static_cast<std::size_t>(ns), k::SlotSplit{-1, -1, 0, 0, 0, -1, -1, -1, -1});
    std::vector<int> next;
    const int first_child = static_cast<int>(recs.size());
    const bool more = depth + 1 < gp.max_depth;
    auto split = [&](int q, int f, int bin, bool dl, double gain) {
      const int r = open[static_cast<std::size_t>(q)];
      const int l = static_cast<int>(recs.size());
      recs.resize(recs.size() + 2);
      Rec& p = recs[static_cast<std::size_t>(r)];
      p.feature = f;
      p.bin = bin;
      p.flags = static_cast<std::uint8_t>((dl ? tree::kDefaultLeft : 0) | (map.categorical(f) ? tree::kCategorical : 0));
      p.gain = gain;
      p.left = l;
      p.right = l + 1;
      recs[static_cast<std::size_t>(l)].depth = recs[static_cast<std::size_t>(l) + 1].depth = depth + 1;
      k::SlotSplit& t = table[static_cast<std::size_t>(q)];
      t = k::SlotSplit{f, bin, map.categorical(f) ? 1 : 0, dl ? 1 : 0, map.missing_bin(f), l, l + 1, -1, -1};
      if (more) {
        t.left_slot = static_cast<int>(next.size());
        next.push_back(l);
        t.right_slot = static_cast<int>(next.size());
        next.push_back(l + 1);
      }
    };
    if (oblivious) {
      std::vector<double> totals(static_cast<std::size_t>(total_bins) * 2);
      d_totals.download(totals.data(), totals.size());
      int bf = -1, bb = -1;
      bool bdl = false;
      double bg = gp.min_split_gain;
      for (int f = 0; f < nf; ++f) {
        const double fw = weight[static_cast<std::size_t>(f)];
        if (fw <= 0) continue;
        k::FeatureBest fb{-std::numeric_limits<double>::infinity(), -1, 0};
        const int mb = map.missing_bin(f);
        for (int b = 0; b < mb; ++b) {
          for (int dl = 0; dl < 2; ++dl) {
            const double g = totals[static_cast<std::size_t>((layout.offset[static_cast<std::size_t>(f)] + b) * 2 + dl)] * fw;
            if (g > fb.gain) fb = k::FeatureBest{g, b, dl};
          }
        }
        if (fb.bin >= 0 && fb.gain > bg && fb.gain > 0) {
          bg = fb.gain;
          bf = f;
          bb = fb.bin;
          bdl = fb.default_left != 0;
        }
      }
      if (bf < 0) break;
      for (int q = 0; q < ns; ++q) split(q, bf, bb, bdl, bg);
    } else {
      for (int q = 0; q < ns; ++q) {
        int bf = -1;
        double bg = gp.min_split_gain;
        for (int f = 0; f < nf; ++f) {
          const auto& p = best[static_cast<std::size_t>(q) * static_cast<std::size_t>(nf) + static_cast<std::size_t>(f)];
          if (p.bin >= 0 && p.gain > bg && p.gain > 0) {
            bg = p.gain;
            bf = f;
          }
        }
        if (bf >= 0) {
          const auto& p = best[static_cast<std::size_t>(q) * static_cast<std::size_t>(nf) + static_cast<std::size_t>(bf)];
          split(q, bf, p.bin, p.default_left != 0, p.gain);
        }
      }
    }
    Buffer<k::SlotSplit> d_table(table.data(), table.size());
    k::route_kernel<Code><<<grid_for(n, threads), threads>>>(d_codes.get(), n, d_table.get(), d_slot.get(),
                                                             d_node.get());
    check(cudaGetLastError(), "route_kernel");
    if (static_cast<int>(recs.size()) > first_child) node_sums(first_child, static_cast<int>(recs.size()) - first_child);
    open = std::move(next);
  }
  check(cudaDeviceSynchronize(), "fit");

  // The tree with the CPU engine's numbering: depth-wise growth numbers the children of a split
  // when it is made, splitting depth-first (left subtree first); oblivious growth level by level.
  GradientScore<0> pol;
  pol.d = d;
  pol.shift = in.shift;
  pol.scale = in.scale;
  tree::Tree t;
  t.n_outputs = d;
  std::vector<double> sd(static_cast<std::size_t>(s)), vals(static_cast<std::size_t>(d));
  auto add = [&](int r) {
    const Rec& x = recs[static_cast<std::size_t>(r)];
    for (int j = 0; j < d; ++j) sd[static_cast<std::size_t>(j)] = static_cast<double>(x.sums[static_cast<std::size_t>(j)]) * inv_scale;
    sd[static_cast<std::size_t>(d)] = static_cast<double>(x.sums[static_cast<std::size_t>(d)]);
    pol.leaf_value(sd.data(), vals.data());
    return t.add_leaf(vals.data(), pol.cover(sd.data()), x.depth);
  };
  std::vector<std::int32_t> tid(recs.size(), -1);
  auto set_split = [&](int r) {
    const Rec& x = recs[static_cast<std::size_t>(r)];
    t.set_split(tid[static_cast<std::size_t>(r)], x.feature, map.threshold(x.feature, x.bin), x.bin, x.flags,
                tid[static_cast<std::size_t>(x.left)], tid[static_cast<std::size_t>(x.right)], x.gain);
  };
  if (oblivious) {
    for (std::size_t r = 0; r < recs.size(); ++r) tid[r] = add(static_cast<int>(r));
    for (std::size_t r = 0; r < recs.size(); ++r)
      if (recs[r].feature >= 0) set_split(static_cast<int>(r));
  } else {
    tid[0] = add(0);
    std::vector<int> stack{0};
    while (!stack.empty()) {
      const int r = stack.back();
      stack.pop_back();
      const Rec& x = recs[static_cast<std::size_t>(r)];
      if (x.feature < 0) continue;
      const int l = x.left, rr = x.right;
      tid[static_cast<std::size_t>(l)] = add(l);
      tid[static_cast<std::size_t>(rr)] = add(rr);
      set_split(r);
      stack.push_back(rr);
      stack.push_back(l);
    }
  }
  std::vector<int> node(static_cast<std::size_t>(n));
  d_node.download(node.data(), node.size());
  node_of_row.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) node_of_row[static_cast<std::size_t>(i)] = tid[static_cast<std::size_t>(node[static_cast<std::size_t>(i)])];
  return t;
}

}  // namespace impl

/// One tree grown on the GPU (the Ensemble calls this through its Context).
inline tree::Tree fit_tree(const detail::CudaFitInput& in, std::vector<std::int32_t>& node_of_row) {
  if (in.data->wide()) return impl::fit<std::uint16_t>(in, node_of_row);
  return impl::fit<std::uint8_t>(in, node_of_row);
}

/// out (x.rows x D, row-major) += trees [start, stop) of the forest, on the GPU.
inline void predict_add(const Forest& f, ConstMatrixView<double> x, std::int64_t start,
                        std::int64_t stop, double* out, int device_id) {
  check(cudaSetDevice(device_id), "cudaSetDevice");
  const std::int64_t n = x.rows, nf = x.cols;
  const int d = f.n_outputs();
  std::vector<double> xs(static_cast<std::size_t>(n * nf));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < nf; ++j) xs[static_cast<std::size_t>(i * nf + j)] = x(i, j);
  Buffer<CompiledTree> d_trees(f.trees().data(), f.trees().size());
  Buffer<std::int32_t> d_feat(f.feat().data(), f.feat().size());
  Buffer<double> d_thr(f.thr().data(), f.thr().size());
  Buffer<std::uint8_t> d_flag(f.flag().data(), f.flag().size());
  Buffer<GNode> d_nodes(f.nodes().data(), f.nodes().size());
  Buffer<double> d_values(f.values().data(), f.values().size());
  Buffer<double> d_x(xs.data(), xs.size());
  Buffer<double> d_out(out, static_cast<std::size_t>(n * d));
  const ForestView v{d_trees.get(), f.size(), d_feat.get(), d_thr.get(), d_flag.get(), d_nodes.get(),
                     d_values.get(), d};
  cuda_kernels::predict_kernel<<<impl::grid_for(n, 128, 1 << 30), 128>>>(v, d_x.get(), n, nf, start, stop,
                                                                         d_out.get());
  check(cudaGetLastError(), "predict_kernel");
  check(cudaDeviceSynchronize(), "predict_kernel");
  d_out.download(out, static_cast<std::size_t>(n * d));
}

inline const bool kRegistered = [] {
  auto& hooks = gbrl::detail::cuda_hooks();
  hooks.fit = &fit_tree;
  hooks.predict = &predict_add;
  return true;
}();

}  // namespace orchard::gbrl::cuda

#endif  // __CUDACC__
