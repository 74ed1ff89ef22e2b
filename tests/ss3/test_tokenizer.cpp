#include <doctest/doctest.h>

#include <orchard/ss3.hpp>

#include "ss3_test_util.hpp"

using namespace orchard::ss3;

TEST_CASE("ss3 tokenizer reproduces pyss3 clean_and_ready on the reference cases") {
  const auto& toks = ss3_test::reference()["tokens"];
  REQUIRE(toks.size() > 20);
  for (const auto& t : toks) {
    const std::string text = t["text"];
    CAPTURE(text);
    CHECK(tok::clean_and_ready(text, true) == t["dots"].get<std::string>());
    CHECK(tok::clean_and_ready(text, false) == t["nodots"].get<std::string>());
  }
}

TEST_CASE("ss3 tokenizer: number tokens and punctuation follow pyss3's regular expressions") {
  CHECK(tok::clean_and_ready("x 3.5 y") == "x nnbrr y .");
  CHECK(tok::clean_and_ready("25 c.") == "nnbrrt . .");
  CHECK(tok::clean_and_ready("$ 12,5") == "mnnbrr .");
  CHECK(tok::clean_and_ready("1/2/3") == "nnbrrd .");
  CHECK(tok::clean_and_ready("7 %") == "nnbrrp .");
  CHECK(tok::clean_and_ready("Crème brûlée") == "creme brulee .");
  CHECK(tok::clean_and_ready("a, b") == "a . b .");
}

TEST_CASE("ss3 tokenizer: the classify path splits 3.5 at the dot, the predict path does not") {
  Tokenizer tk;
  std::vector<std::string> fast;
  tk.predict_words("costs 3.5 now", [&](std::string_view w) { fast.emplace_back(w); });
  CHECK(fast == std::vector<std::string>{"costs", "nnbrr", "now"});
  const auto st = tk.structure("costs 3.5 now");
  REQUIRE(st.size() == 1);
  CHECK(st[0].sentences.size() == 2);
}

TEST_CASE("ss3 tokenizer: invalid UTF-8 throws InvalidArgument") {
  Tokenizer tk;
  CHECK_THROWS_AS(tk.structure(std::string("ab\xff")), orchard::InvalidArgument);
  CHECK_THROWS_AS(tok::clean_and_ready(std::string("\xc0\xaf")), orchard::InvalidArgument);  // overlong
  CHECK_THROWS_AS(tok::clean_and_ready(std::string("\xed\xa0\x80")), orchard::InvalidArgument);  // surrogate
  CHECK_THROWS_AS(tok::clean_and_ready(std::string("\xe2\x82")), orchard::InvalidArgument);  // truncated
}

TEST_CASE("ss3 unicode tokenizer: words, numbers, apostrophes and sentence breaks") {
  Tokenizer tk(TokenizerMode::unicode);
  std::vector<std::string> items;
  tk.learn_stream(
      "Don't PANIC: it's 42.5 degrees; Ünïcode mp3!", [&](std::string_view w) { items.emplace_back(w); },
      [&] { items.push_back("|"); });
  CHECK(items == std::vector<std::string>{"dont", "panic", "|", "its", "nnbrr", "degrees", "|",
                                          "unicode", "mp3", "|", "|"});
}

TEST_CASE("ss3 tokenizer: the allocation-free classify pieces equal the string structure") {
  Tokenizer tk;
  for (const auto& t : ss3_test::reference()["tokens"]) {
    const std::string text = t["text"];
    CAPTURE(text);
    std::vector<std::pair<std::string, bool>> fast, slow;
    std::vector<std::size_t> sent_fast, sent_slow;
    tk.classify_pieces(
        text, [&](std::string_view w, bool sp) { fast.emplace_back(std::string(w), sp); },
        [&] { sent_fast.push_back(fast.size()); }, [] {});
    for (const auto& p : tk.structure(text, false)) {
      for (const auto& s : p.sentences) {
        for (const auto& pc : s.pieces) {
          const bool word = !pc.key.empty() && unicode::is_word(static_cast<unsigned char>(pc.key[0])) ;
          slow.emplace_back(word || (!pc.key.empty() && static_cast<unsigned char>(pc.key[0]) >= 0x80 &&
                                     pc.key.find_first_of(" .") == std::string::npos) ? pc.key : "",
                            pc.space_start);
        }
        sent_slow.push_back(slow.size());
      }
    }
    CHECK(fast == slow);
    CHECK(sent_fast == sent_slow);
  }
}
