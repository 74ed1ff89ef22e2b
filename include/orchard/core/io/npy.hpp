#pragma once
// NumPy .npy reader and writer.
//
// Reading parses and validates the header here (xt::load_npy trusts its input: it neither checks
// truncation nor converts dtypes), then reads the data straight into the result, converting any of
// the dtypes float32/float64, int8/16/32/64, uint8/16/32/64 and bool, little- or big-endian, C or
// Fortran order, format versions 1.0, 2.0 and 3.0. Shapes: () -> 1 x 1, (n,) -> n x 1, (n, d) ->
// n x d, (n, a, b, ...) -> n x (a * b * ...) (C-order flattening of the trailing axes).
// Writing goes through xtensor's xt::dump_npy (version 1.0 header, C order, native dtype).
//
// Rejected with ParseError: a bad magic or version, a header cut short or that is not the Python
// dict {'descr': ..., 'fortran_order': ..., 'shape': (...)} (line 1, column = byte offset + 1 of
// the problem), an unsupported dtype (structured, complex, float16, object, strings), more than
// 2^40 elements, data shorter than the shape needs ("truncated") or bytes after it, an empty
// file, and (reading into an integer T) an element that does not fit in T (NaN, out of range).
// IoError when the file cannot be opened or read.
#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "dataset.hpp"

namespace orchard::io {

namespace detail {

/// What a validated .npy header says.
struct NpyHeader {
  char kind = 0;         ///< 'f', 'i', 'u' or 'b'
  std::size_t size = 0;  ///< bytes per element
  bool big_endian = false;
  bool fortran = false;
  std::vector<std::uint64_t> shape;
  std::uint64_t count = 1;   ///< number of elements
  std::uint64_t offset = 0;  ///< byte offset of the data
};

/// A tiny parser for the header dict, reporting positions as file columns.
class NpyDictParser {
 public:
  NpyDictParser(const std::string& path, const std::string& text, std::uint64_t base)
      : path_(path), s_(text), base_(base) {}

