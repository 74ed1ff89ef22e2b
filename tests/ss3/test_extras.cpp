#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <orchard/ss3.hpp>

#include "orchard_test.hpp"
#include "ss3_test_util.hpp"

using namespace orchard::ss3;
using orchard::Context;
using ss3_test::kDocs;
using ss3_test::kLabels;

TEST_CASE("ss3 evaluate: accuracy, macro / micro F1 and confusion from a hand-computed case") {
  // truth 0 0 1 1 2, pred 0 1 1 1 -1
  const Report r = evaluate({0, 0, 1, 1, 2}, {0, 1, 1, 1, -1}, 3);
  CHECK(r.accuracy == doctest::Approx(0.6));
  CHECK(r.micro_f1 == doctest::Approx(0.6));
  // class 0: p=1 r=.5 f=2/3; class 1: p=2/3 r=1 f=.8; class 2: 0
  CHECK(r.macro_f1 == doctest::Approx((2.0 / 3 + 0.8) / 3));
  CHECK(r.confusion[2][3] == 1);
  CHECK(r.confusion[0][1] == 1);
  CHECK_THROWS_AS(evaluate({0}, {0, 1}, 2), orchard::InvalidArgument);
  CHECK_THROWS_AS(evaluate({5}, {0}, 2), orchard::InvalidArgument);
  const auto ml = evaluate_multilabel({{0, 1}, {2}}, {{0}, {2}}, 3);
  CHECK(ml.exact_match == doctest::Approx(0.5));
  CHECK(ml.hamming_loss == doctest::Approx(1.0 / 6));
  CHECK(ml.micro_f1 == doctest::Approx(2.0 * 2 / (2 * 2 + 0 + 1)));
}

TEST_CASE("ss3 k-fold cross-validation: stratified folds, every document tested once") {
  const auto folds = stratified_folds(kLabels, 3, 7);
  std::map<std::string, std::set<int>> seen;
  for (std::size_t i = 0; i < folds.size(); ++i) seen[kLabels[i]].insert(folds[i]);
  for (auto& [l, s] : seen) CHECK(s.size() == 3);  // 4 documents per class spread over 3 folds
  const auto cv = kfold_cross_validation(Params{}, kDocs, kLabels, 3, 7);
  CHECK(cv.folds.size() == 3);
  std::int64_t total = 0;
  for (const auto& f : cv.folds)
    for (const auto& row : f.confusion)
      for (auto x : row) total += x;
  CHECK(total == static_cast<std::int64_t>(kDocs.size()));
  CHECK(cv.mean_accuracy > 0.3);
  CHECK_THROWS_AS(stratified_folds(kLabels, 1, 0), orchard::InvalidArgument);
}

TEST_CASE("ss3 grid search equals retraining at each point; parallel and cached runs agree") {
  Params p;
  p.ngrams = 2;
  p.prune_floor = 1;
  Model m(p);
  m.fit(kDocs, kLabels);
  Grid g;
  g.s = {0.3, 0.45};
  g.l = {0.5, 1.2};
  g.p = {0.5, 1.0};
  g.a = {0.0, 0.05};
  const std::vector<std::string> test = {"the cat likes fish", "dogs bark loudly at night",
                                         "market shares fell", "a dog and a cat",
                                         "investors bought bonds", "the mat"};
  const std::vector<std::string> truth = {"cats", "dogs", "money", "dogs", "money", "cats"};
  const auto r1 = grid_search(m, test, truth, g, Context(1));
  const auto r2 = grid_search(m, test, truth, g, Context(2));
  REQUIRE(r1.points.size() == 16);
  for (std::size_t i = 0; i < r1.points.size(); ++i) {
    CHECK(r1.points[i].accuracy == r2.points[i].accuracy);
    // naive reference: a model with these hyperparameters, classified directly
    Model ref = m;
    ref.set_hyperparameters(r1.points[i].hyper);
    const auto y = label_indices(ref, truth);
    const auto pred = ref.predict(test);
    CHECK(evaluate(y, pred, ref.num_categories()).accuracy == r1.points[i].accuracy);
  }
  GridCache cache;
  const auto c1 = grid_search(m, test, truth, g, Context(2), &cache, "toy");
  CHECK(cache.size() == 16);
  const auto c2 = grid_search(m, test, truth, g, Context(2), &cache, "toy");
  for (std::size_t i = 0; i < c2.points.size(); ++i) {
    CHECK(c2.points[i].cached);
    CHECK(c2.points[i].accuracy == c1.points[i].accuracy);
  }
  orchard_test::TempDir dir("ss3_grid");
  cache.save((dir / "cache.json").string());
  GridCache back;
  back.load((dir / "cache.json").string());
  CHECK(back.size() == 16);
  Grid bad;
  bad.s = {-1};
  CHECK_THROWS_AS(grid_search(m, test, truth, bad), orchard::InvalidArgument);
}

