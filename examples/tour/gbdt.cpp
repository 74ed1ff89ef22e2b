// Tour section: gradient-boosted trees on a Fashion-MNIST subsample (10 classes, 784 pixels).
#include <chrono>
#include <iostream>
#include <orchard/core/io/fashion_mnist.hpp>
#include <orchard/gbdt.hpp>

#include "tour.hpp"

namespace {
tour::Register reg(20, "gbdt", [](const tour::Options& o) {
  using namespace orchard;
  const std::int64_t n_train = o.quick ? 1000 : 5000, n_test = o.quick ? 500 : 2000;
  auto fm = io::load_fashion_mnist(o.fashion_mnist_dir, n_train, n_test);
  Eigen::VectorXf y = fm.y_train.cast<float>();
  gbdt::Params p;
  p.objective = "multiclass";
  p.num_rounds = o.quick ? 5 : 20;
  p.learning_rate = 0.3;
  p.max_depth = 6;
  p.threads = o.threads;
  const auto t0 = std::chrono::steady_clock::now();
  auto m = gbdt::train(p, fm.X_train, y);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto t1 = std::chrono::steady_clock::now();
  const Eigen::VectorXi cls = m.predict_class(fm.X_test, -1, o.threads);
  const double ps = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  const double acc = (cls.array() == fm.y_test.array()).cast<double>().mean();
  std::cout << "  Fashion-MNIST " << n_train << " train / " << n_test << " test rows, 784 pixels, 10 classes\n"
            << "  " << p.num_rounds << " rounds x 10 trees (depth 6, eta 0.3): trained in " << s
            << " s, predicted in " << ps << " s\n"
            << "  test accuracy " << acc << "\n";
});
}  // namespace
