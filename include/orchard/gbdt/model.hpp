#pragma once
// A trained (or imported) boosted model: base scores, trees and what prediction needs.
// Trees are round-major: tree t adds to output column tree_class[t]; a round has num_outputs()
// trees (one per class for multiclass, else one).
#include <Eigen/Dense>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../core/matrix_view.hpp"
#include "../tree/predict.hpp"
#include "../tree/shap.hpp"
#include "../tree/tree.hpp"
#include "objective.hpp"

namespace orchard::gbdt {

enum class Importance { split, gain };

class Model {
 public:
  static constexpr int kFormatVersion = 1;

  Objective objective = Objective::squared_error;
  int num_class = 1;                ///< outputs per round (classes for multiclass, else 1)
  std::int64_t num_features = 0;
  std::vector<double> base_score;   ///< raw margin per output
  std::vector<tree::Tree> trees;
  std::vector<int> tree_class;      ///< output column of each tree
  int best_round = 0;               ///< rounds kept by early stopping (0 = no early stopping)
  std::vector<double> valid_history;  ///< validation metric after each round (empty without)
  std::string source = "orchard";   ///< orchard | xgboost | lightgbm

  int num_outputs() const { return num_class; }
  int num_rounds() const { return static_cast<int>(trees.size()) / std::max(1, num_class); }

  // ---- prediction ----------------------------------------------------------------------------
  /// Raw margins (n x num_outputs) of the first `rounds` rounds (-1 = all).
  Eigen::MatrixXd predict_raw(ConstMatrixView<double> X, int rounds = -1, int threads = 0) const {
    return raw_impl(X, rounds, threads);
  }
  Eigen::MatrixXd predict_raw(ConstMatrixView<float> X, int rounds = -1, int threads = 0) const {
    return raw_impl(X, rounds, threads);
  }
  /// Regression: the value; binary: P(y = 1) (n x 1); multiclass: class probabilities (n x K).
  Eigen::MatrixXd predict(ConstMatrixView<double> X, int rounds = -1, int threads = 0) const {
    return transform(raw_impl(X, rounds, threads));
  }
  Eigen::MatrixXd predict(ConstMatrixView<float> X, int rounds = -1, int threads = 0) const {
    return transform(raw_impl(X, rounds, threads));
  }
  /// Class labels (binary: P >= 0.5, i.e. raw > 0; multiclass: argmax).
  Eigen::VectorXi predict_class(ConstMatrixView<double> X, int rounds = -1, int threads = 0) const {
    return classes(raw_impl(X, rounds, threads));
  }
  Eigen::VectorXi predict_class(ConstMatrixView<float> X, int rounds = -1, int threads = 0) const {
    return classes(raw_impl(X, rounds, threads));
  }
  /// Leaf (node id) of every row in every tree: n x trees, row-major.
  Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> apply(
      ConstMatrixView<double> X, int threads = 0) const {
    return apply_impl(X, threads);
  }
  Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> apply(
      ConstMatrixView<float> X, int threads = 0) const {
    return apply_impl(X, threads);
  }
  /// TreeSHAP contributions: n x (num_outputs * (num_features + 1)); for output k the block
  /// [k * (d + 1), (k + 1) * (d + 1)) holds the d feature contributions then the expected value.
  /// Each block sums to the raw margin of that output.
  Eigen::MatrixXd contributions(ConstMatrixView<double> X, int threads = 0) const {
    return shap_impl(X, threads);
  }
  Eigen::MatrixXd contributions(ConstMatrixView<float> X, int threads = 0) const {
    return shap_impl(X, threads);
  }

  /// Per-feature split count or total split gain over all trees.
  Eigen::VectorXd feature_importance(Importance kind = Importance::gain) const {
    Eigen::VectorXd imp = Eigen::VectorXd::Zero(num_features);
    for (const auto& t : trees) {
      for (std::int32_t i = 0; i < t.num_nodes(); ++i) {
        if (t.is_leaf(i)) continue;
        imp[t.feature[static_cast<std::size_t>(i)]] +=
            kind == Importance::split ? 1.0 : t.gain[static_cast<std::size_t>(i)];
      }
    }
    return imp;
  }

