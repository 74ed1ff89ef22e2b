#pragma once
// Tokenisers of orchard::ss3.
//
// TokenizerMode::pyss3 reproduces pyss3 0.6.5's preprocessing code point for code point
// (Preproc.clean_and_ready): NFKD with category Mn and apostrophes removed; number tokens
// (temperatures NNBRRT, dates NNBRRD, money MNNBRR, percentages NNBRRP, numbers NNBRR, applied in
// that order with pyss3's regular-expression semantics); punctuation runs become "." (sentence
// breaks); tokens are runs of \w or newline characters; Python's str.lower(). It also reproduces the
// three ways pyss3 cuts text: training (`learn`), the fast `predict` path (whole document cleaned
// at once) and `classify` (split into paragraphs at "\n" and sentences at "." *before* cleaning,
// which is why "3.5" gives two number tokens there and one in `predict`), plus the explanation
// path (`classify(json=True)`: raw text split by the word regex, each piece cleaned alone).
//
// TokenizerMode::unicode is a clean default: the same normalisation and lowercase, words are runs of
// Unicode word characters (apostrophes inside words dropped), numbers become "nnbrr", and
// . ! ? ; : ( ) [ ] { } " and newlines end a sentence. Every path cuts text the same way.
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "unicode.hpp"

namespace orchard::ss3 {

enum class TokenizerMode { pyss3, unicode };

inline const char* to_string(TokenizerMode m) { return m == TokenizerMode::pyss3 ? "pyss3" : "unicode"; }
inline TokenizerMode parse_tokenizer_mode(const std::string& s) {
  if (s == "pyss3") return TokenizerMode::pyss3;
  if (s == "unicode") return TokenizerMode::unicode;
  throw InvalidArgument("orchard::ss3: argument 'tokenizer' = " + s + ": expected 'pyss3' or 'unicode'");
}

/// One piece of a sentence as the classifier sees it: `key` is looked up in the vocabulary (words;
/// separators never match), `raw` is the text shown in explanations, `space_start` tells whether
/// the raw piece starts with white space (pyss3 keeps matching an n-gram across such pieces).
struct Piece {
  std::string key;
  std::string raw;
  bool space_start = false;
};
struct Sentence {
  std::vector<Piece> pieces;
};
struct Paragraph {
  std::vector<Sentence> sentences;
};
using DocStructure = std::vector<Paragraph>;

namespace tok {

using U32 = std::u32string;

inline char32_t cp(char c) { return static_cast<unsigned char>(c); }
inline char32_t cp(char32_t c) { return c; }

// ---- pyss3's number regular expressions, each a deterministic matcher returning the end ------
// (templates over std::string for ASCII documents and std::u32string for the others)
constexpr std::size_t npos = static_cast<std::size_t>(-1);
template <class S>
inline std::size_t digits(const S& s, std::size_t i) {
  std::size_t j = i;
  while (j < s.size() && unicode::is_digit(cp(s[j]))) ++j;
  return j;
}
/// \d+([.,]\d+)?
template <class S>
inline std::size_t number_core(const S& s, std::size_t i) {
  std::size_t j = digits(s, i);
  if (j == i) return npos;
  if (j + 1 < s.size() && (s[j] == '.' || s[j] == ',') && unicode::is_digit(cp(s[j + 1])))
    j = digits(s, j + 1);
  return j;
}
template <class S>
inline std::size_t skip_space(const S& s, std::size_t j) {
  while (j < s.size() && unicode::is_space(cp(s[j]))) ++j;
  return j;
}
/// \d+([.,]\d+)?\s*(\xc2[\xb0\xba])?\s*[CcFf](?=[^a-zA-Z])
template <class S>
inline std::size_t match_temp(const S& s, std::size_t i) {
  std::size_t j = number_core(s, i);
  if (j == npos) return npos;
  j = skip_space(s, j);
  if (j + 1 < s.size() && cp(s[j]) == 0xC2 && (cp(s[j + 1]) == 0xB0 || cp(s[j + 1]) == 0xBA))
    j = skip_space(s, j + 2);
  if (j >= s.size()) return npos;
  const char32_t c = cp(s[j]);
  if (c != U'C' && c != U'c' && c != U'F' && c != U'f') return npos;
  ++j;
  if (j >= s.size() || unicode::is_ascii_letter(cp(s[j]))) return npos;
  return j;
}
inline bool date_sep(char32_t c) { return c == U'-' || c == U'/' || c == U'\\'; }
/// \d+([.,]\d+)?[-/\\]\d+([.,]\d+)?[-/\\]\d+([.,]\d+)?
template <class S>
inline std::size_t match_date(const S& s, std::size_t i) {
  std::size_t j = number_core(s, i);
  for (int part = 0; part < 2; ++part) {
    if (j == npos || j >= s.size() || !date_sep(cp(s[j]))) return npos;
    j = number_core(s, j + 1);
  }
  return j;
}
/// \$\s*\d+([.,]\d+)?
template <class S>
inline std::size_t match_money(const S& s, std::size_t i) {
  if (s[i] != '$') return npos;
  return number_core(s, skip_space(s, i + 1));
}
/// \d+([.,]\d+)?\s*%
template <class S>
inline std::size_t match_percent(const S& s, std::size_t i) {
  std::size_t j = number_core(s, i);
  if (j == npos) return npos;
  j = skip_space(s, j);
  return (j < s.size() && s[j] == '%') ? j + 1 : npos;
}

/// re.sub with one of the matchers above: leftmost, non-overlapping, scanning on after a match.
/// Matches start only at a digit (or at '$' when `dollar`). Writes `out` only when something
/// matched (returns false and leaves `out` alone otherwise); unchanged stretches are copied in one
/// piece. With `skip_run`, a failed match at a digit skips the rest of that digit run: the
/// matchers that use it (temperature, date, percent) fail at every later digit of the run too,
/// since number_core ends at the same place from any of them.
template <class S, class Match>
inline bool substitute(const S& in, S& out, Match match, bool dollar, bool skip_run, const char* repl) {
  const std::size_t n = in.size();
  std::size_t i = 0, last = 0;
  bool any = false;
  while (i < n) {
    const char32_t c = cp(in[i]);
    const bool cand = dollar ? c == U'$' : unicode::is_digit(c);
    if (!cand) {
      ++i;
      continue;
    }
    const std::size_t e = match(in, i);
    if (e == npos) {
      ++i;
      if (skip_run)
        while (i < n && unicode::is_digit(cp(in[i]))) ++i;
      continue;
    }
    if (!any) {
      out.clear();
      out.reserve(n + 16);
      any = true;
    }
    out.append(in, last, i - last);
    for (const char* r = repl; *r; ++r) out.push_back(static_cast<typename S::value_type>(*r));
    i = last = e;
  }
  if (any) out.append(in, last, n - last);
  return any;
}

/// Characters a number pattern can consume (or look at): digits, [.,], [-/\\], $, %, white
/// space, the degree signs and C/F.
inline bool number_char(char32_t c) {
  switch (c) {
    case U'.': case U',': case U'-': case U'/': case U'\\': case U'$': case U'%': case U'C':
    case U'c': case U'F': case U'f': case 0xC2: case 0xB0: case 0xBA:
      return true;
    default:
      return unicode::is_digit(c) || unicode::is_space(c);
  }
}

/// The five passes on one stretch of text.
template <class S>
inline void number_passes(S& text, S& tmp) {
  bool dollar = false;
  for (const auto c : text) dollar = dollar || c == '$';
  if (substitute(text, tmp, match_temp<S>, false, true, "NNBRRT")) text.swap(tmp);
  if (substitute(text, tmp, match_date<S>, false, true, "NNBRRD")) text.swap(tmp);
  if (dollar && substitute(text, tmp, match_money<S>, true, false, "MNNBRR")) text.swap(tmp);
  if (substitute(text, tmp, match_percent<S>, false, true, "NNBRRP")) text.swap(tmp);
  if (substitute(text, tmp, number_core<S>, false, false, "NNBRR")) text.swap(tmp);
}

/// pyss3's five number substitutions, applied in order to the whole text. Every match starts at a
/// digit or '$' and consists of number_char characters, so the passes run on each maximal run of
/// number_char characters that holds a digit (plus the next character, the temperature pattern's
/// look-ahead), which gives the same text as running them over everything.
template <class S>
inline void number_tokens(S& text, S& tmp) {
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n && !unicode::is_digit(cp(text[i]))) ++i;
  if (i == n) return;  // every pattern needs a digit
  S out, run, rtmp;
  out.reserve(n + 16);
  std::size_t last = 0;
  while (i < n) {
    std::size_t a = i, b = i + 1;
    while (a > last && number_char(cp(text[a - 1]))) --a;
    while (b < n && number_char(cp(text[b]))) ++b;
    const std::size_t look = b < n ? 1 : 0;
    run.assign(text, a, b - a + look);
    number_passes(run, rtmp);
    out.append(text, last, a - last);
    out.append(run, 0, run.size() - look);  // the look-ahead character is never replaced
    last = b;
    i = b;
    while (i < n && !unicode::is_digit(cp(text[i]))) ++i;
  }
  out.append(text, last, n - last);
  text.swap(out);
  (void)tmp;
}

constexpr bool dots_char(char32_t c) {
  switch (c) {
    case U'(': case U')': case U',': case U';': case U':': case U'?': case U'!': case U'=':
    case U'"': case U'/': case U'.': case U'|': case U'<': case U'>': case U'[': case U']':
      return true;
    default:
      return false;
  }
}

/// Lowercases text[b, e) in place as Python's str.lower() on that token (one to one after NFKD).
inline void lower_token(std::string& t, std::size_t b, std::size_t e) {
  for (std::size_t i = b; i < e; ++i)
    if (t[i] >= 'A' && t[i] <= 'Z') t[i] = static_cast<char>(t[i] + 32);
}
inline void lower_token(U32& t, std::size_t b, std::size_t e) {
  U32 part(t, b, e - b), low;
  unicode::lower_python(part, low);
  if (low.size() == part.size()) {
    std::copy(low.begin(), low.end(), t.begin() + static_cast<std::ptrdiff_t>(b));
  } else {  // cannot happen after NFKD (U+0130 decomposes); keep the simple mapping
    for (std::size_t i = b; i < e; ++i) t[i] = unicode::to_lower(t[i]);
  }
}

/// pyss3's clean_and_ready on an already normalised text: tokens are [begin, end) ranges of
/// `text` (runs of \w and "\n", lowercased), and "." tokens (sentence breaks, stored as empty
/// ranges) when dots; joined by " " they are pyss3's output.
template <class S>
struct Cleaned {
  S text, tmp;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> tokens;
  bool is_dot(std::size_t k) const { return tokens[k].first == tokens[k].second; }
};

/// Cleans `c.text` in place (it holds the normalised text). `final_dot` appends pyss3's closing
/// "." (false only for a leading piece of a text cut at a safe newline, see Tokenizer).
template <class S>
inline void clean_normalized(Cleaned<S>& c, bool dots, bool final_dot = true) {
  S& text = c.text;
  text.push_back(' ');
  number_tokens(text, c.tmp);
  if (dots && text.find('#') != S::npos) {
    // (#[a-zA-Z0-9]+)(\s)*(?=#)  ->  \1.
    S& tmp = c.tmp;
    tmp.clear();
    tmp.reserve(text.size() + 4);
    std::size_t i = 0;
    while (i < text.size()) {
      if (text[i] == '#') {
        std::size_t j = i + 1;
        while (j < text.size() && unicode::is_ascii_alnum(cp(text[j]))) ++j;
        if (j > i + 1) {
          const std::size_t k = skip_space(text, j);
          if (k < text.size() && text[k] == '#') {
            tmp.append(text, i, j - i);
            tmp.push_back('.');
            i = k;
            continue;
          }
        }
      }
      tmp.push_back(text[i]);
      ++i;
    }
    text.swap(tmp);
  }
  // ([(),;:?!=\"/.|<>\[\]]+)|(#(?![a-zA-Z]))  ->  .   fused with findall([\w\n]+|\.) and lower()
  // (Final_Sigma never looks across the joining spaces)
  c.tokens.clear();
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const char32_t ch = cp(text[i]);
    if (ch == U'\n' || unicode::is_word(ch)) {
      std::size_t j = i + 1;
      while (j < n && (text[j] == '\n' || unicode::is_word(cp(text[j])))) ++j;
      lower_token(text, i, j);
      c.tokens.emplace_back(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j));
      i = j;
    } else if (dots && dots_char(ch)) {
      while (i < n && dots_char(cp(text[i]))) ++i;
      c.tokens.emplace_back(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i));
    } else if (dots && ch == U'#' && !(i + 1 < n && unicode::is_ascii_letter(cp(text[i + 1])))) {
      ++i;
      c.tokens.emplace_back(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i));
    } else {
      ++i;
    }
  }
  if (dots && final_dot) c.tokens.emplace_back(static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n));
}

