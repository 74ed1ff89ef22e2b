#pragma once
// MountainCar-v0 (Moore 1990) with Gymnasium's constants: force 0.001, gravity 0.0025, speed
// bounded by 0.07, position in [-1.2, 0.6] (velocity zeroed at the left wall), goal position 0.5.
// Reward -1 per step, terminated at the goal, truncated after 200 steps, reset position uniform
// in [-0.6, -0.4] with zero velocity. Actions 0 = push left, 1 = none, 2 = push right.
#include <algorithm>
#include <array>

#include "../env.hpp"

namespace orchard::rl {

class MountainCar : public Env {
 public:
  static constexpr double min_position = -1.2;
  static constexpr double max_position = 0.6;
  static constexpr double max_speed = 0.07;
  static constexpr double goal_position = 0.5;
  static constexpr double goal_velocity = 0.0;
  static constexpr double force = 0.001;
  static constexpr double gravity = 0.0025;

  std::string name() const override { return "MountainCar-v0"; }
  int observation_dim() const override { return 2; }
  Space action_space() const override { return Space::discrete(3); }
  int max_episode_steps() const override { return 200; }

  const std::array<double, 2>& state() const { return s_; }
  void set_state(const std::array<double, 2>& s) { s_ = s; }

 protected:
  void do_reset(std::span<double> obs) override {
    s_ = {rng_.uniform(-0.6, -0.4), 0.0};
    write(obs);
  }
  StepResult do_step(std::span<const double> action, std::span<double> obs) override {
    double position = s_[0], velocity = s_[1];
    velocity += (action[0] - 1.0) * force + std::cos(3 * position) * (-gravity);
    velocity = std::clamp(velocity, -max_speed, max_speed);
    position += velocity;
    position = std::clamp(position, min_position, max_position);
    if (position == min_position && velocity < 0) velocity = 0;
    s_ = {position, velocity};
    write(obs);
    StepResult r;
    r.terminated = position >= goal_position && velocity >= goal_velocity;
    r.reward = -1.0;
    return r;
  }

 private:
  void write(std::span<double> obs) const {
    obs[0] = s_[0];
    obs[1] = s_[1];
  }
  std::array<double, 2> s_{};
};

}  // namespace orchard::rl
