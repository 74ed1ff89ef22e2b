#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <orchard/ss3.hpp>
#include <orchard/ss3/data.hpp>

#include "orchard_test.hpp"
#include "ss3_test_util.hpp"

using namespace orchard::ss3;
using orchard::Context;

namespace {

using ss3_test::kDocs;
using ss3_test::kLabels;

/// Naive transcription of the SS3 formulas, one (term, category) at a time, from the counts only.
struct Naive {
  const Model& m;
  Hyper h;
  bool xai = true;
  std::vector<std::string> cats;

  double lv(const std::string& t, std::size_t c) const {
    const double fr = m.fr(t, cats[c]);
    if (fr <= 1) return 0;
    const std::size_t n = static_cast<std::size_t>(std::count(t.begin(), t.end(), ' ') + 1);
    return std::pow(fr / static_cast<double>(m.max_fr()[c][n - 1]), h.s);
  }
  double sg(const std::string& t, std::size_t c) const {
    if (m.fr(t, cats[c]) <= 0) return 0;
    std::vector<double> v;
    for (std::size_t k = 0; k < cats.size(); ++k) v.push_back(lv(t, k));
    const double x = v[c];
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    double med, sd;
    if (n == 2) {
      med = sd = v[0];
    } else {
      med = v[n % 2 ? n / 2 : n / 2 - 1];
      double s = 0;
      for (double y : v) s += std::abs(med - y);
      sd = s / static_cast<double>(n);
    }
    if (!xai) {
      if (sd == 0 && x != 0) return 1.0;
      if (h.l * sd == 0) return 0.0;  // pyss3's sigmoid answers 0 on a zero division
      return 0.5 * std::tanh(3.0 / (h.l * sd) * (x - med) - 3) + 0.5;
    }
    if (h.l * sd <= 0.03) sd = 0.03 / h.l;
    bool stop = med > 0.2;
    std::size_t big = 0;
    for (double y : v) big += y > 0.09;
    stop = stop || big == n;
    if ((stop && sd <= 0.1) || med >= 0.3) return 0;
    return 0.5 * std::tanh(3.0 / (h.l * sd) * (x - med) - 3) + 0.5;
  }
  double sn(const std::string& t, std::size_t c) const {
    const double C = static_cast<double>(cats.size());
    double s = 0;
    for (std::size_t k = 0; k < cats.size(); ++k)
      if (k != c) s += std::min(sg(t, k), 1.0);
    return std::pow((C - (s + 1)) / ((C - 1) * (s + 1)), h.p);
  }
  double gv(const std::string& t, std::size_t c) const {
    if (m.fr(t, cats[c]) <= 0) return 0;
    return lv(t, c) * (sg(t, c) * sn(t, c));
  }
};

std::string term_text(const Model& m, std::int64_t t) {
  std::string s;
  for (auto w : m.term_words(t)) s += (s.empty() ? "" : " ") + m.words()[static_cast<std::size_t>(w)];
  return s;
}

void check_close(double a, double b, double tol = 1e-12) { CHECK(std::abs(a - b) <= tol * (1 + std::abs(b))); }

}  // namespace

