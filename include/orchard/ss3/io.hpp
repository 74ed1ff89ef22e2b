#pragma once
// Model files of orchard::ss3: a versioned JSON document, a compact binary form (varint counts,
// xxHash64 checksum) and import of pyss3's .ss3m JSON models. JSON files store the counts and the
// values are recomputed on load, bit-identically. Binary files (version 3) store the counts of the
// present (term, category) entries only (per term: how many, then category step and count) and,
// by default, sg and gv of every present entry as raw doubles, so loading is a read: lv, max gv
// and cv follow from them in one cheap pass. A loaded model keeps the counts in that sparse form
// (no dense T x C table unless it learns again), and saving writes one buffer sized up front. Versions 1 and 2 (dense T x C counts; version 2
// with the optional values) are still read, and written on request.
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "../core/json.hpp"
#include "model.hpp"

namespace orchard::ss3 {

inline constexpr int model_format_version = 1;   ///< JSON documents
inline constexpr int binary_format_version = 3;  ///< binary files (1: dense counts; 2: + values; 3: sparse counts)

namespace detail {
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw IoError("orchard::ss3: cannot open '" + path + "' for reading");
  const std::streamoff size = in.tellg();
  if (size >= 0) {  // a regular file: one read into a buffer of the right size
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.seekg(0);
    if (in.read(bytes.data(), size)) return bytes;
    in.clear();
  }
  in.seekg(0);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
/// The bytes of a file read straight into an uninitialised buffer (no zero fill, no copy): model
/// files are read this way.
struct FileBytes {
  std::vector<char, UninitAllocator<char>> bytes;
  std::string_view view() const noexcept { return {bytes.data(), bytes.size()}; }
};
inline FileBytes read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw IoError("orchard::ss3: cannot open '" + path + "' for reading");
  const std::streamoff size = in.tellg();
  FileBytes f;
  if (size >= 0) {
    f.bytes.resize(static_cast<std::size_t>(size));
    populate_pages(f.bytes.data(), f.bytes.size());
    in.seekg(0);
    if (in.read(f.bytes.data(), size)) return f;
  }
  const std::string s = read_file(path);  // not a regular file: read as a stream
  f.bytes.assign(s.begin(), s.end());
  return f;
}
inline void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IoError("orchard::ss3: cannot open '" + path + "' for writing");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw IoError("orchard::ss3: failed writing '" + path + "'");
}

inline nlohmann::json params_json(const Params& p) {
  return {{"s", p.hyper.s},         {"l", p.hyper.l},
          {"p", p.hyper.p},         {"a", p.hyper.a},
          {"ngrams", p.ngrams},     {"sg_mode", to_string(p.sg_mode)},
          {"cv_mode", to_string(p.cv_mode)}, {"tokenizer", to_string(p.tokenizer)},
          {"prune_floor", p.prune_floor}, {"prune_trigger", p.prune_trigger}};
}
inline Params params_from_json(const nlohmann::json& j) {
  Params p;
  p.hyper.s = j.at("s").get<double>();
  p.hyper.l = j.at("l").get<double>();
  p.hyper.p = j.at("p").get<double>();
  p.hyper.a = j.at("a").get<double>();
  p.ngrams = json::get<int>(j, "ngrams", "ss3 params");
  p.sg_mode = parse_sg_mode(j.at("sg_mode").get<std::string>());
  p.cv_mode = parse_cv_mode(j.at("cv_mode").get<std::string>());
  p.tokenizer = parse_tokenizer_mode(j.at("tokenizer").get<std::string>());
  p.prune_floor = json::get<std::int64_t>(j, "prune_floor", "ss3 params");
  p.prune_trigger = json::get<std::int64_t>(j, "prune_trigger", "ss3 params");
  p.validate();
  return p;
}