  void parse(NpyHeader& h) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') {
        ++p_;
        break;
      }
      const std::size_t key_pos = p_;
      const std::string key = string_literal();
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (have_descr) fail(key_pos, "repeated key 'descr'");
        have_descr = true;
        if (peek() != '\'' && peek() != '"') {
          fail(p_, "unsupported dtype (structured dtypes are not read)");
        }
        const std::size_t at = p_;
        parse_descr(string_literal(), at, h);
      } else if (key == "fortran_order") {
        if (have_fortran) fail(key_pos, "repeated key 'fortran_order'");
        have_fortran = true;
        const std::size_t at = p_;
        const std::string w = word();
        if (w == "True") {
          h.fortran = true;
        } else if (w == "False") {
          h.fortran = false;
        } else {
          fail(at, "fortran_order must be True or False");
        }
      } else if (key == "shape") {
        if (have_shape) fail(key_pos, "repeated key 'shape'");
        have_shape = true;
        parse_shape(h);
      } else {
        fail(key_pos, "unknown header key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') {
        ++p_;
      } else if (peek() != '}') {
        fail(p_, "expected ',' or '}' in the header dict");
      }
    }
    skip_ws();
    if (p_ != s_.size()) fail(p_, "unexpected text after the header dict");
    if (!have_descr) fail(p_, "header has no 'descr'");
    if (!have_fortran) fail(p_, "header has no 'fortran_order'");
    if (!have_shape) fail(p_, "header has no 'shape'");
  }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& msg) const {
    throw ParseError(path_, 1, static_cast<std::int64_t>(base_ + at) + 1, msg);
  }
  char peek() const { return p_ < s_.size() ? s_[p_] : '\0'; }
  void skip_ws() {
    while (p_ < s_.size() &&
           (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) {
      ++p_;
    }
  }
  void expect(char c) {
    if (peek() != c) fail(p_, std::string("expected '") + c + "' in the header");
    ++p_;
  }
  std::string string_literal() {
    const char q = peek();
    if (q != '\'' && q != '"') fail(p_, "expected a quoted string in the header");
    const std::size_t b = ++p_;
    while (p_ < s_.size() && s_[p_] != q) ++p_;
    if (p_ >= s_.size()) fail(b - 1, "unterminated string in the header");
    return s_.substr(b, p_++ - b);
  }
  std::string word() {
    const std::size_t b = p_;
    while (p_ < s_.size() &&
           ((s_[p_] >= 'A' && s_[p_] <= 'Z') || (s_[p_] >= 'a' && s_[p_] <= 'z'))) {
      ++p_;
    }
    return s_.substr(b, p_ - b);
  }
  void parse_descr(const std::string& d, std::size_t at, NpyHeader& h) {
    auto bad = [&] { fail(at, "unsupported dtype '" + d + "'"); };
    if (d.size() < 3) bad();
    const char order = d[0];
    h.kind = d[1];
    std::int64_t sz = 0;
    if (!parse_index(std::string_view(d).substr(2), sz)) bad();
    h.size = static_cast<std::size_t>(sz);
    if (order != '<' && order != '>' && order != '|' && order != '=') bad();
    h.big_endian = (order == '>') || (order == '=' && std::endian::native == std::endian::big);
    if (order == '<') h.big_endian = false;
    const bool ok =
        (h.kind == 'f' && (sz == 4 || sz == 8)) ||
        ((h.kind == 'i' || h.kind == 'u') && (sz == 1 || sz == 2 || sz == 4 || sz == 8)) ||
        (h.kind == 'b' && sz == 1);
    if (!ok) bad();
    if (order == '|' && sz != 1) bad();
  }
  void parse_shape(NpyHeader& h) {
    expect('(');
    h.shape.clear();
    for (;;) {
      skip_ws();
      if (peek() == ')') {
        ++p_;
        break;
      }
      const std::size_t b = p_;
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
      std::int64_t v = 0;
      if (!parse_index(std::string_view(s_).substr(b, p_ - b), v)) {
        fail(b, "shape entries must be non-negative integers");
      }
      if (peek() == 'L') ++p_;  // Python 2 long literal
      if (static_cast<std::uint64_t>(v) > kMaxElements) {
        fail(b, "shape entry " + std::to_string(v) + " exceeds the limit of 2^40 elements");
      }
      h.shape.push_back(static_cast<std::uint64_t>(v));
      skip_ws();
      if (peek() == ',') {
        ++p_;
      } else if (peek() != ')') {
        fail(p_, "expected ',' or ')' in the shape");
      }
    }
  }

  const std::string& path_;
  const std::string& s_;
  std::uint64_t base_;
  std::size_t p_ = 0;
};

