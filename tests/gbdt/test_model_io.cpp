// Own model files: versioned JSON, bit-exact round trip, truncated/corrupted files throw.
#include <doctest/doctest.h>

#include <fstream>
#include <orchard/gbdt.hpp>
#include <orchard_test.hpp>
#include <sstream>

#include "synth.hpp"

using namespace orchard;

namespace {
void spit(const std::string& path, const std::string& s) { std::ofstream(path) << s; }
}  // namespace

TEST_CASE("save/load round trip gives bit-identical predictions") {
  orchard_test::TempDir dir("gbdt_io");
  for (const char* obj : {"regression", "binary", "multiclass"}) {
    auto s = gbdt_test::make(400, 4, std::string(obj) == "regression" ? 0 : std::string(obj) == "binary" ? 1 : 2, 21);
    gbdt::Params p;
    p.objective = obj;
    p.num_rounds = 7;
    p.growth = "leafwise";
    auto m = gbdt::train(p, s.X, s.y);
    const auto path = (dir / "m.json").string();
    m.save(path);
    auto back = gbdt::Model::load(path);
    CHECK((m.predict_raw(s.X).array() == back.predict_raw(s.X).array()).all());
    CHECK(back.objective == m.objective);
    CHECK(back.to_json() == m.to_json());
  }
}

TEST_CASE("truncated, corrupted, foreign or future model files throw, never crash") {
  orchard_test::TempDir dir("gbdt_bad");
  auto s = gbdt_test::make(200, 3, 1, 22);
  gbdt::Params p;
  p.objective = "binary";
  p.num_rounds = 3;
  auto m = gbdt::train(p, s.X, s.y);
  const auto good = (dir / "good.json").string();
  m.save(good);
  const std::string text = orchard_test::read_text(good);
  const auto bad = (dir / "bad.json").string();
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, text.size() / 2, text.size() - 1}) {
    spit(bad, text.substr(0, cut));
    CHECK_THROWS_AS(gbdt::Model::load(bad), Error);
  }
  auto j = m.to_json();
  auto mutate = [&](auto fn) {
    auto k = j;
    fn(k);
    spit(bad, k.dump());
    CHECK_THROWS_AS(gbdt::Model::load(bad), FormatError);
  };
  mutate([](nlohmann::json& k) { k["version"] = 99; });
  mutate([](nlohmann::json& k) { k["kind"] = "gbrl"; });
  mutate([](nlohmann::json& k) { k["objective"] = "poisson"; });
  mutate([](nlohmann::json& k) { k["trees"][0]["left"][0] = 0; });
  mutate([](nlohmann::json& k) { k["trees"][1]["feature"][0] = 17; });
  mutate([](nlohmann::json& k) { k["trees"][1]["value"] = "x"; });
  mutate([](nlohmann::json& k) { k["trees"][2].erase("threshold"); });
  mutate([](nlohmann::json& k) { k["base_score"] = nlohmann::json::array(); });
  mutate([](nlohmann::json& k) { k["tree_class"][0] = 4; });
  CHECK_THROWS_AS(gbdt::Model::load((dir / "missing.json").string()), IoError);
}
