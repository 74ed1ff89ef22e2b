#pragma once
// Hyperparameters of a GBRL ensemble and their JSON form.
#include <cstdint>
#include <string>
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

inline nlohmann::json to_json(const Params& p) {
  nlohmann::json j;
  j["n_outputs"] = p.n_outputs;
  j["score"] = p.score;
  j["growth"] = p.growth;
  j["max_depth"] = p.max_depth;
  j["split_candidates"] = p.split_candidates;
  j["persistent_bins"] = p.persistent_bins;
  j["max_bin"] = p.max_bin;
  j["min_data_in_leaf"] = p.min_data_in_leaf;
  j["min_split_gain"] = p.min_split_gain;
  j["feature_weights"] = p.feature_weights;
  j["categorical"] = p.categorical;
  j["bias"] = p.bias;
  nlohmann::json lr = nlohmann::json::array();
  for (const auto& r : p.lr) {
    lr.push_back({{"begin", r.begin}, {"end", r.end}, {"lr", r.lr}, {"schedule", r.schedule},
                  {"final_lr", r.final_lr}, {"schedule_trees", r.schedule_trees}});
  }
  j["lr"] = lr;
  return j;
}

inline Params params_from_json(const nlohmann::json& j) {
  Params p;
  p.n_outputs = json::get<decltype(p.n_outputs)>(j, "n_outputs", "gbrl params");
  p.score = json::get<decltype(p.score)>(j, "score", "gbrl params");
  p.growth = json::get<decltype(p.growth)>(j, "growth", "gbrl params");
  p.max_depth = json::get<decltype(p.max_depth)>(j, "max_depth", "gbrl params");
  p.split_candidates = json::get<decltype(p.split_candidates)>(j, "split_candidates", "gbrl params");
  p.persistent_bins = json::get<decltype(p.persistent_bins)>(j, "persistent_bins", "gbrl params");
  p.max_bin = json::get<decltype(p.max_bin)>(j, "max_bin", "gbrl params");
  p.min_data_in_leaf = json::get<decltype(p.min_data_in_leaf)>(j, "min_data_in_leaf", "gbrl params");
  p.min_split_gain = json::get<decltype(p.min_split_gain)>(j, "min_split_gain", "gbrl params");
  p.feature_weights = json::get<decltype(p.feature_weights)>(j, "feature_weights", "gbrl params");
  p.categorical = json::get<decltype(p.categorical)>(j, "categorical", "gbrl params");
  p.bias = json::get<decltype(p.bias)>(j, "bias", "gbrl params");
  p.lr.clear();
  for (const auto& r : j.at("lr")) {
    LrRange x;
    x.begin = json::get<decltype(x.begin)>(r, "begin", "gbrl params lr");
    x.end = json::get<decltype(x.end)>(r, "end", "gbrl params lr");
    x.lr = json::get<decltype(x.lr)>(r, "lr", "gbrl params lr");
    x.schedule = json::get<decltype(x.schedule)>(r, "schedule", "gbrl params lr");
    x.final_lr = json::get<decltype(x.final_lr)>(r, "final_lr", "gbrl params lr");
    x.schedule_trees = json::get<decltype(x.schedule_trees)>(r, "schedule_trees", "gbrl params lr");
    p.lr.push_back(x);
  }
  return p;
}

}  // namespace orchard::gbrl
