// Environment dynamics against steps computed independently (Python, plain math) from the
// published equations and Gymnasium's constants.
#include <doctest/doctest.h>

#include <numbers>
#include <orchard/rl.hpp>
#include <vector>

using namespace orchard;
using namespace orchard::rl;

namespace {
std::vector<double> step(Env& e, double a, StepResult* r = nullptr) {
  std::vector<double> obs(static_cast<std::size_t>(e.observation_dim()));
  const double act[1] = {a};
  const StepResult s = e.step(act, obs);
  if (r) *r = s;
  return obs;
}
void started(Env& e) {
  std::vector<double> obs(static_cast<std::size_t>(e.observation_dim()));
  e.reset(obs, 0);
}
}  // namespace

TEST_CASE("CartPole-v1 Euler steps match the published equations") {
  CartPole e;
  started(e);
  e.set_state({0.01, -0.02, 0.03, 0.04});
  StepResult r;
  auto o = step(e, 1, &r);
  CHECK(o[0] == doctest::Approx(0.009600000000000001).epsilon(1e-13));
  CHECK(o[1] == doctest::Approx(0.17467919574755525).epsilon(1e-13));
  CHECK(o[2] == doctest::Approx(0.030799999999999998).epsilon(1e-13));
  CHECK(o[3] == doctest::Approx(-0.2430687179600081).epsilon(1e-13));
  CHECK(r.reward == 1.0);
  CHECK_FALSE(r.terminated);
  o = step(e, 0, &r);
  CHECK(o[0] == doctest::Approx(0.013093583914951107).epsilon(1e-13));
  CHECK(o[1] == doctest::Approx(-0.020868848948191993).epsilon(1e-13));
  CHECK(o[2] == doctest::Approx(0.025938625640799837).epsilon(1e-13));
  CHECK(o[3] == doctest::Approx(0.0591679999394166).epsilon(1e-13));
  // Termination past 12 degrees; reward is still 1 on that step (Gymnasium).
  e.set_state({0, 0, 0.2094, 2.0});
  step(e, 1, &r);
  CHECK(r.terminated);
  CHECK(r.reward == 1.0);
  CHECK_THROWS_AS(step(e, 1), StateError);
}

TEST_CASE("CartPole-v1 truncates at 500 steps and resets inside [-0.05, 0.05]") {
  CartPole e;
  std::vector<double> obs(4);
  e.reset(obs, 7);
  for (double v : obs) CHECK(std::abs(v) <= 0.05);
  StepResult r;
  int steps = 0;
  while (true) {
    e.set_state({0, 0, 0, 0});  // keep it balanced so only the time limit can end it
    step(e, steps % 2, &r);
    ++steps;
    if (r.done()) break;
  }
  CHECK(steps == 500);
  CHECK(r.truncated);
  CHECK_FALSE(r.terminated);
}

TEST_CASE("Acrobot-v1 RK4 step matches the book dynamics") {
  Acrobot e;
  started(e);
  e.set_state({0.05, -0.03, 0.1, -0.2});
  StepResult r;
  auto o = step(e, 2, &r);
  const auto& s = e.state();
  CHECK(s[0] == doctest::Approx(0.04903870635826079).epsilon(1e-12));
  CHECK(s[1] == doctest::Approx(-0.02600004511990665).epsilon(1e-12));
  CHECK(s[2] == doctest::Approx(-0.10899607843931322).epsilon(1e-12));
  CHECK(s[3] == doctest::Approx(0.2386115189039908).epsilon(1e-12));
  CHECK(o[0] == doctest::Approx(std::cos(s[0])));
  CHECK(o[3] == doctest::Approx(std::sin(s[1])));
  CHECK(r.reward == -1.0);
  // Angle wrapping past pi.
  e.set_state({3.0, 0.5, 12.0, -27.0});
  step(e, 0, &r);
  CHECK(e.state()[0] == doctest::Approx(-0.9935807056724437).epsilon(1e-12));
  CHECK(e.state()[1] == doctest::Approx(1.6322835674555112).epsilon(1e-12));
  CHECK(e.state()[2] == doctest::Approx(9.585452041737136).epsilon(1e-12));
  CHECK(e.state()[3] == doctest::Approx(-21.41400865519506).epsilon(1e-12));
  // Goal: the tip above the bar gives reward 0 and terminates.
  e.set_state({std::numbers::pi, 0, 0, 0});
  step(e, 1, &r);
  CHECK(r.terminated);
  CHECK(r.reward == 0.0);
}

TEST_CASE("MountainCar-v0 steps, left wall and goal") {
  MountainCar e;
  started(e);
  e.set_state({-0.5, 0.0});
  StepResult r;
  auto o = step(e, 2, &r);
  CHECK(o[0] == doctest::Approx(-0.49917684300416926).epsilon(1e-13));
  CHECK(o[1] == doctest::Approx(0.0008231569958307428).epsilon(1e-13));
  CHECK(r.reward == -1.0);
  e.set_state({-1.19, -0.02});
  o = step(e, 0, &r);
  CHECK(o[0] == -1.2);
  CHECK(o[1] == 0.0);
  e.set_state({0.49, 0.02});
  o = step(e, 2, &r);
  CHECK(o[0] == doctest::Approx(0.5107484356665326).epsilon(1e-13));
  CHECK(r.terminated);
  std::vector<double> obs(2);
  e.reset(obs, 3);
  CHECK(obs[0] >= -0.6);
  CHECK(obs[0] <= -0.4);
  CHECK(obs[1] == 0.0);
}

