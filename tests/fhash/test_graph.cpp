#include <doctest/doctest.h>

#include <orchard/core/io.hpp>
#include <orchard/fhash.hpp>
#include <vector>

#include "orchard_test.hpp"

using namespace orchard;
using namespace orchard::fhash;
using namespace orchard::fhash::graph;

namespace {
Data blobs(int n_train, int n_test, int d, int classes, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::vector<double>> centers(static_cast<std::size_t>(classes));
  for (auto& c : centers) {
    c.resize(static_cast<std::size_t>(d));
    for (auto& v : c) v = rng.normal(0.0, 1.5);
  }
  Data data;
  data.classes = classes;
  auto fill = [&](int n, RowMatrixF& X, std::vector<int>& y) {
    X.resize(n, d);
    y.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const int k = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(classes)));
      y[static_cast<std::size_t>(i)] = k;
      for (int j = 0; j < d; ++j)
        X(i, j) = static_cast<float>(
            centers[static_cast<std::size_t>(k)][static_cast<std::size_t>(j)] + rng.normal());
    }
  };
  fill(n_train, data.X_train, data.y_train);
  fill(n_test, data.X_test, data.y_test);
  return data;
}

Cell chain(int k) {
  Cell c;
  c.k = k;
  c.ops.assign(static_cast<std::size_t>(k + 1), NodeOp::identity);
  c.edges.assign(static_cast<std::size_t>((k + 1) * (k + 1)), 0);
  c.out.assign(static_cast<std::size_t>(k + 1), 0);
  return c;
}
}  // namespace

TEST_CASE("compute graph: dead nodes do not change the hash, live changes do") {
  GraphParams gp;
  gp.hidden = 8;
  gp.max_nodes = 3;
  ComputeGraphDomain dom(blobs(200, 100, 10, 3, 1), gp);
  Cell a = chain(3);
  a.ops[1] = NodeOp::dense_relu;
  a.edges[0 * 4 + 1] = 1;  // 0 -> 1
  a.out[1] = 1;
  Cell b = a;  // node 2 dead: no path to the output
  b.ops[2] = NodeOp::dense_tanh;
  b.edges[1 * 4 + 2] = 1;
  Cell c = a;  // node 3 dead: not reachable from node 0
  c.ops[3] = NodeOp::dense_linear;
  c.out[3] = 1;
  CHECK(dom.live_nodes(b)[2] == false);
  CHECK(dom.live_nodes(c)[3] == false);
  const auto ha = dom.hash(a);
  CHECK(ha == dom.hash(b));
  CHECK(ha == dom.hash(c));
  Cell d = a;
  d.ops[1] = NodeOp::dense_tanh;
  CHECK(ha != dom.hash(d));
  Cell e = a;
  e.edges[0 * 4 + 2] = 1;  // 0 -> 2 -> out as identity: adds a skip path
  e.out[2] = 1;
  CHECK(ha != dom.hash(e));
  // The hash is reproducible (RNG reset per repetition) and training learns the blobs.
  CHECK(ha == dom.hash(a));
  Rng rng(3);
  CHECK(dom.evaluate(a, rng) > 0.8);
}

TEST_CASE("compute graph: search with FEC evaluates fewer models") {
  GraphParams gp;
  gp.hidden = 8;
  gp.max_nodes = 3;
  gp.epochs = 1;
  ComputeGraphDomain dom(blobs(160, 80, 8, 3, 2), gp);
  SearchParams sp;
  sp.population_size = 10;
  sp.tournament_size = 3;
  sp.num_candidates = 80;
  sp.batch_size = 4;
  sp.seed = 4;
  const auto with = search(dom, sp, Context(2));
  CHECK(with.evaluations < with.candidates);
  CHECK(with.best_fitness > 0.7);
  // Bad input: empty data, labels out of range.
  Data bad = blobs(10, 10, 4, 3, 5);
  bad.y_train[0] = 7;
  CHECK_THROWS_AS(ComputeGraphDomain(bad, gp), InvalidArgument);
  gp.probe_examples = 0;
  CHECK_THROWS_AS(ComputeGraphDomain(blobs(10, 10, 4, 3, 5), gp), InvalidArgument);
}

TEST_SUITE("realdata") {
  TEST_CASE("compute graph search on a Fashion-MNIST subsample") {
    const std::string dir = "/usr/share/datasets/fashion-mnist";
    if (!orchard_test::have_data(dir + "/train-images-idx3-ubyte.gz")) return;
    const auto fm = io::load_fashion_mnist(dir, 1000, 500);
    Data data;
    data.X_train = pool_28x28(fm.X_train);
    data.X_test = pool_28x28(fm.X_test);
    data.y_train.assign(fm.y_train.data(), fm.y_train.data() + fm.y_train.size());
    data.y_test.assign(fm.y_test.data(), fm.y_test.data() + fm.y_test.size());
    GraphParams gp;
    gp.hidden = 16;
    gp.epochs = 2;
    ComputeGraphDomain dom(std::move(data), gp);
    SearchParams sp;
    sp.population_size = 10;
    sp.tournament_size = 3;
    sp.num_candidates = 60;
    sp.batch_size = 4;
    sp.seed = 1;
    const auto r = search(dom, sp, Context(2));
    MESSAGE("fashion-mnist cell search: best accuracy " << r.best_fitness << ", hit fraction "
                                                        << r.cache.hit_fraction());
    CHECK(r.best_fitness > 0.6);  // chance is 0.1
    CHECK(r.evaluations < r.candidates);
  }
}