/// Opens `path`, reads and validates the header, checks the data size against the file size.
inline NpyHeader read_npy_header(const std::string& path, std::ifstream& in) {
  check_regular_file(path);
  const std::uint64_t total = file_size(path);
  in.open(path, std::ios::binary);
  if (!in) throw IoError("orchard: cannot open '" + path + "'");
  if (total == 0) throw ParseError(path, 0, 0, "empty file");
  unsigned char pre[12] = {};
  const std::uint64_t got = std::min<std::uint64_t>(total, 12);
  in.read(reinterpret_cast<char*>(pre), static_cast<std::streamsize>(got));
  if (!in) throw IoError("orchard: read error in '" + path + "'");
  static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  for (std::size_t k = 0; k < 6 && k < got; ++k) {
    if (pre[k] != magic[k]) throw ParseError(path, 1, 1, "not a .npy file (bad magic)");
  }
  if (got < 10) throw ParseError(path, 1, static_cast<std::int64_t>(got) + 1, "truncated header");
  const unsigned major = pre[6], minor = pre[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    throw ParseError(
        path, 1, 7,
        "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  }
  std::uint64_t hlen = 0, hstart = 0;
  if (major == 1) {
    hlen = std::uint64_t{pre[8]} | (std::uint64_t{pre[9]} << 8);
    hstart = 10;
  } else {
    if (got < 12) throw ParseError(path, 1, static_cast<std::int64_t>(got) + 1, "truncated header");
    hlen = std::uint64_t{pre[8]} | (std::uint64_t{pre[9]} << 8) | (std::uint64_t{pre[10]} << 16) |
           (std::uint64_t{pre[11]} << 24);
    hstart = 12;
  }
  if (hstart + hlen > total) {
    throw ParseError(path, 1, static_cast<std::int64_t>(total) + 1,
                     "truncated header: it declares " + std::to_string(hlen) +
                         " bytes, the file has " + std::to_string(total - hstart) +
                         " after the prefix");
  }
  std::string text(static_cast<std::size_t>(hlen), '\0');
  in.seekg(static_cast<std::streamoff>(hstart));
  in.read(text.data(), static_cast<std::streamsize>(hlen));
  if (!in) throw IoError("orchard: read error in '" + path + "'");
  NpyHeader h;
  NpyDictParser(path, text, hstart).parse(h);
  h.offset = hstart + hlen;
  h.count = 1;
  for (auto s : h.shape) h.count = checked_elements(path, h.count, s, "the .npy header");
  const std::uint64_t need = checked_elements(path, h.count, h.size, "the .npy header");
  const std::uint64_t have = total - h.offset;
  if (have < need) {
    throw ParseError(path, 0, 0,
                     "truncated data: the shape needs " + std::to_string(need) +
                         " bytes, the file holds " + std::to_string(have));
  }
  if (have > need) {
    throw ParseError(path, 0, 0,
                     "unexpected " + std::to_string(have - need) + " bytes after the " +
                         std::to_string(need) + " data bytes");
  }
  return h;
}

template <class U>
U npy_load(const unsigned char* p, bool swap) {
  unsigned char b[sizeof(U)];
  if (swap) {
    for (std::size_t k = 0; k < sizeof(U); ++k) b[k] = p[sizeof(U) - 1 - k];
  } else {
    std::memcpy(b, p, sizeof(U));
  }
  U u;
  std::memcpy(&u, b, sizeof(U));
  return u;
}

/// Reads the data of a validated file into dst (C order of the full shape) as T.
template <class T, class U, bool Bool = false>
void npy_read_as(std::ifstream& in, const std::string& path, const NpyHeader& h, T* dst) {
  const bool swap = h.big_endian != (std::endian::native == std::endian::big);
  const std::size_t nd = h.shape.size();
  // Fortran order: walk the file order (first axis fastest) and place by C-order strides.
  const bool fortran = h.fortran && nd > 1;
  std::vector<std::uint64_t> idx(nd, 0), cstride(nd, 1);
  for (std::size_t j = nd; j-- > 1;) cstride[j - 1] = cstride[j] * h.shape[j];
  std::uint64_t dest = 0;
  if (!fortran && std::is_same_v<T, U> && !Bool && !swap) {
    in.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(h.count * sizeof(U)));
    if (!in) throw IoError("orchard: read error in '" + path + "'");
    return;
  }
  std::vector<unsigned char> buf;
  const std::uint64_t per_chunk = (std::uint64_t{1} << 20) / sizeof(U);
  for (std::uint64_t k0 = 0; k0 < h.count; k0 += per_chunk) {
    const std::uint64_t m = std::min(per_chunk, h.count - k0);
    buf.resize(static_cast<std::size_t>(m * sizeof(U)));
    in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
    if (!in) throw IoError("orchard: read error in '" + path + "'");
    for (std::uint64_t k = 0; k < m; ++k) {
      U u = npy_load<U>(buf.data() + k * sizeof(U), swap);
      T v;
      if constexpr (Bool) {
        v = static_cast<T>(u != 0 ? 1 : 0);
      } else {
        v = convert_element<T>(u, path, k0 + k);
      }
      if (!fortran) {
        dst[k0 + k] = v;
        continue;
      }
      dst[dest] = v;
      for (std::size_t j = 0; j < nd; ++j) {
        if (++idx[j] < h.shape[j]) {
          dest += cstride[j];
          break;
        }
        dest -= (h.shape[j] - 1) * cstride[j];
        idx[j] = 0;
      }
    }
  }
}

template <class T>
void npy_read_data(std::ifstream& in, const std::string& path, const NpyHeader& h, T* dst) {
  in.clear();
  in.seekg(static_cast<std::streamoff>(h.offset));
  if (h.count == 0) return;
  switch (h.kind) {
    case 'f':
      if (h.size == 4) return npy_read_as<T, float>(in, path, h, dst);
      return npy_read_as<T, double>(in, path, h, dst);
    case 'i':
      if (h.size == 1) return npy_read_as<T, std::int8_t>(in, path, h, dst);
      if (h.size == 2) return npy_read_as<T, std::int16_t>(in, path, h, dst);
      if (h.size == 4) return npy_read_as<T, std::int32_t>(in, path, h, dst);
      return npy_read_as<T, std::int64_t>(in, path, h, dst);
    case 'u':
      if (h.size == 1) return npy_read_as<T, std::uint8_t>(in, path, h, dst);
      if (h.size == 2) return npy_read_as<T, std::uint16_t>(in, path, h, dst);
      if (h.size == 4) return npy_read_as<T, std::uint32_t>(in, path, h, dst);
      return npy_read_as<T, std::uint64_t>(in, path, h, dst);
    default:
      return npy_read_as<T, std::uint8_t, true>(in, path, h, dst);
  }
}

}  // namespace detail

