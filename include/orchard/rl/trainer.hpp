#pragma once
// On-policy actor-critic training: PPO (clipped surrogate, GAE(lambda), value loss, entropy bonus,
// several epochs of minibatch steps per rollout), A2C (one step on the whole rollout) and AWR
// (advantage-weighted regression: weights min(exp(A / beta), max_weight), minibatch epochs).
// Every model update is one Approximator::step with the closed-form per-sample gradients of
// losses.hpp, so a gradient-boosted ensemble grows one tree per update.
#include <Eigen/Dense>
#include <chrono>
#include <fstream>
#include <functional>
#include <numeric>
#include <string>
#include <variant>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "approximator.hpp"
#include "distributions.hpp"
#include "gae.hpp"
#include "losses.hpp"
#include "vec_env.hpp"

namespace orchard::rl {

struct Params {
  std::string algorithm = "ppo";  ///< "ppo", "a2c" or "awr"
  int n_envs = 8;                 ///< environments stepped together
  int n_steps = 128;              ///< steps per environment per rollout
  int n_epochs = 10;              ///< passes over a rollout (ppo, awr; a2c uses 1)
  int batch_size = 256;           ///< minibatch size (ppo, awr; a2c uses the whole rollout)
  double gamma = 0.99;            ///< discount
  double gae_lambda = 0.95;       ///< GAE lambda
  LossParams loss;                ///< clip_range, vf_coef, ent_coef
  bool normalize_advantage = true;  ///< per-minibatch advantage standardisation (ppo, a2c)
  double awr_beta = 1.0;          ///< AWR temperature
  double awr_max_weight = 20.0;   ///< AWR weight clip
  double log_std_init = 0.0;      ///< Gaussian policies: initial log-std
  double log_std_lr = 0.01;       ///< Gaussian policies: gradient-descent rate of the log-std
  std::uint64_t seed = 0;         ///< environments get seed + i, sampling uses Rng(seed)
  int return_window = 100;        ///< episodes averaged in the reported mean return
};

struct Progress {
  std::int64_t steps = 0;     ///< environment steps so far (all environments)
  std::int64_t episodes = 0;  ///< completed episodes
  int iteration = 0;          ///< rollouts so far
  double mean_return = 0;     ///< mean of the last return_window episode returns (NaN if none)
  double fps = 0;             ///< environment steps per second, training included
  double seconds = 0;
  LossTerms loss;             ///< mean loss terms of the last update phase
};

struct CurvePoint {
  std::int64_t steps = 0;
  std::int64_t episodes = 0;
  double mean_return = 0;
  double seconds = 0;
};

using ProgressFn = std::function<bool(const Progress&)>;

class Trainer {
 public:
  Trainer(VecEnv::Factory make, ActorCritic ac, Params p)
      : make_(std::move(make)), ac_(ac), p_(std::move(p)), vec_(make_, p_.n_envs, p_.seed),
        rng_(p_.seed ^ 0x5DEECE66Dull) {
    objective_ = parse_objective(p_.algorithm);
    require(p_.n_steps >= 1, "n_steps", p_.n_steps, "must be >= 1");
    require(p_.n_epochs >= 1, "n_epochs", p_.n_epochs, "must be >= 1");
    require(p_.batch_size >= 1, "batch_size", p_.batch_size, "must be >= 1");
    require(p_.gamma >= 0 && p_.gamma <= 1, "gamma", p_.gamma, "must lie in [0, 1]");
    require(p_.gae_lambda >= 0 && p_.gae_lambda <= 1, "gae_lambda", p_.gae_lambda,
            "must lie in [0, 1]");
    require(p_.loss.clip_range > 0, "clip_range", p_.loss.clip_range, "must be > 0");
    require(p_.loss.vf_coef >= 0, "vf_coef", p_.loss.vf_coef, "must be >= 0");
    require(p_.loss.ent_coef >= 0, "ent_coef", p_.loss.ent_coef, "must be >= 0");
    require(p_.awr_beta > 0, "awr_beta", p_.awr_beta, "must be > 0");
    require(p_.awr_max_weight > 0, "awr_max_weight", p_.awr_max_weight, "must be > 0");
    require(p_.log_std_lr >= 0, "log_std_lr", p_.log_std_lr, "must be >= 0");
    require(p_.return_window >= 1, "return_window", p_.return_window, "must be >= 1");
    const Space& sp = vec_.action_space();
    if (sp.is_discrete()) {
      dist_ = Categorical{sp.n};
    } else {
      dist_ = DiagGaussian(sp.dim(), p_.log_std_init);
    }
    const int need = std::visit([](const auto& d) { return d.n_outputs(); }, dist_);
    require(ac_.policy_outputs() == need, "policy_outputs", ac_.policy_outputs(),
            "must equal what the action space needs: " + std::to_string(need));
  }