/// Bounds-checked reader of the binary format.
class Reader {
 public:
  Reader(std::string_view b, std::size_t end) : b_(b), end_(end) {}
  void need(std::size_t n) const {
    if (pos_ + n > end_) throw FormatError("orchard::ss3: binary model is truncated");
  }
  template <class T>
  T pod() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::uint64_t varint() {
    if (pos_ < end_) {  // one-byte values (most counts) without the general loop
      const auto b0 = static_cast<unsigned char>(b_[pos_]);
      if (b0 < 0x80) {
        ++pos_;
        return b0;
      }
    }
    return varint_long();
  }
  /// The general case of varint (kept out of line so the one-byte path inlines).
  [[gnu::noinline]] std::uint64_t varint_long() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const auto byte = pod<std::uint8_t>();
      v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return v;
    }
    throw FormatError("orchard::ss3: bad varint in binary model");
  }
  std::string_view view() {
    const std::uint64_t n = varint();
    need(n);
    const std::string_view s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string str() { return std::string(view()); }
  std::size_t count(std::size_t max_each_bytes = 1) {
    const std::uint64_t n = varint();
    if (n > (end_ - pos_) / max_each_bytes + 1) throw FormatError("orchard::ss3: bad length in binary model");
    return static_cast<std::size_t>(n);
  }
  /// The bytes of n raw doubles (host byte order, as to_binary writes them), left in place.
  const char* doubles(std::size_t n) {
    if (n > (end_ - pos_) / sizeof(double)) throw FormatError("orchard::ss3: binary model is truncated");
    const char* p = b_.data() + pos_;
    pos_ += n * sizeof(double);
    return p;
  }
  bool done() const { return pos_ == end_; }
  /// Raw cursor access for tight decoding loops: the next byte, the end, and moving to a byte.
  const unsigned char* cursor() const noexcept { return reinterpret_cast<const unsigned char*>(b_.data()) + pos_; }
  const unsigned char* limit() const noexcept { return reinterpret_cast<const unsigned char*>(b_.data()) + end_; }
  void seek(const unsigned char* p) noexcept {
    pos_ = static_cast<std::size_t>(p - reinterpret_cast<const unsigned char*>(b_.data()));
  }
  std::size_t left() const { return end_ - pos_; }

 private:
  std::string_view b_;
  std::size_t end_, pos_ = 0;
};
inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
inline constexpr char binary_magic[8] = {'O', 'R', 'C', 'H', 'S', 'S', '3', 'B'};
}  // namespace detail

// ---- JSON ----------------------------------------------------------------------------------
inline nlohmann::json to_json(const Model& m) {
  nlohmann::json j;
  j["format"] = "orchard.ss3";
  j["version"] = model_format_version;
  j["params"] = detail::params_json(m.params());
  j["categories"] = m.categories();
  j["words"] = m.words();
  j["term_parent"] = m.term_parent();
  j["term_word"] = m.term_word();
  j["counts"] = m.counts();
  j["max_fr"] = m.max_fr();
  j["multilabel"] = m.multilabel();
  return j;
}

inline Model from_json(const nlohmann::json& j, const Context& ctx = Context(1)) {
  try {
    if (!j.is_object() || j.value("format", "") != "orchard.ss3")
      throw FormatError("orchard::ss3: not an orchard.ss3 model document");
    const int v = json::get<int>(j, "version", "ss3 model");
    if (v != model_format_version)
      throw FormatError("orchard::ss3: unsupported model version " + std::to_string(v));
    Model m(detail::params_from_json(j.at("params")));
    m.assign(j.at("categories").get<std::vector<std::string>>(),
             j.at("words").get<std::vector<std::string>>(),
             json::get<std::vector<std::int32_t>>(j, "term_parent", "ss3 model"),
             json::get<std::vector<std::int32_t>>(j, "term_word", "ss3 model"),
             json::get<std::vector<std::int64_t>>(j, "counts", "ss3 model"),
             json::get<std::vector<std::vector<std::int64_t>>>(j, "max_fr", "ss3 model"),
             j.at("multilabel").get<bool>(), ctx);
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(std::string("orchard::ss3: bad model document: ") + e.what());
  } catch (const InvalidArgument& e) {
    throw FormatError(std::string("orchard::ss3: bad model parameters: ") + e.what());
  }
}

