#pragma once
// Shared helpers of the ss3 tests: the pyss3 reference fixture and the data loaders of the
// fixture script (sorted file order).
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace ss3_test {

inline std::string fixtures() { return ORCHARD_SS3_FIXTURES; }

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

}  // namespace ss3_test
