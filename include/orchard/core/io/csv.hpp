#pragma once
// CSV / TSV reader: optional header, label column by index or by name, NaN for missing values,
// RFC 4180 quoting (doubled quotes, delimiters and newlines inside quotes), LF or CRLF line ends,
// gzip-compressed files read transparently.
//
// Rejected with ParseError(file, line, column): fields that are neither numbers nor one of the
// `na_values` (column = first byte of the field), rows with a different field count than the first
// row / the header (column = first extra field, or the end of the short row), an unterminated
// quote, text after a closing quote, a file without any non-blank line ("empty file"), and a header
// with no data rows after it ("no data rows"). Blank lines are skipped everywhere. Lines and
// columns are 1-based; columns count bytes.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "dataset.hpp"

namespace orchard::io {

/// Options of read_csv / read_tsv.
struct CsvOptions {
  char delimiter = ',';            ///< field separator (read_tsv sets '\t')
  bool header = false;             ///< first (non-skipped) line holds the column names
  std::int64_t label_column = -1;  ///< index of the label column among all columns, -1 = none
  std::string label_name;          ///< or the label column by header name (needs header=true)
  std::vector<std::string> na_values = {"", "NA", "NaN", "nan", "?"};  ///< read as NaN
  std::int64_t skip_rows = 0;  ///< lines skipped before the header / first row
};

namespace detail {

struct CsvField {
  std::string text;
  std::int64_t line = 0;
  std::int64_t column = 0;
};

/// Splits a text buffer into records of fields, tracking line and column of each field.
class CsvScanner {
 public:
  CsvScanner(const std::string& text, char delim, std::string source)
      : s_(text), delim_(delim), source_(std::move(source)) {}

  /// Skips `n` physical lines (no quote handling).
  void skip_lines(std::int64_t n) {
    for (std::int64_t k = 0; k < n && pos_ < s_.size(); ++k) {
      const auto nl = s_.find('\n', pos_);
      pos_ = nl == std::string::npos ? s_.size() : nl + 1;
      new_line();
    }
  }

  /// Reads the next non-blank record into `fields`; false at the end of the text.
  bool next(std::vector<CsvField>& fields) {
    fields.clear();
    skip_blank_lines();
    if (pos_ >= s_.size()) return false;
    for (;;) {
      CsvField f;
      skip_spaces();
      f.line = line_;
      f.column = col();
      if (pos_ < s_.size() && s_[pos_] == '"') {
        read_quoted(f);
      } else {
        read_plain(f);
      }
      fields.push_back(std::move(f));
      if (pos_ >= s_.size()) {
        end_column_ = col();
        return true;
      }
      const char c = s_[pos_];
      if (c == delim_) {
        ++pos_;
        continue;
      }
      // c is '\n' or the '\r' of "\r\n"
      end_column_ = col();
      pos_ += (c == '\r') ? 2 : 1;
      new_line();
      return true;
    }
  }

  std::int64_t line() const { return line_; }
  /// Column just past the last byte of the record most recently read.
  std::int64_t end_column() const { return end_column_; }

 private:
  std::int64_t col() const { return static_cast<std::int64_t>(pos_ - line_start_) + 1; }
  void new_line() {
    ++line_;
    line_start_ = pos_;
  }
  bool is_space(char c) const { return (c == ' ' || c == '\t') && c != delim_; }
  bool at_line_end(std::size_t p) const {
    return p >= s_.size() || s_[p] == '\n' ||
           (s_[p] == '\r' && p + 1 < s_.size() && s_[p + 1] == '\n') ||
           (s_[p] == '\r' && p + 1 == s_.size());
  }
  void skip_spaces() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  }
  void skip_blank_lines() {
    while (pos_ < s_.size()) {
      std::size_t p = pos_;
      while (p < s_.size() && is_space(s_[p])) ++p;
      if (p >= s_.size()) {
        pos_ = p;
        return;
      }
      if (s_[p] == '\n') {
        pos_ = p + 1;
        new_line();
      } else if (s_[p] == '\r' && p + 1 < s_.size() && s_[p + 1] == '\n') {
        pos_ = p + 2;
        new_line();
      } else if (s_[p] == '\r' && p + 1 == s_.size()) {
        pos_ = s_.size();
      } else {
        return;
      }
    }
  }
  void read_plain(CsvField& f) {
    const std::size_t b = pos_;
    while (pos_ < s_.size() && s_[pos_] != delim_ && !at_line_end(pos_)) ++pos_;
    std::size_t e = pos_;
    while (e > b && is_space(s_[e - 1])) --e;
    f.text.assign(s_, b, e - b);
    if (pos_ < s_.size() && s_[pos_] == '\r' && pos_ + 1 == s_.size()) pos_ = s_.size();
  }
  void read_quoted(CsvField& f) {
    ++pos_;  // opening quote
    for (;;) {
      if (pos_ >= s_.size()) {
        throw ParseError(source_, f.line, f.column, "unterminated quoted field");
      }
      const char c = s_[pos_];
      if (c == '"') {
        if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '"') {
          f.text.push_back('"');
          pos_ += 2;
          continue;
        }
        ++pos_;
        break;
      }
      f.text.push_back(c);
      ++pos_;
      if (c == '\n') new_line();
    }
    skip_spaces();
    if (pos_ < s_.size() && s_[pos_] != delim_ && !at_line_end(pos_)) {
      throw ParseError(source_, line_, col(), "unexpected text after a closing quote");
    }
    if (pos_ < s_.size() && s_[pos_] == '\r' && pos_ + 1 == s_.size()) pos_ = s_.size();
  }

