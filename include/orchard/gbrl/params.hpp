#pragma once
// Hyperparameters of a GBRL ensemble and their JSON form.
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../core/matrix_view.hpp"

namespace orchard::gbrl {

enum class Schedule { constant, linear };

inline Schedule parse_schedule(const std::string& s) {
  if (s == "constant") return Schedule::constant;
  if (s == "linear") return Schedule::linear;
  throw InvalidArgument("orchard: argument 'lr.schedule' = " + s +
                        ": expected 'constant' or 'linear'");
}

/// A learning rate for the outputs [begin, end): constant, or linear from lr to final_lr over
/// the first schedule_trees trees of the ensemble (then final_lr).
struct LrRange {
  int begin = 0;                      ///< first output of the range
  int end = -1;                       ///< one past the last output (-1: n_outputs)
  double lr = 0.1;                    ///< rate at tree 0
  std::string schedule = "constant";  ///< "constant" or "linear"
  double final_lr = 0.0;              ///< linear: rate from tree schedule_trees on
  std::int64_t schedule_trees = 1000;  ///< linear: trees over which the rate moves
};

struct Params {
  int n_outputs = 1;                      ///< D, outputs per tree
  std::string score = "cosine";           ///< split score: "cosine" or "l2"
  std::string growth = "greedy";          ///< "greedy" (depth-wise) or "oblivious"
  int max_depth = 4;                      ///< levels per tree, 0..30
  std::string split_candidates = "quantile";  ///< "quantile" or "uniform" bins
  bool persistent_bins = false;           ///< bins fixed per rollout buffer instead of per batch
  int max_bin = 255;                      ///< candidate bins per feature, 2..65535
  index_t min_data_in_leaf = 1;           ///< minimum samples per child (greedy trees)
  double min_split_gain = 0.0;            ///< a split must gain strictly more
  std::vector<double> feature_weights;    ///< split-gain multiplier per feature (empty: all 1)
  std::vector<int> categorical;           ///< features holding integer codes 0..max_bin-1
  std::vector<LrRange> lr{LrRange{}};     ///< learning rates; the ranges must tile [0, D)
  std::vector<double> bias;               ///< initial outputs (empty: zeros)
};

/// The JSON fields of Params and LrRange: fn(name, member) for each, in one table that both
/// to_json and params_from_json read (P may be const).
template <class P, class Fn>
void for_each_field(P& p, Fn&& fn) {
  fn("n_outputs", p.n_outputs);
  fn("score", p.score);
  fn("growth", p.growth);
  fn("max_depth", p.max_depth);
  fn("split_candidates", p.split_candidates);
  fn("persistent_bins", p.persistent_bins);
  fn("max_bin", p.max_bin);
  fn("min_data_in_leaf", p.min_data_in_leaf);
  fn("min_split_gain", p.min_split_gain);
  fn("feature_weights", p.feature_weights);
  fn("categorical", p.categorical);
  fn("bias", p.bias);
}
template <class R, class Fn>
void for_each_lr_field(R& r, Fn&& fn) {
  fn("begin", r.begin);
  fn("end", r.end);
  fn("lr", r.lr);
  fn("schedule", r.schedule);
  fn("final_lr", r.final_lr);
  fn("schedule_trees", r.schedule_trees);
}

inline nlohmann::json to_json(const Params& p) {
  nlohmann::json j;
  for_each_field(p, [&](const char* name, const auto& v) { j[name] = v; });
  nlohmann::json lr = nlohmann::json::array();
  for (const auto& r : p.lr) {
    nlohmann::json x;
    for_each_lr_field(r, [&](const char* name, const auto& v) { x[name] = v; });
    lr.push_back(x);
  }
  j["lr"] = lr;
  return j;
}

/// Params from JSON; a missing or mistyped field throws FormatError naming it.
inline Params params_from_json(const nlohmann::json& j) {
  Params p;
  for_each_field(p, [&](const char* name, auto& v) {
    v = json::get<std::remove_reference_t<decltype(v)>>(j, name, "gbrl params");
  });
  p.lr.clear();
  for (const auto& r : j.at("lr")) {
    LrRange x;
    for_each_lr_field(x, [&](const char* name, auto& v) {
      v = json::get<std::remove_reference_t<decltype(v)>>(r, name, "gbrl params lr");
    });
    p.lr.push_back(x);
  }
  return p;
}

}  // namespace orchard::gbrl
