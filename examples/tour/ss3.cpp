// Tour section: SS3 on the Debian fortunes corpus — train on a few categories, classify held-out
// fortunes, explain one decision, and run a streaming early decision over a sequence of posts.
#include <chrono>
#include <iomanip>
#include <iostream>
#include <orchard/ss3.hpp>

#include "tour.hpp"

namespace {

void run_ss3(const tour::Options& o) {
  namespace ss3 = orchard::ss3;
  const orchard::Context ctx(o.threads);
  const std::vector<std::string> cats = {"computers", "food", "love", "medicine", "science", "sports"};
  auto d = ss3::load_fortunes(o.fortunes_dir, cats);
  std::vector<std::string> xtr, ytr, xte, yte;
  for (std::size_t i = 0; i < d.docs.size(); ++i) {
    if (o.quick && i % 3 != 0) continue;
    (i % 5 == 0 ? xte : xtr).push_back(d.docs[i]);
    (i % 5 == 0 ? yte : ytr).push_back(d.labels[i]);
  }
  ss3::Model m;
  auto t0 = std::chrono::steady_clock::now();
  m.fit(xtr, ytr, ctx);
  const double tr = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  t0 = std::chrono::steady_clock::now();
  const auto pred = m.predict(xte, ctx);
  const double pr = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto r = ss3::evaluate(ss3::label_indices(m, yte), pred, m.num_categories());
  std::cout << "  fortunes, " << cats.size() << " categories: trained on " << xtr.size() << " entries ("
            << m.num_words() << " words) in " << std::setprecision(3) << tr << " s; " << xte.size()
            << " held-out entries in " << pr << " s\n"
            << "  accuracy " << r.accuracy << ", macro F1 " << r.macro_f1 << " (chance ~ "
            << 1.0 / static_cast<double>(cats.size()) << ")\n";
  for (const std::string text : {"Never trust a computer you can't throw out a window.",
                                 "An apple a day keeps the doctor away, and the pie keeps me."}) {
    const auto ins = ss3::extract_insight(m, text, -1, ss3::InsightLevel::word, 1);
    std::cout << "  \"" << text << "\" -> " << m.predict_label(text);
    if (!ins.empty()) std::cout << "  (because of \"" << ins[0].first << "\", cv " << ins[0].second << ")";
    std::cout << "\n";
  }
  // streaming: posts of two users arrive one by one; from the second post on, flag a user as
  // soon as the accumulated 'medicine' confidence beats 'love'
  const int pos = m.category_index("medicine"), neg = m.category_index("love");
  ss3::EarlyRiskDetector det(m, ss3::policy_positive_over_negative(pos, neg, 2));
  const std::vector<std::vector<std::string>> posts = {
      {"went to see the doctor today", "these pills make me dizzy", "back in the hospital again",
       "the nurse gave me more medicine"},
      {"I love you, darling", "kiss me under the moon", "love is all you need", "be my valentine"}};
  for (std::size_t round = 0; round < 4; ++round) {
    for (std::size_t u = 0; u < posts.size(); ++u) det.feed(u == 0 ? "user0" : "user1", posts[u][round]);
    det.decide_round();
  }
  det.finish();
  for (const auto& [id, s] : det.subjects())
    std::cout << "  stream " << id << ": " << (s.decision == 1 ? "flagged 'medicine'" : "not flagged")
              << " after " << s.decided_at << " of " << s.chunks << " posts (medicine "
              << s.cv[static_cast<std::size_t>(pos)] << " vs love " << s.cv[static_cast<std::size_t>(neg)] << ")\n";
}

tour::Register reg(70, "ss3", run_ss3);

}  // namespace