  const std::string& s_;
  char delim_;
  std::string source_;
  std::size_t pos_ = 0;
  std::size_t line_start_ = 0;
  std::int64_t line_ = 1;
  std::int64_t end_column_ = 0;
};

}  // namespace detail

/// Reads a delimited text file into a Dataset. See the file comment for what is rejected.
/// Throws IoError when the file cannot be read, InvalidArgument for bad options (label column out
/// of range, unknown label name, label_name without header).
template <class T = double>
Dataset<T> read_csv(const std::string& path, const CsvOptions& opt = {}) {
  static_assert(std::is_floating_point_v<T>, "read_csv: T must be float or double (NaN = missing)");
  require(opt.label_column >= -1, "label_column", opt.label_column, "must be >= -1 (-1 = none)");
  require(opt.skip_rows >= 0, "skip_rows", opt.skip_rows, "must be >= 0");
  require(opt.label_name.empty() || opt.header, "label_name", opt.label_name,
          "needs header = true");
  require(opt.delimiter != '"' && opt.delimiter != '\n' && opt.delimiter != '\r', "delimiter",
          static_cast<int>(opt.delimiter), "must not be a quote or a line break");

  const std::string text = detail::read_all(path);
  detail::CsvScanner sc(text, opt.delimiter, path);
  sc.skip_lines(opt.skip_rows);

  std::vector<detail::CsvField> rec;
  if (!sc.next(rec)) throw ParseError(path, 0, 0, "empty file");

  std::int64_t width = static_cast<std::int64_t>(rec.size());
  std::vector<std::string> names;
  const bool have_header = opt.header;
  if (have_header) {
    for (auto& f : rec) names.push_back(std::move(f.text));
  }
  std::int64_t label = opt.label_column;
  if (!opt.label_name.empty()) {
    std::int64_t found = -1;
    for (std::size_t j = 0; j < names.size(); ++j) {
      if (names[j] == opt.label_name) {
        found = static_cast<std::int64_t>(j);
        break;
      }
    }
    require(found >= 0, "label_name", opt.label_name, "is not a column name in '" + path + "'");
    require(label < 0 || label == found, "label_column", label,
            "disagrees with label_name '" + opt.label_name + "'");
    label = found;
  }
  require(label < width, "label_column", label,
          "is out of range for '" + path + "' with " + std::to_string(width) + " columns");

  const std::int64_t d = width - (label >= 0 ? 1 : 0);
  std::vector<T> xs;
  std::vector<T> ys;
  std::int64_t n = 0;

  auto is_na = [&](const std::string& s) {
    for (const auto& na : opt.na_values) {
      if (s == na) return true;
    }
    return false;
  };
  auto take = [&](const std::vector<detail::CsvField>& r) {
    const auto k = static_cast<std::int64_t>(r.size());
    if (k != width) {
      const std::int64_t col =
          k > width ? r[static_cast<std::size_t>(width)].column : sc.end_column();
      throw ParseError(path, k > width ? r[static_cast<std::size_t>(width)].line : r.back().line,
                       col,
                       "expected " + std::to_string(width) + " fields, found " + std::to_string(k));
    }
    for (std::int64_t j = 0; j < k; ++j) {
      const auto& f = r[static_cast<std::size_t>(j)];
      double v = std::numeric_limits<double>::quiet_NaN();
      if (!is_na(f.text) && !detail::parse_double(f.text, v)) {
        throw ParseError(path, f.line, f.column, "field '" + f.text + "' is not a number");
      }
      if (j == label) {
        ys.push_back(static_cast<T>(v));
      } else {
        xs.push_back(static_cast<T>(v));
      }
    }
    ++n;
  };

  if (!have_header) take(rec);
  while (sc.next(rec)) take(rec);
  if (n == 0) throw ParseError(path, sc.line(), 0, "no data rows after the header");

  Dataset<T> ds;
  detail::checked_elements(path, static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(d),
                           "the table");
  ds.X.resize(n, d);
  if (!xs.empty()) std::copy(xs.begin(), xs.end(), ds.X.data());
  if (label >= 0) {
    ds.y.resize(n);
    std::copy(ys.begin(), ys.end(), ds.y.data());
  }
  if (have_header) {
    for (std::int64_t j = 0; j < width; ++j) {
      if (j != label) ds.feature_names.push_back(std::move(names[static_cast<std::size_t>(j)]));
    }
  } else {
    ds.feature_names = detail::default_feature_names(d);
  }
  return ds;
}

/// read_csv with delimiter '\t'.
template <class T = double>
Dataset<T> read_tsv(const std::string& path, CsvOptions opt = {}) {
  opt.delimiter = '\t';
  return read_csv<T>(path, opt);
}

}  // namespace orchard::io