TEST_CASE("ss3 ERDE_o and F-latency match their closed forms") {
  // subjects: TP at delay 2, FP, FN, TN
  const std::vector<char> dec = {1, 1, 0, 0}, truth = {1, 0, 1, 0};
  const std::vector<int> delay = {2, 3, 10, 10};
  const double o = 5, cfp = 0.5;  // half the subjects are positive
  const double expect = ((1 - 1 / (1 + std::exp(2.0 - o))) + cfp + 1 + 0) / 4;
  CHECK(erde(dec, delay, truth, o) == doctest::Approx(expect));
  const double pen = -1 + 2 / (1 + std::exp(-0.0078 * (2 - 1)));
  CHECK(f_latency(dec, delay, truth) == doctest::Approx(0.5 * (1 - pen)));
  CHECK(f_latency({0, 0}, {1, 1}, {1, 0}) == 0.0);
  CHECK_THROWS_AS(erde({1}, {1, 2}, {1}, 5), orchard::InvalidArgument);
}

TEST_CASE("ss3 streaming early detection: chunks accumulate, policies flag the right subjects") {
  Model m;
  m.fit(kDocs, kLabels);
  const int pos = m.category_index("money"), neg = m.category_index("cats");
  EarlyRiskDetector det(m, policy_positive_over_negative(pos, neg));
  const std::vector<std::vector<std::string>> posts = {
      {"the cat sat on the mat", "investors sold shares", "the market fell, shares and bonds"},
      {"my cat likes milk", "the cat naps on the mat", "fish for the cat"},
  };
  const std::vector<std::string> ids = {"s0", "s1"};
  for (std::size_t round = 0; round < 3; ++round) {
    for (std::size_t s = 0; s < posts.size(); ++s) det.feed(ids[s], posts[s][round]);
    det.decide_round();
  }
  det.finish();
  const auto& st = det.subjects();
  // reference: replay the accumulation and find the first round where money > cats
  for (std::size_t s = 0; s < posts.size(); ++s) {
    std::vector<double> acc(m.num_categories(), 0.0);
    int expect_decision = 0, expect_at = 3;
    for (std::size_t r = 0; r < 3; ++r) {
      const auto cv = m.classify(posts[s][r]);
      for (std::size_t k = 0; k < acc.size(); ++k) acc[k] += cv[k];
      if (acc[static_cast<std::size_t>(pos)] > acc[static_cast<std::size_t>(neg)]) {
        expect_decision = 1, expect_at = static_cast<int>(r) + 1;
        break;
      }
    }
    CHECK(st.at(ids[s]).decision == expect_decision);
    CHECK(st.at(ids[s]).decided_at == expect_at);
  }
  CHECK(st.at("s0").decision == 1);
  CHECK(st.at("s1").decision == 0);
  // the accumulator equals the sum of the chunks' confidence vectors
  const auto a = m.classify(posts[1][0]), b = m.classify(posts[1][1]), c = m.classify(posts[1][2]);
  for (std::size_t k = 0; k < a.size(); ++k) CHECK(st.at("s1").cv[k] == doctest::Approx(a[k] + b[k] + c[k]));
  // median + gamma MAD: only the outlier is flagged
  SubjectState x, y, z;
  x.cv = {5, 0, 0};
  y.cv = {1, 0, 0};
  z.cv = {1.2, 0, 0};
  x.chunks = y.chunks = z.chunks = 1;
  const auto f = policy_median_mad(0, 1, 2.0)({&x, &y, &z});
  CHECK(f == std::vector<char>{1, 0, 0});
  const auto g = policy_margin(0, 1, 1.1)({&x, &y, &z});
  CHECK(g == std::vector<char>{1, 0, 1});
}

