#pragma once
// Environments by name, as Gymnasium's gym.make.
#include <memory>
#include <string>
#include <vector>

#include "envs/acrobot.hpp"
#include "envs/cartpole.hpp"
#include "envs/gridworld.hpp"
#include "envs/mountain_car.hpp"
#include "envs/pendulum.hpp"

namespace orchard::rl {

inline std::vector<std::string> env_names() {
  return {"CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", "GridWorld-5",
          "GridWorld-6", "GridWorld-8", "GridWorld-8-fixed"};
}

/// "CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", or "GridWorld-<size>" (random
/// start) / "GridWorld-<size>-fixed" (start at (1, 1) facing right).
inline std::unique_ptr<Env> make_env(const std::string& name) {
  if (name == "CartPole-v1") return std::make_unique<CartPole>();
  if (name == "Acrobot-v1") return std::make_unique<Acrobot>();
  if (name == "MountainCar-v0") return std::make_unique<MountainCar>();
  if (name == "Pendulum-v1") return std::make_unique<Pendulum>();
  const std::string prefix = "GridWorld-";
  if (name.rfind(prefix, 0) == 0) {
    std::string rest = name.substr(prefix.size());
    GridWorld::Params p;
    const std::string fixed = "-fixed";
    if (rest.size() > fixed.size() && rest.compare(rest.size() - fixed.size(), fixed.size(), fixed) == 0) {
      p.random_start = false;
      rest = rest.substr(0, rest.size() - fixed.size());
    }
    if (!rest.empty() && rest.size() <= 3 &&
        rest.find_first_not_of("0123456789") == std::string::npos) {
      p.size = std::stoi(rest);
      if (p.size >= 3) return std::make_unique<GridWorld>(p);
    }
  }
  throw InvalidArgument("orchard: argument 'env' = " + name +
                        ": unknown environment (CartPole-v1, Acrobot-v1, MountainCar-v0, "
                        "Pendulum-v1, GridWorld-<size>[-fixed])");
}

}  // namespace orchard::rl
