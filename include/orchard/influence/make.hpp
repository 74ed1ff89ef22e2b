#pragma once
// make(name, model, X_train, y_train, params): the one entry point that builds any method.
#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "boostin.hpp"
#include "explainer.hpp"
#include "leaf_influence.hpp"
#include "retrain.hpp"
#include "similarity.hpp"
#include "trex.hpp"

namespace orchard::influence {

/// Every method name make() accepts (canonical spelling).
inline std::vector<std::string> method_names() {
  return {"boostin", "boostin_w1", "boostin_w2", "leaf_influence_sp", "leaf_influence", "leaf_refit", "trex",
          "tree_sim", "leaf_sim", "input_sim", "target", "random", "loss", "loo", "subsample"};
}

namespace detail {
inline std::string canonical_method(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
  if (s == "boostinw1") return "boostin_w1";
  if (s == "boostinw2") return "boostin_w2";
  if (s == "leafinfsp" || s == "leafinfluencesp") return "leaf_influence_sp";
  if (s == "leafinf" || s == "leafinfluence") return "leaf_influence";
  if (s == "leafrefit") return "leaf_refit";
  if (s == "treesim") return "tree_sim";
  if (s == "leafsim") return "leaf_sim";
  if (s == "inputsim") return "input_sim";
  return s;
}
}  // namespace detail

/// Builds influence method `name` for `model` and its training data (X_train n x d, y_train n).
/// Names: boostin, boostin_w1, boostin_w2, leaf_influence_sp, leaf_influence, leaf_refit, trex,
/// tree_sim, leaf_sim, input_sim, target, random, loss, loo, subsample (case-insensitive; also
/// the reference's spellings such as LeafInfSP, BoostInW1).
inline Explainer make(const std::string& name, const gbdt::Model& model, ConstMatrixView<double> X_train,
                      ConstVectorView<double> y_train, const Params& p = {}) {
  using namespace detail;
  const std::string m = canonical_method(name);
  const auto known = method_names();
  if (std::find(known.begin(), known.end(), m) == known.end()) {
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw InvalidArgument("orchard: argument 'method' = " + name + ": unknown influence method (expected one of " + list + ")");
  }
  require(p.threads >= 0, "threads", p.threads, "must be >= 0");
  require(p.newton_atol >= 0, "newton_atol", p.newton_atol, "must be >= 0");
  // validate names before the (possibly long) preparation
  if (m == "trex" || m == "tree_sim") (void)parse_kernel(p.kernel);
  if ((m == "tree_sim" || m == "input_sim") && !p.measure.empty()) (void)parse_measure(p.measure);
  const bool round_scores = m == "leaf_influence_sp" || m == "leaf_influence" || m == "leaf_refit";
  const bool boostin = m == "boostin" || m == "boostin_w1" || m == "boostin_w2";
  auto s = std::make_shared<const Structure>(model, X_train, y_train, p, round_scores, /*lazy_index=*/boostin);
  std::shared_ptr<const Method> meth;
  if (m == "boostin") meth = std::make_shared<BoostIn>(m, s, 0);
  if (m == "boostin_w1") meth = std::make_shared<BoostIn>(m, s, 1);
  if (m == "boostin_w2") meth = std::make_shared<BoostIn>(m, s, 2);
  if (m == "leaf_influence_sp") meth = std::make_shared<LeafInfluenceSP>(m, s, p.newton_atol);
  if (m == "leaf_influence") meth = std::make_shared<LeafInfluence>(m, s, p.newton_atol, p.update_set);
  if (m == "leaf_refit") meth = std::make_shared<LeafRefit>(m, s, p.newton_atol);
  if (m == "trex") meth = std::make_shared<Trex>(m, s, p);
  if (m == "tree_sim") {
    meth = std::make_shared<TreeSim>(m, s, parse_kernel(p.kernel), parse_measure(p.measure.empty() ? "dot_prod" : p.measure));
  }
  if (m == "leaf_sim") meth = std::make_shared<TreeSim>(m, s, Kernel::lpw, Measure::dot_prod);
  if (m == "input_sim") meth = std::make_shared<InputSim>(m, s, parse_measure(p.measure.empty() ? "euclidean" : p.measure));
  if (m == "target") meth = std::make_shared<RandomLike>(m, s, true, p.seed);
  if (m == "random") meth = std::make_shared<RandomLike>(m, s, false, p.seed);
  if (m == "loss") meth = std::make_shared<LossSelf>(m, s);
  if (m == "loo") meth = std::make_shared<Loo>(m, s, p);
  if (m == "subsample") meth = std::make_shared<SubSample>(m, s, p);
  return Explainer(meth, p.progress);
}

inline Explainer make(const std::string& name, const gbdt::Model& model, ConstMatrixView<float> X_train,
                      ConstVectorView<float> y_train, const Params& p = {}) {
  detail::RowMatrix X(X_train.rows, X_train.cols);
  for (index_t i = 0; i < X_train.rows; ++i) {
    for (index_t j = 0; j < X_train.cols; ++j) X(i, j) = X_train(i, j);
  }
  Eigen::VectorXd y(y_train.size);
  for (index_t i = 0; i < y_train.size; ++i) y[i] = y_train[i];
  return make(name, model, cview<double>(X), ConstVectorView<double>(y.data(), y.size()), p);
}

}  // namespace orchard::influence
