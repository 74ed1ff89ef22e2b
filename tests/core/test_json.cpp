#include <doctest/doctest.h>

#include <cmath>
#include <orchard/core/json.hpp>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "orchard_test.hpp"

using namespace orchard;

TEST_CASE("json: write_file / read_file round trip, doubles bit-exact") {
  orchard_test::TempDir dir("json1");
  auto doc = json::model_header("gbdt", 2);
  const std::vector<double> vals = {0.1, 1.0 / 3.0, -2.5e-308, 1e300, 123456789.123456789};
  doc["values"] = vals;
  doc["name"] = "tree \"one\"";
  const auto p = (dir / "m.json").string();
  json::write_file(p, doc);
  const auto back = json::read_file(p);
  CHECK(back == doc);
  const auto got = json::get<std::vector<double>>(back, "values", "gbdt model");
  REQUIRE(got.size() == vals.size());
  for (std::size_t i = 0; i < vals.size(); ++i) CHECK(got[i] == vals[i]);  // exact
  CHECK(json::check_model_header(back, "gbdt", 3) == 2);
}

TEST_CASE("json: bad JSON gives ParseError with line and column") {
  orchard_test::TempDir dir("json2");
  const auto p = io_test::write_text(dir / "bad.json", "{\n  \"a\": 1,\n  \"b\": ]\n}\n");
  try {
    json::read_file(p);
    FAIL("no throw");
  } catch (const ParseError& e) {
    CHECK(e.line() == 3);
    CHECK(e.column() == 8);
  }
  const auto t = io_test::write_text(dir / "trunc.json", "{\"a\": [1, 2,");
  CHECK_THROWS_AS(json::read_file(t), ParseError);
  const auto e = io_test::write_text(dir / "empty.json", "");
  try {
    json::read_file(e);
    FAIL("no throw");
  } catch (const ParseError& err) {
    CHECK(std::string(err.what()).find("empty file") != std::string::npos);
  }
  CHECK_THROWS_AS(json::read_file((dir / "absent.json").string()), IoError);
  CHECK_THROWS_AS(
      json::write_file((dir / "no" / "such" / "dir.json").string(), json::model_header("x", 1)),
      IoError);
}

TEST_CASE("json: model header checks format, kind and version") {
  const auto h = json::model_header("spectral", 1);
  CHECK(h["format"] == "orchard");
  CHECK(h["kind"] == "spectral");
  CHECK(h["version"] == 1);
  CHECK(json::check_model_header(h, "spectral", 1) == 1);
  CHECK_THROWS_AS(json::check_model_header(h, "gbdt", 1), FormatError);
  CHECK_THROWS_AS(json::check_model_header(json::model_header("spectral", 4), "spectral", 3),
                  FormatError);
  CHECK_THROWS_AS(json::check_model_header(json::model_header("spectral", 0), "spectral", 3),
                  FormatError);
  auto other = h;
  other["format"] = "xgboost";
  CHECK_THROWS_AS(json::check_model_header(other, "spectral", 1), FormatError);
  auto strver = h;
  strver["version"] = "1";
  CHECK_THROWS_AS(json::check_model_header(strver, "spectral", 1), FormatError);
  CHECK_THROWS_AS(json::check_model_header(nlohmann::json::array(), "spectral", 1), FormatError);
}

TEST_CASE("json: get names the missing or mistyped field") {
  nlohmann::json j = {{"n", 3}, {"s", "text"}};
  CHECK(json::get<int>(j, "n", "tree 4") == 3);
  CHECK(json::get<std::string>(j, "s", "tree 4") == "text");
  try {
    json::get<int>(j, "depth", "tree 4");
    FAIL("no throw");
  } catch (const FormatError& e) {
    const std::string m = e.what();
    CHECK(m.find("tree 4") != std::string::npos);
    CHECK(m.find("depth") != std::string::npos);
  }
  try {
    json::get<int>(j, "s", "tree 4");
    FAIL("no throw");
  } catch (const FormatError& e) {
    CHECK(std::string(e.what()).find("\"s\"") != std::string::npos);
  }
  CHECK_THROWS_AS(json::get<int>(nlohmann::json::array(), "n", "root"), FormatError);
}
