#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <orchard/fhash.hpp>
#include <string>
#include <vector>

#include "orchard_test.hpp"

using namespace orchard;
using namespace orchard::fhash;

namespace {

// A deliberately simple model of the cache policies: a vector ordered by recency
// (front = most recent), one global capacity.
struct NaiveCache {
  struct E {
    std::uint64_t h;
    double fitness = 0;
    int evals = 0;
    std::int64_t hits = 0;
  };
  CacheParams p;
  std::vector<E> v;
  Rng rng;
  std::int64_t misses = 0, partial = 0, full = 0, evictions = 0, forgotten = 0;
  explicit NaiveCache(const CacheParams& params) : p(params), rng(params.seed) {}

  int find(std::uint64_t h) {
    for (std::size_t i = 0; i < v.size(); ++i)
      if (v[i].h == h) return static_cast<int>(i);
    return -1;
  }
  void to_front(int i) {
    E e = v[static_cast<std::size_t>(i)];
    v.erase(v.begin() + i);
    v.insert(v.begin(), e);
  }
  void add(std::uint64_t h) {
    v.insert(v.begin(), E{h});
    if (p.policy == CachePolicy::lru && v.size() > p.capacity) {
      v.pop_back();
      ++evictions;
    }
  }
  // returns 0 miss, 1 partial, 2 full (+ fitness)
  int lookup(std::uint64_t h, double* fit) {
    int i = find(h);
    if (i < 0) {
      ++misses;
      add(h);
      return 0;
    }
    to_front(i);
    E& e = v.front();
    if (e.evals < p.max_evals) {
      ++partial;
      return 1;
    }
    ++full;
    ++e.hits;
    *fit = e.fitness;
    bool forget = p.forget_every > 0 && e.hits >= p.forget_every;
    if (p.forget_probability > 0 && rng.uniform() < p.forget_probability) forget = true;
    if (forget) {
      v.erase(v.begin());
      ++forgotten;
    }
    return 2;
  }
  double record(std::uint64_t h, double f) {
    int i = find(h);
    if (i < 0) {
      add(h);
    } else {
      to_front(i);
    }
    E& e = v.front();
    e.fitness = (e.fitness * e.evals + f) / (e.evals + 1);
    ++e.evals;
    return e.fitness;
  }
};

void compare_policy(const CacheParams& p, int ops, std::uint64_t universe) {
  FecCache cache(p);
  NaiveCache naive(p);
  Rng rng(1234);
  for (int t = 0; t < ops; ++t) {
    const std::uint64_t h = 1000 + rng.uniform_int(universe);
    const double value = std::floor(rng.uniform() * 100.0) / 4.0;
    double nf = 0;
    const int nk = naive.lookup(h, &nf);
    const Lookup l = cache.lookup(h);
    REQUIRE(static_cast<int>(l.kind) == nk);
    if (nk == 2) {
      CHECK(l.entry.fitness == nf);
    } else {
      const double a = cache.record(h, value).fitness;
      const double b = naive.record(h, value);
      CHECK(a == b);
    }
  }
  const auto st = cache.stats();
  CHECK(st.misses == naive.misses);
  CHECK(st.partial_hits == naive.partial);
  CHECK(st.full_hits == naive.full);
  CHECK(st.evictions == naive.evictions);
  CHECK(st.forgotten == naive.forgotten);
  CHECK(st.lookups == ops);
  CHECK(st.size == static_cast<std::int64_t>(naive.v.size()));
  // The recency order matches the naive list (least recent first).
  std::vector<std::uint64_t> expect;
  for (auto it = naive.v.rbegin(); it != naive.v.rend(); ++it) expect.push_back(it->h);
  CHECK(cache.keys_lru_order() == expect);
}

}  // namespace

TEST_CASE("cache policies agree with a naive model") {
  CacheParams p;
  p.shards = 1;
  SUBCASE("unbounded") {
    p.policy = CachePolicy::unbounded;
    compare_policy(p, 3000, 200);
  }
  SUBCASE("lru capacity 17") {
    p.capacity = 17;
    compare_policy(p, 3000, 40);
  }
  SUBCASE("forget every 3 hits") {
    p.forget_every = 3;
    compare_policy(p, 3000, 30);
  }
  SUBCASE("forgetful F = 0.3 with a seeded RNG") {
    p.forget_probability = 0.3;
    p.seed = 77;
    compare_policy(p, 3000, 30);
  }
  SUBCASE("running mean over M = 4 evaluations") {
    p.max_evals = 4;
    compare_policy(p, 3000, 25);
  }
  SUBCASE("everything at once") {
    p.capacity = 12;
    p.max_evals = 2;
    p.forget_every = 5;
    p.forget_probability = 0.1;
    p.seed = 3;
    compare_policy(p, 4000, 30);
  }
}

TEST_CASE("cache: running mean, partial hits, cost accounting") {
  CacheParams p;
  p.max_evals = 3;
  p.hash_cost = 0.5;
  FecCache c(p);
  int calls = 0;
  auto eval = [&] { return static_cast<double>(++calls); };
  CHECK(c.evaluate(42, eval, 10.0) == 1.0);  // miss
  CHECK(c.evaluate(42, eval, 10.0) == 1.5);  // partial hit: mean of 1, 2
  CHECK(c.evaluate(42, eval, 10.0) == 2.0);  // partial hit: mean of 1, 2, 3
  CHECK(c.evaluate(42, eval, 10.0) == 2.0);  // full hit, no evaluation
  CHECK(calls == 3);
  const auto st = c.stats();
  CHECK(st.misses == 1);
  CHECK(st.partial_hits == 2);
  CHECK(st.full_hits == 1);
  CHECK(st.hit_fraction() == doctest::Approx(0.25));
  CHECK(st.eval_cost == 30.0);
  CHECK(st.saved_cost == 10.0);
  CHECK(st.hash_cost == 2.0);
  CHECK(st.cost_speedup() == doctest::Approx(40.0 / 32.0));
  CHECK(st.models_per_hash() == 4.0);
  // aux metrics average too
  FecCache a;
  a.lookup(7);
  a.record(7, 1.0, {2.0, 4.0});
  auto e = a.peek(7);
  REQUIRE(e.has_value());
  CHECK(e->aux == std::vector<double>{2.0, 4.0});
}

