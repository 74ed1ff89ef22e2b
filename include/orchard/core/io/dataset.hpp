#pragma once
// The in-memory result of every reader (a dense row-major matrix, labels, feature names) and the
// shared machinery of the readers: whole-file reading (plain or gzip, through zlib), strict number
// parsing, and the size limits that stop a lying header from allocating absurd amounts of memory.
#include <unistd.h>
#include <zlib.h>

#include <Eigen/Core>
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "../error.hpp"

namespace orchard::io {

/// Dense row-major matrix, the layout every reader returns (row i = sample i).
template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A table read from a file: features, labels and feature names.
template <class T = double>
struct Dataset {
  RowMatrix<T> X;                          ///< n x d, NaN = missing
  Eigen::Matrix<T, Eigen::Dynamic, 1> y;   ///< n labels (empty when the file has no label column)
  std::vector<std::string> feature_names;  ///< from the header, else "f0".."f{d-1}"
};

/// The most elements (rows x columns) any reader will allocate: 2^40. A header or an index that
/// asks for more is rejected with ParseError before anything is allocated.
inline constexpr std::uint64_t kMaxElements = std::uint64_t{1} << 40;

namespace detail {

/// Throws IoError unless `path` names a readable regular file.
inline void check_regular_file(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) {
    throw IoError("orchard: cannot open '" + path + "': no such file");
  }
  if (!std::filesystem::is_regular_file(st)) {
    throw IoError("orchard: cannot read '" + path + "': not a regular file");
  }
}

/// Size of a regular file in bytes.
inline std::uint64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  if (ec) throw IoError("orchard: cannot stat '" + path + "': " + ec.message());
  return static_cast<std::uint64_t>(n);
}

/// Owns a zlib gzFile; gzread reads gzip-compressed and plain files alike.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    check_regular_file(path);
    f_ = gzopen(path.c_str(), "rb");
    if (f_ == nullptr) throw IoError("orchard: cannot open '" + path + "'");
    gzbuffer(f_, 1u << 17);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  ~GzFile() {
    if (f_ != nullptr) gzclose(f_);
  }

  /// Reads up to `n` bytes into `dst`; returns the count read (< n only at the end of the data).
  /// A gzip stream that ends early or is corrupt throws ParseError (byte offset in the message).
  std::size_t read(void* dst, std::size_t n) {
    auto* p = static_cast<unsigned char*>(dst);
    std::size_t got = 0;
    while (got < n) {
      const std::size_t want = std::min<std::size_t>(n - got, std::size_t{1} << 30);
      const int r = gzread(f_, p + got, static_cast<unsigned>(want));
      if (r < 0) fail();
      if (r == 0) {
        int err = Z_OK;
        gzerror(f_, &err);
        if (err != Z_OK && err != Z_STREAM_END) fail();
        break;
      }
      got += static_cast<std::size_t>(r);
    }
    return got;
  }

  /// True when the file is gzip-compressed (false for plain files read transparently).
  bool compressed() const { return gzdirect(f_) == 0; }

 private:
  [[noreturn]] void fail() {
    int err = Z_OK;
    const char* msg = gzerror(f_, &err);
    if (err == Z_ERRNO) throw IoError("orchard: read error in '" + path_ + "'");
    throw ParseError(path_, 0, 0,
                     std::string("truncated or corrupt gzip data (") + (msg ? msg : "?") + ")");
  }
  std::string path_;
  gzFile f_ = nullptr;
};

/// The whole content of a file (gunzipped when it is gzip-compressed).
inline std::string read_all(const std::string& path) {
  GzFile f(path);
  std::string out;
  std::size_t len = 0;
  std::size_t chunk = std::size_t{1} << 16;
  for (;;) {
    out.resize(len + chunk);
    const std::size_t got = f.read(out.data() + len, chunk);
    len += got;
    if (got < chunk) break;
    if (chunk < (std::size_t{1} << 26)) chunk *= 2;
  }
  out.resize(len);
  return out;
}

