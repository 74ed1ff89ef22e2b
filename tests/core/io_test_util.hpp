#pragma once
// Small file writers shared by the reader tests.
#include <doctest/doctest.h>
#include <zlib.h>

#include <orchard/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace io_test {

/// Runs `fn`, expects an orchard::ParseError at (line, column) and returns its message.
template <class F>
std::string expect_parse_error(F fn, std::int64_t line, std::int64_t column) {
  try {
    fn();
  } catch (const orchard::ParseError& e) {
    CHECK(e.line() == line);
    CHECK(e.column() == column);
    return e.what();
  }
  FAIL("no ParseError");
  return {};
}

inline std::string write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  return p.string();
}

inline std::string write_bytes(const std::filesystem::path& p,
                               const std::vector<unsigned char>& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return p.string();
}

/// gzip-compresses `bytes` into `p` with zlib.
inline std::string write_gz(const std::filesystem::path& p,
                            const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("gzopen failed");
  if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  return p.string();
}

inline std::vector<unsigned char> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
}

}  // namespace io_test
