#pragma once
// Domain 2, compute graphs: a small cell architecture search in the style of NAS-Bench-101.
// Every model is   input -> dense+ReLU stem (hidden units) = node 0 -> cell -> dense softmax head.
// The cell has up to K intermediate nodes; node i sums the outputs of the earlier nodes j with an
// edge j -> i and applies its op (dense+ReLU, dense+tanh, dense linear, identity, ReLU); the cell
// output is the sum of the nodes marked as outputs (node 0 when none is live). Nodes that are not
// reachable from node 0 or do not reach the output are dead: they cost nothing, draw no random
// numbers (every node's weights come from its own RNG stream), and mutations that only touch them
// leave the function unchanged.
// Evaluation = minibatch SGD for a few epochs on a training subset, fitness = held-out accuracy.
// Probe = a few SGD steps on a canonical minibatch (the first N_E training rows) from the
// repetition's seed, emitting the training losses and the final logits.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "../../core/error.hpp"
#include "../../core/random.hpp"
#include "../hasher.hpp"

namespace orchard::fhash::graph {

enum class NodeOp : std::uint8_t { dense_relu, dense_tanh, dense_linear, identity, relu, count };

inline const char* op_name(NodeOp op) {
  static const char* names[] = {"dense_relu", "dense_tanh", "dense_linear", "identity", "relu"};
  return names[static_cast<int>(op)];
}

/// A cell: ops[i] for node i = 1..K (ops[0] unused), edges[j * (K+1) + i] for j < i, and the
/// output flags.
struct Cell {
  int k = 0;
  std::vector<NodeOp> ops;
  std::vector<std::uint8_t> edges;
  std::vector<std::uint8_t> out;
  bool operator==(const Cell&) const = default;
  bool edge(int j, int i) const { return edges[static_cast<std::size_t>(j * (k + 1) + i)] != 0; }
};

struct GraphParams {
  int max_nodes = 4;  ///< K intermediate nodes
  int hidden = 32;    ///< units of every node
  int epochs = 2;     ///< evaluation training epochs
  int batch = 32;     ///< evaluation minibatch
  double learning_rate = 0.1;
  int probe_steps = 3;            ///< SGD steps of the probe
  int probe_examples = 16;        ///< N_E: the canonical minibatch
  int probe_seeds = 1;            ///< N_S
  double edge_probability = 0.5;  ///< random cells
  CanonicalParams canonical{};

  void validate() const {
    require(max_nodes >= 1 && max_nodes <= 12, "max_nodes", max_nodes, "must lie in 1..12");
    require(hidden >= 1, "hidden", hidden, "must be >= 1");
    require(epochs >= 1, "epochs", epochs, "must be >= 1");
    require(batch >= 1, "batch", batch, "must be >= 1");
    require(learning_rate > 0 && std::isfinite(learning_rate), "learning_rate", learning_rate,
            "must be finite and > 0");
    require(probe_steps >= 1, "probe_steps", probe_steps, "must be >= 1");
    require(probe_examples >= 1, "probe_examples", probe_examples,
            "the probe set must not be empty");
    require(probe_seeds >= 1, "probe_seeds", probe_seeds, "must be >= 1");
    require(edge_probability >= 0 && edge_probability <= 1, "edge_probability", edge_probability,
            "must lie in [0, 1]");
  }
};

using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Dataset handed to the domain: rows = examples, labels 0..classes-1.
struct Data {
  RowMatrixF X_train, X_test;
  std::vector<int> y_train, y_test;
  int classes = 10;
};

/// 2 x 2 average pooling of 28 x 28 images (784 -> 196 features), to keep the search fast.
inline RowMatrixF pool_28x28(const RowMatrixF& X) {
  require(X.cols() == 784, "X.cols", X.cols(), "expected 28 x 28 = 784 pixels");
  RowMatrixF out(X.rows(), 196);
  for (Eigen::Index r = 0; r < X.rows(); ++r) {
    for (int i = 0; i < 14; ++i) {
      for (int j = 0; j < 14; ++j) {
        const float* p = X.data() + r * 784;
        out(r, i * 14 + j) =
            0.25f * (p[(2 * i) * 28 + 2 * j] + p[(2 * i) * 28 + 2 * j + 1] +
                     p[(2 * i + 1) * 28 + 2 * j] + p[(2 * i + 1) * 28 + 2 * j + 1]);
      }
    }
  }
  return out;
}

class ComputeGraphDomain {
 public:
  using Candidate = Cell;