  /// Trains until `total_steps` more environment steps are done (whole rollouts) or the callback
  /// returns false.
  void learn(std::int64_t total_steps, const ProgressFn& progress = {}) {
    require(total_steps >= 0, "total_steps", total_steps, "must be >= 0");
    std::visit([&](auto& d) { learn_impl(d, total_steps, progress); }, dist_);
  }

  /// Mean return of `episodes` episodes on a fresh environment (reset with seed + k), with the
  /// most likely action (deterministic) or actions sampled from a generator seeded by `seed`.
  double evaluate(int episodes, std::uint64_t seed, bool deterministic = true) {
    require(episodes >= 1, "episodes", episodes, "must be >= 1");
    return std::visit([&](auto& d) { return evaluate_impl(d, episodes, seed, deterministic); },
                      dist_);
  }

  const std::vector<CurvePoint>& curve() const { return curve_; }
  std::int64_t steps_done() const { return steps_; }
  const VecEnv& envs() const { return vec_; }
  /// The Gaussian policy's log-std (empty for discrete actions).
  std::vector<double> log_std() const {
    if (const auto* g = std::get_if<DiagGaussian>(&dist_)) return g->log_std;
    return {};
  }

  /// The learning curve as CSV: steps,episodes,mean_return,seconds.
  void write_curve_csv(const std::string& path) const {
    std::ofstream f(path);
    if (!f) throw IoError("orchard::rl: cannot write " + path);
    f << "steps,episodes,mean_return,seconds\n";
    f.precision(10);
    for (const auto& c : curve_)
      f << c.steps << ',' << c.episodes << ',' << c.mean_return << ',' << c.seconds << '\n';
  }

 private:
  template <class Dist>
  void act(const Dist& d, const RowMatrix& pout, bool deterministic, Rng& rng,
           RowMatrix& actions) {
    actions.resize(pout.rows(), d.action_dim());
    for (Eigen::Index i = 0; i < pout.rows(); ++i) {
      if (deterministic) {
        d.mode(pout.row(i).data(), actions.row(i).data());
      } else {
        d.sample(pout.row(i).data(), rng, actions.row(i).data());
      }
    }
  }
  RowMatrix clip_to_space(const RowMatrix& a) const {
    const Space& sp = vec_.action_space();
    if (sp.is_discrete()) return a;
    RowMatrix c = a;
    for (Eigen::Index i = 0; i < c.rows(); ++i)
      for (int k = 0; k < sp.dim(); ++k)
        c(i, k) = std::clamp(c(i, k), sp.low[static_cast<std::size_t>(k)],
                             sp.high[static_cast<std::size_t>(k)]);
    return c;
  }

