// Evolutionary search with and without the functional-equivalence cache (FEC) on the fhash
// domains, same seeds and budget: prints hit fraction, evaluations saved, wall time, speed-up
// and final quality.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <orchard/core/io.hpp>
#include <orchard/fhash.hpp>
#include <string>

using namespace orchard;
using namespace orchard::fhash;

namespace {

template <class D>
void compare(const std::string& name, const D& dom, const SearchParams& base, const Context& ctx) {
  SearchParams on = base, off = base;
  on.use_fec = true;
  off.use_fec = false;
  const auto without = search(dom, off, ctx);
  const auto with = search(dom, on, ctx);
  const double speedup = with.wall_seconds > 0 ? without.wall_seconds / with.wall_seconds : 0.0;
  std::printf("%-10s %-9s candidates %lld\n", name.c_str(), to_string(base.algorithm),
              static_cast<long long>(with.candidates));
  std::printf("  no FEC : evaluations %7lld  wall %8.3f s  best fitness %.6f\n",
              static_cast<long long>(without.evaluations), without.wall_seconds,
              without.best_fitness);
  std::printf(
      "  FEC    : evaluations %7lld  wall %8.3f s  best fitness %.6f  hit fraction %.3f  "
      "models/hash %.2f  hash time %.3f s\n",
      static_cast<long long>(with.evaluations), with.wall_seconds, with.best_fitness,
      with.cache.hit_fraction(), with.cache.models_per_hash(), with.hash_seconds);
  std::printf("  evaluations saved %.1f %%, wall-clock speed-up %.2fx\n",
              100.0 * (1.0 - static_cast<double>(with.evaluations) /
                                 static_cast<double>(without.evaluations)),
              speedup);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Evolutionary search with and without functional-equivalence caching"};
  std::string domain = "all", algorithm = "evolution";
  SearchParams sp;
  sp.num_candidates = 20000;
  sp.population_size = 100;
  sp.tournament_size = 10;
  sp.batch_size = 16;
  sp.seed = 1;
  int threads = 0, mantissa = 24;
  int fcm = 0;
  std::string fmnist = "/usr/share/datasets/fashion-mnist";
  std::int64_t graph_candidates = 300, graph_train = 2000, graph_test = 1000;
  app.add_option("--domain", domain, "lgp, lgp-class, lambda, graph or all")->capture_default_str();
  app.add_option("--fashion-mnist", fmnist, "Fashion-MNIST folder (graph domain)")
      ->capture_default_str();
  app.add_option("--graph-candidates", graph_candidates, "Candidates of the graph domain")
      ->capture_default_str();
  app.add_option("--graph-train", graph_train, "Training images (graph domain)")
      ->capture_default_str();
  app.add_option("--graph-test", graph_test, "Test images (graph domain)")->capture_default_str();
  app.add_option("--algorithm", algorithm, "evolution or random")->capture_default_str();
  app.add_option("--candidates", sp.num_candidates, "Candidates per run")->capture_default_str();
  app.add_option("--population", sp.population_size, "Population size P")->capture_default_str();
  app.add_option("--tournament", sp.tournament_size, "Tournament size S")->capture_default_str();
  app.add_option("--batch", sp.batch_size, "Children per step")->capture_default_str();
  app.add_option("--seed", sp.seed, "Seed")->capture_default_str();
  app.add_option("--mantissa", mantissa, "Mantissa bits m of the hash")->capture_default_str();
  app.add_option("--fcm", fcm, "FCM re-mutation tries (0 = off)")->capture_default_str();
  app.add_option("--threads", threads, "Threads (0 = all)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    sp.algorithm = parse_search_algorithm(algorithm);
    sp.fcm_max_tries = fcm;
    const Context ctx(threads);
    std::printf("threads %d, P=%d, S=%d, batch %d, m=%d, seed %llu\n", ctx.threads(),
                sp.population_size, sp.tournament_size, sp.batch_size, mantissa,
                static_cast<unsigned long long>(sp.seed));
    if (domain == "lgp" || domain == "all") {
      auto p = lgp::LinearGpParams::symbolic_regression();
      p.canonical.mantissa_bits = mantissa;
      compare("lgp-regr", lgp::LinearGpDomain(p), sp, ctx);
    }
    if (domain == "lgp-class" || domain == "all") {
      lgp::LinearGpParams p;
      p.task = lgp::Task::classification;
      p.canonical.mantissa_bits = mantissa;
      compare("lgp-class", lgp::LinearGpDomain(p), sp, ctx);
    }
    if (domain == "lambda" || domain == "all") {
      LambdaChainParams p;
      p.canonical.mantissa_bits = mantissa;
      compare("lambda", LambdaChainDomain(p), sp, ctx);
    }
    if (domain == "graph" || domain == "all") {
      const auto fm = io::load_fashion_mnist(fmnist, graph_train, graph_test);
      graph::Data data;
      data.X_train = graph::pool_28x28(fm.X_train);
      data.X_test = graph::pool_28x28(fm.X_test);
      data.y_train.assign(fm.y_train.data(), fm.y_train.data() + fm.y_train.size());
      data.y_test.assign(fm.y_test.data(), fm.y_test.data() + fm.y_test.size());
      graph::GraphParams p;
      p.canonical.mantissa_bits = mantissa;
      SearchParams gsp = sp;
      gsp.num_candidates = graph_candidates;
      gsp.population_size = std::min(sp.population_size, 20);
      gsp.tournament_size = std::min(sp.tournament_size, 5);
      compare("graph", graph::ComputeGraphDomain(std::move(data), p), gsp, ctx);
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