inline bool is_ascii(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ull) return false;
  }
  for (; i < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) >= 0x80) return false;
  return true;
}
/// ASCII text normalised as pyss3 does (NFKD is the identity; apostrophes go).
inline void normalize_ascii(std::string_view s, std::string& out) {
  out.clear();
  out.reserve(s.size() + 16);
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t j = s.find('\'', i);
    if (j == std::string_view::npos) {
      out.append(s.data() + i, s.size() - i);
      break;
    }
    out.append(s.data() + i, j - i);
    i = j + 1;
  }
}

/// True when the ASCII piece holds no digit and no '#' (the one-pass paths below apply).
inline bool ascii_plain(std::string_view s) {
  const auto plain_byte = [](char ch) { return static_cast<unsigned>(ch - '0') >= 10u && ch != '#'; };
  constexpr std::uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  const std::size_t n = s.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {  // eight bytes at a time
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & high) {  // a byte >= 0x80: one at a time (the sums below need bytes < 0x80)
      for (std::size_t k = i; k < i + 8; ++k)
        if (!plain_byte(s[k])) return false;
      continue;
    }
    // per byte b < 0x80 (no carries): b + 0x50 reaches 0x80 iff b >= '0', b + 0x46 iff b > '9';
    // x = b ^ '#' is 0 iff b == '#', and x + 0x7f stays below 0x80 only then
    const std::uint64_t digit = (w + 0x50 * ones) & ~(w + 0x46 * ones);
    const std::uint64_t hash = ~((w ^ (0x23 * ones)) + 0x7f * ones);
    if ((digit | hash) & high) return false;
  }
  for (; i < n; ++i)
    if (!plain_byte(s[i])) return false;
  return true;
}

