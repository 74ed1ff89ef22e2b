#pragma once
// LibSVM / SVMlight reader: "label index:value index:value ... # comment" per line, indices 0- or
// 1-based (detected: 1-based unless a 0 index appears), "qid:N" tokens ignored, sparse rows
// made dense (absent entries 0, or NaN with absent_is_missing as XGBoost reads them). Spaces or
// tabs separate tokens; LF or CRLF line ends; blank and comment-only lines are skipped; gzip files
// are read transparently.
//
// Rejected with ParseError(file, line, column) where column is the first byte of the offending
// part: a non-numeric label, a token without ':' ("5"), a bad index ("x:1", "-1:2", "1.5:2"), a
// bad value ("3:abc"), a repeated index in one row, index 0 when index_base = 1, an index beyond
// num_features, more than 2^20 columns detected from the indices (without num_features), and more
// than 2^40 dense elements. A file without any data line throws ParseError
// "empty file". Bad options throw InvalidArgument.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "dataset.hpp"

namespace orchard::io {

/// Widest dense matrix read_libsvm builds from the indices it finds (num_features lifts it).
inline constexpr std::int64_t kMaxDetectedFeatures = std::int64_t{1} << 20;

/// Options of read_libsvm.
struct LibsvmOptions {
  int index_base = -1;             ///< 0, 1, or -1 = detect (1 unless a 0 index appears)
  std::int64_t num_features = 0;   ///< 0 = as many as the largest index needs
  bool absent_is_missing = false;  ///< absent entries NaN (XGBoost) instead of 0
};

/// Reads a LibSVM file into a dense Dataset (y = the labels, feature names "f0".."f{d-1}" where
/// column j holds index j + base). See the file comment for what is rejected.
template <class T = double>
Dataset<T> read_libsvm(const std::string& path, const LibsvmOptions& opt = {}) {
  static_assert(std::is_floating_point_v<T>, "read_libsvm: T must be float or double");
  require(opt.index_base == -1 || opt.index_base == 0 || opt.index_base == 1, "index_base",
          opt.index_base, "must be 0, 1 or -1 (detect)");
  require(opt.num_features >= 0, "num_features", opt.num_features, "must be >= 0 (0 = detect)");

  const std::string text = detail::read_all(path);
  struct Entry {
    std::int64_t row, index;
    double value;
  };
  std::vector<Entry> entries;
  std::vector<T> labels;
  std::int64_t min_index = std::numeric_limits<std::int64_t>::max();
  std::int64_t max_index = -1;
  std::int64_t max_line = 0, max_col = 0;
  std::vector<std::int64_t> seen;  // indices of the current row, to find repeats

  std::size_t pos = 0;
  std::int64_t line = 0;
  const std::size_t n_text = text.size();
  while (pos < n_text) {
    ++line;
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = n_text;
    const std::size_t line_begin = pos;
    std::size_t line_end = end;
    if (line_end > line_begin && text[line_end - 1] == '\r') --line_end;
    const std::size_t hash = text.find('#', line_begin);
    if (hash != std::string::npos && hash < line_end) line_end = hash;
    pos = end + 1;

    auto column = [&](std::size_t p) { return static_cast<std::int64_t>(p - line_begin) + 1; };
    std::size_t p = line_begin;
    auto next_token = [&](std::string_view& tok) {
      while (p < line_end && (text[p] == ' ' || text[p] == '\t')) ++p;
      if (p >= line_end) return false;
      const std::size_t b = p;
      while (p < line_end && text[p] != ' ' && text[p] != '\t') ++p;
      tok = std::string_view(text.data() + b, p - b);
      return true;
    };
    std::string_view tok;
    if (!next_token(tok)) continue;  // blank or comment-only line
    const auto row = static_cast<std::int64_t>(labels.size());
    double label = 0.0;
    if (!detail::parse_double(tok, label)) {
      throw ParseError(path, line, column(static_cast<std::size_t>(tok.data() - text.data())),
                       "label '" + std::string(tok) + "' is not a number");
    }
    labels.push_back(static_cast<T>(label));
    seen.clear();
    while (next_token(tok)) {
      const std::size_t tb = static_cast<std::size_t>(tok.data() - text.data());
      const auto colon = tok.find(':');
      if (colon == std::string_view::npos) {
        throw ParseError(path, line, column(tb),
                         "token '" + std::string(tok) + "' is not index:value");
      }
      const std::string_view key = tok.substr(0, colon);
      const std::string_view val = tok.substr(colon + 1);
      if (key == "qid") {
        std::int64_t q = 0;
        if (!detail::parse_index(val, q)) {
          throw ParseError(path, line, column(tb + colon + 1),
                           "qid '" + std::string(val) + "' is not a non-negative integer");
        }
        continue;
      }
      std::int64_t index = 0;
      if (!detail::parse_index(key, index) || index > (std::int64_t{1} << 40)) {
        throw ParseError(
            path, line, column(tb),
            "feature index '" + std::string(key) + "' is not a non-negative integer below 2^40");
      }
      double value = 0.0;
      if (!detail::parse_double(val, value)) {
        throw ParseError(path, line, column(tb + colon + 1),
                         "value '" + std::string(val) + "' is not a number");
      }
      if (std::find(seen.begin(), seen.end(), index) != seen.end()) {
        throw ParseError(path, line, column(tb),
                         "feature index " + std::to_string(index) + " repeats within the row");
      }
      seen.push_back(index);
      if (index == 0 && opt.index_base == 1) {
        throw ParseError(path, line, column(tb), "feature index 0 in a 1-based file");
      }
      entries.push_back({row, index, value});
      min_index = std::min(min_index, index);
      if (index > max_index) {
        max_index = index;
        max_line = line;
        max_col = column(tb);
      }
    }
  }
  if (labels.empty()) throw ParseError(path, 0, 0, "empty file");

  const int base = opt.index_base >= 0 ? opt.index_base : (min_index == 0 ? 0 : 1);
  std::int64_t d = 0;
  if (opt.num_features > 0) {
    d = opt.num_features;
    if (max_index >= 0 && max_index - base >= d) {
      throw ParseError(path, max_line, max_col,
                       "feature index " + std::to_string(max_index) + " is beyond num_features = " +
                           std::to_string(d) + " (" + (base == 1 ? "1" : "0") + "-based)");
    }
  } else {
    d = max_index < 0 ? 0 : max_index - base + 1;
    // A dense matrix this wide is never what a detected width means (a stray huge index in a
    // small file); a caller who truly wants it says so with num_features.
    if (d > kMaxDetectedFeatures) {
      throw ParseError(path, max_line, max_col,
                       "feature index " + std::to_string(max_index) + " would make " +
                           std::to_string(d) + " dense columns, more than 2^20; pass num_features "
                           "to read that many");
    }
  }
  const auto n = static_cast<std::int64_t>(labels.size());
  detail::checked_elements(path, static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(d),
                           "the dense matrix");

  const std::uint64_t bytes =
      static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(d) * sizeof(T);
  if (detail::exceeds_memory(bytes)) {
    throw ParseError(path, max_line, max_col,
                     "feature index " + std::to_string(max_index) + " makes the dense " +
                         std::to_string(n) + " x " + std::to_string(d) + " matrix need " +
                         std::to_string(bytes >> 20) + " MiB, more than this machine's memory");
  }
  Dataset<T> ds;
  try {
    ds.X.setConstant(
        n, d, opt.absent_is_missing ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(0));
  } catch (const std::bad_alloc&) {
    throw ParseError(path, max_line, max_col,
                     "the dense " + std::to_string(n) + " x " + std::to_string(d) +
                         " matrix this file needs cannot be allocated");
  }
  for (const auto& e : entries) ds.X(e.row, e.index - base) = static_cast<T>(e.value);
  ds.y.resize(n);
  std::copy(labels.begin(), labels.end(), ds.y.data());
  ds.feature_names = detail::default_feature_names(d);
  return ds;
}

}  // namespace orchard::io
