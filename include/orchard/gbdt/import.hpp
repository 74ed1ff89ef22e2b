#pragma once
// Import of models trained by XGBoost (JSON, `save_model("m.json")`) and LightGBM (text,
// `save_model("m.txt")`), with each library's comparison rules kept exactly:
//  - XGBoost: float32 thresholds, left iff float(x) < threshold, learned default direction for
//    missing values, base_score (a probability for binary:logistic) turned into a margin.
//  - LightGBM: double thresholds, left iff x <= threshold, default_left and missing types
//    (None: NaN acts as 0; Zero: 0 and NaN are missing; NaN: NaN is missing), the init score and
//    the learning rate already folded into the leaf values by LightGBM.
// Structure is checked on import (FormatError otherwise); verify_import() compares predictions
// with the source library's and throws on any disagreement.
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../tree/tree.hpp"
#include "model.hpp"
#include "objective.hpp"

namespace orchard::gbdt {

namespace detail {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("orchard: cannot open model file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A source tree given as callbacks on its own node ids; rebuilt depth-first so that children
// always follow their parent.
struct SourceNode {
  bool leaf;
  std::int32_t feature;
  double threshold;
  std::uint8_t flags;
  std::int64_t left, right;  // source ids
  double value, cover, gain;
};

inline tree::Tree rebuild(const std::function<SourceNode(std::int64_t)>& node, std::int64_t root,
                          tree::Compare cmp, std::int64_t n_source_nodes) {
  tree::Tree t;
  t.compare = cmp;
  std::int64_t visited = 0;
  std::function<std::int32_t(std::int64_t, std::int32_t)> go = [&](std::int64_t id, std::int32_t depth) {
    if (++visited > n_source_nodes || depth > 512) {
      throw FormatError("orchard: import: tree nodes form a cycle or reuse a node");
    }
    const SourceNode s = node(id);
    const std::int32_t me = t.add_leaf(&s.value, s.cover, depth);
    if (s.leaf) return me;
    const std::int32_t l = go(s.left, depth + 1);
    const std::int32_t r = go(s.right, depth + 1);
    t.set_split(me, s.feature, s.threshold, -1, s.flags, l, r, s.gain);
    return me;
  };
  go(root, 0);
  return t;
}

inline double parse_number(const std::string& s, const std::string& where) {
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    if (s == "inf" || s == "+inf" || s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-inf" || s == "-Infinity") return -std::numeric_limits<double>::infinity();
    if (s == "nan" || s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    throw FormatError("orchard: import: '" + s + "' is not a number (" + where + ")");
  }
}

/// The most outputs (classes) an imported model may declare; a larger count is rejected before
/// anything of that size is allocated.
inline constexpr std::int64_t kMaxImportClasses = std::int64_t{1} << 16;

/// v as the integer type I; FormatError naming `where` unless v is finite, integral and in I's
/// range (a plain cast of such a double is undefined behaviour).
template <class I>
I to_integer(double v, const std::string& where) {
  const long double x = static_cast<long double>(v);
  if (!(std::trunc(v) == v) || x < static_cast<long double>(std::numeric_limits<I>::min()) ||
      x > static_cast<long double>(std::numeric_limits<I>::max())) {
    std::ostringstream os;
    os.precision(17);
    os << v;
    throw FormatError("orchard: import: " + where + " = " + os.str() +
                      " is not an integer in range");
  }
  return static_cast<I>(v);
}

template <class J>
double json_number(const J& v, const std::string& where) {
  if (v.is_number()) return v.template get<double>();
  if (v.is_string()) {
    std::string s = v.template get<std::string>();
    if (!s.empty() && s.front() == '[') s = s.substr(1, s.size() - 2);
    return parse_number(s, where);
  }
  throw FormatError("orchard: import: " + where + " is not a number");
}

}  // namespace detail

/// Loads an XGBoost JSON model (gbtree booster; reg:squarederror, binary:logistic,
/// multi:softprob / multi:softmax).
inline Model import_xgboost(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(detail::read_text(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw ParseError(path, 0, static_cast<std::int64_t>(e.byte), e.what());
  } catch (const nlohmann::json::exception& e) {  // out_of_range: a number beyond double
    throw ParseError(path, 0, 0, e.what());
  }
  Model m;
  m.source = "xgboost";
  try {
    const auto& learner = j.at("learner");
    const auto& lp = learner.at("learner_model_param");
    const std::string obj = learner.at("objective").at("name").get<std::string>();
    if (obj == "reg:squarederror") {
      m.objective = Objective::squared_error;
    } else if (obj == "binary:logistic") {
      m.objective = Objective::logistic;
    } else if (obj == "multi:softprob" || obj == "multi:softmax") {
      m.objective = Objective::softmax;
    } else {
      throw FormatError("orchard: import_xgboost: objective '" + obj + "' is not supported");
    }
    const auto& gb = learner.at("gradient_booster");
    if (gb.at("name").get<std::string>() != "gbtree") {
      throw FormatError("orchard: import_xgboost: only the gbtree booster is supported");
    }
    m.num_features = detail::to_integer<std::int32_t>(detail::json_number(lp.at("num_feature"), "num_feature"), "num_feature");
    const int nc = detail::to_integer<int>(detail::json_number(lp.at("num_class"), "num_class"), "num_class");
    if (nc < 0 || nc > detail::kMaxImportClasses) {
      throw FormatError("orchard: import_xgboost: num_class " + std::to_string(nc) + " is out of range [0, 65536]");
    }
    m.num_class = m.objective == Objective::softmax ? nc : 1;
    // base_score: a scalar or a per-output vector, in probability space for logistic.
    std::vector<double> base;
    const auto& bs = lp.at("base_score");
    std::string text = bs.is_string() ? bs.get<std::string>() : bs.dump();
    if (!text.empty() && text.front() == '[') text = text.substr(1, text.size() - 2);
    std::stringstream ss(text);
    for (std::string item; std::getline(ss, item, ',');) base.push_back(detail::parse_number(item, "base_score"));
    if (base.size() == 1) base.assign(static_cast<std::size_t>(m.num_class), base[0]);
    if (static_cast<int>(base.size()) != m.num_class) throw FormatError("orchard: import_xgboost: base_score length");
    for (auto& b : base) {
      if (m.objective == Objective::logistic) {
        if (!(b > 0 && b < 1)) throw FormatError("orchard: import_xgboost: base_score not a probability");
        b = -std::log(1.0 / b - 1.0);
      }
    }
    m.base_score = base;
    const auto& model = gb.at("model");
    const auto& trees = model.at("trees");
    const auto& info = model.at("tree_info");
    if (info.size() != trees.size()) throw FormatError("orchard: import_xgboost: tree_info length");
    for (std::size_t t = 0; t < trees.size(); ++t) {
      const auto& tj = trees[t];
      const auto left = json::as<std::vector<std::int64_t>>(tj.at("left_children"), "left_children");
      const auto right = json::as<std::vector<std::int64_t>>(tj.at("right_children"), "right_children");
      const auto cond = tj.at("split_conditions").get<std::vector<double>>();
      const auto idx = json::as<std::vector<std::int64_t>>(tj.at("split_indices"), "split_indices");
      const auto dl = json::as<std::vector<int>>(tj.at("default_left"), "default_left");
      const auto hess = tj.at("sum_hessian").get<std::vector<double>>();
      const auto loss = tj.at("loss_changes").get<std::vector<double>>();
      std::vector<int> stype(left.size(), 0);
      if (tj.contains("split_type")) stype = json::as<std::vector<int>>(tj.at("split_type"), "split_type");
      const auto n = static_cast<std::int64_t>(left.size());
      if (n == 0 || static_cast<std::int64_t>(right.size()) != n || static_cast<std::int64_t>(cond.size()) != n ||
          static_cast<std::int64_t>(idx.size()) != n || static_cast<std::int64_t>(dl.size()) != n ||
          static_cast<std::int64_t>(hess.size()) != n || static_cast<std::int64_t>(loss.size()) != n ||
          static_cast<std::int64_t>(stype.size()) != n) {
        throw FormatError("orchard: import_xgboost: tree " + std::to_string(t) + " arrays differ in length");
      }
      auto node = [&](std::int64_t id) {
        if (id < 0 || id >= n) throw FormatError("orchard: import_xgboost: child index out of range");
        const auto k = static_cast<std::size_t>(id);
        detail::SourceNode s{};
        s.leaf = left[k] == -1;
        s.value = s.leaf ? cond[k] : 0.0;
        s.cover = hess[k];
        if (s.leaf) return s;
        if (stype[k] != 0) throw FormatError("orchard: import_xgboost: categorical splits are not supported");
        if (idx[k] < 0 || idx[k] >= m.num_features) throw FormatError("orchard: import_xgboost: split feature out of range");
        s.feature = static_cast<std::int32_t>(idx[k]);
        s.threshold = static_cast<double>(static_cast<float>(cond[k]));
        s.flags = dl[k] ? tree::kDefaultLeft : 0;
        s.left = left[k];
        s.right = right[k];
        s.gain = loss[k];
        return s;
      };
      m.trees.push_back(detail::rebuild(node, 0, tree::Compare::float_less, n));
      const int cls = json::as<int>(info[t], "tree_info");
      if (cls < 0 || cls >= m.num_class) throw FormatError("orchard: import_xgboost: tree_info class out of range");
      m.tree_class.push_back(cls);
    }
  } catch (const nlohmann::json::exception& e) {
    throw FormatError("orchard: import_xgboost: malformed model " + path + ": " + e.what());
  }
  for (std::size_t t = 0; t < m.trees.size(); ++t) {
    if (m.tree_class[t] != static_cast<int>(t % static_cast<std::size_t>(m.num_class))) {
      throw FormatError("orchard: import_xgboost: trees are not in round-major class order");
    }
  }
  m.check();
  return m;
}

/// Loads a LightGBM text model (gbdt; regression, binary, multiclass objectives; numerical
/// splits). `learning_rate` receives the file's learning rate when given.
inline Model import_lightgbm(const std::string& path, double* learning_rate = nullptr) {
  const std::string text = detail::read_text(path);
  std::istringstream in(text);
  std::map<std::string, std::string> head;
  std::vector<std::map<std::string, std::string>> trees;
  std::string line;
  std::int64_t lineno = 0;
  bool ended = false, in_params = false;
  double lr = std::numeric_limits<double>::quiet_NaN();
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "end of trees") {
      ended = true;
      continue;
    }
    if (line == "parameters:") {
      in_params = true;
      continue;
    }
    if (in_params) {
      if (line.rfind("[learning_rate: ", 0) == 0) lr = detail::parse_number(line.substr(16, line.size() - 17), "learning_rate");
      continue;
    }
    if (ended || line.empty()) continue;
    const auto eq = line.find('=');
    if (line.rfind("Tree=", 0) == 0) {
      trees.emplace_back();
      continue;
    }
    if (eq == std::string::npos) {
      if (trees.empty() && line == "tree") continue;
      continue;  // section headers such as "feature_importances:" carry no model data
    }
    auto& dst = trees.empty() ? head : trees.back();
    dst[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (!ended) throw FormatError("orchard: import_lightgbm: " + path + " is truncated (no 'end of trees')");
  auto get = [&](const std::map<std::string, std::string>& mp, const std::string& key) -> const std::string& {
    auto it = mp.find(key);
    if (it == mp.end()) throw FormatError("orchard: import_lightgbm: missing '" + key + "' in " + path);
    return it->second;
  };
  auto numbers = [&](const std::map<std::string, std::string>& mp, const std::string& key) {
    std::vector<double> v;
    std::istringstream ss(get(mp, key));
    for (std::string tok; ss >> tok;) v.push_back(detail::parse_number(tok, key));
    return v;
  };
  Model m;
  m.source = "lightgbm";
  const std::string obj = get(head, "objective");
  const std::string oname = obj.substr(0, obj.find(' '));
  if (oname == "regression" || oname == "regression_l2") {
    m.objective = Objective::squared_error;
  } else if (oname == "binary") {
    m.objective = Objective::logistic;
    if (obj.find("sigmoid:") != std::string::npos &&
        detail::parse_number(obj.substr(obj.find("sigmoid:") + 8), "sigmoid") != 1.0) {
      throw FormatError("orchard: import_lightgbm: only sigmoid:1 is supported");
    }
  } else if (oname == "multiclass") {
    m.objective = Objective::softmax;
  } else {
    throw FormatError("orchard: import_lightgbm: objective '" + obj + "' is not supported");
  }
  m.num_class = detail::to_integer<int>(detail::parse_number(get(head, "num_tree_per_iteration"), "num_tree_per_iteration"),
                                        "num_tree_per_iteration");
  const int nc = detail::to_integer<int>(detail::parse_number(get(head, "num_class"), "num_class"), "num_class");
  if (m.num_class < 1 || m.num_class > detail::kMaxImportClasses) {
    throw FormatError("orchard: import_lightgbm: num_tree_per_iteration " + std::to_string(m.num_class) +
                      " is out of range [1, 65536]");
  }
  if (m.objective == Objective::softmax ? m.num_class != nc : m.num_class != 1) {
    throw FormatError("orchard: import_lightgbm: num_class / num_tree_per_iteration mismatch");
  }
  m.num_features = std::int64_t{detail::to_integer<std::int32_t>(
                       detail::parse_number(get(head, "max_feature_idx"), "max_feature_idx"), "max_feature_idx")} + 1;
  m.base_score.assign(static_cast<std::size_t>(m.num_class), 0.0);  // folded into the trees
  for (std::size_t t = 0; t < trees.size(); ++t) {
    const auto& tm = trees[t];
    if (tm.count("is_linear") && detail::parse_number(get(tm, "is_linear"), "is_linear") != 0) {
      throw FormatError("orchard: import_lightgbm: linear trees are not supported");
    }
    const auto nl = detail::to_integer<std::int32_t>(detail::parse_number(get(tm, "num_leaves"), "num_leaves"), "num_leaves");
    const auto leaf_value = numbers(tm, "leaf_value");
    if (nl < 1 || static_cast<std::int64_t>(leaf_value.size()) != nl) throw FormatError("orchard: import_lightgbm: leaf_value length");
    if (nl == 1) {
      tree::Tree one;
      one.add_leaf(&leaf_value[0], 1.0, 0);
      m.trees.push_back(std::move(one));
    } else {
      if (tm.count("num_cat") && detail::parse_number(get(tm, "num_cat"), "num_cat") != 0) {
        throw FormatError("orchard: import_lightgbm: categorical splits are not supported");
      }
      const auto feat = numbers(tm, "split_feature");
      const auto gain = numbers(tm, "split_gain");
      const auto thr = numbers(tm, "threshold");
      const auto dec = numbers(tm, "decision_type");
      const auto lc = numbers(tm, "left_child");
      const auto rc = numbers(tm, "right_child");
      const auto lcount = numbers(tm, "leaf_count");
      const auto icount = numbers(tm, "internal_count");
      const auto ni = static_cast<std::size_t>(nl - 1);
      if (feat.size() != ni || gain.size() != ni || thr.size() != ni || dec.size() != ni ||
          lc.size() != ni || rc.size() != ni || icount.size() != ni || lcount.size() != static_cast<std::size_t>(nl)) {
        throw FormatError("orchard: import_lightgbm: tree " + std::to_string(t) + " arrays differ in length");
      }
      // Source ids: internal node i -> i, leaf j -> ni + j (LightGBM writes leaves as ~j).
      auto node = [&](std::int64_t id) {
        detail::SourceNode s{};
        if (id < 0 || id >= static_cast<std::int64_t>(ni) + nl) throw FormatError("orchard: import_lightgbm: child index out of range");
        if (id >= static_cast<std::int64_t>(ni)) {
          const auto j = static_cast<std::size_t>(id - static_cast<std::int64_t>(ni));
          s.leaf = true;
          s.value = leaf_value[j];
          s.cover = lcount[j];
          return s;
        }
        const auto k = static_cast<std::size_t>(id);
        const int d = detail::to_integer<int>(dec[k], "decision_type");
        if (d & 1) throw FormatError("orchard: import_lightgbm: categorical splits are not supported");
        const int missing = (d >> 2) & 3;  // 0 none, 1 zero, 2 NaN
        const bool default_left = (d & 2) != 0;
        s.leaf = false;
        s.feature = detail::to_integer<std::int32_t>(feat[k], "split_feature");
        if (s.feature < 0 || s.feature >= m.num_features) throw FormatError("orchard: import_lightgbm: split feature out of range");
        s.threshold = thr[k];
        if (missing == 0) {
          s.flags = 0.0 <= thr[k] ? tree::kDefaultLeft : 0;  // NaN is treated as 0
        } else if (missing == 1) {
          s.flags = static_cast<std::uint8_t>(tree::kZeroMissing | (default_left ? tree::kDefaultLeft : 0));
        } else {
          s.flags = default_left ? tree::kDefaultLeft : 0;
        }
        auto child = [&](double c) {
          const auto ci = detail::to_integer<std::int32_t>(c, "child index");
          if (ci < 0 && ~ci >= nl) throw FormatError("orchard: import_lightgbm: child index out of range");
          return ci >= 0 ? std::int64_t{ci} : static_cast<std::int64_t>(ni) + (~ci);
        };
        s.left = child(lc[k]);
        s.right = child(rc[k]);
        s.cover = icount[k];
        s.gain = gain[k];
        return s;
      };
      m.trees.push_back(detail::rebuild(node, 0, tree::Compare::less_equal,
                                        static_cast<std::int64_t>(ni) + nl));
    }
    m.tree_class.push_back(static_cast<int>(t % static_cast<std::size_t>(m.num_class)));
  }
  if (trees.size() % static_cast<std::size_t>(m.num_class) != 0) {
    throw FormatError("orchard: import_lightgbm: tree count is not a multiple of num_tree_per_iteration");
  }
  if (learning_rate != nullptr) *learning_rate = lr;
  for (const auto& t : m.trees) t.validate(m.num_features);
  m.check();
  return m;
}

/// Self-check of an import: throws FormatError unless the model's raw margins on X equal
/// `expected` (n x num_outputs, the source library's margins) within rel_tol relative error
/// (absolute below 1).
template <class T>
void verify_import(const Model& m, ConstMatrixView<T> X, const Eigen::MatrixXd& expected,
                   double rel_tol = 1e-6) {
  const Eigen::MatrixXd raw = m.predict_raw(X);
  require(expected.rows() == raw.rows() && expected.cols() == raw.cols(), "expected.shape",
          std::to_string(expected.rows()) + "x" + std::to_string(expected.cols()),
          "must be rows x num_outputs");
  for (Eigen::Index i = 0; i < raw.rows(); ++i) {
    for (Eigen::Index k = 0; k < raw.cols(); ++k) {
      const double a = raw(i, k), b = expected(i, k);
      if (!(std::fabs(a - b) <= rel_tol * std::max(1.0, std::fabs(b)))) {
        throw FormatError("orchard: imported " + m.source + " model disagrees with the source at row " +
                          std::to_string(i) + ", output " + std::to_string(k) + ": " +
                          std::to_string(a) + " vs " + std::to_string(b));
      }
    }
  }
}

}  // namespace orchard::gbdt