  template <class Dist>
  void learn_impl(Dist& dist, std::int64_t total_steps, const ProgressFn& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    const int e_len = vec_.num_envs(), t_len = p_.n_steps, d_obs = vec_.observation_dim();
    const int a_dim = dist.action_dim();
    const Eigen::Index n = static_cast<Eigen::Index>(e_len) * t_len;
    if (!started_) {
      vec_.reset();
      started_ = true;
    }
    const std::int64_t target = steps_ + total_steps;
    RowMatrix xbuf(n, d_obs), abuf(n, a_dim), rewards(t_len, e_len), values(t_len, e_len),
        dones(t_len, e_len), pout, actions, adv, rets;
    Eigen::VectorXd logp(n), v;
    while (steps_ < target) {
      // ---- rollout
      for (int t = 0; t < t_len; ++t) {
        const RowMatrix& obs = vec_.obs();
        xbuf.middleRows(static_cast<Eigen::Index>(t) * e_len, e_len) = obs;
        ac_.predict(ConstMatrixView<double>(obs), pout, v);
        act(dist, pout, false, rng_, actions);
        for (int e = 0; e < e_len; ++e) {
          const Eigen::Index r = static_cast<Eigen::Index>(t) * e_len + e;
          abuf.row(r) = actions.row(e);
          logp[r] = dist.log_prob(pout.row(e).data(), actions.row(e).data(), nullptr, nullptr, 0);
          values(t, e) = v[e];
        }
        vec_.step(clip_to_space(actions));
        std::vector<int> boot;
        for (int e = 0; e < e_len; ++e) {
          rewards(t, e) = vec_.rewards()[e];
          dones(t, e) = (vec_.terminated(e) || vec_.truncated(e)) ? 1.0 : 0.0;
          if (vec_.truncated(e) && !vec_.terminated(e)) boot.push_back(e);
        }
        if (!boot.empty()) {  // bootstrap time-limit ends with gamma * V(final observation)
          RowMatrix fo(static_cast<Eigen::Index>(boot.size()), d_obs);
          for (std::size_t k = 0; k < boot.size(); ++k)
            fo.row(static_cast<Eigen::Index>(k)) = vec_.final_obs().row(boot[k]);
          RowMatrix po;
          Eigen::VectorXd fv;
          ac_.predict(ConstMatrixView<double>(fo), po, fv);
          for (std::size_t k = 0; k < boot.size(); ++k)
            rewards(t, boot[k]) += p_.gamma * fv[static_cast<Eigen::Index>(k)];
        }
      }
      steps_ += n;
      ac_.predict(ConstMatrixView<double>(vec_.obs()), pout, v);
      compute_gae(rewards, values, dones, v, p_.gamma, p_.gae_lambda, adv, rets);
      const Eigen::VectorXd adv_flat = Eigen::Map<const Eigen::VectorXd>(adv.data(), n);
      const Eigen::VectorXd ret_flat = Eigen::Map<const Eigen::VectorXd>(rets.data(), n);
      const LossTerms lt = update(dist, xbuf, abuf, logp, adv_flat, ret_flat);
      ++iteration_;
      // ---- progress
      const auto& er = vec_.episode_returns();
      const std::size_t w = std::min<std::size_t>(er.size(), static_cast<std::size_t>(p_.return_window));
      Progress pr;
      pr.steps = steps_;
      pr.episodes = static_cast<std::int64_t>(er.size());
      pr.iteration = iteration_;
      pr.mean_return = w == 0 ? std::numeric_limits<double>::quiet_NaN()
                              : std::accumulate(er.end() - static_cast<std::ptrdiff_t>(w), er.end(), 0.0) /
                                    static_cast<double>(w);
      pr.seconds = seconds_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      pr.fps = pr.seconds > 0 ? static_cast<double>(steps_) / pr.seconds : 0;
      pr.loss = lt;
      curve_.push_back({pr.steps, pr.episodes, pr.mean_return, pr.seconds});
      if (progress && !progress(pr)) break;
    }
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  template <class Dist>
  LossTerms update(Dist& dist, const RowMatrix& xbuf, const RowMatrix& abuf,
                   const Eigen::VectorXd& logp, const Eigen::VectorXd& adv,
                   const Eigen::VectorXd& ret) {
    const Eigen::Index n = xbuf.rows();
    const bool a2c = objective_ == Objective::a2c;
    const int epochs = a2c ? 1 : p_.n_epochs;
    const Eigen::Index bs = a2c ? n : std::min<Eigen::Index>(p_.batch_size, n);
    Eigen::VectorXd weights;
    if (objective_ == Objective::awr) weights = awr_weights(adv, p_.awr_beta, p_.awr_max_weight);
    std::vector<Eigen::Index> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), Eigen::Index{0});
    ac_.begin_buffer(ConstMatrixView<double>(xbuf));
    LossTerms sum;
    int count = 0;
    RowMatrix pall, xm, om, am, g_out;
    Eigen::VectorXd vall, vm, lm, advm, rm, g_v, g_extra;
    for (int ep = 0; ep < epochs; ++ep) {
      if (!a2c) rng_.shuffle(perm.begin(), perm.end());
      for (Eigen::Index s = 0; s < n; s += bs) {
        const Eigen::Index m = std::min(bs, n - s);
        ac_.predict_buffer(pall, vall);
        xm.resize(m, xbuf.cols());
        om.resize(m, pall.cols());
        am.resize(m, abuf.cols());
        vm.resize(m);
        lm.resize(m);
        advm.resize(m);
        rm.resize(m);
        for (Eigen::Index k = 0; k < m; ++k) {
          const Eigen::Index r = perm[static_cast<std::size_t>(s + k)];
          xm.row(k) = xbuf.row(r);
          om.row(k) = pall.row(r);
          am.row(k) = abuf.row(r);
          vm[k] = vall[r];
          lm[k] = logp[r];
          advm[k] = objective_ == Objective::awr ? weights[r] : adv[r];
          rm[k] = ret[r];
        }
        if (p_.normalize_advantage && objective_ != Objective::awr && m > 1) {
          const double mean = advm.mean();
          const double sd = std::sqrt((advm.array() - mean).square().sum() / static_cast<double>(m - 1));
          advm = (advm.array() - mean) / (sd + 1e-8);
        }
        LossBatch b{&om, &vm, &am, &lm, &advm, &rm};
        const LossTerms t = actor_critic_loss(dist, objective_, p_.loss, b, g_out, g_v, g_extra);
        ac_.step(ConstMatrixView<double>(xm), g_out, g_v);
        if constexpr (std::is_same_v<Dist, DiagGaussian>) {
          for (int k = 0; k < dist.n_extra(); ++k)
            dist.log_std[static_cast<std::size_t>(k)] -= p_.log_std_lr * g_extra[k];
        }
        sum.policy += t.policy;
        sum.value += t.value;
        sum.entropy += t.entropy;
        sum.total += t.total;
        sum.clip_fraction += t.clip_fraction;
        sum.approx_kl += t.approx_kl;
        ++count;
      }
    }
    ac_.end_buffer();
    const double c = count > 0 ? 1.0 / count : 0.0;
    sum.policy *= c;
    sum.value *= c;
    sum.entropy *= c;
    sum.total *= c;
    sum.clip_fraction *= c;
    sum.approx_kl *= c;
    return sum;
  }