TEST_CASE("ss3 values equal a naive transcription of the formulas (words and bigrams)") {
  for (const SgMode mode : {SgMode::xai, SgMode::vanilla}) {
    Params p;
    p.ngrams = 2;
    p.prune_floor = 1;
    p.sg_mode = mode;
    Model m(p);
    m.fit(kDocs, kLabels);
    Naive nv{m, p.hyper, mode == SgMode::xai, m.categories()};
    REQUIRE(m.num_categories() == 3);
    std::size_t checked = 0;
    // max gv per (category, length) from the naive gv
    std::vector<std::vector<double>> maxgv(3, std::vector<double>(2, 0.0));
    for (std::int64_t t = 0; t < static_cast<std::int64_t>(m.num_terms()); ++t) {
      const std::string s = term_text(m, t);
      const std::size_t n = m.term_words(t).size();
      for (std::size_t c = 0; c < 3; ++c) {
        check_close(m.lv(s, nv.cats[c]), nv.lv(s, c));
        check_close(m.sg(s, nv.cats[c]), nv.sg(s, c));
        check_close(m.gv(s, nv.cats[c]), nv.gv(s, c));
        if (m.fr(s, nv.cats[c]) > 0) {
          check_close(m.sn(s, nv.cats[c]), nv.sn(s, c));
          maxgv[c][n - 1] = std::max(maxgv[c][n - 1], nv.gv(s, c));
        }
        ++checked;
      }
    }
    for (std::int64_t t = 0; t < static_cast<std::int64_t>(m.num_terms()); ++t) {
      const std::string s = term_text(m, t);
      const auto ws = m.term_words(t);
      for (std::size_t c = 0; c < 3; ++c) {
        if (m.fr(s, nv.cats[c]) <= 0) {
          CHECK(m.cv(s, nv.cats[c]) == 0.0);
          continue;
        }
        double expect = maxgv[c][ws.size() - 1] == 0 ? 0 : nv.gv(s, c) / maxgv[c][ws.size() - 1];
        if (ws.size() > 1) {
          double W = 0;
          bool all = true;
          for (auto w : ws) {
            const std::string ww = m.words()[static_cast<std::size_t>(w)];
            for (std::size_t k = 0; k < 3; ++k) W += nv.gv(ww, k);
            all = all && nv.gv(ww, c) >= 0.01;
          }
          if (W < 0.05) {
            expect = 0;
          } else if (all && maxgv[c][1] != 0) {
            expect += W;
          }
        }
        check_close(m.cv(s, nv.cats[c]), expect);
      }
    }
    CHECK(checked > 100);
  }
}

TEST_CASE("ss3 classification picks the expected topic and honours the fallback") {
  Model m;
  m.fit(kDocs, kLabels);
  CHECK(m.category_name(m.predict("my cat sat on the mat")) == "cats");
  CHECK(m.category_name(m.predict("investors and the market")) == "money");
  CHECK(m.predict("zzz qqq", Fallback::none()) == -1);
  CHECK(m.predict("zzz qqq") == m.most_probable_category());
  CHECK(m.classify_label("dogs bark. dogs walk") == m.category_index("dogs"));
  const auto ml = m.classify_multilabel("the cat and the dog sat");
  CHECK(!ml.empty());
  // summary operators: max never exceeds sum
  SummaryOps ops{summary_max(), summary_max(), summary_max()};
  const auto a = m.classify("the cat sat. dogs bark. shares fell", ops);
  const auto b = m.classify("the cat sat. dogs bark. shares fell");
  for (std::size_t c = 0; c < a.size(); ++c) CHECK(a[c] <= b[c] + 1e-15);
  CHECK_THROWS_AS(m.category_index("birds"), orchard::InvalidArgument);
  CHECK_THROWS_AS(m.cv("cat", "birds"), orchard::InvalidArgument);
}

TEST_CASE("ss3 bad input: empty training set, category without words, bad hyperparameters") {
  Model m;
  CHECK_THROWS_AS(m.fit({}, {}), orchard::InvalidArgument);
  CHECK_THROWS_AS(m.fit({"a b"}, {"x", "y"}), orchard::InvalidArgument);
  CHECK_THROWS_AS(m.fit({"a b c", "... !!!"}, {"x", "y"}), orchard::InvalidArgument);
  CHECK_THROWS_AS(m.classify("x"), orchard::StateError);
  for (const Hyper h : {Hyper{0, .5, 1, 0}, Hyper{.45, 0, 1, 0}, Hyper{.45, .5, -1, 0},
                        Hyper{NAN, .5, 1, 0}}) {
    Params p;
    p.hyper = h;
    CHECK_THROWS_AS(Model{p}, orchard::InvalidArgument);
  }
  Model ok;
  CHECK_THROWS_AS(ok.learn(std::string("bad \xff utf8"), "x"), orchard::InvalidArgument);
  CHECK(ok.num_categories() == 0);
  // fit: invalid UTF-8 in a later category's documents throws and leaves the model as it was
  for (const auto mode : {TokenizerMode::pyss3, TokenizerMode::unicode}) {
    for (const int ngrams : {1, 3}) {
      Params p;
      p.tokenizer = mode;
      p.ngrams = ngrams;
      Model f(p);
      f.fit({"good words here", "more good words"}, {"a", "b"});
      const std::string before = to_binary(f);
      CHECK_THROWS_AS(f.fit({"fine text", "broken \xc3\x28 text"}, {"c", "d"}), orchard::InvalidArgument);
      CHECK(to_binary(f) == before);
    }
  }
}

