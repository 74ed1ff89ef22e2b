#pragma once
// IDX reader (the MNIST / Fashion-MNIST format), plain or gzip-compressed (zlib).
//
// Layout: bytes 0,1 = 0; byte 2 = element type (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
// 0x0D float32, 0x0E float64); byte 3 = number of dimensions; then one big-endian uint32 per
// dimension; then the elements, big-endian, C order. The first dimension becomes the rows, the
// others are flattened into the columns (a 1-D file gives n x 1).
//
// Rejected with ParseError(file, 0, 0, ...): a bad magic, an unknown type, zero dimensions, a
// header or data shorter than declared ("truncated", with the byte counts), bytes after the data,
// more than 2^40 elements, or more data than the file can hold (a plain file smaller than the
// declared size, or a gzip file that would need a compression ratio above 1100:1) — checked
// before anything is allocated.
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "dataset.hpp"

namespace orchard::io {

namespace detail {

/// Header and raw (still big-endian) element bytes of an IDX file.
struct IdxRaw {
  std::uint8_t type = 0;
  std::vector<std::uint32_t> dims;
  std::int64_t rows = 0;      ///< rows actually read (<= dims[0] when capped)
  std::int64_t cols = 1;      ///< product of dims[1..]
  std::size_t elem_size = 0;  ///< bytes per element
  std::vector<unsigned char> bytes;
};

inline std::size_t idx_elem_size(std::uint8_t t) {
  switch (t) {
    case 0x08:
    case 0x09:
      return 1;
    case 0x0B:
      return 2;
    case 0x0C:
    case 0x0D:
      return 4;
    case 0x0E:
      return 8;
    default:
      return 0;
  }
}

inline std::string idx_hex(unsigned v) {
  const char* digits = "0123456789abcdef";
  std::string s = "0x";
  s.push_back(digits[(v >> 4) & 15u]);
  s.push_back(digits[v & 15u]);
  return s;
}

/// Reads the header and the first `max_rows` rows (all when max_rows < 0).
inline IdxRaw read_idx_raw(const std::string& path, std::int64_t max_rows = -1) {
  GzFile f(path);
  const std::uint64_t on_disk = file_size(path);
  unsigned char magic[4];
  const std::size_t got_magic = f.read(magic, 4);
  if (got_magic == 0) throw ParseError(path, 0, 0, "empty file");
  if (got_magic < 4) {
    throw ParseError(path, 0, 0, "truncated header: " + std::to_string(got_magic) + " of 4 bytes");
  }
  if (magic[0] != 0 || magic[1] != 0) {
    throw ParseError(path, 0, 0,
                     "bad magic " + idx_hex(magic[0]) + " " + idx_hex(magic[1]) +
                         " (an IDX file starts with two zero bytes)");
  }
  IdxRaw r;
  r.type = magic[2];
  r.elem_size = idx_elem_size(r.type);
  if (r.elem_size == 0) {
    throw ParseError(path, 0, 0, "unknown IDX element type " + idx_hex(r.type));
  }
  const unsigned nd = magic[3];
  if (nd == 0) throw ParseError(path, 0, 0, "IDX file declares zero dimensions");
  std::vector<unsigned char> dimbytes(4u * nd);
  const std::size_t got_dims = f.read(dimbytes.data(), dimbytes.size());
  if (got_dims < dimbytes.size()) {
    throw ParseError(path, 0, 0,
                     "truncated header: " + std::to_string(4 + got_dims) + " of " +
                         std::to_string(4 + dimbytes.size()) + " bytes");
  }
  std::uint64_t cols = 1;
  for (unsigned k = 0; k < nd; ++k) {
    const unsigned char* b = &dimbytes[4u * k];
    const std::uint32_t v = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                            (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    r.dims.push_back(v);
    if (k > 0) cols = checked_elements(path, cols, v, "the IDX header");
  }
  const std::uint64_t total = checked_elements(path, r.dims[0], cols, "the IDX header");
  const std::uint64_t header_bytes = 4 + 4ull * nd;
  const std::uint64_t data_bytes = total * r.elem_size;
  // Plain files must hold the data; gzip cannot compress better than about 1032:1.
  const bool gz = f.compressed();
  const std::uint64_t capacity = gz ? on_disk * 1100 + 4096 : on_disk;
  if (header_bytes + data_bytes > capacity) {
    throw ParseError(path, 0, 0,
                     "the header declares " + std::to_string(total) + " elements (" +
                         std::to_string(data_bytes) + " bytes), more than the " +
                         std::to_string(on_disk) + "-byte file can hold");
  }
  r.cols = static_cast<std::int64_t>(cols);
  std::uint64_t rows = r.dims[0];
  if (max_rows >= 0 && static_cast<std::uint64_t>(max_rows) < rows)
    rows = static_cast<std::uint64_t>(max_rows);
  r.rows = static_cast<std::int64_t>(rows);
  const std::uint64_t want = rows * cols * r.elem_size;
  // Read in chunks so a compressed file that ends early is found before a full allocation.
  std::size_t len = 0;
  const std::size_t chunk = std::size_t{1} << 22;
  while (len < want) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, want - len));
    r.bytes.resize(len + n);
    const std::size_t got = f.read(r.bytes.data() + len, n);
    len += got;
    if (got < n) {
      throw ParseError(path, 0, 0,
                       "truncated data: " + std::to_string(len) + " of " +
                           std::to_string(data_bytes) + " bytes after the header");
    }
  }
  if (rows == r.dims[0]) {
    unsigned char extra = 0;
    if (f.read(&extra, 1) != 0) {
      throw ParseError(path, 0, 0,
                       "unexpected bytes after the " + std::to_string(data_bytes) + " data bytes");
    }
  }
  return r;
}