  ComputeGraphDomain(Data data, const GraphParams& p = {}) : p_(p), data_(std::move(data)) {
    p.validate();
    require(data_.X_train.rows() >= 1 && data_.X_test.rows() >= 1, "X_train.rows",
            data_.X_train.rows(), "training and test data must not be empty");
    require(static_cast<std::size_t>(data_.X_train.rows()) == data_.y_train.size(), "y_train.size",
            data_.y_train.size(), "must equal X_train.rows");
    require(static_cast<std::size_t>(data_.X_test.rows()) == data_.y_test.size(), "y_test.size",
            data_.y_test.size(), "must equal X_test.rows");
    require(data_.X_train.cols() == data_.X_test.cols(), "X_test.cols", data_.X_test.cols(),
            "must equal X_train.cols");
    require(data_.classes >= 2, "classes", data_.classes, "must be >= 2");
    for (int y : data_.y_train)
      require(y >= 0 && y < data_.classes, "y_train", y, "label out of range");
    for (int y : data_.y_test)
      require(y >= 0 && y < data_.classes, "y_test", y, "label out of range");
    const int ne = std::min<int>(p.probe_examples, static_cast<int>(data_.X_train.rows()));
    std::vector<double> inputs(static_cast<std::size_t>(ne) * data_.X_train.cols());
    for (int r = 0; r < ne; ++r)
      for (Eigen::Index c = 0; c < data_.X_train.cols(); ++c)
        inputs[static_cast<std::size_t>(r * data_.X_train.cols() + c)] = data_.X_train(r, c);
    std::vector<std::uint64_t> seeds;
    Rng srng(0x9A9E);
    for (int s = 0; s < p.probe_seeds; ++s) seeds.push_back(srng.next());
    HashParams hp;
    hp.canonical = p.canonical;
    hasher_ = Hasher(hp, ProbeSet(std::move(inputs), ne, std::move(seeds)));
    probe_rows_ = ne;
  }

  const GraphParams& params() const noexcept { return p_; }
  const Hasher& hasher() const noexcept { return hasher_; }

  Cell random_candidate(Rng& rng) const {
    Cell c = empty_cell();
    for (int i = 1; i <= c.k; ++i) {
      c.ops[static_cast<std::size_t>(i)] =
          static_cast<NodeOp>(rng.uniform_int(static_cast<std::uint64_t>(NodeOp::count)));
      for (int j = 0; j < i; ++j) c.edges[idx(c, j, i)] = rng.bernoulli(p_.edge_probability);
      c.out[static_cast<std::size_t>(i)] = rng.bernoulli(p_.edge_probability);
    }
    return c;
  }