TEST_CASE("ss3 incremental learn equals learning everything then recomputing") {
  Params p;
  p.ngrams = 2;
  p.prune_floor = 1;
  Model inc(p), batch(p);
  for (std::size_t i = 0; i < kDocs.size(); ++i) {
    inc.learn(kDocs[i], kLabels[i], true);
    batch.learn(kDocs[i], kLabels[i], false);
  }
  batch.update_values();
  REQUIRE(inc.num_terms() == batch.num_terms());
  CHECK(inc.values().lv == batch.values().lv);
  CHECK(inc.values().sg == batch.values().sg);
  CHECK(inc.values().gv == batch.values().gv);
  CHECK(inc.values().cv == batch.values().cv);
  // one more document into an existing category, then a new category
  inc.learn("the cat and the mat again and again", "cats");
  batch.learn("the cat and the mat again and again", "cats", false);
  inc.learn("birds sing and birds fly", "birds");
  batch.learn("birds sing and birds fly", "birds", false);
  inc.learn("birds fly south", "birds");
  batch.learn("birds fly south", "birds", false);
  batch.update_values();
  CHECK(inc.values().cv == batch.values().cv);
  CHECK(inc.values().gv == batch.values().gv);
}

TEST_CASE("ss3 values are identical for 1 and 2 threads") {
  Params p;
  p.ngrams = 3;
  p.prune_floor = 0;
  Model a(p), b(p);
  a.fit(kDocs, kLabels, Context(1));
  b.fit(kDocs, kLabels, Context(2));
  CHECK(a.values().cv == b.values().cv);
  CHECK(a.predict(kDocs, Context(1)) == b.predict(kDocs, Context(2)));
}

TEST_CASE("ss3 model files: JSON and binary round trips, truncation and corruption throw") {
  orchard_test::TempDir dir("ss3_io");
  Params p;
  p.ngrams = 2;
  p.prune_floor = 1;
  p.hyper = Hyper{0.3, 0.8, 1.2, 0.01};
  Model m(p);
  m.fit(kDocs, kLabels);
  save_json(m, (dir / "m.json").string());
  save_binary(m, (dir / "m.ss3b").string());
  for (const std::string f : {"m.json", "m.ss3b"}) {
    const Model r = load((dir / f).string());
    CHECK(r.categories() == m.categories());
    CHECK(r.counts() == m.counts());
    CHECK(r.values().cv == m.values().cv);
    CHECK(r.params().hyper == m.params().hyper);
    for (const auto& d : kDocs) CHECK(r.classify(d) == m.classify(d));
  }
  CHECK(to_binary(load_binary((dir / "m.ss3b").string())) == to_binary(m));
  const std::string bin = to_binary(m);
  for (std::size_t cut : {std::size_t{3}, bin.size() / 2, bin.size() - 1}) {
    CHECK_THROWS_AS(from_binary(bin.substr(0, cut)), orchard::FormatError);
  }
  std::string bad = bin;
  bad[bad.size() / 2] ^= 0x5a;
  CHECK_THROWS_AS(from_binary(bad), orchard::FormatError);
  const std::string js = to_json(m).dump();
  detail::write_file((dir / "t.json").string(), js.substr(0, js.size() / 2));
  CHECK_THROWS_AS(load_json((dir / "t.json").string()), orchard::FormatError);
  auto j = to_json(m);
  j["version"] = 99;
  CHECK_THROWS_AS(from_json(j), orchard::FormatError);
  j = to_json(m);
  j["term_parent"][5] = 100000;
  CHECK_THROWS_AS(from_json(j), orchard::FormatError);
  CHECK_THROWS_AS(load((dir / "missing").string()), orchard::IoError);
}

