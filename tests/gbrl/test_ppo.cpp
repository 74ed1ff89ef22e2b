// PPO with a shared GBRL actor-critic ensemble learns CartPole: a short seeded run must clearly
// raise the mean return (the long runs that solve it are examples).
#include <doctest/doctest.h>

#include <orchard/rl.hpp>

using namespace orchard;

TEST_CASE("PPO-GBRL on CartPole-v1 improves the return") {
  gbrl::Params gp;
  gp.n_outputs = 3;  // 2 logits + value
  gp.max_depth = 4;
  gp.score = "cosine";
  gp.growth = "oblivious";
  gp.lr = {gbrl::LrRange{0, 2, 0.05}, gbrl::LrRange{2, 3, 0.01}};
  rl::GbrlModel model(gp);
  rl::Params p;
  p.n_envs = 8;
  p.n_steps = 64;
  p.batch_size = 256;
  p.n_epochs = 5;
  p.gamma = 0.98;
  p.gae_lambda = 0.8;
  p.seed = 1;
  rl::Trainer t([] { return rl::make_env("CartPole-v1"); }, rl::ActorCritic::shared(model, 2), p);
  const double before = t.evaluate(10, 1000, true);
  t.learn(16384);
  const double after = t.evaluate(10, 1000, true);
  MESSAGE("PPO-GBRL CartPole: return " << before << " -> " << after << " with "
                                        << model.ensemble().num_trees() << " trees");
  CHECK(after > before + 50);
}
