// Tour section: PPO with one shared GBRL ensemble (policy logits + value) on CartPole-v1.
#include <cstdio>
#include <orchard/rl.hpp>

#include "tour.hpp"

namespace {
tour::Register reg(40, "gbrl", [](const tour::Options& o) {
  using namespace orchard;
  gbrl::Params gp;
  gp.n_outputs = 3;
  gp.max_depth = 4;
  gp.growth = "oblivious";
  gp.lr = {gbrl::LrRange{0, 2, 0.05}, gbrl::LrRange{2, 3, 0.01}};
  rl::GbrlModel model(gp, Context(o.threads == 0 ? 1 : o.threads));
  rl::Params p;
  p.n_envs = 8;
  p.n_steps = 64;
  p.batch_size = 256;
  p.n_epochs = 5;
  p.gamma = 0.98;
  p.gae_lambda = 0.8;
  p.seed = 1;
  rl::Trainer t([] { return rl::make_env("CartPole-v1"); }, rl::ActorCritic::shared(model, 2), p);
  const std::int64_t steps = o.quick ? 8192 : 32768;
  const double before = t.evaluate(20, 1000);
  t.learn(steps);
  const double after = t.evaluate(20, 1000);
  std::printf("  PPO-GBRL on CartPole-v1, %lld steps: %lld trees (depth-4 oblivious, 3 outputs)\n",
              static_cast<long long>(t.steps_done()), static_cast<long long>(model.ensemble().num_trees()));
  std::printf("  mean return over 20 greedy episodes: %.1f before, %.1f after (max 500)\n", before, after);
  std::printf("  training speed: %.0f environment steps/s\n",
              static_cast<double>(t.steps_done()) / t.curve().back().seconds);
});
}  // namespace
