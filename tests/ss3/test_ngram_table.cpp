#include <doctest/doctest.h>

#include <map>
#include <orchard/core/random.hpp>
#include <orchard/ss3/detail/ngram_table.hpp>
#include <utility>
#include <vector>

using orchard::ss3::detail::NgramTable;
using orchard::ss3::detail::ngram_hash_extend;
using orchard::ss3::detail::ngram_hash_word;

namespace {

/// The n-grams of random sentences over a small vocabulary, counted through the table (terms are
/// numbered in creation order as fit does), and the same through a std::map on (parent, word).
struct Counted {
  std::vector<std::pair<std::int32_t, std::int32_t>> terms;  // (parent, word) per term
  std::vector<std::int64_t> count;
};

Counted count_ngrams(const std::vector<std::vector<std::int32_t>>& sentences, std::size_t n, bool with_table,
                     std::size_t expected) {
  Counted r;
  NgramTable table;
  table.reset(expected);
  std::map<std::pair<std::int32_t, std::int32_t>, std::int32_t> ref;
  std::map<std::int32_t, std::int32_t> word_term;
  const auto make = [&](std::int32_t parent, std::int32_t w) {
    r.terms.emplace_back(parent, w);
    r.count.push_back(0);
    return static_cast<std::int32_t>(r.terms.size() - 1);
  };
  for (const auto& s : sentences) {
    std::vector<std::int32_t> tips;        // term of the n-gram starting at each of the last n words
    std::vector<std::uint64_t> hash_tips;  // and its hash
    for (const std::int32_t w : s) {
      if (tips.size() == n) tips.erase(tips.begin()), hash_tips.erase(hash_tips.begin());
      for (std::size_t i = 0; i < tips.size(); ++i) {
        const std::int32_t p = tips[i];
        std::int32_t t;
        if (with_table) {
          hash_tips[i] = ngram_hash_extend(hash_tips[i], w);
          table.prefetch(hash_tips[i]);
          t = table.find_or_add(hash_tips[i], p, w, [&] { return make(p, w); });
        } else {
          auto it = ref.find({p, w});
          t = it != ref.end() ? it->second : ref.emplace(std::make_pair(p, w), make(p, w)).first->second;
        }
        ++r.count[static_cast<std::size_t>(t)];
        tips[i] = t;
      }
      auto it = word_term.find(w);
      const std::int32_t t = it != word_term.end() ? it->second : word_term.emplace(w, make(-1, w)).first->second;
      ++r.count[static_cast<std::size_t>(t)];
      tips.push_back(t);
      hash_tips.push_back(ngram_hash_word(w));
    }
  }
  if (with_table) {
    std::size_t longer = 0;
    for (const auto& [p, w] : r.terms) longer += p >= 0;
    CHECK(table.size() == longer);
  }
  return r;
}

}  // namespace

TEST_CASE("ss3 n-gram table: the terms and counts of a std::map on (parent, word), through growth") {
  orchard::Rng rng(23);
  std::vector<std::vector<std::int32_t>> sentences(400);
  for (auto& s : sentences) {
    s.resize(1 + rng.uniform_int(30));
    // a Zipf-like vocabulary of 300 words: frequent n-grams repeat, rare ones are new
    for (auto& w : s) w = static_cast<std::int32_t>(rng.uniform_int(1 + rng.uniform_int(300)));
  }
  for (const std::size_t n : {2u, 3u, 5u}) {
    for (const std::size_t expected : {0u, 100000u}) {  // grows from 1024 slots, or never grows
      CAPTURE(n);
      CAPTURE(expected);
      const Counted a = count_ngrams(sentences, n, true, expected);
      const Counted b = count_ngrams(sentences, n, false, 0);
      CHECK(a.terms.size() > 2000);
      CHECK(a.terms == b.terms);
      CHECK(a.count == b.count);
    }
  }
}

TEST_CASE("ss3 n-gram hashes: an n-gram's hash depends on its words in order") {
  const std::uint64_t ab = ngram_hash_extend(ngram_hash_word(1), 2), ba = ngram_hash_extend(ngram_hash_word(2), 1);
  CHECK(ab != ba);
  CHECK(ngram_hash_extend(ab, 3) == ngram_hash_extend(ngram_hash_extend(ngram_hash_word(1), 2), 3));
  CHECK(ngram_hash_extend(ngram_hash_word(0), 0) != ngram_hash_word(0));
  // the top bits pick the slot: word pairs over 64 x 64 ids spread over 4096 slots
  std::vector<int> used(4096, 0);
  for (std::int32_t a = 0; a < 64; ++a)
    for (std::int32_t b = 0; b < 64; ++b) used[ngram_hash_extend(ngram_hash_word(a), b) >> 52] = 1;
  int filled = 0;
  for (const int u : used) filled += u;
  CHECK(filled > 2400);  // a uniform hash fills 1 - 1/e = 63 % (2589) of them on average
}