/// Byte classes of the one-pass ASCII paths: `start` begins a run of \w and "\n", `run` continues
/// it (also an apostrophe, dropped by the normalisation), `word_run` is `run` but "\n", `copy`
/// makes the word differ from its bytes (an upper-case letter or an apostrophe), `dots` is a
/// punctuation-run character (dots_char).
struct PlainClasses {
  static constexpr std::uint8_t start = 1, run = 2, copy = 4, dots = 8, word_run = 16;
  std::uint8_t of[256] = {};
  constexpr PlainClasses() {
    for (int c = 0; c < 128; ++c) {
      const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      if (word || c == '\n') of[c] = start | run;
      if (c >= 'A' && c <= 'Z') of[c] |= copy;
      if (dots_char(static_cast<char32_t>(c))) of[c] = dots;
    }
    of[static_cast<unsigned char>('\'')] = run | copy;
    for (int c = 0; c < 128; ++c)  // run without "\n" (the training words stop at it)
      if ((of[c] & run) && c != '\n') of[c] |= word_run;
  }
};
inline constexpr PlainClasses plain_classes{};
/// Advances i over the bytes of class `mask`; says whether the run holds an apostrophe to drop or
/// a letter to lowercase (PlainClasses::copy bits), i.e. whether it must be copied.
inline std::uint8_t scan_plain_run(std::string_view s, std::size_t& i, std::uint8_t mask) {
  std::uint8_t copy = 0;
  for (; i < s.size(); ++i) {
    const std::uint8_t k = plain_classes.of[static_cast<unsigned char>(s[i])];
    if (!(k & mask)) break;
    copy |= k;
  }
  return copy & PlainClasses::copy;
}
/// An ASCII word run lowercased without its apostrophes, built in w (the one-pass paths' copy).
inline std::string_view lower_without_apostrophes(std::string_view run, std::string& w) {
  w.resize(run.size());
  std::size_t k = 0;
  for (const char d : run)
    if (d != '\'') w[k++] = d >= 'A' && d <= 'Z' ? static_cast<char>(d + 32) : d;
  return std::string_view(w.data(), k);
}
/// pyss3's cleaning (with dots) of an ASCII piece that holds no digit and no '#' (ascii_plain),
/// in one pass and without a cleaned copy: with no digit none of the number patterns can match and
/// with no '#' neither '#' rule applies, so what is left is apostrophe removal, the punctuation
/// runs (one break each; an apostrophe inside a run is removed first, so it does not end it), runs
/// of \w and "\n" (lowercased; "\n" separates words without a break) and the closing break. Gives
/// the words and breaks of normalize_ascii + clean_normalized + the learn emission, byte for byte.
template <class OnWord, class OnBreak>
inline void learn_ascii_plain(std::string_view s, std::string& w, OnWord& on_word, OnBreak& on_break,
                              bool final_dot) {
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t* cls = plain_classes.of;
    const std::uint8_t k0 = cls[static_cast<unsigned char>(s[i])];
    if (k0 & PlainClasses::start) {
      while (i < n) {  // words of the run, one per stretch between "\n"s
        const std::size_t b = i;
        const std::uint8_t copy = scan_plain_run(s, i, PlainClasses::word_run);
        if (!copy) {
          if (i > b) on_word(s.substr(b, i - b));
        } else {
          const std::string_view word = lower_without_apostrophes(s.substr(b, i - b), w);
          if (!word.empty()) on_word(word);
        }
        if (i < n && s[i] == '\n') {
          ++i;
          continue;
        }
        break;
      }
    } else if (k0 & PlainClasses::dots) {
      while (i < n && (cls[static_cast<unsigned char>(s[i])] & PlainClasses::dots || s[i] == '\'')) ++i;
      on_break();
    } else {
      ++i;
    }
  }
  if (final_dot) on_break();
}

