#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <orchard/fhash.hpp>
#include <vector>

using namespace orchard;
using namespace orchard::fhash;

namespace {
LambdaChainDomain small_lambda_domain(int m = 52) {
  LambdaChainParams lp;
  lp.grid = 2000;
  lp.canonical.mantissa_bits = m;
  return LambdaChainDomain(lp);
}
SearchParams small_search(bool fec) {
  SearchParams sp;
  sp.population_size = 20;
  sp.tournament_size = 5;
  sp.num_candidates = 600;
  sp.batch_size = 8;
  sp.use_fec = fec;
  sp.seed = 11;
  return sp;
}
}  // namespace

TEST_CASE("evolution is deterministic by seed and independent of the thread count") {
  const auto dom = small_lambda_domain();
  const auto sp = small_search(true);
  const auto a = search(dom, sp, Context(1));
  const auto b = search(dom, sp, Context(2));
  const auto c = search(dom, sp, Context(4));
  CHECK(a.best == b.best);
  CHECK(a.best == c.best);
  CHECK(a.best_curve == b.best_curve);
  CHECK(a.best_curve == c.best_curve);
  CHECK(a.evaluations == b.evaluations);
  CHECK(a.cache.full_hits == c.cache.full_hits);
  CHECK(a.population == c.population);
  auto sp2 = sp;
  sp2.seed = 12;
  const auto d = search(dom, sp2, Context(1));
  CHECK(d.best_curve != a.best_curve);
}

TEST_CASE("FEC reduces evaluations at an equal result on a fixed seed") {
  const auto dom = small_lambda_domain();
  for (auto algo : {SearchAlgorithm::regularized_evolution, SearchAlgorithm::random_search}) {
    auto on = small_search(true);
    auto off = small_search(false);
    on.algorithm = off.algorithm = algo;
    const auto with = search(dom, on, Context(2));
    const auto without = search(dom, off, Context(2));
    // The evaluation is deterministic and m = 52 bits: the cache returns exactly what an
    // evaluation would, so both runs follow the same trajectory.
    CHECK(with.best_curve == without.best_curve);
    CHECK(with.best == without.best);
    CHECK(without.evaluations == without.candidates);
    CHECK(with.evaluations < without.evaluations);
    CHECK(with.evaluations == with.cache.misses);
    CHECK(with.cache.lookups == with.candidates);
    CHECK(with.cache.misses + with.cache.partial_hits + with.cache.full_hits == with.cache.lookups);
    if (algo == SearchAlgorithm::regularized_evolution) {
      CHECK(with.cache.hit_fraction() > 0.2);
    }
  }
}

TEST_CASE("FCM re-mutates children equal to their parent, tabu avoids over-explored hashes") {
  const auto dom = small_lambda_domain();
  auto base = small_search(true);
  const auto plain = search(dom, base, Context(1));
  auto fcm = base;
  fcm.fcm_max_tries = 10;
  const auto with_fcm = search(dom, fcm, Context(1));
  CHECK(with_fcm.fcm_remutations > 0);
  CHECK(with_fcm.cache.hit_fraction() < plain.cache.hit_fraction());
  auto tabu = base;
  tabu.tabu_threshold = 3;
  const auto with_tabu = search(dom, tabu, Context(1));
  CHECK(with_tabu.tabu_remutations > 0);
  CHECK(with_tabu.cache.models_per_hash() < plain.cache.models_per_hash());
}

TEST_CASE("search parameter errors") {
  const auto dom = small_lambda_domain();
  auto sp = small_search(true);
  sp.population_size = 0;
  CHECK_THROWS_AS(search(dom, sp), InvalidArgument);
  sp = small_search(true);
  sp.tournament_size = 50;
  CHECK_THROWS_AS(search(dom, sp), InvalidArgument);
  sp = small_search(true);
  sp.cache.capacity = 0;
  CHECK_THROWS_AS(search(dom, sp), InvalidArgument);
  sp = small_search(true);
  sp.num_candidates = 0;
  CHECK_THROWS_AS(search(dom, sp), InvalidArgument);
}

TEST_CASE("lambdas of every shape hash through one API") {
  ProbeParams pp;
  pp.num_examples = 8;
  pp.input_dim = 2;
  Hasher h(HashParams{}, ProbeSet(pp));
  const auto a = hash_lambda(h, [](double x) { return 2 * x; }).hash;
  const auto b = hash_lambda(h, [](std::span<const double> x) { return x[0] + x[0]; }).hash;
  CHECK(a == b);
  const auto c = hash_lambda(h, [](std::span<const double> x) {
    return std::vector<double>{x[0], x[1]};
  });
  CHECK(c.outputs == 16);
  const auto s1 =
      hash_lambda(h, [](std::span<const double> x, Rng& r) { return x[0] + r.normal(); });
  const auto s2 =
      hash_lambda(h, [](std::span<const double> x, Rng& r) { return x[0] + r.normal(); });
  CHECK(s1.hash == s2.hash);
  const auto f = hash_lambda(h, [](double x) -> double {
    if (x > 0) throw std::runtime_error("positive");
    return x;
  });
  CHECK(f.failed);
  // The chain domain: neg(neg(x)) == x, abs(square(x)) == square(x).
  LambdaChainDomain dom(LambdaChainParams{3});
  CHECK(dom.hash({1, 1, 0}) == dom.hash({0, 0, 0}));
  CHECK(dom.hash({3, 2, 0}) == dom.hash({0, 3, 0}));
  CHECK(dom.hash({5, 0, 0}) != dom.hash({6, 0, 0}));
}

