// Validation added by the robustness audit (docs/robustness.md): element conversion in the .npy /
// IDX readers, integer fields and null doubles in JSON model files, numbers beyond double, and the
// GBDT loaders / importers on the inputs the fuzzer and the audit found.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <orchard/core/io.hpp>
#include <orchard/core/json.hpp>
#include <orchard/gbdt.hpp>
#include <string>

#include "orchard_test.hpp"

namespace {

std::string write(const orchard_test::TempDir& dir, const std::string& name, const std::string& text) {
  const std::string p = (dir / name).string();
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string seed(const std::string& target, const std::string& name) {
  std::ifstream in(std::string(ORCHARD_FUZZ_DIR) + "/corpus/" + target + "/" + name, std::ios::binary);
  REQUIRE(in);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("npy / idx: values that do not fit an integer element type are rejected") {
  orchard_test::TempDir dir("robust_validation_io");
  namespace io = orchard::io;
  io::RowMatrix<double> m(1, 3);
  m << 1.0, std::numeric_limits<double>::quiet_NaN(), 1e300;
  const std::string p = (dir / "m.npy").string();
  io::write_npy(p, m);
  CHECK(std::isnan(io::read_npy<double>(p)(0, 1)));
  CHECK_THROWS_WITH_AS(io::read_npy<std::int32_t>(p), doctest::Contains("element 1"), orchard::ParseError);
  m(0, 1) = 2.9;
  io::write_npy(p, m);
  CHECK_THROWS_WITH_AS(io::read_npy<std::int64_t>(p), doctest::Contains("element 2"), orchard::ParseError);
  m(0, 2) = -3.5;
  io::write_npy(p, m);
  const auto ints = io::read_npy<std::int32_t>(p);  // in range: truncated as static_cast does
  CHECK(ints(0, 1) == 2);
  CHECK(ints(0, 2) == -3);
  CHECK_THROWS_AS(io::read_npy<std::uint8_t>(p), orchard::ParseError);  // -3.5 below 0
  // int16 IDX holding 32767 and -1.
  const std::string idx = write(dir, "a.idx", std::string("\0\0\x0b\x01\0\0\0\x02\x7f\xff\xff\xff", 12));
  const auto as16 = io::read_idx<std::int16_t>(idx);
  CHECK(as16(0, 0) == 32767);
  CHECK(as16(1, 0) == -1);
  CHECK_THROWS_WITH_AS(io::read_idx<std::int8_t>(idx), doctest::Contains("element 0 = 32767"),
                       orchard::ParseError);
  CHECK_THROWS_AS(io::read_idx<std::uint16_t>(idx), orchard::ParseError);
  CHECK(io::read_idx<float>(idx)(1, 0) == -1.0f);
}

TEST_CASE("json::get rejects floats and out-of-range values in integer fields") {
  namespace json = orchard::json;
  const auto doc = nlohmann::json::parse(
      R"({"big": 1e300, "frac": 2.5, "whole": 3.0, "wide": 4294967296, "neg": -1,
          "ints": [1, 1e10], "ok": [1, 2], "nested": [[1], [2.5]], "d": [1.5, null]})");
  CHECK_THROWS_WITH_AS(json::get<int>(doc, "big", "t"), doctest::Contains("\"big\""), orchard::FormatError);
  CHECK_THROWS_AS(json::get<int>(doc, "frac", "t"), orchard::FormatError);
  CHECK(json::get<int>(doc, "whole", "t") == 3);
  CHECK_THROWS_AS(json::get<int>(doc, "wide", "t"), orchard::FormatError);
  CHECK(json::get<std::int64_t>(doc, "wide", "t") == 4294967296LL);
  CHECK_THROWS_AS(json::get<std::size_t>(doc, "neg", "t"), orchard::FormatError);
  CHECK_THROWS_AS(json::get<std::vector<std::int32_t>>(doc, "ints", "t"), orchard::FormatError);
  CHECK(json::get<std::vector<std::int32_t>>(doc, "ok", "t") == std::vector<std::int32_t>{1, 2});
  CHECK_THROWS_AS(json::get<std::vector<std::vector<int>>>(doc, "nested", "t"), orchard::FormatError);
  CHECK(json::get<double>(doc, "big", "t") == 1e300);
  const auto d = json::get_doubles(doc, "d", "t");
  REQUIRE(d.size() == 2);
  CHECK(d[0] == 1.5);
  CHECK(std::isnan(d[1]));
  CHECK_THROWS_AS(json::get_doubles(doc, "nested", "t"), orchard::FormatError);
  CHECK_THROWS_AS(json::as<std::uint8_t>(nlohmann::json(300), "t"), orchard::FormatError);
  // A number beyond double is nlohmann's out_of_range, reported as a ParseError.
  orchard_test::TempDir dir("robust_validation_json");
  CHECK_THROWS_AS(json::read_file(write(dir, "big.json", "{\"a\": -0.36e960745130578987}")),
                  orchard::ParseError);
}

TEST_CASE("gbdt: model files and imports with absurd numbers are FormatErrors") {
  orchard_test::TempDir dir("robust_validation_gbdt");
  using orchard::gbdt::Model;
  const auto base = nlohmann::json::parse(seed("gbdt_json", "regression"));
  auto edited = [&](auto&& edit) {
    auto j = base;
    edit(j);
    return write(dir, "m.json", j.dump());
  };
  CHECK(Model::load(edited([](nlohmann::json&) {})).num_features == 3);
  CHECK_THROWS_AS(Model::load(edited([](nlohmann::json& j) { j["num_class"] = 1e300; })), orchard::FormatError);
  CHECK_THROWS_AS(Model::load(edited([](nlohmann::json& j) { j["trees"][0]["feature"][0] = 1e10; })),
                  orchard::FormatError);
  CHECK_THROWS_AS(Model::load(edited([](nlohmann::json& j) { j["tree_class"][0] = 2147483647; })),
                  orchard::FormatError);
  CHECK_THROWS_AS(Model::load(edited([](nlohmann::json& j) { j["num_features"] = 1LL << 40; })),
                  orchard::FormatError);
  CHECK_THROWS_AS(Model::load(write(dir, "huge.json", "{\"version\": 1e99999}")), orchard::ParseError);

  const auto m = Model::load(edited([](nlohmann::json&) {}));
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X(2, 4);
  X.setZero();
  CHECK_THROWS_AS(m.predict(orchard::ConstMatrixView<double>(X)), orchard::InvalidArgument);
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X3(2, 3);
  X3.setZero();
  CHECK_THROWS_AS(m.predict(orchard::ConstMatrixView<double>(X3), m.num_rounds() + 1), orchard::InvalidArgument);

  const std::string lgb = seed("lightgbm", "regression");
  auto lgb_with = [&](const std::string& from, const std::string& to) {
    std::string t = lgb;
    const auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    t.replace(at, from.size(), to);
    return write(dir, "m.txt", t);
  };
  CHECK(orchard::gbdt::import_lightgbm(lgb_with("", "")).num_features == 3);
  CHECK_THROWS_AS(orchard::gbdt::import_lightgbm(lgb_with("num_tree_per_iteration=1", "num_tree_per_iteration=1e10")),
                  orchard::FormatError);
  CHECK_THROWS_AS(orchard::gbdt::import_lightgbm(lgb_with("num_tree_per_iteration=1", "num_tree_per_iteration=0")),
                  orchard::FormatError);
  CHECK_THROWS_AS(orchard::gbdt::import_lightgbm(lgb_with("max_feature_idx=2", "max_feature_idx=1e300")),
                  orchard::FormatError);
  CHECK_THROWS_AS(orchard::gbdt::import_lightgbm(lgb_with("split_feature=0 2", "split_feature=0.5 2")),
                  orchard::FormatError);
  CHECK_THROWS_AS(orchard::gbdt::import_lightgbm(lgb_with("right_child=-3 -2", "right_child=-3 -9223372036854775807")),
                  orchard::FormatError);

  auto xgb = nlohmann::json::parse(seed("xgboost", "multiclass"));
  xgb["learner"]["learner_model_param"]["num_class"] = "1e300";
  CHECK_THROWS_AS(orchard::gbdt::import_xgboost(write(dir, "x.json", xgb.dump())), orchard::FormatError);
  xgb["learner"]["learner_model_param"]["num_class"] = "100000";
  CHECK_THROWS_AS(orchard::gbdt::import_xgboost(write(dir, "x.json", xgb.dump())), orchard::FormatError);
  xgb = nlohmann::json::parse(seed("xgboost", "multiclass"));
  xgb["learner"]["gradient_booster"]["model"]["trees"][0]["split_indices"][0] = 1e20;
  CHECK_THROWS_AS(orchard::gbdt::import_xgboost(write(dir, "x.json", xgb.dump())), orchard::FormatError);
}
