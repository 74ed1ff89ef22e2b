#include <doctest/doctest.h>

#include <orchard/ss3.hpp>

#include "ss3_test_util.hpp"

using namespace orchard::ss3;

namespace {
// Random text over `plain` of fewer than max_len bytes; with `general`, about one byte in five is a
// digit or '#' (the characters that send a sentence down the general tokenizer path).
std::string random_plain_ascii(orchard::Rng& rng, const std::string& plain, std::size_t max_len,
                               bool general) {
  const std::string digits = "0123#";
  std::string text;
  const std::size_t len = rng() % max_len;
  for (std::size_t k = 0; k < len; ++k) {
    if (general && rng() % 5 == 0) {
      text.push_back(digits[rng() % digits.size()]);
    } else {
      text.push_back(plain[rng() % plain.size()]);
    }
  }
  return text;
}
// Appends the words of a cleaned pyss3 token followed by spaces: clean_and_ready keeps "\n" inside
// tokens, the learning stream splits words there.
void append_words_split_at_newlines(std::string& out, const std::string& token) {
  std::size_t i = 0;
  while (i <= token.size()) {
    std::size_t j = token.find('\n', i);
    if (j == std::string::npos) j = token.size();
    if (j > i) out.append(token, i, j - i).push_back(' ');
    i = j + 1;
  }
}
}  // namespace

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
  Tokenizer tk(TokenizerMode::pyss3);
  std::vector<std::string> fast;
  tk.predict_words("costs 3.5 now", [&](std::string_view w) { fast.emplace_back(w); });
  CHECK(fast == std::vector<std::string>{"costs", "nnbrr", "now"});
  const auto st = tk.structure("costs 3.5 now");
  REQUIRE(st.size() == 1);
  CHECK(st[0].sentences.size() == 2);
}