namespace {
/// Replaces the trailing xxHash64 of a binary model (after editing its bytes).
std::string ss3_rechecksum(std::string b) {
  const std::uint64_t h = XXH64(b.data(), b.size() - 8, 0);
  std::memcpy(b.data() + b.size() - 8, &h, 8);
  return b;
}
void ss3_check_same_values(const Model& a, const Model& b) {
  CHECK(a.values().lv == b.values().lv);
  CHECK(a.values().sg == b.values().sg);
  CHECK(a.values().gv == b.values().gv);
  CHECK(a.values().cv == b.values().cv);
  CHECK(a.values().max_gv == b.values().max_gv);
}
}  // namespace

TEST_CASE("ss3 binary files store sparse counts and the values (version 3) and still read versions 1 and 2") {
  Params p;
  p.ngrams = 3;
  p.prune_floor = 1;
  Model m(p);
  m.fit(kDocs, kLabels);
  REQUIRE(m.values_current());
  CHECK(to_binary(m, false)[to_binary(m, false).size() - 9] == 0);  // counts only on request
  CHECK(to_binary(m) == to_binary(m, true));                        // values by default
  const std::string bin = to_binary(m, true);
  std::uint32_t version = 0;
  std::memcpy(&version, bin.data() + 8, 4);
  CHECK(version == 3);
  for (const int old : {1, 2}) {  // older versions written on request, read back identically
    const Model ro = from_binary(to_binary(m, true, old));
    ss3_check_same_values(ro, m);
    CHECK(ro.counts() == m.counts());
    CHECK(to_binary(ro) == bin);
  }
  CHECK_THROWS_AS(to_binary(m, true, 4), orchard::InvalidArgument);
  CHECK(bin[bin.size() - 9] != 0);  // the values are stored (the flag precedes them)
  const Model r = from_binary(bin);
  CHECK(r.values_current());
  ss3_check_same_values(r, m);
  CHECK(to_binary(r, true) == bin);
  for (const auto& d : kDocs) CHECK(r.classify(d) == m.classify(d));
  // values not up to date (learned without an update): counts only, recomputed on load
  Model stale = m;
  stale.learn("the cat chased a new mouse around the garden", kLabels[0], false);
  CHECK_FALSE(stale.values_current());
  CHECK(to_binary(stale, true)[to_binary(stale, true).size() - 9] == 0);
  const Model rs3 = from_binary(to_binary(stale, true));
  const std::string b2 = to_binary(stale, true, 2);
  CHECK(b2[b2.size() - 9] == 0);
  const Model rs = from_binary(b2);
  stale.update_values();
  ss3_check_same_values(rs, stale);
  ss3_check_same_values(rs3, stale);
  // the same file as version 1 (no values flag)
  std::string b1 = b2;
  b1.erase(b1.size() - 9, 1);
  const std::uint32_t one = 1;
  std::memcpy(b1.data() + 8, &one, 4);
  const Model r1 = from_binary(ss3_rechecksum(b1));
  ss3_check_same_values(r1, stale);
  CHECK(to_binary(r1) == to_binary(stale));
  CHECK(to_binary(r1, true, 1) == ss3_rechecksum(b1));
  CHECK_THROWS_AS(from_binary(b1), orchard::FormatError);  // stale checksum
  // stored values out of range or inconsistent with the counts (checksum valid) throw.
  // Layout at the end: flag, varint entry count, sg x count, gv x count, checksum.
  std::size_t present = 0;
  for (const auto f : m.counts()) present += f > 0 ? 1 : 0;
  const std::size_t at = bin.size() - 8 - 16 * present;  // first sg
  std::size_t vlen = 1;
  while (present >> (7 * vlen)) ++vlen;
  for (const double bad : {-0.5, 2.0, std::nan("")}) {
    std::string b = bin;
    std::memcpy(b.data() + at, &bad, 8);  // sg outside [0, 1]
    CHECK_THROWS_AS(from_binary(ss3_rechecksum(b)), orchard::FormatError);
    if (bad == 2.0) continue;  // gv has no upper bound
    b = bin;
    std::memcpy(b.data() + bin.size() - 16, &bad, 8);  // gv negative or NaN
    CHECK_THROWS_AS(from_binary(ss3_rechecksum(b)), orchard::FormatError);
  }
  std::string flag = bin;  // a values flag other than 0 / 1
  flag[at - vlen - 1] = 7;
  CHECK_THROWS_AS(from_binary(ss3_rechecksum(flag)), orchard::FormatError);
  std::string fewer = bin;  // one entry fewer than the counts hold
  fewer.erase(bin.size() - 16, 8);              // last gv
  fewer.erase(at + 8 * (present - 1), 8);       // last sg
  fewer.erase(at - vlen, vlen);
  std::string enc;
  detail::put_varint(enc, present - 1);
  fewer.insert(at - vlen, enc);
  CHECK_THROWS_AS(from_binary(ss3_rechecksum(fewer)), orchard::FormatError);
  // every truncation throws
  for (std::size_t cut = 0; cut < bin.size(); cut += 1 + cut / 8)
    CHECK_THROWS_AS(from_binary(bin.substr(0, cut)), orchard::FormatError);
}