/// The classify pieces (see Tokenizer::classify_pieces) of one sentence of ASCII text without
/// digits and '#' (tok::ascii_plain), in one pass: the same pieces as normalize_ascii +
/// clean_normalized (with dots) + Tokenizer::emit_pieces, for the reasons given at
/// learn_ascii_plain. Words are runs of \w and "\n" (lowercased, apostrophes dropped), a
/// separator (empty view) goes before every word but the first, which gets one only after a
/// leading punctuation run, and the closing separator always comes (pyss3's final ".").
template <class OnPiece>
inline void classify_ascii_plain(std::string_view s, std::string& w, OnPiece& on_piece) {
  bool any_word = false, pending = false;
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t* cls = plain_classes.of;
    const std::uint8_t k0 = cls[static_cast<unsigned char>(s[i])];
    if (k0 & PlainClasses::start) {
      const std::size_t b = i;
      const std::uint8_t copy = scan_plain_run(s, i, PlainClasses::run);
      if (any_word || pending) on_piece(std::string_view(), any_word);
      std::string_view word = s.substr(b, i - b);
      if (copy) {
        word = lower_without_apostrophes(word, w);  // not empty: the run starts with \w or "\n"
      }
      on_piece(word, false);
      any_word = true;
      pending = false;
    } else if (k0 & PlainClasses::dots) {
      while (i < n && (cls[static_cast<unsigned char>(s[i])] & PlainClasses::dots || s[i] == '\'')) ++i;
      pending = true;
    } else {
      ++i;
    }
  }
  on_piece(std::string_view(), any_word);  // the closing "." leaves a separator
}

/// pyss3's Preproc.clean_and_ready(text, dots) as a list of tokens: joined by " " it is pyss3's
/// output string. Tokens are runs of \w and "\n" characters, or "." when dots is true.
inline void clean_tokens(const U32& raw, bool dots, std::vector<U32>& tokens) {
  Cleaned<U32> c;
  unicode::normalize_pyss3(raw, c.text);
  clean_normalized(c, dots);
  tokens.clear();
  for (const auto& [b, e] : c.tokens) {
    if (b == e) {
      tokens.emplace_back(U".");
    } else {
      tokens.emplace_back(c.text, b, e - b);
    }
  }
}

/// pyss3's clean_and_ready output as UTF-8 (for tests and fixtures).
inline std::string clean_and_ready(std::string_view text, bool dots = true) {
  std::vector<U32> toks;
  clean_tokens(unicode::decode_utf8(text, "text"), dots, toks);
  std::string out;
  for (std::size_t i = 0; i < toks.size(); ++i) {
    if (i) out.push_back(' ');
    out += unicode::encode_utf8(toks[i]);
  }
  return out;
}

// ---- the unicode (clean) tokenizer -----------------------------------------------------------
inline bool unicode_break(char32_t c) {
  switch (c) {
    case U'.': case U'!': case U'?': case U';': case U':': case U'(': case U')': case U'[':
    case U']': case U'{': case U'}': case U'"': case U'\n': case 0x2026: case 0x201C: case 0x201D:
    case 0xA1: case 0xBF:
      return true;
    default:
      return false;
  }
}
inline bool apostrophe(char32_t c) { return c == U'\'' || c == 0x2019; }

/// The unicode tokenizer's scan of a normalised, lowercased text: on_word(begin, end, utf8 word)
/// for each word (positions in `low`), on_break(position) at sentence-ending characters.
template <class OnWord, class OnBreak>
inline void unicode_scan(const U32& low, OnWord&& on_word, OnBreak&& on_break) {
  const std::size_t n = low.size();
  std::size_t i = 0;
  std::string word;
  while (i < n) {
    const char32_t c = low[i];
    if (unicode::is_digit(c)) {
      std::size_t j = number_core(low, i);
      if (j < n && unicode::is_word(low[j])) {  // alphanumeric word such as "mp3"
        while (j < n && unicode::is_word(low[j])) ++j;
        word = unicode::encode_utf8(low.data() + i, low.data() + j);
        on_word(i, j, std::string_view(word));
      } else {
        on_word(i, j, std::string_view("nnbrr"));
      }
      i = j;
    } else if (unicode::is_word(c)) {
      word.clear();
      std::size_t j = i;
      while (j < n) {
        if (unicode::is_word(low[j])) {
          unicode::append_utf8(word, low[j]);
          ++j;
        } else if (apostrophe(low[j]) && j + 1 < n && unicode::is_word(low[j + 1])) {
          ++j;
        } else {
          break;
        }
      }
      on_word(i, j, std::string_view(word));
      i = j;
    } else {
      if (unicode_break(c)) on_break(i);
      ++i;
    }
  }
}

