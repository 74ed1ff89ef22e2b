#pragma once
// A dense one-hidden-layer network: logistic hidden units, linear outputs, and an output link
// (identity for regression, logistic on one logit for binary, softmax for multiclass). Both the
// GBNN export and the MLP baseline produce one. A GBNN export also remembers its step structure
// (units per step and the output bias after each step), so that switching off the last hidden
// units gives exactly the earlier-stage model.
#include <Eigen/Core>
#include <cmath>
#include <string>
#include <vector>

#include "../core/json.hpp"
#include "common.hpp"
#include "objective.hpp"

namespace orchard::gbnn {

enum class Output { identity, logistic, softmax };

inline const char* to_string(Output o) {
  switch (o) {
    case Output::identity: return "identity";
    case Output::logistic: return "logistic";
    case Output::softmax: return "softmax";
  }
  return "?";
}

inline Output parse_output(const std::string& s) {
  if (s == "identity") return Output::identity;
  if (s == "logistic") return Output::logistic;
  if (s == "softmax") return Output::softmax;
  throw FormatError("orchard: unknown network output \"" + s + "\"");
}

template <class T = double>
struct Network {
  RowMatrix<T> W1;  ///< d × H input-to-hidden weights
  Vector<T> b1;     ///< H hidden biases
  RowMatrix<T> W2;  ///< H × K hidden-to-output weights
  Vector<T> b2;     ///< K output biases (all hidden units on)
  Output output = Output::identity;
  /// GBNN exports: hidden units per boosting step, and stage_b2.row(t) = output bias of the
  /// model after t steps (t = 0..steps). Empty / 0 for a plain MLP.
  index_t units_per_step = 0;
  RowMatrix<T> stage_b2;

  index_t n_features() const { return W1.rows(); }
  index_t n_hidden() const { return W1.cols(); }
  index_t n_outputs() const { return W2.cols(); }
  /// Classes predicted: 2 for a logistic output, K for softmax, 0 for regression.
  index_t n_classes() const {
    return output == Output::logistic ? 2 : output == Output::softmax ? n_outputs() : 0;
  }

  /// Output-layer values (logits for classification), n × K, using only the first
  /// `active_units` hidden units (-1 = all). For a GBNN export the count must be a whole number
  /// of steps; the output bias is then that stage's.
  RowMatrix<T> raw(ConstMatrixView<T> X, index_t active_units = -1,
                   const Context& ctx = Context()) const {
    check_input(X);
    const index_t H = n_hidden();
    const index_t a = active_units < 0 ? H : active_units;
    require(a <= H, "active_units", active_units, "must be <= the number of hidden units");
    Vector<T> bias = b2;
    if (units_per_step > 0 && a < H) {
      require(a % units_per_step == 0, "active_units", active_units,
              "must be a multiple of the units per boosting step (" +
                  std::to_string(units_per_step) + ")");
      bias = stage_b2.row(a / units_per_step).transpose();
    }
    detail::EigenSingleThread single;
    const index_t n = X.rows, d = X.cols, K = n_outputs();
    RowMatrix<T> out(n, K);
    const index_t br = detail::block_rows(n, 0, d * a + a * K);
    parallel_blocks(ctx, n, br, [&](index_t, index_t s, index_t e) {
      RowMatrix<T> Xb(e - s, d);
      for (index_t i = s; i < e; ++i)
        for (index_t j = 0; j < d; ++j) Xb(i - s, j) = X(i, j);
      RowMatrix<T> Hb(e - s, a);
      hidden_rows(Xb.data(), d, 0, e - s, W1.leftCols(a), b1.head(a), Hb);
      out.middleRows(s, e - s).noalias() = Hb * W2.topRows(a);
      out.middleRows(s, e - s).rowwise() += bias.transpose();
    });
    return out;
  }

  /// Probabilities (classification: n × classes, binary as [1 − p, p]); regression: the values.
  RowMatrix<T> predict_proba(ConstMatrixView<T> X, index_t active_units = -1,
                             const Context& ctx = Context()) const {
    RowMatrix<T> z = raw(X, active_units, ctx);
    return link(z);
  }

  /// Class index (classification) or value (regression) per row.
  Vector<T> predict(ConstMatrixView<T> X, index_t active_units = -1,
                    const Context& ctx = Context()) const {
    RowMatrix<T> z = raw(X, active_units, ctx);
    Vector<T> out(z.rows());
    for (index_t i = 0; i < z.rows(); ++i) {
      if (output == Output::identity) {
        out[i] = z(i, 0);
      } else if (output == Output::logistic) {
        out[i] = z(i, 0) > 0 ? T(1) : T(0);
      } else {
        index_t c = 0;
        z.row(i).maxCoeff(&c);
        out[i] = static_cast<T>(c);
      }
    }
    return out;
  }

