#pragma once
// The environment interface of orchard::rl, with Gymnasium's semantics: reset(seed) starts an
// episode (re-seeding the environment's generator when a seed is given), step(action) returns the
// reward and the two end flags `terminated` (the task's own end) and `truncated` (the time limit,
// Gymnasium's TimeLimit wrapper built in: truncated = elapsed steps >= max_episode_steps).
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"

namespace orchard::rl {

/// An action space: `discrete` (n choices, the action is one number holding the index) or `box`
/// (a vector with per-component bounds).
struct Space {
  enum class Kind { discrete, box };
  Kind kind = Kind::discrete;
  int n = 0;                 ///< number of actions (discrete)
  std::vector<double> low;   ///< lower bounds (box)
  std::vector<double> high;  ///< upper bounds (box)

  static Space discrete(int n) { return Space{Kind::discrete, n, {}, {}}; }
  static Space box(std::vector<double> lo, std::vector<double> hi) {
    return Space{Kind::box, 0, std::move(lo), std::move(hi)};
  }
  bool is_discrete() const { return kind == Kind::discrete; }
  /// Numbers per action: 1 for discrete, the vector length for box.
  int dim() const { return is_discrete() ? 1 : static_cast<int>(low.size()); }
};

struct StepResult {
  double reward = 0;
  bool terminated = false;
  bool truncated = false;
  bool done() const { return terminated || truncated; }
};

class Env {
 public:
  virtual ~Env() = default;
  virtual std::string name() const = 0;
  virtual int observation_dim() const = 0;
  virtual Space action_space() const = 0;
  virtual int max_episode_steps() const = 0;
  /// Observation columns that hold integer category codes (the gridworld); empty otherwise.
  virtual std::vector<int> categorical_features() const { return {}; }

  /// Starts an episode and writes the first observation. A seed re-seeds the generator; without
  /// one the generator continues (a fresh environment starts from seed 0).
  void reset(std::span<double> obs, std::optional<std::uint64_t> seed = std::nullopt) {
    check_obs(obs);
    if (seed) rng_.reseed(*seed);
    elapsed_ = 0;
    running_ = true;
    do_reset(obs);
  }

  /// Advances one step. A discrete action is the index as a number; a box action is clipped by
  /// the environment where Gymnasium clips (Pendulum), otherwise it must lie inside the bounds.
  StepResult step(std::span<const double> action, std::span<double> obs) {
    if (!running_) {
      throw StateError("orchard::rl::" + name() +
                       ": step() called before reset() or after the episode ended");
    }
    check_obs(obs);
    const Space sp = action_space();
    require(static_cast<int>(action.size()) == sp.dim(), "action.size", action.size(),
            "must equal the action dimension " + std::to_string(sp.dim()));
    for (double a : action) require(std::isfinite(a), "action", a, "must be finite");
    if (sp.is_discrete()) {
      const double a = action[0];
      require(a == std::floor(a) && a >= 0 && a < sp.n, "action", a,
              "must be an integer in [0, " + std::to_string(sp.n) + ")");
    }
    StepResult r = do_step(action, obs);
    ++elapsed_;
    if (elapsed_ >= max_episode_steps()) r.truncated = true;
    if (r.done()) running_ = false;
    return r;
  }

  int elapsed_steps() const { return elapsed_; }

 protected:
  virtual void do_reset(std::span<double> obs) = 0;
  virtual StepResult do_step(std::span<const double> action, std::span<double> obs) = 0;
  Rng rng_{0};

 private:
  void check_obs(std::span<double> obs) const {
    require(static_cast<int>(obs.size()) == observation_dim(), "obs.size", obs.size(),
            "must equal the observation dimension " + std::to_string(observation_dim()));
  }
  int elapsed_ = 0;
  bool running_ = false;
};

}  // namespace orchard::rl
