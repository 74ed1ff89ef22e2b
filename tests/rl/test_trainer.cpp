// The training loop with a linear model: seeds reproduce, PPO learns CartPole a little, every
// algorithm and both policy kinds run, and bad configurations throw.
#include <doctest/doctest.h>

#include <orchard/rl.hpp>

using namespace orchard;
using namespace orchard::rl;

namespace {
VecEnv::Factory factory(const std::string& name) {
  return [name] { return make_env(name); };
}
}  // namespace

TEST_CASE("PPO with a shared linear model: reproducible and improving on CartPole") {
  auto run = [](std::uint64_t seed, std::int64_t steps, double* before, double* after) {
    LinearModel m(4, 3, 0.05);
    Params p;
    p.n_envs = 4;
    p.n_steps = 128;
    p.batch_size = 128;
    p.n_epochs = 4;
    p.seed = seed;
    Trainer t(factory("CartPole-v1"), ActorCritic::shared(m, 2), p);
    if (before) *before = t.evaluate(5, 100, false);
    t.learn(steps);
    if (after) *after = t.evaluate(5, 100, false);
    return t.curve();
  };
  double b = 0, a = 0;
  const auto c1 = run(3, 20000, &b, &a);
  const auto c2 = run(3, 2048, nullptr, nullptr);
  REQUIRE(c2.size() == 4);
  for (std::size_t i = 0; i < c2.size(); ++i) {
    CHECK(c1[i].steps == c2[i].steps);
    CHECK(c1[i].mean_return == c2[i].mean_return);
  }
  MESSAGE("linear PPO CartPole return before " << b << " after " << a);
  CHECK(a > b + 20);
}

TEST_CASE("A2C and AWR with separate models; Gaussian policy on Pendulum") {
  for (const std::string algo : {"a2c", "awr"}) {
    LinearModel actor(6, 3, 0.01), critic(6, 1, 0.01);
    Params p;
    p.algorithm = algo;
    p.n_envs = 2;
    p.n_steps = 16;
    Trainer t(factory("Acrobot-v1"), ActorCritic::separate(actor, critic, 3), p);
    int calls = 0;
    t.learn(320, [&](const Progress& pr) {
      ++calls;
      CHECK(pr.steps == 32 * calls);
      return true;
    });
    CHECK(calls == 10);
    CHECK(actor.weights().norm() > 0);
    CHECK(critic.weights().norm() > 0);
  }
  LinearModel m(3, 2, 0.01);
  Params p;
  p.n_envs = 2;
  p.n_steps = 64;
  p.batch_size = 64;
  p.loss.ent_coef = 0.01;
  Trainer t(factory("Pendulum-v1"), ActorCritic::shared(m, 1), p);
  t.learn(1024, [](const Progress& pr) { return pr.iteration < 3; });  // stops early
  CHECK(t.steps_done() == 3 * 128);
  REQUIRE(t.log_std().size() == 1);
  CHECK(t.log_std()[0] != 0.0);
  CHECK(std::isfinite(t.evaluate(1, 0)));
}

TEST_CASE("trainer input errors") {
  LinearModel m(4, 3, 0.01), wrong(4, 4, 0.01), c(4, 1, 0.01);
  Params p;
  p.algorithm = "dqn";
  CHECK_THROWS_AS(Trainer(factory("CartPole-v1"), ActorCritic::shared(m, 2), p), InvalidArgument);
  p.algorithm = "ppo";
  CHECK_THROWS_AS(Trainer(factory("CartPole-v1"), ActorCritic::shared(m, 3), p), InvalidArgument);
  CHECK_THROWS_AS(ActorCritic::shared(wrong, 2), InvalidArgument);
  CHECK_THROWS_AS(ActorCritic::separate(m, m, 3), InvalidArgument);
  CHECK_THROWS_AS(ActorCritic::separate(m, wrong, 3), InvalidArgument);
  p.gamma = 1.5;
  CHECK_THROWS_AS(Trainer(factory("CartPole-v1"), ActorCritic::shared(m, 2), p), InvalidArgument);
  p.gamma = 0.99;
  p.n_envs = 0;
  CHECK_THROWS_AS(Trainer(factory("CartPole-v1"), ActorCritic::shared(m, 2), p), InvalidArgument);
  RowMatrix x = RowMatrix::Zero(2, 4), g = RowMatrix::Zero(2, 2);
  CHECK_THROWS_AS(m.step(ConstMatrixView<double>(x), ConstMatrixView<double>(g)), InvalidArgument);
}