/// Reads a .npy file as a row-major matrix (see the file comment for shapes, dtypes and errors).
template <class T = double>
RowMatrix<T> read_npy(const std::string& path) {
  static_assert(std::is_arithmetic_v<T>, "read_npy: T must be an arithmetic type");
  std::ifstream in;
  const detail::NpyHeader h = detail::read_npy_header(path, in);
  const std::uint64_t rows = h.shape.empty() ? 1 : h.shape[0];
  std::uint64_t cols = 1;
  for (std::size_t j = 1; j < h.shape.size(); ++j)
    cols = detail::checked_elements(path, cols, h.shape[j], "the .npy header");
  RowMatrix<T> m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  detail::npy_read_data(in, path, h, m.data());
  return m;
}

/// Reads a .npy file keeping its full shape, as an xtensor array (C order).
template <class T = double>
xt::xarray<T> read_npy_array(const std::string& path) {
  static_assert(std::is_arithmetic_v<T>, "read_npy_array: T must be an arithmetic type");
  std::ifstream in;
  const detail::NpyHeader h = detail::read_npy_header(path, in);
  std::vector<std::size_t> shape(h.shape.begin(), h.shape.end());
  xt::xarray<T> a(shape);
  detail::npy_read_data(in, path, h, a.data());
  return a;
}

/// Writes `m` as a 2-D C-order .npy file of T's dtype (through xt::dump_npy). IoError on failure.
template <class T>
void write_npy(const std::string& path, const RowMatrix<T>& m) {
  static_assert(std::is_arithmetic_v<T>, "write_npy: T must be an arithmetic type");
  const std::vector<std::size_t> shape = {static_cast<std::size_t>(m.rows()),
                                          static_cast<std::size_t>(m.cols())};
  const auto view =
      xt::adapt(m.data(), static_cast<std::size_t>(m.size()), xt::no_ownership(), shape);
  const std::string bytes = xt::dump_npy(view);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw IoError("orchard: cannot write '" + path + "'");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) throw IoError("orchard: write error on '" + path + "'");
}

}  // namespace orchard::io