  template <class Dist>
  double evaluate_impl(const Dist& dist, int episodes, std::uint64_t seed, bool deterministic) {
    auto env = make_();
    std::vector<double> obs(static_cast<std::size_t>(env->observation_dim()));
    RowMatrix x(1, env->observation_dim()), pout, a;
    Eigen::VectorXd v;
    Rng eval_rng(seed ^ 0xE7A1ull);  // evaluation never disturbs the training stream
    double total = 0;
    for (int k = 0; k < episodes; ++k) {
      env->reset(obs, seed + static_cast<std::uint64_t>(k));
      for (;;) {
        for (std::size_t j = 0; j < obs.size(); ++j) x(0, static_cast<Eigen::Index>(j)) = obs[j];
        ac_.predict(ConstMatrixView<double>(x), pout, v);
        act(dist, pout, deterministic, eval_rng, a);
        const RowMatrix ac = clip_to_space(a);
        const StepResult r = env->step(
            std::span<const double>(ac.data(), static_cast<std::size_t>(ac.cols())), obs);
        total += r.reward;
        if (r.done()) break;
      }
    }
    return total / episodes;
  }

  VecEnv::Factory make_;
  ActorCritic ac_;
  Params p_;
  VecEnv vec_;
  Rng rng_;
  Objective objective_ = Objective::ppo;
  std::variant<Categorical, DiagGaussian> dist_;
  std::vector<CurvePoint> curve_;
  std::int64_t steps_ = 0;
  int iteration_ = 0;
  double seconds_ = 0;
  bool started_ = false;
};

}  // namespace orchard::rl