/// Calls on_word(std::string_view utf8) for each word and on_break() at sentence ends (one more
/// at the end of the text).
template <class OnWord, class OnBreak>
inline void unicode_stream(const U32& raw, OnWord&& on_word, OnBreak&& on_break, bool final_break = true) {
  U32 text, low;
  unicode::normalize_pyss3(raw, text);  // NFKD, no Mn; apostrophes handled below as well
  unicode::lower_python(text, low);
  unicode_scan(
      low, [&](std::size_t, std::size_t, std::string_view w) { on_word(w); }, [&](std::size_t) { on_break(); });
  if (final_break) on_break();
}

/// normalize_pyss3 followed by lower_python, also giving for each output character the index of
/// the input character it comes from (for explanations that show the original text).
inline void normalize_lower_mapped(const U32& in, U32& low, std::vector<std::uint32_t>& src) {
  U32 buf, norm;
  std::vector<std::uint32_t> bsrc, nsrc;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const char32_t c = in[k];
    const auto sk = static_cast<std::uint32_t>(k);
    if (c < 0xA0) {
      buf.push_back(c);
      bsrc.push_back(sk);
      continue;
    }
    const std::size_t start = buf.size();
    unicode::decompose(c, buf);
    bsrc.resize(buf.size(), sk);
    for (std::size_t i = start; i < buf.size(); ++i) {  // the same reordering as normalize_pyss3
      const unsigned cc = unicode::combining_class(buf[i]);
      if (cc == 0) continue;
      std::size_t j = i;
      while (j > 0) {
        const unsigned pc = unicode::combining_class(buf[j - 1]);
        if (pc == 0 || pc <= cc) break;
        std::swap(buf[j - 1], buf[j]);
        std::swap(bsrc[j - 1], bsrc[j]);
        --j;
      }
    }
  }
  for (std::size_t i = 0; i < buf.size(); ++i)
    if (buf[i] != U'\'' && !unicode::is_nonspacing_mark(buf[i])) {
      norm.push_back(buf[i]);
      nsrc.push_back(bsrc[i]);
    }
  unicode::lower_python(norm, low);
  src.clear();
  for (std::size_t i = 0; i < norm.size(); ++i) {
    src.push_back(nsrc[i]);
    if (norm[i] == 0x130) src.push_back(nsrc[i]);  // lower() gives two characters
  }
}

/// unicode_stream for ASCII text, byte by byte (the same output: NFKD and Mn removal are the
/// identity there, apostrophes are dropped, lowercase is ASCII).
template <class OnWord, class OnBreak>
inline void unicode_stream_ascii(std::string_view raw, std::string& low, OnWord&& on_word,
                                 OnBreak&& on_break, bool final_break = true) {
  low.clear();
  low.reserve(raw.size());
  for (const char ch : raw)
    if (ch != '\'') low.push_back(ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 32) : ch);
  const std::size_t n = low.size();
  std::size_t i = 0;
  while (i < n) {
    const char32_t c = cp(low[i]);
    if (unicode::is_digit(c)) {
      std::size_t j = number_core(low, i);
      if (j < n && unicode::is_word(cp(low[j]))) {
        while (j < n && unicode::is_word(cp(low[j]))) ++j;
        on_word(std::string_view(low.data() + i, j - i));
      } else {
        on_word(std::string_view("nnbrr"));
      }
      i = j;
    } else if (unicode::is_word(c)) {
      std::size_t j = i + 1;
      while (j < n && unicode::is_word(cp(low[j]))) ++j;
      on_word(std::string_view(low.data() + i, j - i));
      i = j;
    } else {
      if (unicode_break(c)) on_break();
      ++i;
    }
  }
  if (final_break) on_break();
}

/// The unicode tokenizer on UTF-8 text (validated; ASCII text takes the byte path). Long texts
/// are processed in pieces cut after a newline: nothing the tokenizer does reaches across a
/// newline (it ends a sentence, words and numbers stop there, NFKD reordering and the
/// Final_Sigma context stop at it), so ASCII pieces of a mostly ASCII text take the byte path.
template <class OnWord, class OnBreak>
inline void unicode_stream_utf8(std::string_view doc, OnWord&& on_word, OnBreak&& on_break) {
  const std::size_t bad = unicode::utf8_invalid_at(doc);
  if (bad != std::string_view::npos) unicode::decode_utf8(doc, "doc");  // throws
  constexpr std::size_t piece = 4096;
  std::string low;
  U32 raw;
  std::size_t start = 0;
  do {
    std::size_t end = doc.size();
    if (doc.size() - start > piece) {
      const std::size_t nl = doc.find('\n', start + piece);
      if (nl != std::string_view::npos && nl + 1 < doc.size()) end = nl + 1;
    }
    const std::string_view part = doc.substr(start, end - start);
    const bool last = end == doc.size();
    if (is_ascii(part)) {
      unicode_stream_ascii(part, low, on_word, on_break, last);
    } else {
      unicode::decode_utf8(part, raw, "doc");
      unicode_stream(raw, on_word, on_break, last);
    }
    start = end;
  } while (start < doc.size());
}

