// fhash microbenchmarks: canonicalise + XXH3 throughput (outputs/s), candidates hashed per second
// (probe harness around a lambda, a linear-GP program), the reference-parity SHA-256 path, and
// cache operations per second under 1 and N threads sharing one sharded cache.
#include <benchmark/benchmark.h>

#include <orchard/fhash.hpp>
#include <vector>

using namespace orchard;
using namespace orchard::fhash;

static void BM_HashOutputs(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<double> v(n);
  Rng rng(1);
  for (auto& x : v) x = rng.normal();
  HashParams hp;
  hp.canonical.rounding = state.range(1) ? Rounding::nearest : Rounding::truncate;
  Hasher h(hp, ProbeSet{});
  for (auto _ : state) benchmark::DoNotOptimize(h.hash_outputs(v));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  state.SetLabel("outputs/s; rounding=" + std::string(state.range(1) ? "nearest" : "truncate"));
}
BENCHMARK(BM_HashOutputs)->Args({32, 0})->Args({4096, 0})->Args({4096, 1})->Args({1 << 20, 0});

static void BM_HashRowsBatched(benchmark::State& state) {
  const int rows = 4096, cols = 256;
  std::vector<float> v(static_cast<std::size_t>(rows) * cols);
  Rng rng(2);
  for (auto& x : v) x = static_cast<float>(rng.normal());
  Hasher h;
  const Context ctx(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(h.hash_rows(ctx, ConstMatrixView<float>(v.data(), rows, cols)));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * rows * cols);
  state.SetLabel("outputs/s, threads=" + std::to_string(state.range(0)));
}
BENCHMARK(BM_HashRowsBatched)->Arg(1)->Arg(2)->UseRealTime();

static void BM_HashLambdaCandidate(benchmark::State& state) {
  ProbeParams pp;
  pp.num_examples = static_cast<int>(state.range(0));
  Hasher h(HashParams{}, ProbeSet(pp));
  double a = 0.5;
  for (auto _ : state) {
    a += 1e-9;
    benchmark::DoNotOptimize(hash_lambda(h, [a](double x) { return a * x * x + 1.0; }).hash);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel("candidates/s, N_E=" + std::to_string(state.range(0)));
}
BENCHMARK(BM_HashLambdaCandidate)->Arg(4)->Arg(32);

// The NAS-Bench-101 hasher's work per candidate: 4 accuracies mixed, the XXH3 path and the
// reference-parity SHA-256 path (the official Python definition, in C++).
static void BM_HashFourAccuracies(benchmark::State& state) {
  const std::vector<double> acc = {0.5406650900840759, 0.14743590354919434, 0.5259414911270142,
                                   0.15294471383094788};
  HashParams hp;
  hp.mixer = state.range(0) ? Mixer::reference_sha256 : Mixer::xxh3;
  Hasher h(hp, ProbeSet{});
  for (auto _ : state) benchmark::DoNotOptimize(h.hash_outputs(acc));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(std::string("candidates/s, ") + to_string(hp.mixer));
}
BENCHMARK(BM_HashFourAccuracies)->Arg(0)->Arg(1);

static void BM_HashLinearGpProgram(benchmark::State& state) {
  lgp::LinearGpParams p;
  p.num_train = 1;
  p.num_valid = 1;
  p.init_setup = 2;
  p.init_predict = 6;
  p.init_learn = 3;
  const lgp::LinearGpDomain dom(p);
  Rng rng(3);
  std::vector<lgp::Program> progs;
  for (int i = 0; i < 256; ++i) progs.push_back(dom.random_candidate(rng));
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(dom.hash(progs[i++ % progs.size()]));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel("candidates/s, N_E=10");
}
BENCHMARK(BM_HashLinearGpProgram);

static FecCache& shared_cache() {
  static FecCache c([] {
    CacheParams p;
    p.capacity = 100000;
    p.shards = 64;
    return p;
  }());
  return c;
}

static void BM_CacheOps(benchmark::State& state) {
  FecCache& c = shared_cache();
  Rng rng(static_cast<std::uint64_t>(state.thread_index()) + 10);
  for (auto _ : state) {
    const std::uint64_t h = rng.uniform_int(200000) * 0x9E3779B97F4A7C15ull;
    if (c.lookup(h).needs_evaluation()) c.record(h, 1.0);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel("lookup(+record on miss) ops/s, LRU 100k, 64 shards");
}
BENCHMARK(BM_CacheOps)->Threads(1)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