  /// Keeps the first `rounds` rounds.
  void truncate(int rounds) {
    require(rounds >= 0 && rounds <= num_rounds(), "rounds", rounds, "must lie in [0, num_rounds]");
    trees.resize(static_cast<std::size_t>(rounds) * static_cast<std::size_t>(num_class));
    tree_class.resize(trees.size());
  }

  // ---- model files ---------------------------------------------------------------------------
  nlohmann::json to_json() const {
    nlohmann::json j;
    j["format"] = "orchard";
    j["kind"] = "gbdt";
    j["version"] = kFormatVersion;
    j["objective"] = to_string(objective);
    j["num_class"] = num_class;
    j["num_features"] = num_features;
    j["base_score"] = base_score;
    j["tree_class"] = tree_class;
    j["best_round"] = best_round;
    j["valid_history"] = valid_history;
    j["source"] = source;
    auto& ts = j["trees"] = nlohmann::json::array();
    for (const auto& t : trees) ts.push_back(t.to_json());
    return j;
  }

  static Model from_json(const nlohmann::json& j) {
    Model m;
    try {
      if (!j.is_object() || j.value("format", "") != "orchard" || j.value("kind", "") != "gbdt") {
        throw FormatError("orchard: not an orchard gbdt model (format/kind fields)");
      }
      const int v = json::get<int>(j, "version", "gbdt model");
      if (v < 1 || v > kFormatVersion) {
        throw FormatError("orchard: gbdt model version " + std::to_string(v) +
                          " is not supported (this build reads up to " +
                          std::to_string(kFormatVersion) + ")");
      }
      m.objective = parse_objective(j.at("objective").get<std::string>());
      m.num_class = json::get<int>(j, "num_class", "gbdt model");
      m.num_features = json::get<std::int64_t>(j, "num_features", "gbdt model");
      j.at("base_score").get_to(m.base_score);
      m.tree_class = json::get<std::vector<int>>(j, "tree_class", "gbdt model");
      m.best_round = json::get<int>(j, "best_round", "gbdt model");
      j.at("valid_history").get_to(m.valid_history);
      m.source = j.at("source").get<std::string>();
      for (const auto& t : j.at("trees")) m.trees.push_back(tree::Tree::from_json(t, m.num_features));
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(std::string("orchard: malformed gbdt model: ") + e.what());
    } catch (const InvalidArgument& e) {
      throw FormatError(std::string("orchard: malformed gbdt model: ") + e.what());
    }
    m.check();
    return m;
  }

  void save(const std::string& path) const {
    std::ofstream out(path);
    if (!out) throw IoError("orchard: cannot write model file " + path);
    out << to_json().dump();
    if (!out) throw IoError("orchard: failed writing model file " + path);
  }

  static Model load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw IoError("orchard: cannot open model file " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(ss.str());
    } catch (const nlohmann::json::parse_error& e) {
      throw ParseError(path, 0, static_cast<std::int64_t>(e.byte), e.what());
    } catch (const nlohmann::json::exception& e) {  // out_of_range: a number beyond double
      throw ParseError(path, 0, 0, e.what());
    }
    return from_json(j);
  }

  /// FormatError unless the parts fit together.
  void check() const {
    auto bad = [](const std::string& w) { throw FormatError("orchard: invalid gbdt model: " + w); };
    if (num_class < 1) bad("num_class < 1");
    if (num_features < 1) bad("num_features < 1");
    if (num_features > std::numeric_limits<std::int32_t>::max()) bad("num_features > 2^31 - 1");
    if (objective != Objective::softmax && num_class != 1) bad("num_class must be 1 unless multiclass");
    if (objective == Objective::softmax && num_class < 2) bad("multiclass needs num_class >= 2");
    if (static_cast<int>(base_score.size()) != num_class) bad("base_score length != num_class");
    if (tree_class.size() != trees.size()) bad("tree_class length != tree count");
    for (std::size_t t = 0; t < trees.size(); ++t) {
      if (tree_class[t] < 0 || trees[t].n_outputs > num_class - tree_class[t]) bad("tree_class out of range");
    }
    if (trees.size() % static_cast<std::size_t>(num_class) != 0) bad("tree count not a multiple of num_class");
  }