TEST_CASE("ss3 binary files: stored values at the edges of their ranges load and values beyond them throw") {
  Params p;
  p.ngrams = 2;
  Model m(p);
  m.fit(kDocs, kLabels);
  const std::string bin = to_binary(m);
  std::size_t present = 0;
  for (const auto f : m.counts()) present += f > 0 ? 1 : 0;
  const std::size_t first_sg = bin.size() - 8 - 16 * present, last_gv = bin.size() - 16;
  const auto with = [&](std::size_t at, double v) {
    std::string b = bin;
    std::memcpy(b.data() + at, &v, 8);
    return ss3_rechecksum(b);
  };
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (const double ok : {0.0, -0.0, 1.0, 0.5}) CHECK_NOTHROW((void)from_binary(with(first_sg, ok)));
  for (const double ok : {0.0, -0.0, std::numeric_limits<double>::max()})
    CHECK_NOTHROW((void)from_binary(with(last_gv, ok)));
  for (const double bad : {std::nextafter(1.0, 2.0), -std::numeric_limits<double>::denorm_min(), inf, -inf,
                           std::nan(""), -std::nan("")})
    CHECK_THROWS_AS(from_binary(with(first_sg, bad)), orchard::FormatError);
  for (const double bad : {-std::numeric_limits<double>::denorm_min(), -1.0, inf, -inf, std::nan(""), -std::nan("")})
    CHECK_THROWS_AS(from_binary(with(last_gv, bad)), orchard::FormatError);
}