TEST_CASE("ss3 explanation: word cvs sum to sentence, paragraph and document cvs") {
  Model m;
  m.fit(kDocs, kLabels);
  const std::string doc = "The cat sat on the mat. Dogs bark!\nInvestors sold shares";
  const auto j = explain(m, doc);
  const std::size_t C = m.num_categories();
  std::vector<double> total(C, 0.0);
  for (const auto& p : j["pars"]) {
    std::vector<double> ps(C, 0.0);
    for (const auto& s : p["sents"]) {
      std::vector<double> ss(C, 0.0);
      for (const auto& w : s["words"])
        for (std::size_t c = 0; c < C; ++c) ss[c] += w["cv"][c].get<double>();
      for (std::size_t c = 0; c < C; ++c) {
        CHECK(s["cv"][c].get<double>() == doctest::Approx(ss[c]));
        ps[c] += ss[c];
      }
    }
    for (std::size_t c = 0; c < C; ++c) CHECK(p["cv"][c].get<double>() == doctest::Approx(ps[c]));
  }
  const auto cv = m.classify(doc);
  for (std::size_t c = 0; c < C; ++c) CHECK(j["cv"][c].get<double>() == doctest::Approx(cv[c]));
  CHECK(j["ci"].size() == C);
  const auto ins = extract_insight(m, doc, m.category_index("cats"), InsightLevel::sentence);
  REQUIRE(!ins.empty());
  CHECK(ins[0].first.find("cat") != std::string::npos);
}

namespace {
std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    std::ifstream f(p);
    if (f) return p;
  }
  return "";
}
}  // namespace

TEST_CASE("ss3 HTML explanation renders in headless Chromium with the words highlighted") {
  Model m;
  m.fit(kDocs, kLabels);
  const std::string html = explain_html(m, "The cat sat on the mat.\nInvestors sold <b>shares</b>", "Toy <demo>");
  CHECK(html.find("<script id=\"ss3-data\"") != std::string::npos);
  CHECK(html.find("<b>shares</b>") == std::string::npos);  // text is escaped inside the data
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    MESSAGE("skipping the rendering check: Debian package 'chromium' is not installed");
    return;
  }
  orchard_test::TempDir dir("ss3_html");
  const auto page = dir / "explain.html";
  std::ofstream(page) << html;
  const auto out = dir / "dom.html";
  const std::string cmd = chromium +
                          " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
                          "--user-data-dir=" + (dir / "profile").string() +
                          " --dump-dom file://" + page.string() + " > " + out.string() + " 2>/dev/null";
  const int rc = std::system(cmd.c_str());
  REQUIRE(rc == 0);
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string dom = ss.str();
  // the inline script ran: highlighted spans exist for the known words of the predicted category
  CHECK(dom.find("class=\"ss3-hl\"") != std::string::npos);
  // every word with confidence for the predicted category is highlighted, the others are not
  const auto j = explain(m, "The cat sat on the mat.\nInvestors sold <b>shares</b>");
  const std::size_t top = j["cvns"][0][0];
  std::size_t hl = 0;
  for (const auto& p : j["pars"])
    for (const auto& s : p["sents"])
      for (const auto& w : s["words"]) {
        const std::string lex = w["lexeme"];
        if (lex.find_first_not_of(" .") == std::string::npos || lex.find('<') != std::string::npos) continue;
        const bool marked = dom.find(">" + lex + "</span>") != std::string::npos;
        CAPTURE(lex);
        CHECK(marked == (w["cv"][top].get<double>() > 0));
        hl += marked;
      }
  CHECK(hl >= 2);
  CHECK(dom.find("(predicted: cats)") != std::string::npos);
  CHECK(dom.find("<b>shares</b>") == std::string::npos);
  CHECK(dom.find("&lt;b&gt;") != std::string::npos);
}

