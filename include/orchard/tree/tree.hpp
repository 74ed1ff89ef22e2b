#pragma once
// A tree as flat arrays, one entry per node (structure of arrays). Node 0 is the root; a leaf has
// feature == -1. Every node (internal ones too) keeps its n_outputs values and its cover, which
// TreeSHAP and staged inspection use; prediction reads the values of leaves only.
//
// Decision at an internal node with raw value x of its feature:
//   NaN (or |x| <= 1e-35 when kZeroMissing)  -> left iff kDefaultLeft
//   categorical                              -> left iff x == threshold
//   numeric, compare == less_equal           -> left iff x <= threshold          (ours, LightGBM)
//   numeric, compare == float_less           -> left iff float(x) < float(threshold)  (XGBoost)
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/json.hpp"

namespace orchard::tree {

enum NodeFlag : std::uint8_t { kDefaultLeft = 1, kCategorical = 2, kZeroMissing = 4 };
enum class Compare : std::uint8_t { less_equal = 0, float_less = 1 };

struct Tree {
  int n_outputs = 1;
  Compare compare = Compare::less_equal;
  std::vector<std::int32_t> feature;  ///< split feature, -1 for a leaf
  std::vector<double> threshold;      ///< raw threshold (or category code)
  std::vector<std::int32_t> bin;      ///< training bin of the split (-1 when unknown)
  std::vector<std::uint8_t> flags;    ///< NodeFlag bits
  std::vector<std::int32_t> left, right;  ///< children (-1 for a leaf); always > the node's id
  std::vector<double> value;          ///< n_nodes * n_outputs node values
  std::vector<double> gain;           ///< split gain (0 for leaves)
  std::vector<double> cover;          ///< node weight (hessian sum for GBDT)
  std::vector<std::int32_t> depth;    ///< root = 0

  std::int32_t num_nodes() const { return static_cast<std::int32_t>(feature.size()); }
  bool is_leaf(std::int32_t i) const { return feature[static_cast<std::size_t>(i)] < 0; }
  std::int32_t num_leaves() const {
    std::int32_t n = 0;
    for (auto f : feature) n += f < 0 ? 1 : 0;
    return n;
  }
  std::int32_t max_depth() const {
    std::int32_t d = 0;
    for (auto x : depth) d = std::max(d, x);
    return d;
  }
  const double* values(std::int32_t i) const {
    return value.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(n_outputs);
  }

  /// Appends a leaf and returns its id.
  std::int32_t add_leaf(const double* v, double cov, std::int32_t d) {
    const auto id = num_nodes();
    feature.push_back(-1);
    threshold.push_back(0.0);
    bin.push_back(-1);
    flags.push_back(0);
    left.push_back(-1);
    right.push_back(-1);
    value.insert(value.end(), v, v + n_outputs);
    gain.push_back(0.0);
    cover.push_back(cov);
    depth.push_back(d);
    return id;
  }
  /// Turns leaf i into a split node with the given children.
  void set_split(std::int32_t i, std::int32_t f, double thr, std::int32_t b, std::uint8_t fl,
                 std::int32_t l, std::int32_t r, double g) {
    const auto k = static_cast<std::size_t>(i);
    feature[k] = f;
    threshold[k] = thr;
    bin[k] = b;
    flags[k] = fl;
    left[k] = l;
    right[k] = r;
    gain[k] = g;
  }
  /// Multiplies every node value by s (the learning rate).
  void scale(double s) {
    for (auto& v : value) v *= s;
  }

  bool goes_left(std::int32_t i, double x) const {
    const auto k = static_cast<std::size_t>(i);
    const std::uint8_t fl = flags[k];
    if (std::isnan(x)) return (fl & kDefaultLeft) != 0;
    if (fl & (kCategorical | kZeroMissing)) {
      if ((fl & kZeroMissing) && std::fabs(x) <= 1e-35) return (fl & kDefaultLeft) != 0;
      if (fl & kCategorical) return x == threshold[k];
    }
    if (compare == Compare::float_less) {
      return static_cast<float>(x) < static_cast<float>(threshold[k]);
    }
    return x <= threshold[k];
  }
  /// The leaf reached by a row; x(f) returns the row's value of feature f as double.
  template <class Row>
  std::int32_t leaf(const Row& x) const {
    std::int32_t i = 0;
    while (feature[static_cast<std::size_t>(i)] >= 0) {
      i = goes_left(i, x(feature[static_cast<std::size_t>(i)])) ? left[static_cast<std::size_t>(i)]
                                                                : right[static_cast<std::size_t>(i)];
    }
    return i;
  }

