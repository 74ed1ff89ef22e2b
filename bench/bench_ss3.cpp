// Microbenchmarks of orchard::ss3 (single thread unless stated): training and prediction on the
// Debian fortunes corpus (words and 3-grams; second argument 0 = pyss3 tokenizer, 1 = unicode
// default), value recomputation on a synthetic V = 100k, C = 10 model, and model save/load.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <orchard/ss3.hpp>

namespace ss3 = orchard::ss3;

namespace {

const std::string kFortunes = "/usr/share/games/fortunes";

struct Split {
  std::vector<std::string> xtr, ytr, xte, yte;
  std::int64_t train_tokens[2] = {0, 0};  ///< words of the training set, per tokenizer mode
};

/// Benchmark argument 1: 0 = pyss3's preprocessing (parity mode), 1 = the unicode default.
ss3::TokenizerMode mode_arg(std::int64_t v) {
  return v == 0 ? ss3::TokenizerMode::pyss3 : ss3::TokenizerMode::unicode;
}

const Split& fortunes() {
  static const Split s = [] {
    Split r;
    if (!std::filesystem::exists(kFortunes + "/food")) return r;
    const auto d = ss3::load_fortunes(kFortunes);
    for (std::size_t i = 0; i < d.docs.size(); ++i) {
      (i % 5 == 0 ? r.xte : r.xtr).push_back(d.docs[i]);
      (i % 5 == 0 ? r.yte : r.ytr).push_back(d.labels[i]);
    }
    for (int m = 0; m < 2; ++m) {
      const ss3::Tokenizer tk(mode_arg(m));
      for (const auto& x : r.xtr) tk.learn_stream(x, [&](std::string_view) { ++r.train_tokens[m]; }, [] {});
    }
    return r;
  }();
  return s;
}

void BM_Train(benchmark::State& st) {
  const auto& d = fortunes();
  if (d.xtr.empty()) return st.SkipWithError("fortunes corpus not installed");
  ss3::Params p;
  p.ngrams = static_cast<int>(st.range(0));
  p.tokenizer = mode_arg(st.range(1));
  for (auto _ : st) {
    ss3::Model m(p);
    m.fit(d.xtr, d.ytr);
    benchmark::DoNotOptimize(m.num_terms());
  }
  st.counters["tokens/s"] = benchmark::Counter(static_cast<double>(d.train_tokens[st.range(1)]) * static_cast<double>(st.iterations()),
                                               benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Train)->ArgsProduct({{1, 3}, {0, 1}})->Unit(benchmark::kMillisecond);

void BM_Predict(benchmark::State& st) {
  const auto& d = fortunes();
  if (d.xtr.empty()) return st.SkipWithError("fortunes corpus not installed");
  ss3::Params p;
  p.ngrams = static_cast<int>(st.range(0));
  p.tokenizer = mode_arg(st.range(1));
  ss3::Model m(p);
  m.fit(d.xtr, d.ytr);
  const orchard::Context one(1);
  for (auto _ : st) benchmark::DoNotOptimize(m.predict(d.xte, one));
  st.counters["docs/s"] = benchmark::Counter(static_cast<double>(d.xte.size()) * static_cast<double>(st.iterations()),
                                             benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Predict)->ArgsProduct({{1, 3}, {0, 1}})->Unit(benchmark::kMillisecond);

/// A synthetic word model: V words with Zipf-like counts spread over C categories.
const ss3::Model& synthetic() {
  static const ss3::Model m = [] {
    const std::size_t V = 100000, C = 10;
    orchard::Rng rng(42);
    std::vector<std::string> cats, words(V);
    for (std::size_t c = 0; c < C; ++c) cats.push_back(std::string("cat").append(std::to_string(c)));
    for (std::size_t w = 0; w < V; ++w) words[w] = std::string("w").append(std::to_string(w));
    std::vector<std::int32_t> parent(V, -1), word(V);
    std::vector<std::int64_t> fr(V * C, 0);
    std::vector<std::vector<std::int64_t>> max_fr(C, std::vector<std::int64_t>{1});
    for (std::size_t w = 0; w < V; ++w) {
      word[w] = static_cast<std::int32_t>(w);
      const double base = 5000.0 / static_cast<double>(w + 1);
      bool any = false;
      for (std::size_t c = 0; c < C; ++c) {
        const double u = rng.uniform();
        const auto f = static_cast<std::int64_t>(base * u * u * 3.0 + (u < 0.15 ? 2 : 0));
        fr[w * C + c] = f;
        any = any || f > 0;
        max_fr[c][0] = std::max(max_fr[c][0], f);
      }
      if (!any) fr[w * C + w % C] = 1;
    }
    ss3::Model r;
    r.assign(cats, words, parent, word, fr, max_fr, false);
    return r;
  }();
  return m;
}

void BM_UpdateValues(benchmark::State& st) {
  ss3::Model m = synthetic();
  const orchard::Context ctx(static_cast<int>(st.range(0)));
  for (auto _ : st) {
    m.update_values(ctx);
    benchmark::DoNotOptimize(m.values().cv.data());
  }
}
BENCHMARK(BM_UpdateValues)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

void BM_SaveLoad(benchmark::State& st) {
  const ss3::Model& m = synthetic();
  const bool binary = st.range(0) == 1;
  const std::string path = (std::filesystem::temp_directory_path() / (binary ? "bench_ss3.ss3b" : "bench_ss3.json")).string();
  for (auto _ : st) {
    ss3::save(m, path);
    benchmark::DoNotOptimize(ss3::load(path).num_terms());
  }
  st.counters["bytes"] = static_cast<double>(std::filesystem::file_size(path));
  std::filesystem::remove(path);
}
BENCHMARK(BM_SaveLoad)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