TEST_CASE("cache: bad parameters are clear errors") {
  CacheParams p;
  p.capacity = 0;
  CHECK_THROWS_AS(FecCache{p}, InvalidArgument);
  p = CacheParams{};
  p.forget_probability = 1.5;
  CHECK_THROWS_AS(FecCache{p}, InvalidArgument);
  p = CacheParams{};
  p.max_evals = 0;
  CHECK_THROWS_AS(FecCache{p}, InvalidArgument);
  p = CacheParams{};
  p.forget_every = -1;
  CHECK_THROWS_AS(FecCache{p}, InvalidArgument);
}

TEST_CASE("cache: N threads give the same counters as 1") {
  auto run = [](int threads) {
    CacheParams p;
    p.policy = CachePolicy::unbounded;
    p.max_evals = 2;
    FecCache c(p);
    // Each index i works on hash i % 97 in its own stream: misses/partials/fulls per hash do not
    // depend on the interleaving because every hash is owned by one iteration block.
    parallel_for(Context(threads), 97, [&](std::int64_t h) {
      for (int rep = 0; rep < 20; ++rep) {
        c.evaluate(static_cast<std::uint64_t>(h) * 7919u, [&] { return static_cast<double>(h); });
      }
    });
    const auto owned = c.stats();
    // All threads hammer one shared hash with equal values. A lookup and its record are two lock
    // scopes, so how many lookups see fewer than max_evals results depends on the interleaving:
    // only the totals are fixed, and the cached value must stay exact.
    parallel_for(Context(threads), 400, [&](std::int64_t) {
      c.lookup(5);
      c.record(5, 3.0);
    });
    CHECK(c.lookup(5).entry.fitness == doctest::Approx(3.0));
    return std::pair{owned, c.stats()};
  };
  const auto [one_owned, one] = run(1);
  for (int t : {2, 4, 8}) {
    const auto [owned, many] = run(t);
    CHECK(owned.lookups == one_owned.lookups);
    CHECK(owned.misses == one_owned.misses);
    CHECK(owned.partial_hits == one_owned.partial_hits);
    CHECK(owned.full_hits == one_owned.full_hits);
    CHECK(owned.evaluations == one_owned.evaluations);
    CHECK(many.lookups == one.lookups);
    CHECK(many.misses == one.misses);
    CHECK(many.partial_hits + many.full_hits == one.partial_hits + one.full_hits);
    CHECK(many.evaluations == one.evaluations);
    CHECK(many.size == one.size);
  }
  CHECK(one.lookups == 97 * 20 + 400 + 1);
  CHECK(one.misses == 97 + 1);
  CHECK(one.evaluations == 97 * 2 + 400);
}

TEST_CASE("cache: save / load round trip, corrupted files throw") {
  orchard_test::TempDir dir("fhash_cache");
  CacheParams p;
  p.capacity = 50;
  p.shards = 4;
  p.max_evals = 2;
  FecCache c(p);
  Rng rng(9);
  for (int i = 0; i < 300; ++i) {
    const std::uint64_t h = rng.uniform_int(80) * 0x9E3779B97F4A7C15ull;
    if (c.lookup(h).needs_evaluation()) c.record(h, rng.normal(), {rng.uniform()}, 2.0);
  }
  c.lookup(12345);
  c.record(12345, -std::numeric_limits<double>::infinity());
  const auto path = (dir / "cache.json").string();
  c.save(path);
  FecCache d = FecCache::load(path);
  CHECK(d.keys_lru_order() == c.keys_lru_order());
  for (auto h : c.keys_lru_order()) {
    const auto a = c.peek(h), b = d.peek(h);
    REQUIRE(b.has_value());
    CHECK(a->evals == b->evals);
    CHECK(a->hits == b->hits);
    CHECK(a->aux == b->aux);
    CHECK(std::bit_cast<std::uint64_t>(a->fitness) == std::bit_cast<std::uint64_t>(b->fitness));
  }
  CHECK(d.stats().lookups == c.stats().lookups);
  CHECK(d.stats().full_hits == c.stats().full_hits);
  // Same behaviour afterwards.
  for (int i = 0; i < 100; ++i) {
    const std::uint64_t h = rng.uniform_int(80) * 0x9E3779B97F4A7C15ull;
    CHECK(c.lookup(h).kind == d.lookup(h).kind);
  }
  // Truncated file
  {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream out(path);
    out << text.substr(0, text.size() / 2);
  }
  CHECK_THROWS_AS(FecCache::load(path), ParseError);
  {
    std::ofstream out(path);
    out << R"({"format":"orchard","kind":"fhash_cache","version":99})";
  }
  CHECK_THROWS_AS(FecCache::load(path), FormatError);
  {
    std::ofstream out(path);
    out << R"({"format":"orchard","kind":"fhash_cache","version":1,"params":{}})";
  }
  CHECK_THROWS_AS(FecCache::load(path), FormatError);
  CHECK_THROWS_AS(FecCache::load((dir / "missing.json").string()), IoError);
}
