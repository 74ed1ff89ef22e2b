#pragma once
// CartPole-v1 (Barto, Sutton & Anderson 1983) with Gymnasium's constants and explicit-Euler
// integration: reward 1 every step, terminated when |x| > 2.4 or |theta| > 12 degrees, truncated
// after 500 steps, reset state uniform in [-0.05, 0.05]^4. Observation (x, x_dot, theta,
// theta_dot); actions 0 = push left, 1 = push right.
#include <array>
#include <numbers>

#include "../env.hpp"

namespace orchard::rl {

class CartPole : public Env {
 public:
  static constexpr double gravity = 9.8;
  static constexpr double masscart = 1.0;
  static constexpr double masspole = 0.1;
  static constexpr double total_mass = masscart + masspole;
  static constexpr double length = 0.5;  // half the pole's length
  static constexpr double polemass_length = masspole * length;
  static constexpr double force_mag = 10.0;
  static constexpr double tau = 0.02;
  static constexpr double theta_threshold = 12.0 * 2.0 * std::numbers::pi / 360.0;
  static constexpr double x_threshold = 2.4;

  std::string name() const override { return "CartPole-v1"; }
  int observation_dim() const override { return 4; }
  Space action_space() const override { return Space::discrete(2); }
  int max_episode_steps() const override { return 500; }

  /// The state (x, x_dot, theta, theta_dot); set_state lets tests start from a chosen point.
  const std::array<double, 4>& state() const { return s_; }
  void set_state(const std::array<double, 4>& s) { s_ = s; }

 protected:
  void do_reset(std::span<double> obs) override {
    for (auto& v : s_) v = rng_.uniform(-0.05, 0.05);
    write(obs);
  }
  StepResult do_step(std::span<const double> action, std::span<double> obs) override {
    auto [x, x_dot, theta, theta_dot] = s_;
    const double force = action[0] == 1.0 ? force_mag : -force_mag;
    const double c = std::cos(theta), s = std::sin(theta);
    const double temp = (force + polemass_length * theta_dot * theta_dot * s) / total_mass;
    const double thetaacc =
        (gravity * s - c * temp) / (length * (4.0 / 3.0 - masspole * c * c / total_mass));
    const double xacc = temp - polemass_length * thetaacc * c / total_mass;
    x = x + tau * x_dot;
    x_dot = x_dot + tau * xacc;
    theta = theta + tau * theta_dot;
    theta_dot = theta_dot + tau * thetaacc;
    s_ = {x, x_dot, theta, theta_dot};
    write(obs);
    StepResult r;
    r.terminated = x < -x_threshold || x > x_threshold || theta < -theta_threshold ||
                   theta > theta_threshold;
    r.reward = 1.0;
    return r;
  }

 private:
  void write(std::span<double> obs) const {
    for (int i = 0; i < 4; ++i) obs[i] = s_[i];
  }
  std::array<double, 4> s_{};
};

}  // namespace orchard::rl