/// A newline at `i` where pyss3's preprocessing may cut the text: the next character is an ASCII
/// letter other than C, c, F, f. No number pattern (they continue after white space only with a
/// digit, %, a degree sign or C/F), no "#word #" rule, no punctuation run and no lowercase context
/// reaches across such a newline, and "\n" inside a token only separates words, so cleaning the
/// pieces on either side separately gives the same words and sentence breaks.
inline bool safe_cut(std::string_view s, std::size_t i) {
  if (i + 1 >= s.size() || s[i] != '\n') return false;
  const char c = s[i + 1];
  return unicode::is_ascii_letter(cp(c)) && c != 'C' && c != 'c' && c != 'F' && c != 'f';
}

}  // namespace tok

/// Tokenises documents for training and classification in one of the two modes (the clean
/// Unicode-aware tokenizer by default; TokenizerMode::pyss3 for pyss3's preprocessing).
class Tokenizer {
 public:
  explicit Tokenizer(TokenizerMode mode = TokenizerMode::unicode) : mode_(mode) {}
  TokenizerMode mode() const noexcept { return mode_; }

  /// Training stream (pyss3's `learn`): on_word(std::string_view utf8 word) and on_break() where
  /// n-grams stop. In pyss3 mode the text is cleaned piece by piece, cut at newlines where
  /// tok::safe_cut allows (same words and breaks as cleaning it whole), so ASCII pieces of a
  /// mostly ASCII text take the byte path.
  template <class OnWord, class OnBreak>
  void learn_stream(std::string_view doc, OnWord&& on_word, OnBreak&& on_break) const {
    if (mode_ == TokenizerMode::unicode) {
      tok::unicode_stream_utf8(doc, on_word, on_break);
      return;
    }
    const std::size_t bad = unicode::utf8_invalid_at(doc);
    if (bad != std::string_view::npos) unicode::decode_utf8(doc, "doc");  // throws
    constexpr std::size_t piece = 4096;
    tok::Cleaned<std::string> c;
    tok::Cleaned<tok::U32> cu;
    tok::U32 raw;
    std::string w;
    std::size_t start = 0;
    do {
      std::size_t end = doc.size();
      if (doc.size() - start > piece) {
        std::size_t i = start + piece;
        while (i < doc.size() && !tok::safe_cut(doc, i)) ++i;
        end = i < doc.size() ? i + 1 : doc.size();
      }
      const std::string_view part = doc.substr(start, end - start);
      const bool last = end == doc.size();
      if (tok::is_ascii(part)) {
        learn_ascii(part, last, c, w, on_word, on_break);
      } else {  // only the lines around non-ASCII bytes take the code point path
        for_each_run(
            part, [](std::string_view s) { return tok::is_ascii(s); },
            [&](std::string_view run, bool ascii, bool ends_part) {
              const bool fin = last && ends_part;
              if (ascii) {
                learn_ascii(run, fin, c, w, on_word, on_break);
                return;
              }
              unicode::decode_utf8(run, raw, "doc");
              unicode::normalize_pyss3(raw, cu.text);
              tok::clean_normalized(cu, true, fin);
              emit_learn(cu, on_word, on_break);
            });
      }
      start = end;
    } while (start < doc.size());
  }

  /// Words of pyss3's fast `predict` path (whole document cleaned, split at white space).
  template <class OnWord>
  void predict_words(std::string_view doc, OnWord&& on_word) const {
    learn_stream(doc, on_word, [] {});
  }

  /// The classify path (pyss3's classify, json = false) without building strings:
  /// on_piece(std::string_view word, bool space_start) for words (separators come with an empty
  /// view), on_sentence() after each sentence and on_paragraph() after each paragraph.
  template <class OnPiece, class OnSentence, class OnParagraph>
  void classify_pieces(std::string_view doc, OnPiece&& on_piece, OnSentence&& on_sentence,
                       OnParagraph&& on_paragraph) const {
    if (mode_ == TokenizerMode::unicode) {
      // the same pieces as unicode_structure: empty sentences and paragraphs are skipped
      if (!unicode::valid_utf8(doc)) unicode::decode_utf8(doc, "doc");  // throws
      std::size_t i = 0;
      while (i <= doc.size()) {
        std::size_t j = doc.find('\n', i);
        if (j == std::string_view::npos) j = doc.size();
        if (j > i) {
          std::size_t in_sentence = 0, sentences = 0;
          tok::unicode_stream_utf8(
              doc.substr(i, j - i),
              [&](std::string_view w) {
                on_piece(w, false);
                ++in_sentence;
              },
              [&] {
                if (in_sentence == 0) return;
                on_sentence();
                in_sentence = 0;
                ++sentences;
              });
          if (sentences > 0) on_paragraph();
        }
        i = j + 1;
      }
      return;
    }
    const bool ascii = tok::is_ascii(doc);
    if (!ascii) unicode::decode_utf8(doc, "doc");  // validates
    const bool plain = ascii && tok::ascii_plain(doc);  // then every sentence is
    std::string buf;
    tok::Cleaned<std::string> c;
    tok::Cleaned<tok::U32> cu;
    tok::U32 raw;
    std::size_t i = 0;
    while (i <= doc.size()) {
      std::size_t j = doc.find('\n', i);
      if (j == std::string_view::npos) j = doc.size();
      if (j > i) {
        const std::string_view para = doc.substr(i, j - i);
        std::size_t a = 0;
        while (a <= para.size()) {
          std::size_t b = para.find('.', a);
          if (b == std::string_view::npos) b = para.size();
          if (b > a) {
            const std::string_view sent = para.substr(a, b - a);
            const bool sent_ascii = plain || ascii || tok::is_ascii(sent);
            if (plain || (sent_ascii && tok::ascii_plain(sent))) {
              tok::classify_ascii_plain(sent, buf, on_piece);
            } else if (sent_ascii) {
              tok::normalize_ascii(sent, c.text);
              tok::clean_normalized(c, true);
              emit_pieces(c, buf, on_piece);
            } else {
              unicode::decode_utf8(sent, raw, "doc");
              unicode::normalize_pyss3(raw, cu.text);
              tok::clean_normalized(cu, true);
              emit_pieces(cu, buf, on_piece);
            }
            on_sentence();
          }
          a = b + 1;
        }
        on_paragraph();
      }
      i = j + 1;
    }
  }

