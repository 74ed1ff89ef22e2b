#pragma once
// Unicode helpers for the SS3 tokenizers: strict UTF-8 decoding/encoding, the character classes
// Python's `re` uses for str patterns (\w, \d, \s), NFKD decomposition with canonical ordering,
// category Mn, and str.lower() with its Final_Sigma rule. The tables are generated from Python's
// own Unicode database (bench/compare/gen_ss3_unicode.py), so pyss3's preprocessing can be
// reproduced code point for code point.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "../core/error.hpp"
#include "detail/unicode_tables.hpp"

namespace orchard::ss3::unicode {

namespace detail {
template <std::size_t N>
inline bool in_ranges(const orchard::ss3::detail::ucd::Range (&r)[N], char32_t c) {
  std::size_t lo = 0, hi = N;
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (r[mid].hi < c) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < N && r[lo].lo <= c;
}

struct AsciiTable {
  std::array<unsigned char, 128> flags{};  // 1 word, 2 digit, 4 space
  constexpr AsciiTable() {
    for (int c = '0'; c <= '9'; ++c) flags[static_cast<std::size_t>(c)] = 1 | 2;
    for (int c = 'a'; c <= 'z'; ++c) flags[static_cast<std::size_t>(c)] = 1;
    for (int c = 'A'; c <= 'Z'; ++c) flags[static_cast<std::size_t>(c)] = 1;
    flags['_'] = 1;
    for (int c : {0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f})
      flags[static_cast<std::size_t>(c)] = 4;
  }
};
inline constexpr AsciiTable ascii{};
}  // namespace detail

namespace ucd = orchard::ss3::detail::ucd;

/// Python's `\w` for str patterns (alphanumeric or underscore).
inline bool is_word(char32_t c) {
  if (c < 128) return (detail::ascii.flags[c] & 1) != 0;
  return detail::in_ranges(ucd::word, c);
}
/// Python's `\d` (Unicode category Nd).
inline bool is_digit(char32_t c) {
  if (c < 128) return (detail::ascii.flags[c] & 2) != 0;
  return detail::in_ranges(ucd::digit, c);
}
/// Python's `\s` (str.isspace()).
inline bool is_space(char32_t c) {
  if (c < 128) return (detail::ascii.flags[c] & 4) != 0;
  return detail::in_ranges(ucd::space, c);
}
/// Unicode general category Mn.
inline bool is_nonspacing_mark(char32_t c) {
  return c >= 0x300 && detail::in_ranges(ucd::mark_nonspacing, c);
}
inline bool is_ascii_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_ascii_alnum(char32_t c) { return is_ascii_letter(c) || (c >= '0' && c <= '9'); }

/// Canonical combining class.
inline unsigned combining_class(char32_t c) {
  if (c < 0x300) return 0;
  const auto* b = std::begin(ucd::ccc);
  const auto* e = std::end(ucd::ccc);
  const auto* it = std::lower_bound(b, e, c, [](const ucd::CccRange& r, char32_t v) { return r.hi < v; });
  return (it != e && it->lo <= c) ? it->ccc : 0u;
}

/// Simple (one to one) lowercase mapping; U+03A3 maps to U+03C3 here (see lower_in_context).
inline char32_t to_lower(char32_t c) {
  if (c < 128) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c == 0x3A3) return 0x3C3;
  const auto* b = std::begin(ucd::lower);
  const auto* e = std::end(ucd::lower);
  const auto* it = std::lower_bound(b, e, c, [](const ucd::Pair& p, char32_t v) { return p.from < v; });
  return (it != e && it->from == c) ? it->to : c;
}

/// Python's str.lower(): full mapping (U+0130 becomes "i" + U+0307) and the Final_Sigma rule.
inline void lower_python(const std::u32string& in, std::u32string& out) {
  out.clear();
  out.reserve(in.size());
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) {
    const char32_t c = in[i];
    if (c < 128) {
      out.push_back(to_lower(c));
    } else if (c == 0x130) {
      out.push_back(U'i');
      out.push_back(0x307);
    } else if (c == 0x3A3) {
      std::size_t j = i;
      char32_t prev = 0;
      bool found = false;
      while (j > 0) {
        prev = in[j - 1];
        if (!detail::in_ranges(ucd::case_ignorable, prev)) {
          found = true;
          break;
        }
        --j;
      }
      bool final_sigma = found && detail::in_ranges(ucd::cased, prev);
      if (final_sigma) {
        std::size_t k = i + 1;
        for (; k < n; ++k)
          if (!detail::in_ranges(ucd::case_ignorable, in[k])) break;
        final_sigma = k == n || !detail::in_ranges(ucd::cased, in[k]);
      }
      out.push_back(final_sigma ? 0x3C2 : 0x3C3);
    } else {
      out.push_back(to_lower(c));
    }
  }
}

