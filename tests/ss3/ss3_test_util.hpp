#pragma once
// Shared helpers of the ss3 tests: the pyss3 reference fixture and the data loaders of the
// fixture script (sorted file order).
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <orchard/ss3/model.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace ss3_test {

inline std::string fixtures() { return ORCHARD_SS3_FIXTURES; }

/// Default parameters with pyss3's preprocessing (the parity tests compare against pyss3).
inline orchard::ss3::Params pyss3_params() {
  orchard::ss3::Params p;
  p.tokenizer = orchard::ss3::TokenizerMode::pyss3;
  return p;
}

inline const nlohmann::json& reference() {
  static const nlohmann::json j = [] {
    std::ifstream in(fixtures() + "/pyss3_reference.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return nlohmann::json::parse(ss.str());
  }();
  return j;
}

inline const nlohmann::json& model_case(const std::string& name) {
  for (const auto& m : reference()["models"])
    if (m["name"] == name) return m;
  throw std::runtime_error("no fixture model " + name);
}

inline const std::vector<std::string> kDocs = {
    "the cat sat on the mat. the cat likes milk and fish",
    "dogs bark at the mailman, dogs like bones and long walks",
    "the stock market fell today as investors sold shares",
    "my cat and my dog sleep on the mat all day",
    "shares rallied after the market opened; investors cheered",
    "fish and milk for the cat, bones for the dog",
    "the dog chased the cat around the garden",
    "bonds and shares: the market is volatile",
    "a cat naps. a cat purrs. the cat sat on the mat",
    "long walks make dogs happy and dogs bark less",
    "investors sold shares and bonds as the market fell",
    "the cat sat on the mat with the dog",
};
inline const std::vector<std::string> kLabels = {"cats", "dogs", "money", "cats", "money", "cats",
                                          "dogs", "money", "cats", "dogs", "money", "dogs"};

}  // namespace ss3_test