TEST_CASE("Pendulum-v1 steps, torque clipping and cost") {
  Pendulum e;
  started(e);
  e.set_state({1.0, 0.5});
  StepResult r;
  auto o = step(e, 0.7, &r);
  CHECK(e.state()[0] == doctest::Approx(1.0618051619302962).epsilon(1e-13));
  CHECK(e.state()[1] == doctest::Approx(1.2361032386059225).epsilon(1e-13));
  CHECK(r.reward == doctest::Approx(-1.02549).epsilon(1e-13));
  CHECK(o[0] == doctest::Approx(std::cos(1.0618051619302962)));
  e.set_state({-4.0, 7.9});
  step(e, 5.0, &r);  // torque clipped to 2, speed to 8
  CHECK(e.state()[0] == doctest::Approx(-3.6).epsilon(1e-13));
  CHECK(e.state()[1] == 8.0);
  CHECK(r.reward == doctest::Approx(-11.457935146920741).epsilon(1e-13));
  CHECK_FALSE(r.terminated);
  CHECK(Pendulum::angle_normalize(-4.0) == doctest::Approx(-4.0 + 2 * std::numbers::pi));
}

TEST_CASE("GridWorld: egocentric categorical view, moves, goal reward") {
  GridWorld e({6, 7, false});
  std::vector<double> obs(static_cast<std::size_t>(e.observation_dim()));
  e.reset(obs, 0);
  CHECK(e.agent_x() == 1);
  CHECK(e.agent_dir() == 0);
  const int v = 7, hs = 3;
  auto code = [&](int vx, int vy, int c) { return obs[static_cast<std::size_t>((vx * v + vy) * 3 + c)]; };
  CHECK(code(hs, v - 1, 0) == GridWorld::empty);  // own cell
  CHECK(code(hs, v - 2, 0) == GridWorld::empty);  // (2, 1) ahead
  CHECK(code(hs, 2, 0) == GridWorld::wall);       // (5, 1): the east wall, 4 cells ahead
  CHECK(code(hs, 2, 1) == GridWorld::grey);
  CHECK(code(hs, 1, 0) == GridWorld::unseen);     // behind the wall
  CHECK(code(hs - 1, v - 1, 0) == GridWorld::wall);  // (1, 0): north wall on the agent's left
  CHECK(code(hs + 3, v - 4, 0) == GridWorld::goal);  // 3 ahead, 3 right (south): (4, 4)
  CHECK(code(hs + 3, v - 4, 1) == GridWorld::green);
  CHECK(obs.back() == 0);
  StepResult r;
  step(e, 2, &r);  // forward
  CHECK(e.agent_x() == 2);
  step(e, 1, &r);  // turn right: facing down
  CHECK(e.agent_dir() == 1);
  step(e, 0, &r);
  CHECK(e.agent_dir() == 0);
  e.set_agent(4, 3, 1);
  step(e, 2, &r);
  CHECK(r.terminated);
  CHECK(r.reward == doctest::Approx(1.0 - 0.9 * 4.0 / 144.0));
}

TEST_CASE("environments: seeds reproduce, bad actions and names throw") {
  for (const auto& name : env_names()) {
    auto a = make_env(name), b = make_env(name);
    std::vector<double> oa(static_cast<std::size_t>(a->observation_dim())), ob(oa.size());
    a->reset(oa, 11);
    b->reset(ob, 11);
    CHECK(oa == ob);
    const Space sp = a->action_space();
    std::vector<double> act(static_cast<std::size_t>(sp.dim()), 0.0);
    for (int k = 0; k < 20; ++k) {
      act[0] = sp.is_discrete() ? k % sp.n : 0.5;
      const auto ra = a->step(act, oa), rb = b->step(act, ob);
      CHECK(oa == ob);
      CHECK(ra.reward == rb.reward);
      if (ra.done()) break;
    }
  }
  CHECK_THROWS_AS(make_env("CartPole-v9"), InvalidArgument);
  CHECK_THROWS_AS(make_env("GridWorld-x"), InvalidArgument);
  CartPole c;
  std::vector<double> obs(4), bad(3);
  CHECK_THROWS_AS(step(c, 0), StateError);
  c.reset(obs, 0);
  CHECK_THROWS_AS(step(c, 2), InvalidArgument);
  CHECK_THROWS_AS(step(c, 0.5), InvalidArgument);
  CHECK_THROWS_AS(step(c, std::nan("")), InvalidArgument);
  CHECK_THROWS_AS(c.reset(bad, 0), InvalidArgument);
  CHECK_THROWS_AS(GridWorld({6, 4, true}), InvalidArgument);
}

TEST_CASE("VecEnv auto-resets and keeps the final observation") {
  VecEnv v([] { return make_env("MountainCar-v0"); }, 3, 5);
  v.reset();
  RowMatrix a = RowMatrix::Ones(3, 1);
  for (int t = 0; t < 200; ++t) v.step(a);
  CHECK(v.episode_returns().size() == 3);
  for (double r : v.episode_returns()) CHECK(r == -200.0);
  for (int i = 0; i < 3; ++i) {
    CHECK(v.truncated(i));
    CHECK(v.obs()(i, 1) == 0.0);              // fresh episode: zero velocity
    CHECK(v.final_obs()(i, 1) != 0.0);  // the car moved during the old one
  }
  CHECK_THROWS_AS(v.step(RowMatrix::Ones(2, 1)), InvalidArgument);
}
