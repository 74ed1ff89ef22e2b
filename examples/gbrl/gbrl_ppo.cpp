// Trains an actor-critic GBRL ensemble with PPO, A2C or AWR on one of the C++ environments.
// Prints a progress line per rollout (steps, mean return, fps), writes the learning curve as CSV
// and as an SVG plot, optionally saves the model, and reports a final evaluation.
//
//   gbrl_ppo --env CartPole-v1 --steps 1000000 --csv cartpole.csv --svg cartpole.svg
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <orchard/rl.hpp>

using namespace orchard;

namespace {
void write_svg(const std::vector<rl::CurvePoint>& c, const std::string& title, const std::string& path) {
  std::ofstream f(path);
  if (!f) throw IoError("cannot write " + path);
  const double w = 640, h = 400, l = 70, r = 20, t = 40, b = 50;
  double x1 = 1, y0 = 0, y1 = 1;
  bool any = false;
  for (const auto& p : c) {
    if (std::isnan(p.mean_return)) continue;
    x1 = std::max(x1, static_cast<double>(p.steps));
    if (!any) y0 = y1 = p.mean_return;
    y0 = std::min(y0, p.mean_return);
    y1 = std::max(y1, p.mean_return);
    any = true;
  }
  if (y1 - y0 < 1e-9) y1 = y0 + 1;
  auto px = [&](double x) { return l + (w - l - r) * x / x1; };
  auto py = [&](double y) { return h - b - (h - t - b) * (y - y0) / (y1 - y0); };
  f << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h << "'>\n"
    << "<rect width='100%' height='100%' fill='white'/>\n"
    << "<text x='" << w / 2 << "' y='24' text-anchor='middle' font-family='sans-serif' font-size='15'>"
    << title << "</text>\n"
    << "<line x1='" << l << "' y1='" << h - b << "' x2='" << w - r << "' y2='" << h - b << "' stroke='black'/>\n"
    << "<line x1='" << l << "' y1='" << t << "' x2='" << l << "' y2='" << h - b << "' stroke='black'/>\n";
  for (int k = 0; k <= 4; ++k) {
    const double yv = y0 + (y1 - y0) * k / 4, xv = x1 * k / 4;
    f << "<text x='" << l - 6 << "' y='" << py(yv) + 4 << "' text-anchor='end' font-family='sans-serif' font-size='11'>"
      << std::round(yv * 10) / 10 << "</text>\n"
      << "<text x='" << px(xv) << "' y='" << h - b + 16 << "' text-anchor='middle' font-family='sans-serif' font-size='11'>"
      << static_cast<long long>(xv) << "</text>\n";
  }
  f << "<text x='" << w / 2 << "' y='" << h - 10 << "' text-anchor='middle' font-family='sans-serif' font-size='12'>environment steps</text>\n"
    << "<text x='16' y='" << h / 2 << "' transform='rotate(-90 16 " << h / 2
    << ")' text-anchor='middle' font-family='sans-serif' font-size='12'>mean episode return</text>\n"
    << "<polyline fill='none' stroke='#2a6fdb' stroke-width='2' points='";
  for (const auto& p : c)
    if (!std::isnan(p.mean_return)) f << px(static_cast<double>(p.steps)) << ',' << py(p.mean_return) << ' ';
  f << "'/>\n</svg>\n";
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train a GBRL actor-critic (PPO / A2C / AWR) on a C++ Gymnasium-style environment"};
  std::string env = "CartPole-v1", csv, svg, save;
  std::int64_t steps = 200000;
  rl::Params p;
  gbrl::Params gp;
  gp.max_depth = 4;
  gp.growth = "oblivious";
  double policy_lr = 0.05, value_lr = 0.01;
  bool separate = false;
  int threads = 1, eval_episodes = 100;
  double stop_at = std::nan("");
  app.add_option("--env", env, "CartPole-v1, Acrobot-v1, MountainCar-v0, Pendulum-v1, GridWorld-<n>[-fixed]")->capture_default_str();
  app.add_option("--algo", p.algorithm, "ppo, a2c or awr")->capture_default_str();
  app.add_option("--steps", steps, "Environment steps")->capture_default_str();
  app.add_option("--n-envs", p.n_envs, "Environments stepped together")->capture_default_str();
  app.add_option("--n-steps", p.n_steps, "Steps per environment per rollout")->capture_default_str();
  app.add_option("--batch", p.batch_size, "Minibatch size (one tree per minibatch)")->capture_default_str();
  app.add_option("--epochs", p.n_epochs, "Epochs per rollout")->capture_default_str();
  app.add_option("--gamma", p.gamma, "Discount")->capture_default_str();
  app.add_option("--gae-lambda", p.gae_lambda, "GAE lambda")->capture_default_str();
  app.add_option("--clip", p.loss.clip_range, "PPO clip range")->capture_default_str();
  app.add_option("--ent-coef", p.loss.ent_coef, "Entropy coefficient")->capture_default_str();
  app.add_option("--vf-coef", p.loss.vf_coef, "Value-loss coefficient")->capture_default_str();
  app.add_option("--policy-lr", policy_lr, "Tree learning rate of the policy outputs")->capture_default_str();
  app.add_option("--value-lr", value_lr, "Tree learning rate of the value output")->capture_default_str();
  app.add_option("--log-std-lr", p.log_std_lr, "Gaussian log-std learning rate")->capture_default_str();
  app.add_option("--depth", gp.max_depth, "Tree depth")->capture_default_str();
  app.add_option("--growth", gp.growth, "greedy or oblivious")->capture_default_str();
  app.add_option("--score", gp.score, "cosine or l2")->capture_default_str();
  app.add_option("--candidates", gp.split_candidates, "quantile or uniform")->capture_default_str();
  app.add_option("--max-bin", gp.max_bin, "Candidate bins per feature (categorical codes must be below it)")->capture_default_str();
  app.add_flag("--persistent-bins", gp.persistent_bins, "Bins once per rollout buffer");
  app.add_flag("--separate", separate, "Separate actor and critic ensembles");
  app.add_option("--seed", p.seed, "Seed")->capture_default_str();
  app.add_option("--threads", threads, "Threads (0 = all)")->capture_default_str();
  app.add_option("--eval-episodes", eval_episodes, "Final deterministic evaluation episodes")->capture_default_str();
  app.add_option("--stop-at", stop_at, "Stop when the mean return reaches this");
  app.add_option("--csv", csv, "Learning-curve CSV");
  app.add_option("--svg", svg, "Learning-curve SVG plot");
  app.add_option("--save", save, "Save the model (JSON)");
  CLI11_PARSE(app, argc, argv);
  try {
    auto probe = rl::make_env(env);
    const rl::Space sp = probe->action_space();
    const int po = sp.is_discrete() ? sp.n : sp.dim();
    gp.categorical = probe->categorical_features();
    const Context ctx(threads);
    std::unique_ptr<rl::GbrlModel> actor, critic;
    if (separate) {
      gbrl::Params a = gp, c = gp;
      a.n_outputs = po;
      a.lr = {gbrl::LrRange{0, -1, policy_lr}};
      c.n_outputs = 1;
      c.lr = {gbrl::LrRange{0, -1, value_lr}};
      actor = std::make_unique<rl::GbrlModel>(a, ctx);
      critic = std::make_unique<rl::GbrlModel>(c, ctx);
    } else {
      gp.n_outputs = po + 1;
      gp.lr = {gbrl::LrRange{0, po, policy_lr}, gbrl::LrRange{po, po + 1, value_lr}};
      actor = std::make_unique<rl::GbrlModel>(gp, ctx);
    }
    auto ac = separate ? rl::ActorCritic::separate(*actor, *critic, po) : rl::ActorCritic::shared(*actor, po);
    rl::Trainer trainer([env] { return rl::make_env(env); }, ac, p);
    std::cout << "training " << p.algorithm << " on " << env << " for " << steps << " steps ("
              << (separate ? "separate" : "shared") << " actor-critic, " << gp.growth << " depth "
              << gp.max_depth << ", " << gp.score << ")\n";
    trainer.learn(steps, [&](const rl::Progress& pr) {
      if (pr.iteration % 10 == 0) {
        std::printf("steps %9lld  episodes %6lld  mean return %9.2f  fps %8.0f  trees %lld\n",
                    static_cast<long long>(pr.steps), static_cast<long long>(pr.episodes),
                    pr.mean_return, pr.fps, static_cast<long long>(actor->ensemble().num_trees()));
        std::fflush(stdout);
      }
      return !(pr.mean_return >= stop_at && pr.episodes >= p.return_window);
    });
    const auto& c = trainer.curve();
    if (!c.empty())
      std::printf("done: %lld steps in %.1f s, mean return (last %d episodes) %.2f\n",
                  static_cast<long long>(c.back().steps), c.back().seconds, p.return_window,
                  c.back().mean_return);
    if (eval_episodes > 0)
      std::printf("evaluation: mean return over %d deterministic episodes %.2f\n", eval_episodes,
                  trainer.evaluate(eval_episodes, 1000000 + p.seed, true));
    if (!csv.empty()) trainer.write_curve_csv(csv);
    if (!svg.empty()) write_svg(c, p.algorithm + "-GBRL on " + env, svg);
    if (!save.empty()) actor->ensemble().save(save);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
