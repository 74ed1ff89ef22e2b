#pragma once
// Collision analysis: how many candidates of a population share each functional hash as the
// mantissa bits m, probe inputs N_E and seeds N_S vary (the paper's "models per hash" curves:
// on NAS-Bench-101 about 1291 models per hash at m = 1, 3.9 at m = 5, 1 at m >= 7). Optionally
// against a ground-truth key per candidate (e.g. the hash at m = 52 on many probes): a bucket
// holding candidates with different truths is a false collision.
#include <tsl/robin_map.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/parallel.hpp"

namespace orchard::fhash {

struct CollisionConfig {
  int mantissa_bits = 24;
  int num_examples = 32;
  int num_seeds = 1;
};

struct CollisionGrid {
  std::vector<int> mantissa_bits = {1, 3, 5, 7, 10, 16, 24};
  std::vector<int> num_examples = {32};
  std::vector<int> num_seeds = {1};

  void validate() const {
    require(!mantissa_bits.empty() && !num_examples.empty() && !num_seeds.empty(), "grid", "empty",
            "every axis needs at least one value");
    for (int m : mantissa_bits) require(m >= 1 && m <= 52, "mantissa_bits", m, "must lie in 1..52");
    for (int n : num_examples)
      require(n >= 1, "num_examples", n, "the probe set must not be empty");
    for (int s : num_seeds) require(s >= 1, "num_seeds", s, "must be >= 1");
  }
};

struct CollisionPoint {
  CollisionConfig config;
  std::int64_t candidates = 0;
  std::int64_t distinct_hashes = 0;
  std::int64_t largest_bucket = 0;
  double models_per_hash = 0.0;        ///< candidates / distinct hashes
  std::int64_t false_collisions = -1;  ///< buckets mixing different truths (-1: no truth given)
  double seconds = 0.0;                ///< hashing wall time
};

/// For every grid point, `make_hash(config)` returns a thread-safe callable h(candidate) ->
/// uint64; the population is hashed in parallel and the buckets counted. `truth`, when not
/// empty, holds one ground-truth key per candidate.
template <class C, class Factory>
std::vector<CollisionPoint> analyse_collisions(const std::vector<C>& population,
                                               const CollisionGrid& grid, Factory&& make_hash,
                                               const Context& ctx = Context(1),
                                               const std::vector<std::uint64_t>& truth = {}) {
  grid.validate();
  require(!population.empty(), "population.size", population.size(), "must not be empty");
  require(truth.empty() || truth.size() == population.size(), "truth.size", truth.size(),
          "must be empty or equal population.size");
  std::vector<CollisionPoint> out;
  const auto n = static_cast<std::int64_t>(population.size());
  for (int ns : grid.num_seeds) {
    for (int ne : grid.num_examples) {
      for (int m : grid.mantissa_bits) {
        CollisionPoint pt;
        pt.config = CollisionConfig{m, ne, ns};
        auto h = make_hash(pt.config);
        std::vector<std::uint64_t> hashes(static_cast<std::size_t>(n));
        const auto t0 = std::chrono::steady_clock::now();
        parallel_for_dynamic(
            ctx, n,
            [&](std::int64_t i) {
              hashes[static_cast<std::size_t>(i)] = h(population[static_cast<std::size_t>(i)]);
            },
            16);
        pt.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        struct Bucket {
          std::int64_t count = 0;
          std::uint64_t truth = 0;
          bool mixed = false;
        };
        tsl::robin_map<std::uint64_t, Bucket> buckets;
        for (std::int64_t i = 0; i < n; ++i) {
          Bucket& b = buckets[hashes[static_cast<std::size_t>(i)]];
          if (!truth.empty()) {
            const std::uint64_t t = truth[static_cast<std::size_t>(i)];
            if (b.count == 0) {
              b.truth = t;
            } else if (b.truth != t) {
              b.mixed = true;
            }
          }
          ++b.count;
        }
        pt.candidates = n;
        pt.distinct_hashes = static_cast<std::int64_t>(buckets.size());
        std::int64_t mixed = 0;
        for (const auto& kv : buckets) {
          pt.largest_bucket = std::max(pt.largest_bucket, kv.second.count);
          if (kv.second.mixed) ++mixed;
        }
        pt.models_per_hash = static_cast<double>(n) / static_cast<double>(pt.distinct_hashes);
        pt.false_collisions = truth.empty() ? -1 : mixed;
        out.push_back(pt);
      }
    }
  }
  return out;
}

}  // namespace orchard::fhash
