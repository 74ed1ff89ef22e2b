#pragma once
// Pendulum-v1 with Gymnasium's constants: g = 10, m = 1, l = 1, dt = 0.05, torque clipped to
// [-2, 2], angular speed bounded by 8. Reward -(angle_normalize(th)^2 + 0.1 thdot^2 + 0.001 u^2),
// never terminated, truncated after 200 steps, reset th uniform in [-pi, pi] and thdot uniform
// in [-1, 1]. Observation (cos th, sin th, thdot); one continuous action (the torque).
#include <algorithm>
#include <array>
#include <numbers>

#include "../env.hpp"

namespace orchard::rl {

class Pendulum : public Env {
 public:
  static constexpr double max_speed = 8.0;
  static constexpr double max_torque = 2.0;
  static constexpr double dt = 0.05;
  static constexpr double g = 10.0;
  static constexpr double m = 1.0;
  static constexpr double l = 1.0;

  std::string name() const override { return "Pendulum-v1"; }
  int observation_dim() const override { return 3; }
  Space action_space() const override { return Space::box({-max_torque}, {max_torque}); }
  int max_episode_steps() const override { return 200; }

  const std::array<double, 2>& state() const { return s_; }
  void set_state(const std::array<double, 2>& s) { s_ = s; }

  /// (x + pi) mod 2 pi - pi with Python's non-negative modulo.
  static double angle_normalize(double x) {
    const double two_pi = 2 * std::numbers::pi;
    double r = std::fmod(x + std::numbers::pi, two_pi);
    if (r < 0) r += two_pi;
    return r - std::numbers::pi;
  }

 protected:
  void do_reset(std::span<double> obs) override {
    s_ = {rng_.uniform(-std::numbers::pi, std::numbers::pi), rng_.uniform(-1.0, 1.0)};
    write(obs);
  }
  StepResult do_step(std::span<const double> action, std::span<double> obs) override {
    const double th = s_[0], thdot = s_[1];
    const double u = std::clamp(action[0], -max_torque, max_torque);
    const double an = angle_normalize(th);
    const double costs = an * an + 0.1 * thdot * thdot + 0.001 * u * u;
    double newthdot = thdot + (3 * g / (2 * l) * std::sin(th) + 3.0 / (m * l * l) * u) * dt;
    newthdot = std::clamp(newthdot, -max_speed, max_speed);
    const double newth = th + newthdot * dt;
    s_ = {newth, newthdot};
    write(obs);
    StepResult r;
    r.reward = -costs;
    return r;
  }

 private:
  void write(std::span<double> obs) const {
    obs[0] = std::cos(s_[0]);
    obs[1] = std::sin(s_[0]);
    obs[2] = s_[1];
  }
  std::array<double, 2> s_{};
};

}  // namespace orchard::rl
