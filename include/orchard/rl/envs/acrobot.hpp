#pragma once
// Acrobot-v1 (Sutton & Barto's "book" dynamics, as Gymnasium): two links of length 1 and mass 1,
// torque in {-1, 0, +1}, one RK4 step of dt = 0.2, angles wrapped to [-pi, pi], velocities
// bounded by 4 pi and 9 pi. Reward -1 per step and 0 on the step that reaches the goal
// (-cos(t1) - cos(t1 + t2) > 1), truncated after 500 steps, reset state uniform in
// [-0.1, 0.1]^4. Observation (cos t1, sin t1, cos t2, sin t2, dt1, dt2).
#include <array>
#include <numbers>

#include "../env.hpp"

namespace orchard::rl {

class Acrobot : public Env {
 public:
  static constexpr double dt = 0.2;
  static constexpr double link_length_1 = 1.0;
  static constexpr double link_mass_1 = 1.0;
  static constexpr double link_mass_2 = 1.0;
  static constexpr double link_com_pos_1 = 0.5;
  static constexpr double link_com_pos_2 = 0.5;
  static constexpr double link_moi = 1.0;
  static constexpr double max_vel_1 = 4 * std::numbers::pi;
  static constexpr double max_vel_2 = 9 * std::numbers::pi;
  static constexpr double gravity = 9.8;

  std::string name() const override { return "Acrobot-v1"; }
  int observation_dim() const override { return 6; }
  Space action_space() const override { return Space::discrete(3); }
  int max_episode_steps() const override { return 500; }

  const std::array<double, 4>& state() const { return s_; }
  void set_state(const std::array<double, 4>& s) { s_ = s; }

  /// Time derivative of (t1, t2, dt1, dt2) under torque a (the "book" equations).
  static std::array<double, 4> dsdt(const std::array<double, 4>& s, double a) {
    const double m1 = link_mass_1, m2 = link_mass_2, l1 = link_length_1;
    const double lc1 = link_com_pos_1, lc2 = link_com_pos_2, i1 = link_moi, i2 = link_moi;
    const double g = gravity, pi = std::numbers::pi;
    const double theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];
    const double d1 =
        m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * std::cos(theta2)) + i1 + i2;
    const double d2 = m2 * (lc2 * lc2 + l1 * lc2 * std::cos(theta2)) + i2;
    const double phi2 = m2 * lc2 * g * std::cos(theta1 + theta2 - pi / 2.0);
    const double phi1 = -m2 * l1 * lc2 * dtheta2 * dtheta2 * std::sin(theta2) -
                        2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * std::sin(theta2) +
                        (m1 * lc1 + m2 * l1) * g * std::cos(theta1 - pi / 2) + phi2;
    const double ddtheta2 =
        (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1 * dtheta1 * std::sin(theta2) - phi2) /
        (m2 * lc2 * lc2 + i2 - d2 * d2 / d1);
    const double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    return {dtheta1, dtheta2, ddtheta1, ddtheta2};
  }

 protected:
  void do_reset(std::span<double> obs) override {
    for (auto& v : s_) v = rng_.uniform(-0.1, 0.1);
    write(obs);
  }
  StepResult do_step(std::span<const double> action, std::span<double> obs) override {
    const double torque = action[0] - 1.0;  // {0, 1, 2} -> {-1, 0, +1}
    // One classical Runge-Kutta step over [0, dt].
    auto add = [](const std::array<double, 4>& y, const std::array<double, 4>& k, double h) {
      return std::array<double, 4>{y[0] + h * k[0], y[1] + h * k[1], y[2] + h * k[2],
                                   y[3] + h * k[3]};
    };
    const auto k1 = dsdt(s_, torque);
    const auto k2 = dsdt(add(s_, k1, dt / 2), torque);
    const auto k3 = dsdt(add(s_, k2, dt / 2), torque);
    const auto k4 = dsdt(add(s_, k3, dt), torque);
    std::array<double, 4> ns;
    for (int i = 0; i < 4; ++i) ns[i] = s_[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    ns[0] = wrap(ns[0]);
    ns[1] = wrap(ns[1]);
    ns[2] = std::clamp(ns[2], -max_vel_1, max_vel_1);
    ns[3] = std::clamp(ns[3], -max_vel_2, max_vel_2);
    s_ = ns;
    write(obs);
    StepResult r;
    r.terminated = -std::cos(s_[0]) - std::cos(s_[1] + s_[0]) > 1.0;
    r.reward = r.terminated ? 0.0 : -1.0;
    return r;
  }

 private:
  static double wrap(double x) {
    const double lo = -std::numbers::pi, hi = std::numbers::pi, diff = hi - lo;
    while (x > hi) x -= diff;
    while (x < lo) x += diff;
    return x;
  }
  void write(std::span<double> obs) const {
    obs[0] = std::cos(s_[0]);
    obs[1] = std::sin(s_[0]);
    obs[2] = std::cos(s_[1]);
    obs[3] = std::sin(s_[1]);
    obs[4] = s_[2];
    obs[5] = s_[3];
  }
  std::array<double, 4> s_{};
};

}  // namespace orchard::rl