TEST_CASE("ss3 imports a pyss3 .ss3m model: every cached value and every prediction match") {
  const std::string path = ss3_test::fixtures() + "/ss3_models/movie_2grams.ss3m";
  const Model m = import_pyss3(path);
  const auto& ref = ss3_test::model_case("movie_2grams");
  CHECK(m.categories() == ref["categories"].get<std::vector<std::string>>());
  // the file caches [NEXT, FR, CV, SG, GV, LV] per node: compare them all
  const auto raw = nlohmann::json::parse(detail::read_file(path));
  std::size_t nodes = 0;
  const std::size_t C = m.num_categories();
  for (std::size_t c = 0; c < C; ++c) {
    std::vector<std::pair<const nlohmann::json*, std::string>> stack{{&raw["__categories__"][c][1], ""}};
    while (!stack.empty()) {
      auto [node, prefix] = stack.back();
      stack.pop_back();
      for (auto it = node->begin(); it != node->end(); ++it) {
        const std::string w = raw["__index_to_word__"][it.key()];
        const std::string t = prefix.empty() ? w : prefix + " " + w;
        const auto& info = it.value();
        CHECK(m.fr(t, m.categories()[c]) == info[1].get<double>());
        CHECK(m.cv(t, m.categories()[c]) == doctest::Approx(info[2].get<double>()).epsilon(1e-12));
        CHECK(m.sg(t, m.categories()[c]) == doctest::Approx(info[3].get<double>()).epsilon(1e-12));
        CHECK(m.gv(t, m.categories()[c]) == doctest::Approx(info[4].get<double>()).epsilon(1e-12));
        CHECK(m.lv(t, m.categories()[c]) == doctest::Approx(info[5].get<double>()).epsilon(1e-12));
        ++nodes;
        if (!info[0].empty()) stack.push_back({&info[0], t});
      }
    }
  }
  CHECK(nodes > 1000);
  // predictions of the synthetic probe documents (the last entries of the fixture)
  const auto extra = ref["extra_docs"].get<std::vector<std::string>>();
  const std::size_t off = ref["doc_ids"].size();
  for (std::size_t i = 0; i < extra.size(); ++i) {
    CAPTURE(extra[i]);
    const auto cv = m.classify(extra[i]);
    const auto want = ref["classify"][off + i].get<std::vector<double>>();
    for (std::size_t c = 0; c < C; ++c) CHECK(cv[c] == doctest::Approx(want[c]).epsilon(1e-12));
    CHECK(m.category_name(m.predict(extra[i])) == ref["predict"][off + i].get<std::string>());
  }
  // and it survives our own formats
  const Model r = from_binary(to_binary(m));
  CHECK(r.values().cv == m.values().cv);
}

// ---- realdata: parity with pyss3 on its test fixtures -------------------------------------------
namespace {
Dataset fixture_data(const std::string& name) {
  if (name.rfind("topic", 0) == 0) return load_category_files(orchard_test::data("ss3/topic").string());
  return load_category_folders(orchard_test::data("ss3/movie_review_tiny").string());
}

void check_parity(const std::string& name) {
  const auto& ref = ss3_test::model_case(name);
  const Dataset d = fixture_data(name);
  Params p = ss3_test::pyss3_params();
  p.ngrams = ref["ngrams"];
  const auto h = ref["hyper"].get<std::vector<double>>();
  p.hyper = Hyper{h[0], h[1], h[2], h[3]};
  p.sg_mode = parse_sg_mode(ref["sg_mode"]);
  Model m(p);
  m.fit(d.docs, d.labels);
  CHECK(m.categories() == ref["categories"].get<std::vector<std::string>>());
  CHECK(m.num_words() == ref["num_words"].get<std::size_t>());
  CHECK(m.ngrams_length() == ref["ngrams_length"].get<int>());
  CHECK(m.category_name(m.most_probable_category()) == ref["most_probable"].get<std::string>());
  CHECK(m.max_fr() == ref["max_fr"].get<std::vector<std::vector<std::int64_t>>>());
  const auto maxgv = ref["max_gv"].get<std::vector<std::vector<double>>>();
  for (std::size_t c = 0; c < maxgv.size(); ++c)
    for (std::size_t k = 0; k < maxgv[c].size(); ++k)
      CHECK(m.values().max_gv[c][k] == doctest::Approx(maxgv[c][k]).epsilon(1e-12));
  std::size_t n = 0;
  for (auto it = ref["values"].begin(); it != ref["values"].end(); ++it) {
    for (auto ct = it.value().begin(); ct != it.value().end(); ++ct) {
      const auto v = ct.value().get<std::vector<double>>();
      CAPTURE(it.key());
      CAPTURE(ct.key());
      CHECK(std::abs(m.lv(it.key(), ct.key()) - v[0]) <= 1e-12);
      CHECK(std::abs(m.sg(it.key(), ct.key()) - v[1]) <= 1e-12);
      if (m.fr(it.key(), ct.key()) > 0) CHECK(std::abs(m.sn(it.key(), ct.key()) - v[2]) <= 1e-12);
      CHECK(std::abs(m.gv(it.key(), ct.key()) - v[3]) <= 1e-12);
      CHECK(std::abs(m.cv(it.key(), ct.key()) - v[4]) <= 1e-12);
      ++n;
    }
  }
  CHECK(n > 50);
  std::vector<std::string> docs;
  for (const auto& i : ref["doc_ids"]) docs.push_back(d.docs[i.get<std::size_t>()]);
  for (const auto& e : ref["extra_docs"]) docs.push_back(e.get<std::string>());
  std::size_t same = 0;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    CAPTURE(i);
    const auto want_p = ref["proba"][i].get<std::vector<double>>();
    const auto got_p = m.predict_proba(docs[i]);
    const auto want_c = ref["classify"][i].get<std::vector<double>>();
    const auto got_c = m.classify(docs[i]);
    for (std::size_t c = 0; c < want_p.size(); ++c) {
      CHECK(std::abs(got_p[c] - want_p[c]) <= 1e-9);
      CHECK(std::abs(got_c[c] - want_c[c]) <= 1e-9);
    }
    const std::string pred = m.predict_label(docs[i]);
    CHECK(pred == ref["predict"][i].get<std::string>());
    CHECK(m.category_name(m.classify_label(docs[i])) == ref["classify_label"][i].get<std::string>());
    std::vector<std::string> ml;
    for (int c : m.classify_multilabel(docs[i])) ml.push_back(m.category_name(c));
    CHECK(ml == ref["multilabel"][i].get<std::vector<std::string>>());
    same += pred == ref["predict"][i].get<std::string>();
  }
  MESSAGE(name << ": " << same << "/" << docs.size() << " labels identical to pyss3");
}
}  // namespace