TEST_CASE("linear GP: equivalent programs hash equal, different ones differ") {
  using namespace lgp;
  LinearGpParams p;
  p.target = Target::product_sum;
  p.num_train = 200;
  p.num_valid = 100;
  LinearGpDomain dom(p);
  // s1 = x0 * x1 + x2 written two ways, plus a dead write to s5.
  Program a;
  a.predict = {{Op::v_get, 0, 0, 2, 0.0},
               {Op::v_get, 0, 0, 3, 1.0},
               {Op::s_mul, 2, 3, 4, 0},
               {Op::v_get, 0, 0, 2, 2.0},
               {Op::s_add, 4, 2, 1, 0}};
  Program b = a;
  b.predict[2] = {Op::s_mul, 3, 2, 4, 0};            // commuted operands
  b.predict.push_back({Op::s_const, 0, 0, 5, 1.5});  // dead code
  b.setup.push_back({Op::v_gaussian, 0, 0, 3, 0});   // unused random vector
  CHECK(dom.hash(a) == dom.hash(b));
  Program c = a;
  c.predict[4] = {Op::s_sub, 4, 2, 1, 0};
  CHECK(dom.hash(a) != dom.hash(c));
  // a is the exact target: fitness 1.
  Rng rng(0);
  CHECK(dom.evaluate(a, rng) == doctest::Approx(1.0));
  CHECK(dom.evaluate(c, rng) < 0.9);
  // A learning program: w (v1) starts random in setup, predict s1 = w . x, learn w += 0.01 (y - s1)
  // x.
  Program learner;
  learner.setup = {{Op::v_gaussian, 0, 0, 1, 0}, {Op::s_const, 0, 0, 5, 0.01}};
  learner.predict = {{Op::v_dot, 1, 0, 1, 0}};
  learner.learn = {{Op::s_sub, 0, 1, 2, 0},
                   {Op::s_mul, 2, 5, 3, 0},
                   {Op::v_scale, 3, 0, 2, 0},
                   {Op::v_add, 1, 2, 1, 0}};
  const auto r1 = dom.hash_result(learner);
  CHECK(!r1.failed);
  CHECK(r1.hash == dom.hash(learner));  // the RNG of setup is reset per repetition
}

TEST_CASE("linear GP evolution improves regression and classification") {
  using namespace lgp;
  for (auto task : {Task::regression, Task::classification}) {
    LinearGpParams p;
    p.task = task;
    p.num_train = 100;
    p.num_valid = 100;
    p.dim = 3;
    LinearGpDomain dom(p);
    SearchParams sp;
    sp.population_size = 30;
    sp.tournament_size = 5;
    sp.num_candidates = 1500;
    sp.batch_size = 16;
    sp.seed = 5;
    const auto r = search(dom, sp, Context(2));
    CHECK(r.best_curve.back() > r.best_curve.front());
    CHECK(r.cache.hit_fraction() > 0.3);
    if (task == Task::classification) CHECK(r.best_fitness > 0.55);
  }
}

TEST_CASE("collision analysis: models per hash falls as m, N_E grow") {
  LambdaChainParams base;
  base.length = 4;
  base.grid = 10;
  const LambdaChainDomain gen(base);
  std::vector<std::vector<int>> pop;
  Rng rng(8);
  for (int i = 0; i < 3000; ++i) pop.push_back(gen.random_candidate(rng));
  auto make = [&](const CollisionConfig& cfg) {
    LambdaChainParams p = base;
    p.canonical.mantissa_bits = cfg.mantissa_bits;
    p.probe.num_examples = cfg.num_examples;
    p.probe.num_seeds = cfg.num_seeds;
    auto dom = std::make_shared<LambdaChainDomain>(p);
    return [dom](const std::vector<int>& c) { return dom->hash(c); };
  };
  // Ground truth: m = 30 on 64 probes (the first 12 are the N_E = 12 probes).
  auto truth_hash = make(CollisionConfig{30, 64, 1});  // same m, many more probes
  std::vector<std::uint64_t> truth;
  for (const auto& c : pop) truth.push_back(truth_hash(c));
  CollisionGrid grid;
  grid.mantissa_bits = {1, 4, 12, 30};
  grid.num_examples = {1, 12};
  const auto pts = analyse_collisions(pop, grid, make, Context(2), truth);
  REQUIRE(pts.size() == 8);
  // Naive count for one point.
  {
    auto h = make(pts[5].config);
    std::vector<std::uint64_t> hs;
    for (const auto& c : pop) hs.push_back(h(c));
    std::sort(hs.begin(), hs.end());
    const auto distinct = std::unique(hs.begin(), hs.end()) - hs.begin();
    CHECK(pts[5].distinct_hashes == distinct);
  }
  for (std::size_t i = 0; i + 1 < 4; ++i) {
    CHECK(pts[i].models_per_hash >= pts[i + 1].models_per_hash);          // N_E = 1, growing m
    CHECK(pts[4 + i].models_per_hash >= pts[4 + i + 1].models_per_hash);  // N_E = 12
  }
  for (std::size_t i = 0; i < 4; ++i) CHECK(pts[i].models_per_hash >= pts[4 + i].models_per_hash);
  CHECK(pts[0].false_collisions > 0);   // one probe, one mantissa bit: many false merges
  CHECK(pts[7].models_per_hash > 1.5);  // real functional duplicates remain
  CHECK(pts[7].false_collisions * 100 < pts[7].distinct_hashes);  // rare: agree on 12 probes only
  CHECK(pts[7].false_collisions < pts[4].false_collisions);
  CollisionGrid bad;
  bad.mantissa_bits = {0};
  CHECK_THROWS_AS(analyse_collisions(pop, bad, make), InvalidArgument);
}