/// Appends the NFKD decomposition of c (without canonical reordering across characters).
inline void decompose(char32_t c, std::u32string& out) {
  if (c >= 0xAC00 && c <= 0xD7A3) {  // Hangul syllables (algorithmic)
    const char32_t s = c - 0xAC00;
    out.push_back(0x1100 + s / (21 * 28));
    out.push_back(0x1161 + (s % (21 * 28)) / 28);
    if (s % 28 != 0) out.push_back(0x11A7 + s % 28);
    return;
  }
  const auto* b = std::begin(ucd::decomp_keys);
  const auto* e = std::end(ucd::decomp_keys);
  const auto* it = std::lower_bound(b, e, c);
  if (it != e && *it == c) {
    const auto k = static_cast<std::size_t>(it - b);
    for (unsigned i = ucd::decomp_offsets[k]; i < ucd::decomp_offsets[k + 1]; ++i)
      out.push_back(ucd::decomp_data[i]);
  } else {
    out.push_back(c);
  }
}

/// pyss3's normalisation: NFKD, then drop category Mn and the apostrophe U+0027.
inline void normalize_pyss3(const std::u32string& in, std::u32string& out) {
  std::u32string buf;
  buf.reserve(in.size() + 8);
  for (const char32_t c : in) {
    if (c < 0xA0) {
      buf.push_back(c);
      continue;
    }
    const std::size_t start = buf.size();
    decompose(c, buf);
    for (std::size_t i = start; i < buf.size(); ++i) {
      const unsigned cc = combining_class(buf[i]);
      if (cc == 0) continue;
      // canonical ordering: stable insertion among the preceding run of non-starters
      std::size_t j = i;
      while (j > 0) {
        const unsigned pc = combining_class(buf[j - 1]);
        if (pc == 0 || pc <= cc) break;
        std::swap(buf[j - 1], buf[j]);
        --j;
      }
    }
  }
  out.clear();
  out.reserve(buf.size());
  for (const char32_t c : buf)
    if (c != U'\'' && !is_nonspacing_mark(c)) out.push_back(c);
}

/// Decodes the multi-byte UTF-8 sequence starting at p[i] (p[i] >= 0x80, n = text size) as
/// Python's strict "utf-8" codec: returns its length and sets `cp`, or returns 0 for an invalid
/// lead byte, a truncated or malformed sequence, an overlong form, a surrogate or a code point
/// beyond U+10FFFF.
inline std::size_t decode_utf8_sequence(const unsigned char* p, std::size_t i, std::size_t n,
                                        char32_t& cp) {
  const unsigned c = p[i];
  std::size_t len = 0;
  char32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > n) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned cc = p[i + k];
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

/// Decodes UTF-8 strictly (as Python's "utf-8" codec): overlong forms, surrogates and code points
/// beyond U+10FFFF throw InvalidArgument naming `what` and the byte offset.
inline void decode_utf8(std::string_view s, std::u32string& out, std::string_view what = "text") {
  out.clear();
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  auto fail = [&](std::size_t at) {
    throw InvalidArgument("orchard::ss3: argument '" + std::string(what) +
                          "' is not valid UTF-8 (byte offset " + std::to_string(at) + ")");
  };
  while (i < n) {
    const unsigned c = p[i];
    if (c < 0x80) {
      out.push_back(c);
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = decode_utf8_sequence(p, i, n, cp);
    if (len == 0) fail(i);
    out.push_back(cp);
    i += len;
  }
}

inline std::u32string decode_utf8(std::string_view s, std::string_view what = "text") {
  std::u32string out;
  decode_utf8(s, out, what);
  return out;
}

inline void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

inline std::string encode_utf8(const char32_t* b, const char32_t* e) {
  std::string out;
  out.reserve(static_cast<std::size_t>(e - b));
  for (; b != e; ++b) append_utf8(out, *b);
  return out;
}
inline std::string encode_utf8(const std::u32string& s) {
  return encode_utf8(s.data(), s.data() + s.size());
}

/// Byte offset of the first invalid UTF-8 sequence (the rules of decode_utf8), or npos when the
/// whole text is valid. Allocation free.
inline std::size_t utf8_invalid_at(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    while (i + 8 <= n) {  // ASCII runs eight bytes at a time
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = decode_utf8_sequence(p, i, n, cp);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

/// True when every byte sequence is valid UTF-8.
inline bool valid_utf8(std::string_view s) { return utf8_invalid_at(s) == std::string_view::npos; }

}  // namespace orchard::ss3::unicode