TEST_SUITE("realdata") {
  TEST_CASE("ss3 parity with pyss3 on the topic fixture: cv(chicken, food) = 0.4307") {
    if (!orchard_test::have_data(orchard_test::data("ss3/topic"))) return;
    const Dataset d = load_category_files(orchard_test::data("ss3/topic").string());
    Model m(ss3_test::pyss3_params());
    m.fit(d.docs, d.labels);
    CHECK(m.cv("chicken", "food") == doctest::Approx(0.4307).epsilon(1e-4));
    for (const char* name : {"topic_words", "topic_3grams", "topic_words_h", "topic_words_vanilla"}) {
      CAPTURE(name);
      check_parity(name);
    }
  }
  TEST_CASE("ss3 parity with pyss3 on movie_review_tiny (bigrams)") {
    if (!orchard_test::have_data(orchard_test::data("ss3/movie_review_tiny"))) return;
    check_parity("movie_2grams");
  }
}

TEST_CASE("ss3 fit's sparse category learning equals dense learning + pruning (with mid-learn pruning)") {
  Params p;
  p.ngrams = 3;
  p.prune_floor = 1;
  p.prune_trigger = 15;  // pyss3 prunes at the first sentence end after this many words
  Model a(p), b(p);
  a.fit(kDocs, kLabels);
  std::map<std::string, std::string> by;
  for (std::size_t i = 0; i < kDocs.size(); ++i) by[kLabels[i]] += kDocs[i] + "\n";
  for (const auto& [cat, text] : by) b.learn(text, cat, false);
  b.prune();
  b.update_values();
  REQUIRE(a.num_terms() == b.num_terms());
  CHECK(a.max_fr() == b.max_fr());
  std::size_t ngrams = 0;
  for (std::int64_t t = 0; t < static_cast<std::int64_t>(a.num_terms()); ++t) {
    const std::string s = term_text(a, t);
    ngrams += a.term_words(t).size() > 1;
    for (const auto& c : a.categories()) {
      CHECK(a.fr(s, c) == b.fr(s, c));
      CHECK(a.cv(s, c) == b.cv(s, c));
    }
  }
  CHECK(ngrams > 5);
}