/// True when the decimal number `s` (already known to be out of double range) is too small in
/// magnitude rather than too large.
inline bool decimal_underflows(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  const auto epos = s.find_first_of("eE");
  std::int64_t exp = 0;
  if (epos != std::string_view::npos) {
    std::string_view es = s.substr(epos + 1);
    const bool neg = !es.empty() && es[0] == '-';
    if (!es.empty() && (es[0] == '-' || es[0] == '+')) es.remove_prefix(1);
    const auto r = std::from_chars(es.data(), es.data() + es.size(), exp);
    if (r.ec != std::errc()) return neg;  // an exponent beyond int64: its sign decides
    if (neg) exp = -exp;
    s = s.substr(0, epos);
  }
  const auto dot = s.find('.');
  std::string_view ip = s.substr(0, dot);
  std::string_view fp = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  while (!ip.empty() && ip[0] == '0') ip.remove_prefix(1);
  std::int64_t mag = 0;
  if (!ip.empty()) {
    mag = static_cast<std::int64_t>(ip.size()) + exp;
  } else {
    std::int64_t zeros = 0;
    while (zeros < static_cast<std::int64_t>(fp.size()) &&
           fp[static_cast<std::size_t>(zeros)] == '0') {
      ++zeros;
    }
    mag = exp - zeros;
  }
  return mag < 0;
}

/// Parses the whole of `s` as a decimal floating-point number (optional sign, exponent, inf,
/// nan). Values too small for a double read as (signed) zero, as in Python and NumPy; values too
/// large are rejected. Returns false when anything is left over or nothing parses.
inline bool parse_double(std::string_view s, double& out) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (*b == '+') {
    ++b;
    if (b == e || *b == '-' || *b == '+') return false;
  }
  const auto r = std::from_chars(b, e, out, std::chars_format::general);
  if (r.ptr != e) return false;
  if (r.ec == std::errc::result_out_of_range && decimal_underflows(s)) {
    out = (*b == '-') ? -0.0 : 0.0;
    return true;
  }
  return r.ec == std::errc();
}

/// Parses the whole of `s` as a non-negative decimal integer that fits in int64.
inline bool parse_index(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && out >= 0;
}

/// rows * cols with an overflow and kMaxElements check; throws ParseError naming `what`.
inline std::uint64_t checked_elements(const std::string& source, std::uint64_t rows,
                                      std::uint64_t cols, const std::string& what) {
  if (cols != 0 && rows > kMaxElements / cols) {
    throw ParseError(source, 0, 0,
                     what + " declares " + std::to_string(rows) + " x " + std::to_string(cols) +
                         " elements, more than the limit of 2^40");
  }
  return rows * cols;
}

/// Physical memory of this machine in bytes (0 when unknown).
inline std::uint64_t physical_memory() {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0)
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
#endif
  return 0;
}

/// True when `bytes` exceed the physical memory (a request that can only fail or swap to death).
inline bool exceeds_memory(std::uint64_t bytes) {
  const std::uint64_t mem = physical_memory();
  return mem != 0 && bytes > mem;
}

/// True when static_cast<T>(u) is defined and keeps the value's integer part: always for a
/// floating-point T, for an integral T only when u (truncated) lies in T's range (a NaN or an
/// out-of-range floating-point value converted to an integer is undefined behaviour in C++).
template <class T, class U>
bool fits_in(U u) {
  if constexpr (std::is_floating_point_v<T>) {
    return true;
  } else if constexpr (std::is_floating_point_v<U>) {
    const long double v = static_cast<long double>(u);
    return v > static_cast<long double>(std::numeric_limits<T>::min()) - 1.0L &&
           v < static_cast<long double>(std::numeric_limits<T>::max()) + 1.0L;
  } else {
    return std::in_range<T>(u);
  }
}

/// static_cast<T>(u), or ParseError naming the element when the value does not fit in T.
template <class T, class U>
T convert_element(U u, const std::string& source, std::uint64_t element) {
  if constexpr (!std::is_same_v<T, bool>) {
    if (!fits_in<T>(u)) {
      throw ParseError(source, 0, 0,
                       "element " + std::to_string(element) + " = " +
                           (std::is_floating_point_v<U> ? orchard::detail::to_text(u)
                                                        : std::to_string(u)) +
                           " does not fit in the requested element type");
    }
  }
  return static_cast<T>(u);
}

/// "f0".."f{d-1}".
inline std::vector<std::string> default_feature_names(std::int64_t d) {
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(d));
  for (std::int64_t j = 0; j < d; ++j) {
    std::string name(1, 'f');
    name += std::to_string(j);
    names.push_back(std::move(name));
  }
  return names;
}

}  // namespace detail
}  // namespace orchard::io
