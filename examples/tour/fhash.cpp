// Tour section: functional hashing. A linear-GP symbolic-regression search run twice with the
// same seed and budget, without and with the functional-equivalence cache.
#include <cstdio>
#include <orchard/fhash.hpp>

#include "tour.hpp"

namespace {

void run(const tour::Options& o) {
  using namespace orchard;
  using namespace orchard::fhash;
  // target y = x0 - 2 x1 + 0.5 from scalar instructions; m = 24 mantissa bits, N_E = 10 probes
  auto p = lgp::LinearGpParams::symbolic_regression();
  p.num_train = o.quick ? 300 : 1000;
  p.num_valid = o.quick ? 200 : 500;
  const lgp::LinearGpDomain dom(p);
  SearchParams sp;
  sp.num_candidates = o.quick ? 3000 : 20000;
  sp.population_size = 100;
  sp.tournament_size = 10;
  sp.batch_size = 16;
  sp.seed = 3;
  const Context ctx(o.threads);
  sp.use_fec = false;
  const auto off = search(dom, sp, ctx);
  sp.use_fec = true;
  const auto on = search(dom, sp, ctx);
  std::printf(
      "  symbolic regression (linear GP), regularized evolution, %lld candidates, %d threads\n",
      static_cast<long long>(on.candidates), ctx.threads());
  std::printf("  without FEC: %lld evaluations, %.3f s, best fitness 1/(1+MSE) = %.4f\n",
              static_cast<long long>(off.evaluations), off.wall_seconds, off.best_fitness);
  std::printf("  with FEC   : %lld evaluations, %.3f s, best fitness %.4f, hit fraction %.2f\n",
              static_cast<long long>(on.evaluations), on.wall_seconds, on.best_fitness,
              on.cache.hit_fraction());
  std::printf("  speed-up %.1fx (hashing took %.3f s of it)\n",
              on.wall_seconds > 0 ? off.wall_seconds / on.wall_seconds : 0.0, on.hash_seconds);
}

tour::Register reg(60, "fhash", run);

}  // namespace