inline void save_json(const Model& m, const std::string& path) {
  detail::write_file(path, to_json(m).dump());
}
inline Model load_json(const std::string& path, const Context& ctx = Context(1)) {
  const std::string text = detail::read_file(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw FormatError("orchard::ss3: '" + path + "' is not valid JSON: " + e.what());
  } catch (const nlohmann::json::exception& e) {  // out_of_range: a number beyond double
    throw FormatError("orchard::ss3: '" + path + "' is not valid JSON: " + e.what());
  }
  return from_json(j, ctx);
}

// ---- binary --------------------------------------------------------------------------------
namespace detail {
/// Writes the binary form into a buffer sized for the worst case up front (untouched pages of
/// it are never faulted in): raw stores, no capacity check per byte.
class Writer {
 public:
  explicit Writer(std::size_t capacity) {
    buf_.bytes.resize(capacity);
    p_ = buf_.bytes.data();
    end_ = p_ + capacity;
  }
  void varint(std::uint64_t v) noexcept {
    while (v >= 0x80) {
      *p_++ = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  template <class T>
  void pod(T v) noexcept {
    std::memcpy(p_, &v, sizeof(T));
    p_ += sizeof(T);
  }
  void bytes(const void* d, std::size_t n) noexcept {
    if (n) std::memcpy(p_, d, n);
    p_ += n;
  }
  void str(std::string_view s) noexcept {
    varint(s.size());
    bytes(s.data(), s.size());
  }
  /// Reserves n bytes and returns where they start.
  char* skip(std::size_t n) noexcept {
    char* at = p_;
    p_ += n;
    return at;
  }
  std::size_t size() const noexcept { return static_cast<std::size_t>(p_ - buf_.bytes.data()); }
  /// The bytes written, with the xxHash64 of them appended.
  FileBytes finish() {
    const std::uint64_t h = XXH64(buf_.bytes.data(), size(), 0);
    pod(h);
    if (p_ > end_) throw std::logic_error("orchard::ss3: binary writer overran its buffer");
    buf_.bytes.resize(size());  // shrinking keeps the buffer
    return std::move(buf_);
  }

 private:
  FileBytes buf_;
  char* p_;
  char* end_;
};
inline constexpr std::size_t max_varint_bytes = 10;

/// The compact binary form of m as bytes (to_binary's work; save_binary writes them directly).
inline FileBytes binary_bytes(const Model& m, bool store_values, int version) {
  require(version >= 1 && version <= binary_format_version, "version", version, "must be 1, 2 or 3");
  const std::size_t T = m.num_terms(), C = m.num_categories();
  const bool current = m.values_current();
  const bool with_values = version >= 2 && store_values && current;
  // the buffer is sized for every entry the rows can list, the value layout's when it is current
  // (pages of it that are never written are never touched)
  const std::size_t listed = current ? m.values().entries() : T * C;
  std::vector<std::uint32_t> cat(C);
  std::vector<std::int64_t> cnt(C);
  // worst case: every varint at its longest
  constexpr std::size_t V = max_varint_bytes;
  std::size_t cap = 8 + 4 + 4 * 8 + 3 + 3 * V + 1 + 8;  // magic, version, params, modes, multilabel, checksum
  for (const auto& c : m.categories()) cap += V + c.size();
  for (const auto& w : m.words()) cap += V + w.size();
  cap += 3 * V + 2 * V * T;  // category, word and term counts; parent and word of each term
  cap += version >= 3 ? V * T + 2 * V * listed : V * T * C;  // counts
  for (const auto& mf : m.max_fr()) cap += V + V * mf.size();  // max_fr
  cap += 1 + V + (with_values ? 16 * listed : 0);              // values flag, count, values
  Writer out(cap);
  out.bytes(binary_magic, 8);
  out.pod<std::uint32_t>(static_cast<std::uint32_t>(version));
  const Params& p = m.params();
  out.pod(p.hyper.s);
  out.pod(p.hyper.l);
  out.pod(p.hyper.p);
  out.pod(p.hyper.a);
  out.varint(static_cast<std::uint64_t>(p.ngrams));
  out.pod<std::uint8_t>(static_cast<std::uint8_t>(p.sg_mode));
  out.pod<std::uint8_t>(static_cast<std::uint8_t>(p.cv_mode));
  out.pod<std::uint8_t>(static_cast<std::uint8_t>(p.tokenizer));
  out.varint(static_cast<std::uint64_t>(p.prune_floor));
  out.varint(static_cast<std::uint64_t>(p.prune_trigger));
  out.pod<std::uint8_t>(m.multilabel() ? 1 : 0);
  out.varint(m.categories().size());
  for (const auto& c : m.categories()) out.str(c);
  out.varint(m.words().size());
  for (const auto& w : m.words()) out.str(w);
  out.varint(T);
  const auto& parent = m.term_parent();
  const auto& word = m.term_word();
  for (std::size_t t = 0; t < T; ++t) {
    out.varint(static_cast<std::uint64_t>(parent[t] + 1));
    out.varint(static_cast<std::uint64_t>(word[t]));
  }
  std::size_t present = 0;  // entries with a count (and with stored values)
  // the value-table index of every present entry, gathered with the counts (version 3 with
  // values), so the values are copied without reading the counts again
  std::vector<std::size_t, UninitAllocator<std::size_t>> at(version >= 3 && with_values ? listed : 0);
  if (version >= 3) {  // per term: number of categories, then (category step, count) pairs
    for (std::size_t t = 0; t < T; ++t) {
      const std::size_t n = m.present_entries(t, cat.data(), cnt.data(), at.empty() ? nullptr : at.data() + present, current);
      out.varint(n);
      std::uint32_t next = 0;  // the first category the next step counts from
      for (std::size_t i = 0; i < n; ++i) {
        out.varint(cat[i] - next);
        out.varint(static_cast<std::uint64_t>(cnt[i]));
        next = cat[i] + 1;
      }
      present += n;
    }
  } else {
    for (const auto v : m.counts()) present += v > 0, out.varint(static_cast<std::uint64_t>(v));
  }
  for (const auto& mf : m.max_fr()) {
    out.varint(mf.size());
    for (auto v : mf) out.varint(static_cast<std::uint64_t>(v));
  }
  // version 2 and later: the values (sg, gv of the present entries), when they match the counts
  if (version >= 2) out.pod<std::uint8_t>(with_values ? 1 : 0);
  if (with_values) {  // present sg values, then present gv values, raw
    out.varint(present);
    char* sgp = out.skip(8 * present);
    char* gvp = out.skip(8 * present);
    const auto& vt = m.values();
    if (at.empty()) {  // versions 1 and 2: gathered here
      at.resize(present);
      std::size_t k = 0;
      for (std::size_t t = 0; t < T; ++t) k += m.present_entries(t, cat.data(), cnt.data(), at.data() + k, true);
      if (k != present) throw std::logic_error("orchard::ss3: value entries do not match the counts");
    }
    for (std::size_t k = 0; k < present; ++k) {
      std::memcpy(sgp + 8 * k, &vt.sg[at[k]], 8);
      std::memcpy(gvp + 8 * k, &vt.gv[at[k]], 8);
    }
  }
  return out.finish();
}
}  // namespace detail

/// The compact binary form of m. store_values also writes sg and gv of every present entry so
/// load need not recompute them (values that are not current are never stored). version: 3 (the
/// default: sparse counts), or 1 / 2 (dense T x C counts, as older releases wrote; version 1 has
/// no values).
inline std::string to_binary(const Model& m, bool store_values = true, int version = binary_format_version) {
  const detail::FileBytes f = detail::binary_bytes(m, store_values, version);
  return std::string(f.view());
}

inline Model from_binary(std::string_view b, const Context& ctx = Context(1)) {
  using namespace detail;
  if (b.size() < 8 + 4 + 8 || std::memcmp(b.data(), binary_magic, 8) != 0)
    throw FormatError("orchard::ss3: not an orchard ss3 binary model (bad magic or truncated)");
  const std::size_t end = b.size() - 8;
  std::uint64_t stored;
  std::memcpy(&stored, b.data() + end, 8);
  if (XXH64(b.data(), end, 0) != stored)
    throw FormatError("orchard::ss3: binary model checksum mismatch (truncated or corrupted)");
  Reader r(b, end);
  for (int i = 0; i < 8; ++i) r.pod<char>();
  const auto v = r.pod<std::uint32_t>();
  if (v < 1 || v > static_cast<std::uint32_t>(binary_format_version))
    throw FormatError("orchard::ss3: unsupported binary model version " + std::to_string(v));
  Params p;
  p.hyper.s = r.pod<double>();
  p.hyper.l = r.pod<double>();
  p.hyper.p = r.pod<double>();
  p.hyper.a = r.pod<double>();
  p.ngrams = static_cast<int>(r.varint());
  const auto sg = r.pod<std::uint8_t>(), cvm = r.pod<std::uint8_t>(), tk = r.pod<std::uint8_t>();
  if (sg > 1 || cvm > 1 || tk > 1) throw FormatError("orchard::ss3: bad mode in binary model");
  p.sg_mode = static_cast<SgMode>(sg);
  p.cv_mode = static_cast<CvMode>(cvm);
  p.tokenizer = static_cast<TokenizerMode>(tk);
  p.prune_floor = static_cast<std::int64_t>(r.varint());
  p.prune_trigger = static_cast<std::int64_t>(r.varint());
  try {
    p.validate();
  } catch (const InvalidArgument& e) {
    throw FormatError(std::string("orchard::ss3: bad parameters in binary model: ") + e.what());
  }
  const bool ml = r.pod<std::uint8_t>() != 0;
  std::vector<std::string> cats(r.count());
  for (auto& c : cats) c = r.str();
  std::vector<std::string> words;
  const std::size_t num_words = r.count();
  words.reserve(num_words);  // each word built once, in place
  for (std::size_t i = 0; i < num_words; ++i) words.emplace_back(r.view());
  const std::size_t T = r.count(2);
  // the varints of the term and count sections from a local cursor (no bounds check per byte
  // while 10 bytes are left); the reader takes the last few bytes
  const unsigned char* cur = r.cursor();
  const unsigned char* const pe = r.limit();
  // without any bounds check: for a run of varints that ends at least 10 bytes per varint before
  // the end (the caller checks that once for the run)
  const auto vu = [&]() -> std::uint64_t {
    if (*cur < 0x80) return *cur++;
    std::uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const unsigned b = *cur++;
      x |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return x;
    }
    throw FormatError("orchard::ss3: bad varint in binary model");
  };
  const auto vi_long = [&]() -> std::uint64_t {
    if (pe - cur >= 10) return vu();
    r.seek(cur);
    const std::uint64_t x = r.varint();
    cur = r.cursor();
    return x;
  };
  const auto vi = [&]() -> std::uint64_t {
    if (cur < pe && *cur < 0x80) return *cur++;  // most values
    return vi_long();
  };
  std::vector<std::int32_t> parent, word;
  resize_populated(parent, T);
  resize_populated(word, T);
  for (std::size_t t = 0; t < T; ++t) {
    if (pe - cur >= static_cast<std::ptrdiff_t>(2 * max_varint_bytes)) {
      parent[t] = static_cast<std::int32_t>(vu()) - 1;
      word[t] = static_cast<std::int32_t>(vu());
    } else {
      parent[t] = static_cast<std::int32_t>(vi()) - 1;
      word[t] = static_cast<std::int32_t>(vi());
    }
  }
  r.seek(cur);
  const std::size_t C = cats.size();
  Model::SparseCounts sc;
  std::vector<std::int64_t> fr;  // versions 1 and 2: dense
  if (v >= 3) {
    // the counts become a dense T x C table if the loaded model learns: refuse one far beyond
    // what a file of this size describes (256 entries per byte; a real model needs a few bytes
    // per term)
    if (C > 0 && T > std::max<std::size_t>(std::size_t{1} << 20, 256 * end) / C)
      throw FormatError("orchard::ss3: binary model declares " + std::to_string(T) + " terms x " +
                        std::to_string(C) + " categories, too many for its size");
    resize_populated(sc.row, T + 1);
    sc.row[0] = 0;  // the other offsets are written as the rows are decoded
    // at most one entry per two bytes left (step and count): reserved once, so the entries are
    // never moved while they grow (pages of the reserve that are never written are never touched)
    const std::size_t max_entries = std::min(r.left() / 2, T * C);
    sc.cat.reserve(max_entries);
    sc.count.reserve(max_entries);
    cur = r.cursor();
    // one term's row: the checks assign_sparse would repeat are made here (counts_checked)
    const auto decode_row = [&](std::size_t t, auto&& next_varint) {
      const std::uint64_t n = next_varint();
      if (n > C) throw FormatError("orchard::ss3: bad number of categories of a term in binary model");
      std::uint64_t next = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t c = next + next_varint();
        const std::uint64_t f = next_varint();
        if (c >= C || c < next) throw FormatError("orchard::ss3: bad category index in binary model");
        if (f < 1 || f > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          throw FormatError("orchard::ss3: bad count in binary model");
        sc.cat.push_back(static_cast<std::uint32_t>(c));
        sc.count.push_back(static_cast<std::int64_t>(f));
        next = c + 1;
      }
      sc.row[t + 1] = sc.cat.size();
    };
    // a row holds at most 1 + 2 C varints: rows that start at least that many varints before the
    // end are decoded without bounds checks (all but the last few in a file with stored values)
    const auto row_bytes = static_cast<std::ptrdiff_t>(max_varint_bytes * (1 + 2 * C));
    // the reserve is only a bound: its pages are populated one block of entries ahead
    constexpr std::size_t populate_block = std::size_t{1} << 14;
    std::size_t populated = 0;
    for (std::size_t t = 0; t < T; ++t) {
      if (sc.cat.size() + C > populated && populated < max_entries) {
        const std::size_t n = std::min(populate_block, max_entries - populated);
        populate_pages(sc.cat.data() + populated, n * sizeof(std::uint32_t));
        populate_pages(sc.count.data() + populated, n * sizeof(std::int64_t));
        populated += n;
      }
      if (pe - cur >= row_bytes) {
        decode_row(t, vu);
      } else {
        decode_row(t, vi);
      }
    }
    r.seek(cur);
  } else {
    if (C > 0 && T > (end) / C + 1) throw FormatError("orchard::ss3: bad term count");
    fr.resize(T * C);
    for (auto& f : fr) f = static_cast<std::int64_t>(r.varint());
  }
  std::vector<std::vector<std::int64_t>> max_fr(cats.size());
  for (auto& mf : max_fr) {
    mf.resize(r.count());
    for (auto& x : mf) x = static_cast<std::int64_t>(r.varint());
  }
  StoredValues sv;
  bool with_values = false;
  if (v >= 2) {
    const auto flag = r.pod<std::uint8_t>();
    if (flag > 1) throw FormatError("orchard::ss3: bad values flag in binary model");
    with_values = flag == 1;
    if (with_values) {
      sv.count = r.count(16);
      sv.sg = r.doubles(sv.count);
      sv.gv = r.doubles(sv.count);
    }
  }
  if (!r.done()) throw FormatError("orchard::ss3: trailing bytes in binary model");
  Model m(p);
  if (v >= 3) {
    m.assign_sparse(std::move(cats), std::move(words), std::move(parent), std::move(word), std::move(sc),
                    std::move(max_fr), ml, ctx, with_values ? &sv : nullptr, /*counts_checked=*/true);
  } else {
    m.assign(std::move(cats), std::move(words), std::move(parent), std::move(word), std::move(fr),
             std::move(max_fr), ml, ctx, with_values ? &sv : nullptr);
  }
  return m;
}

inline void save_binary(const Model& m, const std::string& path, bool store_values = true) {
  const detail::FileBytes f = detail::binary_bytes(m, store_values, binary_format_version);
  detail::write_file(path, f.view());
}
inline Model load_binary(const std::string& path, const Context& ctx = Context(1)) {
  const detail::FileBytes f = detail::read_file_bytes(path);
  return from_binary(f.view(), ctx);
}

/// Saves as binary when the path ends in ".ss3b", as JSON otherwise.
inline void save(const Model& m, const std::string& path) {
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".ss3b") == 0) {
    save_binary(m, path);
  } else {
    save_json(m, path);
  }
}
/// Loads any of the three formats, recognised by content.
inline Model load(const std::string& path, const Context& ctx = Context(1));

