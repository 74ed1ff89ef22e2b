// GAE against a naive forward sum, and the closed-form loss gradients against central finite
// differences of the loss itself.
#include <doctest/doctest.h>

#include <cmath>
#include <orchard/rl.hpp>

using namespace orchard;
using namespace orchard::rl;

TEST_CASE("GAE equals the naive truncated sum of discounted TD errors") {
  const int t_len = 9, e_len = 3;
  const double gamma = 0.97, lambda = 0.9;
  Rng rng(4);
  RowMatrix rew(t_len, e_len), val(t_len, e_len), done(t_len, e_len), adv, ret;
  Eigen::VectorXd last(e_len);
  for (int t = 0; t < t_len; ++t)
    for (int e = 0; e < e_len; ++e) {
      rew(t, e) = rng.normal();
      val(t, e) = rng.normal();
      done(t, e) = rng.bernoulli(0.2) ? 1 : 0;
    }
  for (int e = 0; e < e_len; ++e) last[e] = rng.normal();
  compute_gae(rew, val, done, last, gamma, lambda, adv, ret);
  for (int e = 0; e < e_len; ++e) {
    for (int t = 0; t < t_len; ++t) {
      double sum = 0, w = 1;
      for (int k = t; k < t_len; ++k) {
        const double next = done(k, e) != 0 ? 0.0 : (k + 1 < t_len ? val(k + 1, e) : last[e]);
        sum += w * (rew(k, e) + gamma * next - val(k, e));
        if (done(k, e) != 0) break;
        w *= gamma * lambda;
      }
      CHECK(adv(t, e) == doctest::Approx(sum).epsilon(1e-12));
      CHECK(ret(t, e) == doctest::Approx(sum + val(t, e)).epsilon(1e-12));
    }
  }
  // lambda = 1, gamma = 1, no dones: advantage = sum of rewards + last value - value.
  RowMatrix r1 = RowMatrix::Ones(4, 1), v1 = RowMatrix::Zero(4, 1), d1 = RowMatrix::Zero(4, 1);
  Eigen::VectorXd l1 = Eigen::VectorXd::Constant(1, 2.0);
  compute_gae(r1, v1, d1, l1, 1.0, 1.0, adv, ret);
  CHECK(adv(0, 0) == doctest::Approx(6.0));
  CHECK_THROWS_AS(compute_gae(r1, v1, d1, l1, 1.5, 1.0, adv, ret), InvalidArgument);
  CHECK_THROWS_AS(compute_gae(r1, RowMatrix::Zero(3, 1), d1, l1, 1.0, 1.0, adv, ret),
                  InvalidArgument);
}

namespace {
template <class Dist>
void check_gradients(Dist dist, Objective obj, int n, std::uint64_t seed) {
  Rng rng(seed);
  const int p = dist.n_outputs(), a = dist.action_dim();
  RowMatrix out(n, p), act(n, a);
  Eigen::VectorXd val(n), old(n), adv(n), ret(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < p; ++j) out(i, j) = rng.normal();
    dist.sample(out.row(i).data(), rng, act.row(i).data());
    val[i] = rng.normal();
    ret[i] = rng.normal();
    adv[i] = rng.normal();
    // old log-prob away from the clip boundaries: ratios near 1, 0.5 or 2.
    const double lp = dist.log_prob(out.row(i).data(), act.row(i).data(), nullptr, nullptr, 0);
    const double shift[3] = {0.05, std::log(2.0), -std::log(2.0)};
    old[i] = lp - shift[i % 3];
  }
  LossParams lp{0.2, 0.7, 0.03};
  auto total = [&](const RowMatrix& o, const Eigen::VectorXd& v, const Dist& d) {
    RowMatrix g;
    Eigen::VectorXd gv, ge;
    LossBatch b{&o, &v, &act, &old, &adv, &ret};
    return actor_critic_loss(d, obj, lp, b, g, gv, ge).total;
  };
  RowMatrix g;
  Eigen::VectorXd gv, ge;
  LossBatch b{&out, &val, &act, &old, &adv, &ret};
  actor_critic_loss(dist, obj, lp, b, g, gv, ge);
  const double h = 1e-6;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < p; ++j) {
      RowMatrix up = out, dn = out;
      up(i, j) += h;
      dn(i, j) -= h;
      const double fd = (total(up, val, dist) - total(dn, val, dist)) / (2 * h) * n;
      CHECK(g(i, j) == doctest::Approx(fd).epsilon(1e-5).scale(1.0));
    }
    Eigen::VectorXd vu = val, vd = val;
    vu[i] += h;
    vd[i] -= h;
    const double fd = (total(out, vu, dist) - total(out, vd, dist)) / (2 * h) * n;
    CHECK(gv[i] == doctest::Approx(fd).epsilon(1e-5).scale(1.0));
  }
  for (int k = 0; k < dist.n_extra(); ++k) {
    Dist du = dist, dd = dist;
    if constexpr (std::is_same_v<Dist, DiagGaussian>) {
      du.log_std[static_cast<std::size_t>(k)] += h;
      dd.log_std[static_cast<std::size_t>(k)] -= h;
    }
    const double fd = (total(out, val, du) - total(out, val, dd)) / (2 * h);
    CHECK(ge[k] == doctest::Approx(fd).epsilon(1e-5).scale(1.0));
  }
}
}  // namespace