TEST_CASE("ss3 loaders: category files, category folders, multi-label docs + labels") {
  orchard_test::TempDir dir("ss3_data");
  std::filesystem::create_directories(dir / "files");
  std::ofstream(dir / "files" / "b.txt") << "doc b1\n\ndoc b2\n";
  std::ofstream(dir / "files" / "a.txt") << "doc a1";
  const auto d = load_category_files((dir / "files").string());
  CHECK(d.docs == std::vector<std::string>{"doc a1", "doc b1", "doc b2"});
  CHECK(d.labels == std::vector<std::string>{"a", "b", "b"});
  std::filesystem::create_directories(dir / "folders" / "x");
  std::filesystem::create_directories(dir / "folders" / "y");
  std::ofstream(dir / "folders" / "y" / "1.txt") << "why";
  std::ofstream(dir / "folders" / "x" / "2.txt") << "ex";
  const auto f = load_category_folders((dir / "folders").string());
  CHECK(f.labels == std::vector<std::string>{"x", "y"});
  std::ofstream(dir / "docs.txt") << "first doc\nsecond doc\nthird";
  std::ofstream(dir / "labels.txt") << "a;b\nb\n\n";
  const auto ml = load_multilabel((dir / "docs.txt").string(), (dir / "labels.txt").string());
  REQUIRE(ml.docs.size() == 3);
  CHECK(ml.labels[0] == std::vector<std::string>{"a", "b"});
  CHECK(ml.labels[2].empty());
  std::ofstream(dir / "bad.txt") << "ok\n\xff\xfe bad\n";
  std::filesystem::create_directories(dir / "badfiles");
  std::filesystem::copy_file(dir / "bad.txt", dir / "badfiles" / "c.txt");
  CHECK_THROWS_AS(load_category_files((dir / "badfiles").string()), orchard::ParseError);
  CHECK_THROWS_AS(load_category_files((dir / "nope").string()), orchard::IoError);
  Model m;
  m.fit_multilabel(ml.docs, ml.labels);
  CHECK(m.multilabel());
  CHECK(m.find_category("[others]") >= 0);
}

