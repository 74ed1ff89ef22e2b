#pragma once
// Hyperparameters of a GBRL ensemble and their JSON form.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
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
  j.at("n_outputs").get_to(p.n_outputs);
  j.at("score").get_to(p.score);
  j.at("growth").get_to(p.growth);
  j.at("max_depth").get_to(p.max_depth);
  j.at("split_candidates").get_to(p.split_candidates);
  j.at("persistent_bins").get_to(p.persistent_bins);
  j.at("max_bin").get_to(p.max_bin);
  j.at("min_data_in_leaf").get_to(p.min_data_in_leaf);
  j.at("min_split_gain").get_to(p.min_split_gain);
  j.at("feature_weights").get_to(p.feature_weights);
  j.at("categorical").get_to(p.categorical);
  j.at("bias").get_to(p.bias);
  p.lr.clear();
  for (const auto& r : j.at("lr")) {
    LrRange x;
    r.at("begin").get_to(x.begin);
    r.at("end").get_to(x.end);
    r.at("lr").get_to(x.lr);
    r.at("schedule").get_to(x.schedule);
    r.at("final_lr").get_to(x.final_lr);
    r.at("schedule_trees").get_to(x.schedule_trees);
    p.lr.push_back(x);
  }
  return p;
}

}  // namespace orchard::gbrl
