#include <doctest/doctest.h>

#include <map>
#include <orchard/core/random.hpp>
#include <orchard/ss3/detail/word_index.hpp>
#include <string>
#include <vector>

using orchard::ss3::detail::WordIndex;

TEST_CASE("ss3 word index: ids of inserted words, -1 for others, against std::map") {
  orchard::Rng rng(17);
  // short words over a small alphabet: many share hash tags' low bits and prefixes; lengths 0-20
  // cover the hash's 1-3, 4-7, 8 and longer-than-8 byte cases and strings beyond the SSO buffer
  const auto random_word = [&] {
    std::string w(rng.uniform_int(21), 'a');
    for (auto& ch : w) ch = static_cast<char>('a' + rng.uniform_int(3));
    return w;
  };
  std::vector<std::string> words;
  std::map<std::string, std::int32_t> reference;
  WordIndex index;
  for (int i = 0; i < 5000; ++i) {
    std::string w = random_word();
    const bool fresh = reference.find(w) == reference.end();
    words.push_back(w);
    const bool inserted = index.insert(static_cast<std::uint32_t>(words.size() - 1), words);
    CHECK(inserted == fresh);  // an equal word already indexed is refused
    if (inserted) {
      reference.emplace(w, static_cast<std::int32_t>(words.size() - 1));
    } else {
      words.pop_back();
    }
  }
  CHECK(index.size() == reference.size());
  CHECK(index.size() > 1000);  // the index grew many times
  for (const auto& [w, id] : reference) CHECK(index.find(w, words) == id);
  for (int i = 0; i < 2000; ++i) {
    const std::string w = random_word() + "b";  // some of these are absent
    const auto it = reference.find(w);
    CHECK(index.find(w, words) == (it == reference.end() ? -1 : it->second));
  }
  CHECK(WordIndex().find("x", words) == -1);
}

TEST_CASE("ss3 word index: reserve keeps the indexed words") {
  std::vector<std::string> words{"alpha", "beta", "gamma"};
  WordIndex index;
  for (std::uint32_t i = 0; i < 3; ++i) REQUIRE(index.insert(i, words));
  index.reserve(1000, words);
  for (std::uint32_t i = 0; i < 3; ++i) CHECK(index.find(words[i], words) == static_cast<std::int32_t>(i));
  CHECK(index.find("delta", words) == -1);
  words.push_back("gamma");
  CHECK_FALSE(index.insert(3, words));
}

TEST_CASE("ss3 word index: assign indexes a whole list and finds its first duplicate") {
  orchard::Rng rng(5);
  std::vector<std::string> words;
  for (int i = 0; i < 3000; ++i) {
    std::string w(1, 'w');
    w += std::to_string(i);
    w.append(rng.uniform_int(12), 'x');
    words.push_back(std::move(w));
  }
  WordIndex index;
  CHECK(index.assign(words) == -1);
  CHECK(index.size() == words.size());
  for (std::size_t i = 0; i < words.size(); ++i) CHECK(index.find(words[i], words) == static_cast<std::int32_t>(i));
  CHECK(index.find("w3000", words) == -1);
  auto dup = words;
  dup.push_back(words[1234]);  // the first repeat, at id 3000
  dup.push_back(words[7]);
  CHECK(WordIndex().assign(dup) == 3000);
  CHECK(WordIndex().assign({}) == -1);
}
