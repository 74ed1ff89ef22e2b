// Tour section: training-data influence on Fashion-MNIST (T-shirt vs shirt, a hard pair).
// Trains a small GBDT, explains misclassified test images with BoostIn's most helpful and most
// harmful training images, and checks label-noise detection by self-influence.
#include <cstdio>
#include <orchard/core/io/fashion_mnist.hpp>
#include <orchard/influence.hpp>

#include "tour.hpp"

namespace {

const char* kNames[] = {"T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"};

void run(const tour::Options& o) {
  namespace inf = orchard::influence;
  using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto fm = orchard::io::load_fashion_mnist(o.fashion_mnist_dir, o.quick ? 3000 : 6000, 1000);
  auto pick = [](const auto& X, const Eigen::VectorXi& y, std::int64_t cap, RowMatrix& Xo, Eigen::VectorXd& yo,
                 std::vector<int>& cls) {
    std::vector<std::int64_t> rows;
    for (std::int64_t i = 0; i < y.size() && static_cast<std::int64_t>(rows.size()) < cap; ++i) {
      if (y[i] == 0 || y[i] == 6) rows.push_back(i);
    }
    Xo.resize(static_cast<std::int64_t>(rows.size()), X.cols());
    yo.resize(static_cast<std::int64_t>(rows.size()));
    cls.clear();
    for (std::size_t q = 0; q < rows.size(); ++q) {
      Xo.row(static_cast<std::int64_t>(q)) = X.row(rows[q]).template cast<double>();
      yo[static_cast<std::int64_t>(q)] = y[rows[q]] == 6 ? 1 : 0;
      cls.push_back(y[rows[q]]);
    }
  };
  RowMatrix Xtr, Xte;
  Eigen::VectorXd ytr, yte;
  std::vector<int> ctr, cte;
  pick(fm.X_train, fm.y_train, o.quick ? 600 : 1200, Xtr, ytr, ctr);
  pick(fm.X_test, fm.y_test, 200, Xte, yte, cte);
  orchard::gbdt::Params p;
  p.objective = "binary";
  p.num_rounds = o.quick ? 15 : 30;
  p.max_depth = 4;
  p.learning_rate = 0.3;
  p.threads = o.threads;
  const auto Xv = orchard::cview<double>(Xtr);
  const auto yv = orchard::ConstVectorView<double>(ytr.data(), ytr.size());
  const auto model = orchard::gbdt::train(p, Xv, yv);
  const Eigen::VectorXi pred = model.predict_class(orchard::cview<double>(Xte), -1, o.threads);
  std::vector<std::int64_t> wrong;
  for (std::int64_t e = 0; e < yte.size(); ++e) {
    if (pred[e] != static_cast<int>(yte[e])) wrong.push_back(e);
  }
  std::printf("  GBDT T-shirt vs shirt: %lld train images, %d rounds depth %d; test accuracy %.3f on %lld images\n",
              static_cast<long long>(Xtr.rows()), p.num_rounds, p.max_depth,
              1.0 - static_cast<double>(wrong.size()) / static_cast<double>(yte.size()), static_cast<long long>(yte.size()));
  inf::Params ip;
  ip.threads = o.threads;
  auto t0 = std::chrono::steady_clock::now();
  const auto ex = inf::make("boostin", model, Xv, yv, ip);
  RowMatrix Xw(std::min<std::size_t>(wrong.size(), 3), Xte.cols());
  Eigen::VectorXd yw(Xw.rows());
  for (std::int64_t q = 0; q < Xw.rows(); ++q) {
    Xw.row(q) = Xte.row(wrong[static_cast<std::size_t>(q)]);
    yw[q] = yte[wrong[static_cast<std::size_t>(q)]];
  }
  if (Xw.rows() > 0) {
    const auto tk = ex.top_k(orchard::cview<double>(Xw), orchard::ConstVectorView<double>(yw.data(), yw.size()), 3);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("  BoostIn (eta %.3g, lambda %.3g recovered from the leaves), fit + top-3 of %lld rows: %.3f s\n",
                ex.learning_rate(), ex.lambda_l2(), static_cast<long long>(Xw.rows()), sec);
    for (std::int64_t q = 0; q < Xw.rows(); ++q) {
      std::printf("  test #%lld is a %s, predicted %s. helpful:", static_cast<long long>(wrong[static_cast<std::size_t>(q)]),
                  kNames[cte[static_cast<std::size_t>(wrong[static_cast<std::size_t>(q)])]], yw[q] == 1 ? "T-shirt" : "shirt");
      for (int j = 0; j < 3; ++j) std::printf(" %s", kNames[ctr[static_cast<std::size_t>(tk.helpful_index(q, j))]]);
      std::printf("; harmful:");
      for (int j = 0; j < 3; ++j) std::printf(" %s", kNames[ctr[static_cast<std::size_t>(tk.harmful_index(q, j))]]);
      std::printf("\n");
    }
  }
  inf::eval::Options eo;
  eo.train = p;
  eo.threads = o.threads;
  eo.influence.threads = o.threads;
  eo.fractions = {0.1, 0.2, 0.3};
  std::printf("  label noise (40%% of %lld labels flipped): fraction of the noise found in the top 10/20/30%% by self-influence\n",
              static_cast<long long>(std::min<std::int64_t>(Xtr.rows(), 600)));
  const std::int64_t nn = std::min<std::int64_t>(Xtr.rows(), 600);
  const RowMatrix Xn = Xtr.topRows(nn);
  const Eigen::VectorXd yn = ytr.head(nn);
  eo.train.num_rounds = 15;
  for (const char* m : {"boostin", "loss", "random"}) {
    const auto c = inf::eval::label_noise(m, orchard::cview<double>(Xn), orchard::ConstVectorView<double>(yn.data(), nn), eo);
    std::printf("    %-8s %.2f %.2f %.2f\n", m, c.value[0], c.value[1], c.value[2]);
  }
}

tour::Register reg(30, "influence", run);

}  // namespace