  /// Flip one edge, change one op, or flip one output flag.
  Cell mutate(const Cell& parent, Rng& rng) const {
    Cell c = parent;
    const auto kind = rng.uniform_int(3);
    const int i = 1 + static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(c.k)));
    if (kind == 0) {
      const int j = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(i)));
      c.edges[idx(c, j, i)] ^= 1;
    } else if (kind == 1) {
      c.ops[static_cast<std::size_t>(i)] =
          static_cast<NodeOp>(rng.uniform_int(static_cast<std::uint64_t>(NodeOp::count)));
    } else {
      c.out[static_cast<std::size_t>(i)] ^= 1;
    }
    return c;
  }

  std::string describe(const Cell& c) const {
    std::ostringstream os;
    const auto live = live_nodes(c);
    for (int i = 1; i <= c.k; ++i) {
      if (!live[static_cast<std::size_t>(i)]) continue;
      os << "n" << i << "=" << op_name(c.ops[static_cast<std::size_t>(i)]) << "(";
      bool first = true;
      for (int j = 0; j < i; ++j) {
        if (c.edge(j, i) && live[static_cast<std::size_t>(j)]) {
          os << (first ? "" : "+") << "n" << j;
          first = false;
        }
      }
      os << ")" << (c.out[static_cast<std::size_t>(i)] ? "*" : "") << " ";
    }
    return os.str();
  }

  std::uint64_t hash(const Cell& c) const { return hash_result(c).hash; }

  HashResult hash_result(const Cell& c) const {
    return hasher_.hash([&](ProbeRun& run) {
      Net net = build(c, run.seed());
      const auto X = data_.X_train.topRows(probe_rows_);
      std::vector<int> y(data_.y_train.begin(), data_.y_train.begin() + probe_rows_);
      for (int s = 0; s < p_.probe_steps; ++s) {
        const double loss = net.step(X.transpose(), y, static_cast<float>(p_.learning_rate));
        run.emit(loss);
        if (!std::isfinite(loss)) {
          run.stop_early();
          return;
        }
      }
      const MatrixF logits = net.forward(X.transpose());
      for (Eigen::Index j = 0; j < logits.cols(); ++j)
        for (Eigen::Index i = 0; i < logits.rows(); ++i) run.emit(logits(i, j));
    });
  }

  /// Trains for `epochs` on the training subset (shuffled by `rng`) and returns test accuracy.
  double evaluate(const Cell& c, Rng& rng) const {
    Net net = build(c, rng.next());
    const auto n = static_cast<std::int64_t>(data_.X_train.rows());
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
    MatrixF xb(data_.X_train.cols(), p_.batch);
    std::vector<int> yb;
    for (int e = 0; e < p_.epochs; ++e) {
      rng.shuffle(order.begin(), order.end());
      for (std::int64_t b = 0; b < n; b += p_.batch) {
        const std::int64_t m = std::min<std::int64_t>(p_.batch, n - b);
        xb.resize(data_.X_train.cols(), m);
        yb.resize(static_cast<std::size_t>(m));
        for (std::int64_t t = 0; t < m; ++t) {
          const auto r = order[static_cast<std::size_t>(b + t)];
          xb.col(t) = data_.X_train.row(r).transpose();
          yb[static_cast<std::size_t>(t)] = data_.y_train[static_cast<std::size_t>(r)];
        }
        const double loss = net.step(xb, yb, static_cast<float>(p_.learning_rate));
        if (!std::isfinite(loss)) return 0.0;
      }
    }
    const MatrixF logits = net.forward(data_.X_test.transpose());
    std::int64_t correct = 0;
    for (Eigen::Index j = 0; j < logits.cols(); ++j) {
      Eigen::Index arg;
      logits.col(j).maxCoeff(&arg);
      if (arg == data_.y_test[static_cast<std::size_t>(j)]) ++correct;
    }
    return static_cast<double>(correct) / static_cast<double>(logits.cols());
  }

  /// Live nodes: reachable from node 0 and reaching the cell output.
  std::vector<bool> live_nodes(const Cell& c) const {
    const int k = c.k;
    std::vector<bool> from(static_cast<std::size_t>(k + 1), false),
        to(static_cast<std::size_t>(k + 1), false);
    from[0] = true;
    for (int i = 1; i <= k; ++i)
      for (int j = 0; j < i; ++j)
        if (c.edge(j, i) && from[static_cast<std::size_t>(j)])
          from[static_cast<std::size_t>(i)] = true;
    for (int i = k; i >= 1; --i) {
      if (c.out[static_cast<std::size_t>(i)]) to[static_cast<std::size_t>(i)] = true;
      for (int t = i + 1; t <= k; ++t)
        if (c.edge(i, t) && to[static_cast<std::size_t>(t)]) to[static_cast<std::size_t>(i)] = true;
    }
    std::vector<bool> live(static_cast<std::size_t>(k + 1), false);
    live[0] = true;
    for (int i = 1; i <= k; ++i)
      live[static_cast<std::size_t>(i)] =
          from[static_cast<std::size_t>(i)] && to[static_cast<std::size_t>(i)];
    return live;
  }

 private:
  static std::size_t idx(const Cell& c, int j, int i) {
    return static_cast<std::size_t>(j * (c.k + 1) + i);
  }

  Cell empty_cell() const {
    Cell c;
    c.k = p_.max_nodes;
    c.ops.assign(static_cast<std::size_t>(c.k + 1), NodeOp::identity);
    c.edges.assign(static_cast<std::size_t>((c.k + 1) * (c.k + 1)), 0);
    c.out.assign(static_cast<std::size_t>(c.k + 1), 0);
    return c;
  }

  /// The network of a cell: only live nodes get parameters.
  struct Net {
    struct Layer {
      MatrixF W;
      Eigen::VectorXf b;
    };
    int k = 0;
    std::vector<NodeOp> ops;
    std::vector<std::vector<int>> inputs;  // live predecessors per live node
    std::vector<int> outputs;              // live output nodes (empty -> node 0)
    std::vector<bool> live;
    Layer stem, head;
    std::vector<Layer> nodes;
    // forward caches
    std::vector<MatrixF> z, a;

    static bool dense(NodeOp op) {
      return op == NodeOp::dense_relu || op == NodeOp::dense_tanh || op == NodeOp::dense_linear;
    }

    MatrixF forward(const MatrixF& X) {
      z.assign(static_cast<std::size_t>(k + 1), MatrixF());
      a.assign(static_cast<std::size_t>(k + 1), MatrixF());
      z[0] = (stem.W * X).colwise() + stem.b;
      a[0] = z[0].cwiseMax(0.0f);
      for (int i = 1; i <= k; ++i) {
        if (!live[static_cast<std::size_t>(i)]) continue;
        MatrixF in = MatrixF::Zero(a[0].rows(), a[0].cols());
        for (int j : inputs[static_cast<std::size_t>(i)]) in += a[static_cast<std::size_t>(j)];
        const NodeOp op = ops[static_cast<std::size_t>(i)];
        auto& zi = z[static_cast<std::size_t>(i)];
        auto& ai = a[static_cast<std::size_t>(i)];
        if (dense(op)) {
          const Layer& L = nodes[static_cast<std::size_t>(i)];
          zi = (L.W * in).colwise() + L.b;
        } else {
          zi = std::move(in);
        }
        if (op == NodeOp::dense_relu || op == NodeOp::relu) {
          ai = zi.cwiseMax(0.0f);
        } else if (op == NodeOp::dense_tanh) {
          ai = zi.array().tanh().matrix();
        } else {
          ai = zi;
        }
      }
      MatrixF cell = MatrixF::Zero(a[0].rows(), a[0].cols());
      if (outputs.empty()) {
        cell = a[0];
      } else {
        for (int i : outputs) cell += a[static_cast<std::size_t>(i)];
      }
      a_out_ = cell;
      return (head.W * cell).colwise() + head.b;
    }

    /// One SGD step on a minibatch (columns of X); returns the mean cross-entropy before it.
    double step(const MatrixF& X, const std::vector<int>& y, float lr) {
      const MatrixF logits = forward(X);
      const auto m = logits.cols();
      MatrixF g = logits;
      double loss = 0;
      for (Eigen::Index j = 0; j < m; ++j) {
        const float mx = g.col(j).maxCoeff();
        g.col(j) = (g.col(j).array() - mx).exp().matrix();
        const float s = g.col(j).sum();
        g.col(j) /= s;
        loss -= std::log(std::max(g(y[static_cast<std::size_t>(j)], j), 1e-30f));
        g(y[static_cast<std::size_t>(j)], j) -= 1.0f;
      }
      g /= static_cast<float>(m);
      loss /= static_cast<double>(m);
      // head
      std::vector<MatrixF> da(static_cast<std::size_t>(k + 1));
      const MatrixF dcell = head.W.transpose() * g;
      head.W -= lr * (g * a_out_.transpose());
      head.b -= lr * g.rowwise().sum();
      auto add = [&](int i, const MatrixF& d) {
        auto& t = da[static_cast<std::size_t>(i)];
        if (t.size() == 0) {
          t = d;
        } else {
          t += d;
        }
      };
      if (outputs.empty()) {
        add(0, dcell);
      } else {
        for (int i : outputs) add(i, dcell);
      }
      for (int i = k; i >= 1; --i) {
        if (!live[static_cast<std::size_t>(i)] || da[static_cast<std::size_t>(i)].size() == 0)
          continue;
        const NodeOp op = ops[static_cast<std::size_t>(i)];
        MatrixF dz = da[static_cast<std::size_t>(i)];
        if (op == NodeOp::dense_relu || op == NodeOp::relu) {
          dz = dz.cwiseProduct(
              (z[static_cast<std::size_t>(i)].array() > 0.0f).cast<float>().matrix());
        } else if (op == NodeOp::dense_tanh) {
          dz = dz.cwiseProduct((1.0f - a[static_cast<std::size_t>(i)].array().square()).matrix());
        }
        MatrixF din;
        if (dense(op)) {
          Layer& L = nodes[static_cast<std::size_t>(i)];
          MatrixF in = MatrixF::Zero(a[0].rows(), a[0].cols());
          for (int j : inputs[static_cast<std::size_t>(i)]) in += a[static_cast<std::size_t>(j)];
          din = L.W.transpose() * dz;
          L.W -= lr * (dz * in.transpose());
          L.b -= lr * dz.rowwise().sum();
        } else {
          din = std::move(dz);
        }
        for (int j : inputs[static_cast<std::size_t>(i)]) add(j, din);
      }
      if (da[0].size() != 0) {
        const MatrixF dz0 = da[0].cwiseProduct((z[0].array() > 0.0f).cast<float>().matrix());
        stem.W -= lr * (dz0 * X.transpose());
        stem.b -= lr * dz0.rowwise().sum();
      }
      return loss;
    }

   private:
    MatrixF a_out_;
  };

  Net build(const Cell& c, std::uint64_t seed) const {
    Net net;
    net.k = c.k;
    net.ops = c.ops;
    net.live = live_nodes(c);
    net.inputs.assign(static_cast<std::size_t>(c.k + 1), {});
    for (int i = 1; i <= c.k; ++i) {
      if (!net.live[static_cast<std::size_t>(i)]) continue;
      for (int j = 0; j < i; ++j)
        if (c.edge(j, i) && net.live[static_cast<std::size_t>(j)])
          net.inputs[static_cast<std::size_t>(i)].push_back(j);
      if (c.out[static_cast<std::size_t>(i)]) net.outputs.push_back(i);
    }
    const Rng base(seed);
    const int h = p_.hidden;
    const auto d = static_cast<int>(data_.X_train.cols());
    auto init = [&](int rows, int cols, std::uint64_t stream) {
      Rng r = base.split(stream);
      typename Net::Layer L;
      L.W.resize(rows, cols);
      const double sd = std::sqrt(2.0 / cols);
      for (Eigen::Index j = 0; j < L.W.cols(); ++j)
        for (Eigen::Index i = 0; i < L.W.rows(); ++i)
          L.W(i, j) = static_cast<float>(r.normal(0.0, sd));
      L.b = Eigen::VectorXf::Zero(rows);
      return L;
    };
    net.stem = init(h, d, 0);
    net.head = init(data_.classes, h, 1000);
    net.nodes.resize(static_cast<std::size_t>(c.k + 1));
    for (int i = 1; i <= c.k; ++i) {
      if (net.live[static_cast<std::size_t>(i)] && Net::dense(c.ops[static_cast<std::size_t>(i)])) {
        net.nodes[static_cast<std::size_t>(i)] = init(h, h, static_cast<std::uint64_t>(i));
      }
    }
    return net;
  }

  GraphParams p_;
  Data data_;
  Hasher hasher_;
  int probe_rows_ = 0;
};

}  // namespace orchard::fhash::graph