template <class U>
U idx_load_be(const unsigned char* p) {
  using Bits = std::conditional_t<
      sizeof(U) == 1, std::uint8_t,
      std::conditional_t<sizeof(U) == 2, std::uint16_t,
                         std::conditional_t<sizeof(U) == 4, std::uint32_t, std::uint64_t>>>;
  Bits b = 0;
  for (std::size_t k = 0; k < sizeof(U); ++k) b = static_cast<Bits>((b << 8) | Bits{p[k]});
  U u;
  std::memcpy(&u, &b, sizeof(U));
  return u;
}

template <class T, class U>
void idx_convert(const IdxRaw& r, T* out, const std::string& path) {
  const std::size_t n = static_cast<std::size_t>(r.rows) * static_cast<std::size_t>(r.cols);
  const unsigned char* p = r.bytes.data();
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = convert_element<T>(idx_load_be<U>(p + i * sizeof(U)), path, i);
  }
}

/// Converts raw IDX bytes to a row-major T buffer of rows x cols.
template <class T>
void idx_to(const IdxRaw& r, T* out, const std::string& path) {
  switch (r.type) {
    case 0x08:
      idx_convert<T, std::uint8_t>(r, out, path);
      break;
    case 0x09:
      idx_convert<T, std::int8_t>(r, out, path);
      break;
    case 0x0B:
      idx_convert<T, std::int16_t>(r, out, path);
      break;
    case 0x0C:
      idx_convert<T, std::int32_t>(r, out, path);
      break;
    case 0x0D:
      idx_convert<T, float>(r, out, path);
      break;
    default:
      idx_convert<T, double>(r, out, path);
      break;
  }
}

}  // namespace detail

/// Reads an IDX file (.gz or plain): rows = first dimension, columns = the product of the others.
/// Elements are converted to T with static_cast; ParseError when one does not fit in T (NaN or out
/// of range for an integer T). See the file comment for what else is rejected.
template <class T = float>
RowMatrix<T> read_idx(const std::string& path) {
  static_assert(std::is_arithmetic_v<T>, "read_idx: T must be an arithmetic type");
  const detail::IdxRaw r = detail::read_idx_raw(path);
  RowMatrix<T> m(r.rows, r.cols);
  detail::idx_to(r, m.data(), path);
  return m;
}

/// The dimensions declared by an IDX file's header (reads only the header).
inline std::vector<std::uint32_t> idx_shape(const std::string& path) {
  return detail::read_idx_raw(path, 0).dims;
}

}  // namespace orchard::io