TEST_CASE("loss gradients match finite differences: softmax policy") {
  for (auto obj : {Objective::ppo, Objective::a2c, Objective::awr})
    check_gradients(Categorical{4}, obj, 9, 1 + static_cast<int>(obj));
}

TEST_CASE("loss gradients match finite differences: Gaussian policy") {
  DiagGaussian d(2, -0.3);
  d.log_std[1] = 0.4;
  for (auto obj : {Objective::ppo, Objective::a2c, Objective::awr})
    check_gradients(d, obj, 9, 7 + static_cast<int>(obj));
}

TEST_CASE("PPO clipping zeroes the gradient outside the trust region") {
  Categorical d{2};
  RowMatrix out(1, 2), act(1, 1);
  out << 0.3, -0.2;
  act << 0;
  Eigen::VectorXd v(1), old(1), adv(1), ret(1);
  v << 0;
  ret << 0;
  adv << 1.0;
  old << d.log_prob(out.data(), act.data(), nullptr, nullptr, 0) - 1.0;  // r = e > 1.2
  LossBatch b{&out, &v, &act, &old, &adv, &ret};
  RowMatrix g;
  Eigen::VectorXd gv, ge;
  const auto t = actor_critic_loss(d, Objective::ppo, LossParams{0.2, 0.5, 0.0}, b, g, gv, ge);
  CHECK(g.norm() == 0.0);
  CHECK(t.clip_fraction == 1.0);
  CHECK(t.policy == doctest::Approx(-1.2));
  CHECK(parse_objective("a2c") == Objective::a2c);
  CHECK_THROWS_AS(parse_objective("sac"), InvalidArgument);
  RowMatrix bad(1, 3);
  bad.setZero();
  LossBatch bb{&bad, &v, &act, &old, &adv, &ret};
  CHECK_THROWS_AS(actor_critic_loss(d, Objective::ppo, LossParams{}, bb, g, gv, ge),
                  InvalidArgument);
  out(0, 0) = std::nan("");
  CHECK_THROWS_AS(actor_critic_loss(d, Objective::ppo, LossParams{}, b, g, gv, ge),
                  InvalidArgument);
}

TEST_CASE("entropy and log-prob closed forms") {
  Categorical c{3};
  const double z[3] = {0, 0, 0};
  CHECK(c.entropy(z, nullptr, nullptr, 0) == doctest::Approx(std::log(3.0)));
  DiagGaussian g(1, 0.0);
  const double m[1] = {0.5}, a[1] = {1.5};
  CHECK(g.log_prob(m, a, nullptr, nullptr, 0) ==
        doctest::Approx(-0.5 - 0.5 * std::log(2 * std::numbers::pi)));
  CHECK(g.entropy(m, nullptr, nullptr, 0) ==
        doctest::Approx(0.5 + 0.5 * std::log(2 * std::numbers::pi)));
  CHECK(awr_weights(Eigen::VectorXd::Constant(1, 100.0), 1.0, 20.0)[0] == 20.0);
}