  RowMatrix<T> link(const RowMatrix<T>& z) const {
    if (output == Output::identity) return z;
    if (output == Output::logistic) {
      RowMatrix<T> p(z.rows(), 2);
      for (index_t i = 0; i < z.rows(); ++i) {
        p(i, 1) = sigmoid(z(i, 0));
        p(i, 0) = T(1) - p(i, 1);
      }
      return p;
    }
    RowMatrix<T> p(z.rows(), z.cols());
    for (index_t i = 0; i < z.rows(); ++i) {
      const T mx = z.row(i).maxCoeff();
      T sum = 0;
      for (index_t k = 0; k < z.cols(); ++k) sum += (p(i, k) = std::exp(z(i, k) - mx));
      p.row(i) /= sum;
    }
    return p;
  }

  nlohmann::json to_json() const {
    nlohmann::json j = json::model_header("gbnn.network", 1);
    j["output"] = to_string(output);
    j["n_features"] = n_features();
    j["n_hidden"] = n_hidden();
    j["n_outputs"] = n_outputs();
    j["units_per_step"] = units_per_step;
    j["W1"] = flat(W1);
    j["b1"] = flat(b1);
    j["W2"] = flat(W2);
    j["b2"] = flat(b2);
    j["stage_b2"] = flat(stage_b2);
    return j;
  }

  static Network from_json(const nlohmann::json& j) {
    json::check_model_header(j, "gbnn.network", 1);
    const char* w = "gbnn.network";
    Network net;
    net.output = parse_output(json::get<std::string>(j, "output", w));
    const auto d = json::get<index_t>(j, "n_features", w);
    const auto H = json::get<index_t>(j, "n_hidden", w);
    const auto K = json::get<index_t>(j, "n_outputs", w);
    net.units_per_step = json::get<index_t>(j, "units_per_step", w);
    if (d <= 0 || H <= 0 || K <= 0 || net.units_per_step < 0 || d > (1 << 26) || H > (1 << 26) ||
        K > (1 << 20) || (net.units_per_step > 0 && H % net.units_per_step != 0)) {
      throw FormatError("orchard: gbnn.network: inconsistent sizes");
    }
    if ((net.output == Output::identity || net.output == Output::logistic) && K != 1) {
      throw FormatError("orchard: gbnn.network: identity/logistic output needs one output");
    }
    net.W1 = unflat_matrix(j, "W1", d, H);
    net.b1 = unflat_matrix(j, "b1", H, 1);
    net.W2 = unflat_matrix(j, "W2", H, K);
    net.b2 = unflat_matrix(j, "b2", K, 1);
    const index_t stages = net.units_per_step > 0 ? H / net.units_per_step + 1 : 0;
    net.stage_b2 = unflat_matrix(j, "stage_b2", stages, K);
    return net;
  }

  void save(const std::string& path) const { json::write_file(path, to_json()); }
  static Network load(const std::string& path) { return from_json(json::read_file(path)); }

  // Shared with the model files.
  template <class M>
  static nlohmann::json flat(const M& m) {
    std::vector<double> v(static_cast<std::size_t>(m.size()));
    std::size_t k = 0;
    for (index_t i = 0; i < m.rows(); ++i)
      for (index_t c = 0; c < m.cols(); ++c) v[k++] = static_cast<double>(m(i, c));
    return v;
  }
  static RowMatrix<T> unflat_matrix(const nlohmann::json& j, const char* key, index_t rows,
                                    index_t cols) {
    const auto v = json::get<std::vector<double>>(j, key, "gbnn model");
    if (static_cast<index_t>(v.size()) != rows * cols) {
      throw FormatError(std::string("orchard: gbnn model: field \"") + key + "\" has " +
                        std::to_string(v.size()) + " values, expected " +
                        std::to_string(rows * cols));
    }
    RowMatrix<T> m(rows, cols);
    for (index_t i = 0; i < rows * cols; ++i) {
      if (!std::isfinite(v[static_cast<std::size_t>(i)])) {
        throw FormatError(std::string("orchard: gbnn model: field \"") + key +
                          "\" holds a non-finite value");
      }
      m.data()[i] = static_cast<T>(v[static_cast<std::size_t>(i)]);
    }
    return m;
  }

 private:
  void check_input(ConstMatrixView<T> X) const {
    require(W1.size() > 0, "network", "empty", "is not trained or loaded");
    require(X.cols == n_features(), "X.cols", X.cols,
            "must equal the network's number of features (" + std::to_string(n_features()) + ")");
    require(X.rows > 0, "X.rows", X.rows, "must be > 0");
    detail::check_finite(X, "X");
  }
};

}  // namespace orchard::gbnn
