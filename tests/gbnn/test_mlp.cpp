// The plain MLP baseline: it learns, it is thread-invariant, and its network round-trips.
#include <doctest/doctest.h>

#include <orchard/gbnn.hpp>

#include "gbnn_test_data.hpp"

using namespace orchard;

TEST_CASE("MLP (L-BFGS and Adam) learns the synthetic problems") {
  for (int kind = 0; kind < 3; ++kind) {
    CAPTURE(kind);
    auto pr = gbnn_test::make_problem(kind, 200);
    for (auto solver : {gbnn::Solver::lbfgs, gbnn::Solver::adam}) {
      gbnn::MlpParams p;
      p.task = kind == 0 ? gbnn::Task::regression : gbnn::Task::classification;
      p.hidden = 8;
      p.solver = solver;
      p.max_iter = solver == gbnn::Solver::lbfgs ? 150 : 60;
      p.learning_rate = 0.02;
      p.batch_size = 32;
      gbnn::Mlp<double> m;
      m.fit(pr.X, pr.y, p, Context(2));
      const auto pred = m.predict(pr.X);
      double s = 0;
      for (int i = 0; i < pred.size(); ++i)
        s += kind == 0 ? (pred[i] - pr.y[i]) * (pred[i] - pr.y[i]) : (pred[i] == pr.y[i]);
      s /= static_cast<double>(pred.size());
      if (kind == 0) {
        CHECK(s < 0.3 * (pr.y.array() - pr.y.mean()).square().mean());
      } else {
        CHECK(s > 0.85);
      }
      if (solver == gbnn::Solver::adam) CHECK(m.loss_curve().back() < m.loss_curve().front());
    }
  }
}

TEST_CASE("MLP: identical for any thread count") {
  auto pr = gbnn_test::make_problem(2, 600);
  for (auto solver : {gbnn::Solver::lbfgs, gbnn::Solver::adam}) {
    gbnn::MlpParams p;
    p.hidden = 5;
    p.solver = solver;
    p.max_iter = 20;
    gbnn::Mlp<double> a, b;
    a.fit(pr.X, pr.y, p, Context(1));
    b.fit(pr.X, pr.y, p, Context(3));
    CHECK(a.network().W1 == b.network().W1);
    CHECK(a.network().b2 == b.network().b2);
  }
}

TEST_CASE("MLP: bad hyperparameters are rejected") {
  auto pr = gbnn_test::make_problem(1, 40);
  gbnn::MlpParams p;
  p.hidden = 0;
  gbnn::Mlp<double> m;
  CHECK_THROWS_WITH_AS(m.fit(pr.X, pr.y, p), doctest::Contains("'hidden' = 0"), InvalidArgument);
  p.hidden = 3;
  p.learning_rate = -1;
  CHECK_THROWS_WITH_AS(m.fit(pr.X, pr.y, p), doctest::Contains("'learning_rate' = -1"),
                       InvalidArgument);
}
