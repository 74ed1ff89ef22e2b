// Fuzz targets of SS3: model files (Orchard JSON, Orchard binary, pyss3 .ss3m, recognised by
// content through ss3::load) and arbitrary document text through the tokenisers, classification,
// explanations and incremental learning.
#include <orchard/ss3.hpp>

#include "fuzz_targets.hpp"

namespace {

using orchard_fuzz::accepts;
using orchard_fuzz::fail;

const std::vector<std::string>& docs() {
  static const std::vector<std::string> d = {
      "the cat sat on the mat. the cat likes milk and fish",
      "dogs bark at the mailman, dogs like bones and long walks",
      "the stock market fell today as investors sold shares 12.5% on 2024-01-02",
      "my cat and my dog sleep on the mat all day",
      "shares rallied after the market opened; investors cheered $40",
      "fish and milk for the cat, bones for the dog"};
  return d;
}
const std::vector<std::string>& labels() {
  static const std::vector<std::string> l = {"cats", "dogs", "money", "cats", "money", "dogs"};
  return l;
}

const orchard::ss3::Model& trained(bool unicode) {
  static const auto make = [](bool uni) {
    orchard::ss3::Params p;
    p.ngrams = 2;
    p.prune_floor = 1;
    p.tokenizer = uni ? orchard::ss3::TokenizerMode::unicode : orchard::ss3::TokenizerMode::pyss3;
    orchard::ss3::Model m(p);
    m.fit(docs(), labels());
    return m;
  };
  static const orchard::ss3::Model a = make(false), b = make(true);
  return unicode ? b : a;
}

void exercise(const orchard::ss3::Model& m) {
  if (m.num_categories() == 0) return;
  const std::string doc = "the cat and the market; dogs bark";
  const auto cv = m.classify(doc);
  if (cv.size() != m.num_categories()) fail("ss3: classify returned a wrong-length vector");
  (void)m.predict(doc);
  (void)orchard::ss3::explain(m, doc);
  const auto back = orchard::ss3::from_json(orchard::ss3::to_json(m));
  const auto cv2 = back.classify(doc);
  for (std::size_t c = 0; c < cv.size(); ++c) {
    if (!orchard_fuzz::same(cv[c], cv2[c])) fail("ss3: JSON round trip changed a confidence value");
  }
  const auto back_bin = orchard::ss3::from_binary(orchard::ss3::to_binary(m, true));
  const auto cv3 = back_bin.classify(doc);
  for (std::size_t c = 0; c < cv.size(); ++c) {
    if (!orchard_fuzz::same(cv[c], cv3[c])) fail("ss3: binary round trip changed a confidence value");
  }
}

}  // namespace

ORCHARD_FUZZ_TARGET(ss3_model) {
  const std::string path = orchard_fuzz::write_scratch(data, size, ".ss3");
  orchard::ss3::Model m;
  const bool ok = accepts([&] { m = orchard::ss3::load(path); });
  if (ok) exercise(m);
  // The binary reader on the raw bytes, magic or not.
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (accepts([&] { m = orchard::ss3::from_binary(bytes); })) exercise(m);
  return ok;
}

// Byte 0 bit 0 picks the tokenizer (pyss3 / unicode); the rest is a document.
ORCHARD_FUZZ_TARGET(ss3_text) {
  if (size < 1) return false;
  const orchard::ss3::Model& m = trained((data[0] & 1) != 0);
  const std::string doc(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<double> cv;
  if (!accepts([&] { cv = m.classify(doc); })) return false;
  if (cv.size() != m.num_categories()) fail("ss3: classify returned a wrong-length vector");
  for (double v : cv) {
    if (!(v >= 0.0) || !std::isfinite(v)) fail("ss3: a confidence value is negative or not finite");
  }
  (void)m.predict(doc);
  (void)m.predict_proba(doc);
  (void)orchard::ss3::explain(m, doc);
  if (size < 512) (void)orchard::ss3::explain_html(m, doc);
  orchard::ss3::Model copy = m;
  (void)accepts([&] { copy.learn(doc, "cats"); });
  (void)copy.classify(doc);
  return true;
}