TEST_SUITE("realdata") {
  // The usage example of docs/ss3.md, verbatim apart from the file locations.
  TEST_CASE("ss3 docs example") {
    if (!orchard_test::have_data("/usr/share/games/fortunes/food")) return;
    orchard_test::TempDir dir("ss3_docs");
    namespace ss3 = orchard::ss3;
    const auto data = ss3::load_fortunes("/usr/share/games/fortunes", {"food", "computers", "love"});
    ss3::Params p;
    p.ngrams = 3;
    ss3::Model model(p);
    model.fit(data.docs, data.labels, orchard::Context(0));
    CHECK(model.predict_label("Never trust a computer you can't lift.") == "computers");
    CHECK(model.cv("computer", "computers") > 0);
    model.learn("the compiler crashed again", "computers");
    ss3::save(model, (dir / "fortunes.ss3b").string());
    const ss3::Model back = ss3::load((dir / "fortunes.ss3b").string());
    const auto why = ss3::extract_insight(back, "My pie recipe uses apples", -1);
    CHECK(ss3::explain(back, "My pie recipe uses apples").contains("pars"));
    std::ofstream((dir / "why.html").string()) << ss3::explain_html(back, "My pie recipe uses apples");
    CHECK(back.values().cv == model.values().cv);
  }

  TEST_CASE("ss3 explanation JSON and extract_insight equal pyss3's on the topic fixture") {
    if (!orchard_test::have_data(orchard_test::data("ss3/topic"))) return;
    const Dataset d = load_category_files(orchard_test::data("ss3/topic").string());
    Model m(ss3_test::pyss3_params());
    m.fit(d.docs, d.labels);
    for (const auto& e : ss3_test::reference()["explain"]) {
      const auto got = explain(m, e["doc"].get<std::string>());
      const auto& want = e["json"];
      REQUIRE(got["pars"].size() == want["pars"].size());
      for (std::size_t p = 0; p < want["pars"].size(); ++p) {
        const auto& wp = want["pars"][p];
        const auto& gp = got["pars"][p];
        REQUIRE(gp["sents"].size() == wp["sents"].size());
        for (std::size_t s = 0; s < wp["sents"].size(); ++s) {
          const auto& ws = wp["sents"][s]["words"];
          const auto& gs = gp["sents"][s]["words"];
          REQUIRE(gs.size() == ws.size());
          for (std::size_t w = 0; w < ws.size(); ++w) {
            CHECK(gs[w]["token"] == ws[w]["token"]);
            CHECK(gs[w]["lexeme"] == ws[w]["lexeme"]);
            CHECK(gs[w]["fr"] == ws[w]["fr"]);
            for (std::size_t c = 0; c < ws[w]["cv"].size(); ++c)
              CHECK(gs[w]["cv"][c].get<double>() == doctest::Approx(ws[w]["cv"][c].get<double>()).epsilon(1e-12));
          }
        }
      }
      for (std::size_t c = 0; c < want["cv"].size(); ++c)
        CHECK(got["cv"][c].get<double>() == doctest::Approx(want["cv"][c].get<double>()).epsilon(1e-12));
      CHECK(got["cvns"][0][0] == want["cvns"][0][0]);
    }
    const auto& ins = ss3_test::reference()["insight"][0];
    const auto got = extract_insight(m, "Chicken soup, great taste.\nThe team won 3.5 games!",
                                     m.category_index("food"), InsightLevel::word, 1);
    REQUIRE(got.size() == ins.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].first == ins[i][0].get<std::string>());
      CHECK(got[i].second == doctest::Approx(ins[i][1].get<double>()).epsilon(1e-12));
    }
  }

  TEST_CASE("ss3 multi-label parity with pyss3 on multilabel_tiny") {
    const auto dir = orchard_test::data("ss3/multilabel_tiny/train");
    if (!orchard_test::have_data(dir)) return;
    const auto d = load_multilabel((dir / "docs.txt").string(), (dir / "labels.txt").string(), ',',
                                   "\n>>>>>\n");
    const auto& ref = ss3_test::reference()["multilabel_tiny"];
    REQUIRE(d.docs.size() == ref["n_docs"].get<std::size_t>());
    Model m(ss3_test::pyss3_params());
    m.fit_multilabel(d.docs, d.labels);
    std::vector<std::string> shown;
    for (const auto& c : m.categories())
      if (c != Model::others_category) shown.push_back(c);
    CHECK(shown == ref["categories"].get<std::vector<std::string>>());
    auto names = [&](const std::vector<int>& v) {
      std::vector<std::string> r;
      for (int c : v) r.push_back(m.category_name(c));
      return r;
    };
    std::vector<std::vector<int>> truth, pred;
    for (std::size_t i = 0; i < d.docs.size(); ++i) {
      CAPTURE(i);
      CHECK(names(m.predict_multilabel(d.docs[i])) == ref["predict"][i].get<std::vector<std::string>>());
      CHECK(names(m.classify_multilabel(d.docs[i])) ==
            ref["classify_multilabel"][i].get<std::vector<std::string>>());
      const auto cv = m.classify(d.docs[i]);
      const auto want = ref["classify"][i].get<std::vector<double>>();
      for (std::size_t c = 0; c < want.size(); ++c) CHECK(cv[c] == doctest::Approx(want[c]).epsilon(1e-12));
      std::vector<int> t;
      for (const auto& l : d.labels[i]) t.push_back(m.category_index(l));
      truth.push_back(t);
      pred.push_back(m.predict_multilabel(d.docs[i]));
    }
    const auto r = evaluate_multilabel(truth, pred, m.num_categories());
    MESSAGE("multilabel_tiny (train = test): hamming loss " << r.hamming_loss << ", exact match "
                                                             << r.exact_match << ", micro F1 " << r.micro_f1);
  }

  TEST_CASE("ss3 fortunes corpus: loads, trains and classifies well above chance") {
    const std::string dir = "/usr/share/games/fortunes";
    if (!orchard_test::have_data(dir + "/food")) return;
    const auto d = load_fortunes(dir, {"computers", "food", "love", "medicine", "science", "sports"});
    std::vector<std::string> xtr, ytr, xte, yte;
    for (std::size_t i = 0; i < d.docs.size(); ++i) {
      (i % 5 == 0 ? xte : xtr).push_back(d.docs[i]);
      (i % 5 == 0 ? yte : ytr).push_back(d.labels[i]);
    }
    Model m;
    m.fit(xtr, ytr, Context(2));
    const auto pred = m.predict(xte, Context(2));
    const auto r = evaluate(label_indices(m, yte), pred, m.num_categories());
    MESSAGE("fortunes (6 categories, " << xtr.size() << " train / " << xte.size()
                                       << " test): accuracy " << r.accuracy << ", macro F1 " << r.macro_f1);
    CHECK(r.accuracy > 0.4);  // chance is about 1/6
  }
}
