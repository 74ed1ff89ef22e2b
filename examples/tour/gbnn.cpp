// Tour section: GBNN (hidden units trained by gradient boosting) against the plain MLP on a
// Fashion-MNIST subsample, and what switching off the last units costs.
#include <chrono>
#include <cstdio>
#include <orchard/core/io.hpp>
#include <orchard/gbnn.hpp>

#include "tour.hpp"

namespace {

double accuracy(const Eigen::VectorXf& pred, const Eigen::VectorXi& y) {
  double s = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) s += pred[i] == static_cast<float>(y[i]) ? 1 : 0;
  return s / static_cast<double>(y.size());
}

const tour::Register reg(50, "gbnn", [](const tour::Options& o) {
  using namespace orchard;
  const Context ctx(o.threads);
  const long n_train = o.quick ? 1000 : 3000, n_test = o.quick ? 500 : 2000;
  auto fm = io::load_fashion_mnist(o.fashion_mnist_dir, n_train, n_test);
  const Eigen::VectorXf ytr = fm.y_train.cast<float>();
  std::printf("  Fashion-MNIST subsample: %ld train / %ld test rows, 784 pixels\n", n_train, n_test);

  // One unit per step, as the reference; each step network with a stronger L2 penalty (α = 1)
  // and at most 50 L-BFGS iterations, one Newton step per class (docs/gbnn.md: these keep the
  // small step networks from overfitting their subsample; better and faster than the package's
  // α = 1e-4, 200 iterations).
  gbnn::Params p;
  p.steps = o.quick ? 16 : 32;
  p.units = 1;
  p.max_iter = 50;
  p.alpha = 1.0;
  p.per_class_step = true;
  gbnn::Model<float> model;
  auto t0 = std::chrono::steady_clock::now();
  model.fit(fm.X_train, ytr, p, ctx);
  const double tg = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto net = model.to_network();
  const long H = static_cast<long>(net.n_hidden());
  std::printf("  GBNN  %2d steps x %d units: test accuracy %.4f, %.2f s\n", p.steps, p.units,
              accuracy(net.predict(fm.X_test, -1, ctx), fm.y_test), tg);
  for (int pct : {25, 50}) {
    const long keep = H - H * pct / 100;
    std::printf("        last %d%% of units off (%ld left): accuracy %.4f\n", pct, keep,
                accuracy(net.predict(fm.X_test, keep, ctx), fm.y_test));
  }

  gbnn::MlpParams mp;
  mp.hidden = static_cast<int>(H);
  mp.max_iter = o.quick ? 60 : 100;
  gbnn::Mlp<float> mlp;
  t0 = std::chrono::steady_clock::now();
  mlp.fit(fm.X_train, ytr, mp, ctx);
  const double tm = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  MLP   %ld units, L-BFGS %d of at most %d iterations: test accuracy %.4f, %.2f s\n",
              H, mlp.iterations(), mp.max_iter, accuracy(mlp.predict(fm.X_test, ctx), fm.y_test),
              tm);
  // Switching off units of a conventionally trained network is not graceful.
  std::printf("        last 50%% of units off: accuracy %.4f\n",
              accuracy(mlp.network().predict(fm.X_test, H / 2, ctx), fm.y_test));
});

}  // namespace