TEST_CASE("ss3 streamed n-gram classification equals the encoded path") {
  for (const auto mode : {TokenizerMode::pyss3, TokenizerMode::unicode}) {
    Params p;
    p.ngrams = 3;
    p.prune_floor = 0;
    p.tokenizer = mode;
    Model m(p);
    m.fit(kDocs, kLabels);
    REQUIRE(m.longest_term() > 1);
    std::vector<std::string> docs(kDocs.begin(), kDocs.end());
    docs.push_back("");
    docs.push_back("the cat. sat on\n\nthe mat the cat sat. dogs bark at the mailman");
    docs.push_back("...\n\n  the cat sat on the mat without an end");
    for (const auto& d : docs) {
      CAPTURE(d);
      CHECK(m.classify(d) == m.classify_encoded(m.encode(d, true, false), m.values()));
      CHECK(m.predict_proba(d) == m.proba_encoded(m.encode(d), m.values()));
    }
  }
}

TEST_CASE("ss3 a loaded model keeps sparse counts: queries, tables, learning and saving equal the original") {
  for (const int ngrams : {1, 3}) {
    CAPTURE(ngrams);
    Params p;
    p.ngrams = ngrams;
    p.prune_floor = 0;  // keep every n-gram (dense value rows for the frequent ones)
    Model m(p);
    m.fit(kDocs, kLabels);
    Model r = from_binary(to_binary(m));
    REQUIRE(r.counts_sparse());
    CHECK_FALSE(m.counts_sparse());
    CHECK(r.counts() == m.counts());
    std::size_t dense_rows = 0;
    for (std::size_t t = 0; t < m.num_terms(); ++t) {
      dense_rows += m.values().row[t + 1] - m.values().row[t] == m.num_categories();
      for (std::size_t c = 0; c < m.num_categories(); ++c) {
        CHECK(r.count(static_cast<std::int64_t>(t), c) == m.count(static_cast<std::int64_t>(t), c));
        const std::string s = term_text(m, static_cast<std::int64_t>(t));
        CHECK(r.fr(s, m.categories()[c]) == m.fr(s, m.categories()[c]));
        CHECK(r.sn(s, m.categories()[c]) == m.sn(s, m.categories()[c]));
      }
    }
    CHECK(dense_rows > 0);  // absent entries of dense rows are told apart from the counts
    CHECK(r.most_probable_category() == m.most_probable_category());
    std::vector<std::string> docs(kDocs.begin(), kDocs.end());
    docs.push_back("the cat. sat on\n\nthe mat the cat sat. dogs bark at the mailman");
    for (const auto& d : docs) {
      CHECK(r.classify(d) == m.classify(d));
      CHECK(r.predict_proba(d) == m.predict_proba(d));
    }
    // value tables for other hyperparameters from the sparse counts (grid search)
    const Hyper h{0.3, 0.8, 1.2, 0.01};
    const ValueTable tr = r.compute_table(h), tm = m.compute_table(h);
    CHECK(tr.row == tm.row);
    CHECK(tr.cat == tm.cat);
    CHECK(tr.lv == tm.lv);
    CHECK(tr.sg == tm.sg);
    CHECK(tr.gv == tm.gv);
    CHECK(tr.cv == tm.cv);
    CHECK(tr.max_gv == tm.max_gv);
    Model rh = r, mh = m;
    rh.set_hyperparameters(h);
    mh.set_hyperparameters(h);
    CHECK(rh.counts_sparse());
    ss3_check_same_values(rh, mh);
    CHECK(to_binary(rh) == to_binary(mh));
    // incremental learning after the load equals learning on the trained model and equals
    // learning everything without updates, then recomputing (the dense counts are built first)
    Model batch = m;
    for (Model* x : {&r, &m}) {
      x->learn("the cat and the mat again and again", "cats");
      x->learn("birds sing and birds fly south", "birds");
    }
    batch.learn("the cat and the mat again and again", "cats", false);
    batch.learn("birds sing and birds fly south", "birds", false);
    batch.update_values();
    CHECK_FALSE(r.counts_sparse());
    CHECK(r.counts() == m.counts());
    ss3_check_same_values(r, m);
    ss3_check_same_values(r, batch);
    CHECK(to_binary(r) == to_binary(m));
    for (const auto& d : docs) CHECK(r.classify(d) == batch.classify(d));
    // a model learned after loading saves and loads back identically
    const Model again = from_binary(to_binary(r));
    CHECK(to_binary(again) == to_binary(r));
    ss3_check_same_values(again, r);
  }
}
