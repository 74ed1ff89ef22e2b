// Collision analysis: models per functional hash against mantissa bits m, probe inputs N_E and
// seeds N_S, on a population of random linear-GP programs (or lambda chains).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <orchard/fhash.hpp>

using namespace orchard;
using namespace orchard::fhash;

int main(int argc, char** argv) {
  CLI::App app{"Models per functional hash vs m, N_E, N_S"};
  std::string domain = "lgp";
  int population = 20000, threads = 0;
  std::uint64_t seed = 1;
  CollisionGrid grid;
  grid.mantissa_bits = {1, 3, 5, 7, 10, 16, 24, 52};
  grid.num_examples = {2, 10, 32};
  grid.num_seeds = {1, 2};
  app.add_option("--domain", domain, "lgp or lambda")->capture_default_str();
  app.add_option("--population", population, "Random candidates")->capture_default_str();
  app.add_option("--mantissa", grid.mantissa_bits, "Mantissa bits to try");
  app.add_option("--examples", grid.num_examples, "Probe inputs N_E to try");
  app.add_option("--seeds", grid.num_seeds, "Probe seeds N_S to try");
  app.add_option("--seed", seed, "Seed")->capture_default_str();
  app.add_option("--threads", threads, "Threads (0 = all)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    require(population >= 1, "population", population, "must be >= 1");
    const Context ctx(threads);
    auto print = [](const std::vector<CollisionPoint>& pts) {
      std::printf("%4s %5s %5s %10s %10s %10s %10s %9s\n", "m", "N_E", "N_S", "candidates",
                  "distinct", "models/hash", "largest", "seconds");
      for (const auto& p : pts) {
        std::printf("%4d %5d %5d %10lld %10lld %10.2f %10lld %9.3f\n", p.config.mantissa_bits,
                    p.config.num_examples, p.config.num_seeds, static_cast<long long>(p.candidates),
                    static_cast<long long>(p.distinct_hashes), p.models_per_hash,
                    static_cast<long long>(p.largest_bucket), p.seconds);
      }
    };
    Rng rng(seed);
    if (domain == "lgp") {
      lgp::LinearGpParams base;
      base.num_train = 1;
      base.num_valid = 1;
      base.init_setup = 2;
      base.init_predict = 4;
      base.init_learn = 2;
      const lgp::LinearGpDomain gen(base);
      std::vector<lgp::Program> pop;
      for (int i = 0; i < population; ++i) pop.push_back(gen.random_candidate(rng));
      print(analyse_collisions(
          pop, grid,
          [&](const CollisionConfig& c) {
            auto p = base;
            p.canonical.mantissa_bits = c.mantissa_bits;
            p.probe.num_examples = c.num_examples;
            p.probe.num_seeds = c.num_seeds;
            auto dom = std::make_shared<lgp::LinearGpDomain>(p);
            return [dom](const lgp::Program& prog) { return dom->hash(prog); };
          },
          ctx));
    } else if (domain == "lambda") {
      LambdaChainParams base;
      base.length = 4;
      const LambdaChainDomain gen(base);
      std::vector<std::vector<int>> pop;
      for (int i = 0; i < population; ++i) pop.push_back(gen.random_candidate(rng));
      print(analyse_collisions(
          pop, grid,
          [&](const CollisionConfig& c) {
            auto p = base;
            p.canonical.mantissa_bits = c.mantissa_bits;
            p.probe.num_examples = c.num_examples;
            p.probe.num_seeds = c.num_seeds;
            auto dom = std::make_shared<LambdaChainDomain>(p);
            return [dom](const std::vector<int>& ch) { return dom->hash(ch); };
          },
          ctx));
    } else {
      throw InvalidArgument("orchard: argument 'domain' = " + domain +
                            ": expected 'lgp' or 'lambda'");
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