 private:
  template <class T>
  Eigen::MatrixXd raw_impl(ConstMatrixView<T> X, int rounds, int threads) const {
    check_input(X);
    require(rounds >= -1 && rounds <= num_rounds(), "rounds", rounds, "must lie in [-1, num_rounds]");
    const std::size_t nt = rounds < 0 ? trees.size()
                                      : static_cast<std::size_t>(rounds) * static_cast<std::size_t>(num_class);
    std::vector<double> out(static_cast<std::size_t>(X.rows * num_class));
    for (index_t i = 0; i < X.rows; ++i) {
      for (int k = 0; k < num_class; ++k) out[static_cast<std::size_t>(i * num_class + k)] = base_score[static_cast<std::size_t>(k)];
    }
    tree::predict_add<T>(Context(threads), std::span<const tree::Tree>(trees.data(), nt),
                         std::span<const int>(tree_class.data(), nt), X, out.data(), num_class);
    Eigen::MatrixXd r(X.rows, num_class);
    for (index_t i = 0; i < X.rows; ++i) {
      for (int k = 0; k < num_class; ++k) r(i, k) = out[static_cast<std::size_t>(i * num_class + k)];
    }
    return r;
  }

  template <class T>
  void check_input(ConstMatrixView<T> X) const {
    require(!trees.empty() || !base_score.empty(), "model", "empty", "is not trained or loaded");
    require(X.cols == num_features, "X.cols", X.cols,
            "must equal the model's feature count " + std::to_string(num_features));
  }

  Eigen::MatrixXd transform(Eigen::MatrixXd r) const {
    if (objective == Objective::logistic) {
      for (index_t i = 0; i < r.rows(); ++i) r(i, 0) = sigmoid(r(i, 0));
    } else if (objective == Objective::softmax) {
      std::vector<double> z(static_cast<std::size_t>(num_class));
      for (index_t i = 0; i < r.rows(); ++i) {
        for (int k = 0; k < num_class; ++k) z[static_cast<std::size_t>(k)] = r(i, k);
        softmax(z.data(), num_class);
        for (int k = 0; k < num_class; ++k) r(i, k) = z[static_cast<std::size_t>(k)];
      }
    }
    return r;
  }

  Eigen::VectorXi classes(const Eigen::MatrixXd& r) const {
    require(objective != Objective::squared_error, "objective", "regression", "has no classes");
    Eigen::VectorXi c(r.rows());
    for (index_t i = 0; i < r.rows(); ++i) {
      if (objective == Objective::logistic) {
        c[i] = r(i, 0) > 0 ? 1 : 0;
      } else {
        Eigen::Index am;
        r.row(i).maxCoeff(&am);
        c[i] = static_cast<int>(am);
      }
    }
    return c;
  }

  template <class T>
  Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> apply_impl(
      ConstMatrixView<T> X, int threads) const {
    check_input(X);
    Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> out(
        X.rows, static_cast<Eigen::Index>(trees.size()));
    tree::predict_leaves<T>(Context(threads), trees, X, out.data());
    return out;
  }

  template <class T>
  Eigen::MatrixXd shap_impl(ConstMatrixView<T> X, int threads) const {
    check_input(X);
    const index_t d = num_features, w = (d + 1) * num_class;
    std::vector<double> out(static_cast<std::size_t>(X.rows * w), 0.0);
    tree::TreeShap shap(trees);
    parallel_blocks(Context(threads), X.rows, 64, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
      tree::TreeShap::Scratch scratch;
      std::vector<double> phi(static_cast<std::size_t>(d + 1));
      for (std::int64_t i = r0; i < r1; ++i) {
        double* o = out.data() + i * w;
        for (int k = 0; k < num_class; ++k) o[k * (d + 1) + d] = base_score[static_cast<std::size_t>(k)];
        for (std::size_t t = 0; t < trees.size(); ++t) {
          std::fill(phi.begin(), phi.end(), 0.0);
          phi[static_cast<std::size_t>(d)] = shap.explain(
              t, [&](std::int32_t f) { return static_cast<double>(X(i, f)); }, phi.data(), scratch);
          double* ob = o + tree_class[t] * (d + 1);
          for (index_t f = 0; f <= d; ++f) ob[f] += phi[static_cast<std::size_t>(f)];
        }
      }
    });
    Eigen::MatrixXd r(X.rows, w);
    for (index_t i = 0; i < X.rows; ++i) {
      for (index_t j = 0; j < w; ++j) r(i, j) = out[static_cast<std::size_t>(i * w + j)];
    }
    return r;
  }
};

}  // namespace orchard::gbdt
