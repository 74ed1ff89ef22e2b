// GBRL microbenchmarks: milliseconds per tree fit to N x D gradients (the spec's shapes, greedy
// and oblivious, cosine and l2, 1 thread and all threads), and nanoseconds per (sample x tree)
// prediction with 1k / 10k / 100k trees (depth 4, D = 5).
#include <benchmark/benchmark.h>

#include <orchard/gbrl.hpp>
#include <map>
#include <string>
#include <vector>

using namespace orchard;
using namespace orchard::gbrl;

namespace {
struct Shape {
  index_t n, f;
  int d;
};

RowMatrix normal(index_t r, index_t c, std::uint64_t seed) {
  Rng rng(seed);
  RowMatrix m(r, c);
  for (index_t i = 0; i < r; ++i)
    for (index_t j = 0; j < c; ++j) m(i, j) = rng.normal();
  return m;
}

void fit(benchmark::State& st, Shape s, std::string score, std::string growth, int depth, int threads) {
  const RowMatrix x = normal(s.n, s.f, 1), g = normal(s.n, s.d, 2);
  Params p;
  p.n_outputs = s.d;
  p.score = score;
  p.growth = growth;
  p.max_depth = depth;
  p.max_bin = 255;
  Ensemble e(p, Context(threads));
  for (auto _ : st) {
    e.step(ConstMatrixView<double>(x), ConstMatrixView<double>(g));
    if (e.num_trees() >= 200) {
      st.PauseTiming();
      e = Ensemble(p, Context(threads));
      st.ResumeTiming();
    }
  }
  st.counters["ms_per_tree"] = benchmark::Counter(static_cast<double>(st.iterations()) * 1e-3,
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// An ensemble of n_trees depth-4 trees: 1000 grown trees, repeated.
Ensemble big(const std::string& growth, std::int64_t n_trees) {
  const RowMatrix x = normal(512, 16, 3);
  Params p;
  p.n_outputs = 5;
  p.growth = growth;
  p.max_depth = 4;
  Ensemble e(p);
  Rng rng(4);
  for (int t = 0; t < 1000; ++t) {
    const RowMatrix g = normal(512, 5, 100 + static_cast<std::uint64_t>(t));
    e.step(ConstMatrixView<double>(x), ConstMatrixView<double>(g));
  }
  nlohmann::json j = e.to_json();
  nlohmann::json trees = nlohmann::json::array(), lrs = nlohmann::json::array();
  for (std::int64_t t = 0; t < n_trees; ++t) {
    trees.push_back(j["trees"][static_cast<std::size_t>(t % 1000)]);
    lrs.push_back(j["tree_lr"][static_cast<std::size_t>(t % 1000)]);
  }
  j["trees"] = trees;
  j["tree_lr"] = lrs;
  return Ensemble::from_json(j);
}

void predict(benchmark::State& st, std::string growth, std::int64_t n_trees, int threads) {
  static std::map<std::pair<std::string, std::int64_t>, Ensemble> cache;
  auto it = cache.find({growth, n_trees});
  if (it == cache.end()) it = cache.emplace(std::make_pair(growth, n_trees), big(growth, n_trees)).first;
  Ensemble& e = it->second;
  e.set_context(Context(threads));
  const index_t rows = n_trees >= 100000 ? 256 : 2048;
  const RowMatrix x = normal(rows, 16, 5);
  for (auto _ : st) benchmark::DoNotOptimize(e.predict(ConstMatrixView<double>(x)).data());
  st.counters["ns_per_sample_tree"] = benchmark::Counter(
      static_cast<double>(st.iterations()) * static_cast<double>(rows) * static_cast<double>(n_trees) * 1e9,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

const int kAll = Context(0).threads();

[[maybe_unused]] const bool registered = [] {
  struct Case {
    Shape s;
    const char* score;
    const char* growth;
    int depth;
  };
  const std::vector<Case> cases = {
      {{256, 8, 5}, "cosine", "greedy", 4},      {{256, 8, 5}, "l2", "greedy", 4},
      {{256, 8, 5}, "cosine", "oblivious", 4},   {{64, 128, 19}, "cosine", "greedy", 4},
      {{512, 115, 20}, "cosine", "greedy", 4},   {{512, 115, 20}, "cosine", "oblivious", 4},
      {{512, 115, 20}, "l2", "greedy", 4},       {{512, 115, 20}, "l2", "oblivious", 4},
      {{4096, 32, 4}, "l2", "oblivious", 6},
  };
  for (const auto& c : cases) {
    for (int th : {1, kAll}) {
      const std::string name = "fit/" + std::to_string(c.s.n) + "x" + std::to_string(c.s.f) + "x" +
                               std::to_string(c.s.d) + "/" + c.score + "/" + c.growth + "/depth" +
                               std::to_string(c.depth) + "/threads:" + std::to_string(th);
      benchmark::RegisterBenchmark(name.c_str(), fit, c.s, c.score, c.growth, c.depth, th)->Unit(benchmark::kMillisecond);
      if (kAll == 1) break;
    }
  }
  for (const char* g : {"greedy", "oblivious"}) {
    for (std::int64_t t : {1000, 10000, 100000}) {
      const std::string name = std::string("predict/") + g + "/trees:" + std::to_string(t) + "/threads:1";
      benchmark::RegisterBenchmark(name.c_str(), predict, g, t, 1)->Unit(benchmark::kMillisecond);
    }
  }
  return true;
}();
}  // namespace

BENCHMARK_MAIN();
