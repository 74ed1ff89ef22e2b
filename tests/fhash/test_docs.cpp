// The usage example of docs/fhash.md, compiled and run.
#include <doctest/doctest.h>

#include <cmath>
#include <orchard/fhash.hpp>
#include <span>

TEST_CASE("docs/fhash.md usage example") {
  using namespace orchard;
  using namespace orchard::fhash;

  // 1. Hash any callable on a seeded canonical probe set (N_E = 16 inputs, N_S = 1 seed).
  HashParams hp;
  hp.canonical.mantissa_bits = 24;  // keep sign, exponent and the top 24 mantissa bits
  Hasher hasher(hp, ProbeSet(ProbeParams{16, 1, 2}));
  auto f = [](std::span<const double> x) { return (x[0] + x[1]) * (x[0] + x[1]); };
  auto g = [](std::span<const double> x) { return x[0] * x[0] + 2 * x[0] * x[1] + x[1] * x[1]; };
  const bool same = hash_lambda(hasher, f).hash == hash_lambda(hasher, g).hash;  // true

  // 2. Cache fitness by functional hash.
  FecCache cache(CacheParams{});  // LRU, capacity 100000
  double fit = cache.evaluate(hash_lambda(hasher, f).hash, [] { return 0.75; });
  fit = cache.evaluate(hash_lambda(hasher, g).hash, [] { return 0.0; });  // full hit: 0.75

  // 3. Evolve linear-GP programs with the cache on.
  const lgp::LinearGpDomain domain(lgp::LinearGpParams::symbolic_regression());
  SearchParams sp;
  sp.num_candidates = 2000;
  sp.use_fec = true;
  const auto result = search(domain, sp, Context(2));
  // result.best (a Program), result.best_fitness, result.cache.hit_fraction(), ...

  CHECK(same);
  CHECK(fit == 0.75);
  CHECK(result.evaluations < result.candidates);
  CHECK(cache.stats().full_hits == 1);
}
