#pragma once
// n copies of an environment stepped together, resetting automatically (Stable-Baselines3's
// VecEnv convention): when copy i ends, its final observation is kept in final_obs() and obs()
// holds the first observation of its next episode. Copy i is first reset with seed + i.
#include <Eigen/Dense>
#include <functional>
#include <memory>
#include <vector>

#include "env.hpp"

namespace orchard::rl {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class VecEnv {
 public:
  using Factory = std::function<std::unique_ptr<Env>()>;

  VecEnv(const Factory& make, int n, std::uint64_t seed) : seed_(seed) {
    require(n >= 1, "n_envs", n, "must be >= 1");
    for (int i = 0; i < n; ++i) {
      envs_.push_back(make());
      require(envs_.back() != nullptr, "make_env", "nullptr", "must return an environment");
    }
    obs_dim_ = envs_[0]->observation_dim();
    space_ = envs_[0]->action_space();
    obs_.setZero(n, obs_dim_);
    final_obs_.setZero(n, obs_dim_);
    rewards_.setZero(n);
    terminated_.assign(static_cast<std::size_t>(n), 0);
    truncated_.assign(static_cast<std::size_t>(n), 0);
    ep_return_.assign(static_cast<std::size_t>(n), 0.0);
    ep_length_.assign(static_cast<std::size_t>(n), 0);
  }

  int num_envs() const { return static_cast<int>(envs_.size()); }
  int observation_dim() const { return obs_dim_; }
  const Space& action_space() const { return space_; }
  Env& env(int i) { return *envs_[static_cast<std::size_t>(i)]; }

  const RowMatrix& reset() {
    for (int i = 0; i < num_envs(); ++i) {
      envs_[static_cast<std::size_t>(i)]->reset(row(obs_, i), seed_ + static_cast<std::uint64_t>(i));
      ep_return_[static_cast<std::size_t>(i)] = 0;
      ep_length_[static_cast<std::size_t>(i)] = 0;
    }
    return obs_;
  }

  /// Steps every copy with its row of `actions` (n x action_dim).
  void step(const RowMatrix& actions) {
    require(actions.rows() == num_envs() && actions.cols() == space_.dim(), "actions.shape",
            std::to_string(actions.rows()) + "x" + std::to_string(actions.cols()),
            "must be n_envs x action_dim");
    for (int i = 0; i < num_envs(); ++i) {
      const auto si = static_cast<std::size_t>(i);
      Env& e = *envs_[si];
      const StepResult r = e.step(std::span<const double>(actions.row(i).data(),
                                                          static_cast<std::size_t>(space_.dim())),
                                  row(obs_, i));
      rewards_[i] = r.reward;
      terminated_[si] = r.terminated;
      truncated_[si] = r.truncated;
      ep_return_[si] += r.reward;
      ++ep_length_[si];
      if (r.done()) {
        final_obs_.row(i) = obs_.row(i);
        episode_returns_.push_back(ep_return_[si]);
        episode_lengths_.push_back(ep_length_[si]);
        ep_return_[si] = 0;
        ep_length_[si] = 0;
        e.reset(row(obs_, i));
      }
    }
  }

  const RowMatrix& obs() const { return obs_; }
  const RowMatrix& final_obs() const { return final_obs_; }
  const Eigen::VectorXd& rewards() const { return rewards_; }
  bool terminated(int i) const { return terminated_[static_cast<std::size_t>(i)] != 0; }
  bool truncated(int i) const { return truncated_[static_cast<std::size_t>(i)] != 0; }
  /// Returns and lengths of every episode completed so far, in completion order.
  const std::vector<double>& episode_returns() const { return episode_returns_; }
  const std::vector<int>& episode_lengths() const { return episode_lengths_; }

 private:
  static std::span<double> row(RowMatrix& m, int i) {
    return std::span<double>(m.row(i).data(), static_cast<std::size_t>(m.cols()));
  }
  std::vector<std::unique_ptr<Env>> envs_;
  std::uint64_t seed_;
  int obs_dim_ = 0;
  Space space_;
  RowMatrix obs_, final_obs_;
  Eigen::VectorXd rewards_;
  std::vector<char> terminated_, truncated_;
  std::vector<double> ep_return_;
  std::vector<int> ep_length_;
  std::vector<double> episode_returns_;
  std::vector<int> episode_lengths_;
};

}  // namespace orchard::rl