  /// Paragraph / sentence / piece structure of pyss3's `classify` (json = false) or of its
  /// explanation path `classify(json=True)` (json = true).
  DocStructure structure(std::string_view doc, bool json = false) const {
    tok::U32 raw;
    unicode::decode_utf8(doc, raw, "doc");
    DocStructure out;
    if (mode_ == TokenizerMode::unicode) {
      if (json) {
        unicode_structure_json(raw, out);
      } else {
        unicode_structure(raw, out);
      }
      return out;
    }
    for (const auto& para : split(raw, U'\n', json)) {
      Paragraph p;
      for (const auto& sent : split(para, U'.', json)) {
        Sentence s;
        if (json) {
          json_pieces(sent, s.pieces);
        } else {
          plain_pieces(sent, s.pieces);
        }
        if (s.pieces.empty()) s.pieces.push_back(Piece{".", ".", false});
        p.sentences.push_back(std::move(s));
      }
      out.push_back(std::move(p));
    }
    return out;
  }

 private:
  static void utf8_of(const std::string& text, std::size_t b, std::size_t e, std::string& out) {
    out.assign(text, b, e - b);
  }
  static std::string_view word_of(const std::string& text, std::size_t b, std::size_t e, std::string&) {
    return std::string_view(text.data() + b, e - b);
  }
  static std::string_view word_of(const tok::U32& text, std::size_t b, std::size_t e, std::string& out) {
    utf8_of(text, b, e, out);
    return std::string_view(out);
  }
  static void utf8_of(const tok::U32& text, std::size_t b, std::size_t e, std::string& out) {
    out.clear();
    for (std::size_t i = b; i < e; ++i) unicode::append_utf8(out, text[i]);
  }

  /// Cuts s at its safe newlines (tok::safe_cut) into runs of consecutive lines on which kind()
  /// agrees and calls on_run(run, kind, whether the run ends s) for each, in order.
  template <class Kind, class OnRun>
  static void for_each_run(std::string_view s, Kind&& kind, OnRun&& on_run) {
    const auto next_cut = [&](std::size_t a) {
      std::size_t j = s.find('\n', a);
      while (j != std::string_view::npos && !tok::safe_cut(s, j)) j = s.find('\n', j + 1);
      return j == std::string_view::npos ? s.size() : j + 1;
    };
    std::size_t a = 0;
    while (a < s.size()) {
      std::size_t b = next_cut(a);
      const bool k = kind(s.substr(a, b - a));
      while (b < s.size()) {
        const std::size_t nb = next_cut(b);
        if (kind(s.substr(b, nb - b)) != k) break;
        b = nb;
      }
      on_run(s.substr(a, b - a), k, b == s.size());
      a = b;
    }
  }

  /// An ASCII piece of the training stream, cut further at safe newlines into runs of lines
  /// without digits and '#' (the one-pass tok::learn_ascii_plain) and runs of the other lines
  /// (normalize_ascii + clean_normalized); the same words and breaks as cleaning it whole.
  template <class OnWord, class OnBreak>
  static void learn_ascii(std::string_view part, bool last, tok::Cleaned<std::string>& c, std::string& w,
                          OnWord& on_word, OnBreak& on_break) {
    if (part.empty()) {  // cleaned, an empty text is the closing "." alone
      if (last) on_break();
      return;
    }
    for_each_run(
        part, [](std::string_view s) { return tok::ascii_plain(s); },
        [&](std::string_view run, bool plain, bool ends_part) {
          const bool fin = last && ends_part;
          if (plain) {
            tok::learn_ascii_plain(run, w, on_word, on_break, fin);
          } else {
            tok::normalize_ascii(run, c.text);
            tok::clean_normalized(c, true, fin);
            emit_learn(c, on_word, on_break);
          }
        });
  }

  template <class S, class OnWord, class OnBreak>
  static void emit_learn(const tok::Cleaned<S>& c, OnWord& on_word, OnBreak& on_break) {
    std::string w;
    for (std::size_t k = 0; k < c.tokens.size(); ++k) {
      if (c.is_dot(k)) {
        on_break();
        continue;
      }
      std::size_t i = c.tokens[k].first;
      const std::size_t e = c.tokens[k].second;
      while (i < e) {  // "\n" inside a token separates words but is no break
        std::size_t j = i;
        while (j < e && c.text[j] != '\n') ++j;
        if (j > i) on_word(word_of(c.text, i, j, w));
        i = j + 1;
      }
    }
  }

  /// Pieces of the joined cleaned sentence split by the word regex: words, and the separators
  /// between them (" ", " . ", ...), which start with a space except a leading run of dots.
  template <class S, class OnPiece>
  static void emit_pieces(const tok::Cleaned<S>& c, std::string& buf, OnPiece& on_piece) {
    bool any_word = false, pending = false;
    for (std::size_t k = 0; k < c.tokens.size(); ++k) {
      if (c.is_dot(k)) {
        pending = true;
        continue;
      }
      if (any_word) {
        on_piece(std::string_view(), true);
      } else if (pending) {
        on_piece(std::string_view(), false);
      }
      on_piece(word_of(c.text, c.tokens[k].first, c.tokens[k].second, buf), false);
      any_word = true;
      pending = false;
    }
    if (pending || !any_word) on_piece(std::string_view(), any_word);
  }