  nlohmann::json to_json() const {
    nlohmann::json j;
    j["n_outputs"] = n_outputs;
    j["compare"] = compare == Compare::less_equal ? "less_equal" : "float_less";
    j["feature"] = feature;
    j["threshold"] = json::doubles(threshold);
    j["bin"] = bin;
    j["flags"] = flags;
    j["left"] = left;
    j["right"] = right;
    j["value"] = value;
    j["gain"] = gain;
    j["cover"] = cover;
    j["depth"] = depth;
    return j;
  }

  /// Reads and checks a tree; FormatError on anything inconsistent (never a crash).
  static Tree from_json(const nlohmann::json& j, std::int64_t n_features) {
    Tree t;
    try {
      t.n_outputs = json::get<int>(j, "n_outputs", "tree");
      const auto c = json::get<std::string>(j, "compare", "tree");
      if (c == "less_equal") {
        t.compare = Compare::less_equal;
      } else if (c == "float_less") {
        t.compare = Compare::float_less;
      } else {
        throw FormatError("orchard: tree 'compare' = " + c + " is unknown");
      }
      t.feature = json::get<decltype(t.feature)>(j, "feature", "tree");
      t.threshold = json::get_doubles(j, "threshold", "tree");
      t.bin = json::get<decltype(t.bin)>(j, "bin", "tree");
      t.flags = json::get<decltype(t.flags)>(j, "flags", "tree");
      t.left = json::get<decltype(t.left)>(j, "left", "tree");
      t.right = json::get<decltype(t.right)>(j, "right", "tree");
      t.value = json::get_doubles(j, "value", "tree");
      t.gain = json::get_doubles(j, "gain", "tree");
      t.cover = json::get_doubles(j, "cover", "tree");
      t.depth = json::get<decltype(t.depth)>(j, "depth", "tree");
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(std::string("orchard: malformed tree in model file: ") + e.what());
    }
    t.validate(n_features);
    return t;
  }

  /// FormatError unless the arrays describe a tree: equal lengths, children after parents,
  /// every node reached once, features in range.
  void validate(std::int64_t n_features) const {
    const auto n = feature.size();
    auto bad = [](const std::string& what) { throw FormatError("orchard: invalid tree: " + what); };
    if (n == 0) bad("no nodes");
    if (n_outputs < 1) bad("n_outputs < 1");
    if (threshold.size() != n || bin.size() != n || flags.size() != n || left.size() != n ||
        right.size() != n || gain.size() != n || cover.size() != n || depth.size() != n ||
        value.size() != n * static_cast<std::size_t>(n_outputs)) {
      bad("node arrays differ in length");
    }
    std::vector<int> parents(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      if (feature[i] < 0) {
        if (feature[i] != -1 || left[i] != -1 || right[i] != -1) bad("leaf with children");
        continue;
      }
      if (feature[i] >= n_features) bad("feature index " + std::to_string(feature[i]) + " out of range");
      const auto l = left[i], r = right[i];
      if (l <= static_cast<std::int32_t>(i) || r <= static_cast<std::int32_t>(i) ||
          l >= static_cast<std::int32_t>(n) || r >= static_cast<std::int32_t>(n) || l == r) {
        bad("child index out of order at node " + std::to_string(i));
      }
      ++parents[static_cast<std::size_t>(l)];
      ++parents[static_cast<std::size_t>(r)];
    }
    for (std::size_t i = 1; i < n; ++i) {
      if (parents[i] != 1) bad("node " + std::to_string(i) + " is not reached exactly once");
    }
  }
};

}  // namespace orchard::tree