// ---- pyss3 .ss3m import --------------------------------------------------------------------
/// Imports a pyss3 model (the JSON written by SS3.save_model). Counts, maxima and
/// hyperparameters are taken from the file and values recomputed (they equal pyss3's cached ones).
inline Model import_pyss3_json(const nlohmann::json& j, const Context& ctx = Context(1)) {
  try {
    Params p;
    p.tokenizer = TokenizerMode::pyss3;  // the model was learned with pyss3's preprocessing
    p.hyper.s = j.at("__s__").get<double>();
    p.hyper.l = j.at("__l__").get<double>();
    p.hyper.p = j.at("__p__").get<double>();
    p.hyper.a = j.at("__a__").get<double>();
    const std::string cvm = j.at("__cv_mode__").get<std::string>();
    if (cvm == "gv") throw FormatError("orchard::ss3: pyss3 cv mode 'gv' is not supported");
    p.cv_mode = parse_cv_mode(cvm);
    p.sg_mode = parse_sg_mode(j.contains("__sg_mode__") ? j.at("__sg_mode__").get<std::string>()
                                                         : j.at("__sn_mode__").get<std::string>());
    const bool ml = j.value("__multilabel__", false);
    const auto& i2w = j.at("__index_to_word__");
    std::vector<std::string> words(i2w.size());
    std::vector<std::uint8_t> seen(i2w.size(), 0);
    for (auto it = i2w.begin(); it != i2w.end(); ++it) {
      const std::size_t idx = std::stoul(it.key());
      if (idx >= words.size() || seen[idx]) throw FormatError("orchard::ss3: bad __index_to_word__");
      seen[idx] = 1;
      words[idx] = it.value().get<std::string>();
    }
    const auto& cats_j = j.at("__categories__");
    const std::size_t C = cats_j.size(), V = words.size();
    std::vector<std::string> cats(C);
    std::vector<std::vector<std::int64_t>> max_fr =
        json::get<std::vector<std::vector<std::int64_t>>>(j, "__max_fr__", "pyss3 model");
    if (max_fr.size() != C) throw FormatError("orchard::ss3: __max_fr__ size mismatch");
    // terms: unigrams first (id = word index), then n-grams by length
    std::vector<std::int32_t> parent(V, -1), word(V);
    for (std::size_t w = 0; w < V; ++w) word[w] = static_cast<std::int32_t>(w);
    std::map<std::pair<std::int32_t, std::int32_t>, std::int32_t> child;
    std::vector<std::vector<std::pair<std::size_t, std::int64_t>>> counts(V);  // per term (c, fr)
    struct Item {
      const nlohmann::json* node;
      std::int32_t parent;
    };
    for (std::size_t c = 0; c < C; ++c) cats[c] = cats_j.at(c).at(0).get<std::string>();
    // breadth first over all categories together so parents precede children
    std::vector<std::vector<Item>> per_cat(C);
    for (std::size_t c = 0; c < C; ++c) per_cat[c].push_back({&cats_j.at(c).at(1), -1});
    for (int depth = 0; depth < 64; ++depth) {
      bool any = false;
      std::vector<std::vector<Item>> next(C);
      for (std::size_t c = 0; c < C; ++c) {
        for (const auto& it : per_cat[c]) {
          if (it.node->is_null()) continue;
          for (auto kv = it.node->begin(); kv != it.node->end(); ++kv) {
            const long wl = std::stol(kv.key());
            if (wl < 0 || static_cast<unsigned long>(wl) >= V) throw FormatError("orchard::ss3: bad word index");
            const auto w = static_cast<std::int32_t>(wl);
            std::int32_t t;
            if (it.parent < 0) {
              t = w;
            } else {
              auto f = child.find({it.parent, w});
              if (f == child.end()) {
                t = static_cast<std::int32_t>(parent.size());
                parent.push_back(it.parent);
                word.push_back(w);
                counts.emplace_back();
                child.emplace(std::make_pair(it.parent, w), t);
              } else {
                t = f->second;
              }
            }
            const auto& info = kv.value();
            counts[static_cast<std::size_t>(t)].emplace_back(c, json::as<std::int64_t>(info.at(1), "pyss3 model: term count"));
            next[c].push_back({&info.at(0), t});
            any = true;
          }
        }
      }
      per_cat.swap(next);
      if (!any) break;
    }
    // terms x categories counts: refuse a table far beyond what the file holds (2^32 entries).
    if (C != 0 && parent.size() > (std::size_t{1} << 32) / C)
      throw FormatError("orchard::ss3: pyss3 model declares " + std::to_string(parent.size()) +
                        " terms x " + std::to_string(C) + " categories, more than 2^32 counts");
    std::vector<std::int64_t> fr(parent.size() * C, 0);
    for (std::size_t t = 0; t < parent.size(); ++t)
      for (const auto& [c, f] : counts[t]) fr[t * C + c] = f;
    Model m(p);
    m.assign(std::move(cats), std::move(words), std::move(parent), std::move(word), std::move(fr),
             std::move(max_fr), ml, ctx);
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(std::string("orchard::ss3: bad pyss3 model: ") + e.what());
  } catch (const std::logic_error& e) {  // stoul / stol
    throw FormatError(std::string("orchard::ss3: bad pyss3 model: ") + e.what());
  }
}
inline Model import_pyss3(const std::string& path, const Context& ctx = Context(1)) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(detail::read_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw FormatError("orchard::ss3: '" + path + "' is not valid JSON: " + e.what());
  } catch (const nlohmann::json::exception& e) {  // out_of_range: a number beyond double
    throw FormatError("orchard::ss3: '" + path + "' is not valid JSON: " + e.what());
  }
  return import_pyss3_json(j, ctx);
}

inline Model load(const std::string& path, const Context& ctx) {
  const detail::FileBytes f = detail::read_file_bytes(path);
  const std::string_view b = f.view();
  if (b.size() >= 8 && std::memcmp(b.data(), detail::binary_magic, 8) == 0) return from_binary(b, ctx);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(b);
  } catch (const nlohmann::json::parse_error& e) {
    throw FormatError("orchard::ss3: '" + path + "' is neither a binary nor a JSON model: " + e.what());
  } catch (const nlohmann::json::exception& e) {  // out_of_range: a number beyond double
    throw FormatError("orchard::ss3: '" + path + "' is neither a binary nor a JSON model: " + e.what());
  }
  if (j.is_object() && j.contains("__categories__")) return import_pyss3_json(j, ctx);
  return from_json(j, ctx);
}

}  // namespace orchard::ss3