  /// re.split(delim) keeping non-empty parts; with keep (re_split_keep) delimiters are parts too.
  static std::vector<tok::U32> split(const tok::U32& s, char32_t delim, bool keep) {
    std::vector<tok::U32> parts;
    std::size_t i = 0;
    while (i <= s.size()) {
      std::size_t j = s.find(delim, i);
      if (j == tok::U32::npos) j = s.size();
      if (j > i) parts.emplace_back(s, i, j - i);
      if (j < s.size() && keep) parts.emplace_back(1, delim);
      i = j + 1;
    }
    return parts;
  }

  /// Splits s by the word regex \w+(?:'\w+)? keeping the separators (re_split_keep).
  template <class Fn>
  static void split_words(const tok::U32& s, Fn&& fn) {
    std::size_t i = 0, sep = 0;
    const std::size_t n = s.size();
    while (i < n) {
      if (!unicode::is_word(s[i])) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < n && unicode::is_word(s[j])) ++j;
      if (j + 1 < n && s[j] == U'\'' && unicode::is_word(s[j + 1])) {
        j += 1;
        while (j < n && unicode::is_word(s[j])) ++j;
      }
      if (i > sep) fn(sep, i, false);
      fn(i, j, true);
      sep = i = j;
    }
    if (n > sep) fn(sep, n, false);
  }

  static void plain_pieces(const tok::U32& sent, std::vector<Piece>& pieces) {
    std::vector<tok::U32> toks;
    tok::clean_tokens(sent, true, toks);
    tok::U32 joined;
    for (std::size_t i = 0; i < toks.size(); ++i) {
      if (i) joined.push_back(U' ');
      joined += toks[i];
    }
    split_words(joined, [&](std::size_t b, std::size_t e, bool) {
      std::string t = unicode::encode_utf8(joined.data() + b, joined.data() + e);
      const bool sp = unicode::is_space(joined[b]);
      pieces.push_back(Piece{t, t, sp});
    });
  }

  static void json_pieces(const tok::U32& sent, std::vector<Piece>& pieces) {
    std::vector<tok::U32> toks;
    split_words(sent, [&](std::size_t b, std::size_t e, bool) {
      tok::U32 part(sent, b, e - b);
      tok::clean_tokens(part, false, toks);
      std::string key;
      for (std::size_t i = 0; i < toks.size(); ++i) {
        if (i) key.push_back(' ');
        key += unicode::encode_utf8(toks[i]);
      }
      pieces.push_back(Piece{std::move(key), unicode::encode_utf8(part), unicode::is_space(sent[b])});
    });
  }

  static void unicode_structure(const tok::U32& raw, DocStructure& out) {
    Paragraph para;
    Sentence sent;
    auto end_sentence = [&] {
      if (!sent.pieces.empty()) para.sentences.push_back(std::move(sent));
      sent = Sentence{};
    };
    for (const auto& ptext : split(raw, U'\n', false)) {
      para = Paragraph{};
      tok::unicode_stream(
          ptext, [&](std::string_view w) { sent.pieces.push_back(Piece{std::string(w), std::string(w), false}); },
          end_sentence);
      end_sentence();
      if (!para.sentences.empty()) out.push_back(std::move(para));
    }
  }

  /// The unicode tokenizer's structure for explanations: the same words, sentences and
  /// paragraphs as unicode_structure, each word showing its original text, and the text between
  /// words kept as separator pieces (empty key, space_start, so n-grams match across them as in
  /// the classify path).
  static void unicode_structure_json(const tok::U32& raw, DocStructure& out) {
    tok::U32 low;
    std::vector<std::uint32_t> src;
    for (const auto& ptext : split(raw, U'\n', false)) {
      tok::normalize_lower_mapped(ptext, low, src);
      Paragraph para;
      Sentence sent;
      std::size_t done = 0;  // raw characters already shown
      auto text = [&](std::size_t b, std::size_t e) {
        return unicode::encode_utf8(ptext.data() + b, ptext.data() + std::max(b, e));
      };
      auto separator = [&](std::size_t upto) {
        if (upto > done) sent.pieces.push_back(Piece{"", text(done, upto), true});
        done = std::max(done, upto);
      };
      tok::unicode_scan(
          low,
          [&](std::size_t b, std::size_t e, std::string_view w) {
            std::size_t rb = src[b], re = 0;
            for (std::size_t k = b; k < e; ++k) re = std::max<std::size_t>(re, src[k] + 1);
            rb = std::max(rb, done);
            separator(rb);
            sent.pieces.push_back(Piece{std::string(w), text(rb, re), false});
            done = std::max(done, re);
          },
          [&](std::size_t at) {
            bool has_word = false;
            for (const auto& pc : sent.pieces) has_word = has_word || !pc.key.empty();
            if (!has_word) return;  // the text stays for the next sentence
            separator(src[at] + 1);
            para.sentences.push_back(std::move(sent));
            sent = Sentence{};
          });
      bool has_word = false;
      for (const auto& pc : sent.pieces) has_word = has_word || !pc.key.empty();
      if (has_word) {
        separator(ptext.size());
        para.sentences.push_back(std::move(sent));
      } else if (!para.sentences.empty() && ptext.size() > done) {
        para.sentences.back().pieces.push_back(Piece{"", text(done, ptext.size()), true});
      }
      if (!para.sentences.empty()) out.push_back(std::move(para));
    }
  }

  TokenizerMode mode_;
};

}  // namespace orchard::ss3