TEST_CASE("ss3 tokenizer: invalid UTF-8 throws InvalidArgument") {
  for (const Tokenizer tk : {Tokenizer(TokenizerMode::pyss3), Tokenizer(TokenizerMode::unicode)}) {
    CHECK_THROWS_AS(tk.structure(std::string("ab\xff")), orchard::InvalidArgument);
    CHECK_THROWS_AS(tk.learn_stream(std::string("ab\xe2\x82"), [](std::string_view) {}, [] {}),
                    orchard::InvalidArgument);
    CHECK_THROWS_AS(tk.classify_pieces(std::string("x\n\xc0\xaf"), [](std::string_view, bool) {}, [] {}, [] {}),
                    orchard::InvalidArgument);
  }
  Tokenizer tk(TokenizerMode::pyss3);
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
  Tokenizer tk(TokenizerMode::pyss3);
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

TEST_CASE("ss3 tokenizer: the Unicode-aware tokenizer is the default, pyss3's an explicit mode") {
  CHECK(Tokenizer().mode() == TokenizerMode::unicode);
  CHECK(Params{}.tokenizer == TokenizerMode::unicode);
  CHECK(Model().tokenizer().mode() == TokenizerMode::unicode);
  CHECK(ss3_test::pyss3_params().tokenizer == TokenizerMode::pyss3);
}

TEST_CASE("ss3 unicode tokenizer: ASCII byte path equals the code point path; pieces equal the structure") {
  Tokenizer tk(TokenizerMode::unicode);
  for (const auto& t : ss3_test::reference()["tokens"]) {
    const std::string text = t["text"];
    CAPTURE(text);
    std::vector<std::string> a, b;
    std::string low;
    tok::unicode_stream_ascii(
        tok::is_ascii(text) ? std::string_view(text) : std::string_view("x"), low,
        [&](std::string_view w) { a.emplace_back(w); }, [&] { a.push_back("|"); });
    tok::unicode_stream(
        unicode::decode_utf8(tok::is_ascii(text) ? std::string_view(text) : std::string_view("x")),
        [&](std::string_view w) { b.emplace_back(w); }, [&] { b.push_back("|"); });
    CHECK(a == b);
    std::vector<std::string> fast, slow;
    tk.classify_pieces(
        text, [&](std::string_view w, bool) { fast.emplace_back(w); }, [&] { fast.push_back("|"); },
        [&] { fast.push_back("||"); });
    for (const auto& p : tk.structure(text, false)) {
      for (const auto& s : p.sentences) {
        for (const auto& pc : s.pieces) slow.push_back(pc.key);
        slow.push_back("|");
      }
      slow.push_back("||");
    }
    CHECK(fast == slow);
  }
}

TEST_CASE("ss3 pyss3 tokenizer: cutting a long text at safe newlines gives the words of cleaning it whole") {
  // texts longer than the 4096-byte pieces, with numbers, '#' rules, punctuation and non-ASCII
  // lines next to the cuts; reference: pyss3's clean_and_ready on the whole text
  Tokenizer tk(TokenizerMode::pyss3);
  const std::vector<std::string> lines = {
      "The 25 C day was hot.", "Costs $ 12,5 or 7 % more", "#tag1 \n#tag2 and #x", "crème brûlée, ΣΑΣ!",
      "1/2/2020 and 3.5 and 5\nc", "plain words only here", "end with number 42", "Fish; chips? yes!!",
      "it's don't they're", "#", "12\n%", "$\n3"};
  for (int variant = 0; variant < 3; ++variant) {
    std::string text;
    for (int i = 0; text.size() < 20000; ++i) {
      text += lines[static_cast<std::size_t>((i * (variant + 3)) % static_cast<int>(lines.size()))];
      text += (i % 7 == 3) ? "\n\n" : "\n";
    }
    CAPTURE(variant);
    std::string joined;
    tk.learn_stream(
        text, [&](std::string_view w) { joined.append(w).push_back(' '); }, [&] { joined += ". "; });
    std::string want;
    for (const auto& w : [&] {
           std::vector<std::string> r;
           std::string cur;
           for (const char ch : tok::clean_and_ready(text, true) + " ") {
             if (ch == ' ') {
               if (!cur.empty()) r.push_back(cur);
               cur.clear();
             } else {
               cur.push_back(ch);
             }
           }
           return r;
         }()) {
      append_words_split_at_newlines(want, w);
    }
    CHECK(joined == want);
  }
}

TEST_CASE("ss3 unicode tokenizer: a long text cut into pieces gives the stream of the whole text") {
  Tokenizer tk(TokenizerMode::unicode);
  const std::vector<std::string> lines = {"Don't PANIC: it's 42.5 degrees;", "Ünïcode mp3 ΣΑΣ ΟΔΟΣ.",
                                          "plain words", "x’y 3,5", "", "İstanbul (big) \"city\""};
  std::string text;
  for (int i = 0; text.size() < 20000; ++i) text += lines[static_cast<std::size_t>(i) % lines.size()] + "\n";
  std::vector<std::string> a, b;
  tk.learn_stream(text, [&](std::string_view w) { a.emplace_back(w); }, [&] { a.push_back("|"); });
  tok::unicode_stream(unicode::decode_utf8(text), [&](std::string_view w) { b.emplace_back(w); },
                      [&] { b.push_back("|"); });
  CHECK(a.size() > 3000);
  CHECK(a == b);
}

TEST_CASE("ss3 pyss3 tokenizer: the one-pass ASCII path equals clean_and_ready on random ASCII text") {
  // texts without digits and '#' take tok::learn_ascii_plain; some with them take the general
  // path; reference: clean_and_ready (the code point path), "\n" inside a token splitting words
  const Tokenizer tk(TokenizerMode::pyss3);
  orchard::Rng rng(20261128);
  for (int it = 0; it < 400; ++it) {
    const std::string text = random_plain_ascii(rng, "aBzQ_e ''' \n\t\r.(,;!?\"|[]<>=/:-&*~%$", 40, it % 4 == 3);
    CAPTURE(text);
    std::string got;
    tk.learn_stream(text, [&](std::string_view w) { got.append(w).push_back(' '); }, [&] { got += ". "; });
    std::string want;
    std::size_t i = 0;
    const std::string ref = tok::clean_and_ready(text, true) + " ";
    while (i < ref.size()) {
      const std::size_t j = ref.find(' ', i);
      const std::string t = ref.substr(i, j - i);
      i = j + 1;
      if (t == ".") {
        want += ". ";
        continue;
      }
      append_words_split_at_newlines(want, t);
    }
    CHECK(got == want);
  }
}

TEST_CASE("ss3 pyss3 tokenizer: the one-pass ASCII classify pieces equal the structure on random ASCII text") {
  // sentences without digits and '#' take tok::classify_ascii_plain, the others the general path;
  // reference: the code point path of structure() (pieces, sentences and paragraphs)
  const Tokenizer tk(TokenizerMode::pyss3);
  orchard::Rng rng(20261129);
  for (int it = 0; it < 400; ++it) {
    const std::string text = random_plain_ascii(rng, "aBzQ_e ''' \n\t\r..(,;!?\"|[]<>=/:-&*~%$", 48, it % 4 == 3);
    CAPTURE(text);
    std::vector<std::string> fast, slow;
    tk.classify_pieces(
        text, [&](std::string_view w, bool sp) { fast.push_back(std::string(w) + (sp ? "+" : "-")); },
        [&] { fast.push_back("|"); }, [&] { fast.push_back("||"); });
    for (const auto& p : tk.structure(text, false)) {
      for (const auto& s : p.sentences) {
        for (const auto& pc : s.pieces) {
          const bool word = !pc.key.empty() && unicode::is_word(static_cast<unsigned char>(pc.key[0]));
          slow.push_back((word ? pc.key : std::string()) + (pc.space_start ? "+" : "-"));
        }
        slow.push_back("|");
      }
      slow.push_back("||");
    }
    CHECK(fast == slow);
  }
}
