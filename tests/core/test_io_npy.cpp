#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <orchard/core/io/npy.hpp>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "orchard_test.hpp"

using namespace orchard;
using orchard::io::read_npy;
using orchard::io::RowMatrix;
using orchard::io::write_npy;

namespace {
using Bytes = std::vector<unsigned char>;

/// A .npy file built by hand: magic, version, little-endian header length, the dict padded with
/// spaces and ending in '\n' so that the data starts at a multiple of 64, then `data`.
Bytes npy_bytes(const std::string& dict, const Bytes& data, int major = 1) {
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(major), 0};
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string h = dict;
  while ((prefix + h.size() + 1) % 64 != 0) h.push_back(' ');
  h.push_back('\n');
  const std::size_t n = h.size();
  b.push_back(static_cast<unsigned char>(n & 0xff));
  b.push_back(static_cast<unsigned char>((n >> 8) & 0xff));
  if (major != 1) {
    b.push_back(static_cast<unsigned char>((n >> 16) & 0xff));
    b.push_back(static_cast<unsigned char>((n >> 24) & 0xff));
  }
  b.insert(b.end(), h.begin(), h.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

template <class U>
void put(Bytes& b, U v, bool big_endian = false) {
  unsigned char tmp[sizeof(U)];
  std::memcpy(tmp, &v, sizeof(U));  // host is little-endian
  for (std::size_t k = 0; k < sizeof(U); ++k) b.push_back(tmp[big_endian ? sizeof(U) - 1 - k : k]);
}

std::string dict(const std::string& descr, bool fortran, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

std::string npy_error(const std::string& path, std::int64_t* line = nullptr,
                      std::int64_t* column = nullptr) {
  try {
    read_npy(path);
  } catch (const ParseError& e) {
    if (line) *line = e.line();
    if (column) *column = e.column();
    return e.what();
  }
  FAIL("no ParseError for " << path);
  return {};
}
}  // namespace

TEST_CASE("npy: write_npy / read_npy round trip, and the bytes xtensor writes") {
  orchard_test::TempDir dir("npy1");
  RowMatrix<double> m(3, 4);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) m(i, j) = (i * 4 + j) * 0.1 - 1.0 / 3.0;
  }
  m(1, 2) = std::numeric_limits<double>::quiet_NaN();
  const auto p = (dir / "m.npy").string();
  write_npy(p, m);
  const auto back = read_npy(p);
  REQUIRE(back.rows() == 3);
  REQUIRE(back.cols() == 4);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) {
      if (i == 1 && j == 2) {
        CHECK(std::isnan(back(i, j)));
      } else {
        CHECK(back(i, j) == m(i, j));  // bit-exact
      }
    }
  }
  const auto bytes = io_test::read_bytes(p);
  REQUIRE(bytes.size() > 64);
  CHECK(bytes[0] == 0x93);
  CHECK(bytes[6] == 1);
  const std::string head(bytes.begin() + 10, bytes.begin() + 70);
  CHECK(head.find("'descr': '<f8'") != std::string::npos);
  CHECK(head.find("'fortran_order': False") != std::string::npos);
  CHECK(head.find("'shape': (3, 4)") != std::string::npos);
  CHECK(bytes.size() == 128 + 12 * 8);

  RowMatrix<float> f(2, 2);
  f << 1.5f, -2.0f, 3.25f, 1e-30f;
  write_npy((dir / "f.npy").string(), f);
  const auto fd = read_npy<double>((dir / "f.npy").string());
  CHECK(fd(1, 1) == static_cast<double>(1e-30f));
  CHECK(read_npy<float>((dir / "f.npy").string()) == f);
  RowMatrix<std::int32_t> k(1, 3);
  k << -5, 0, 2000000000;
  write_npy((dir / "k.npy").string(), k);
  CHECK(read_npy<double>((dir / "k.npy").string())(0, 2) == 2000000000.0);
  // An empty (0 x 3) matrix survives the round trip.
  RowMatrix<double> e(0, 3);
  write_npy((dir / "e.npy").string(), e);
  const auto eb = read_npy((dir / "e.npy").string());
  CHECK(eb.rows() == 0);
  CHECK(eb.cols() == 3);
  CHECK_THROWS_AS(write_npy((dir / "no" / "x.npy").string(), m), IoError);
}

TEST_CASE("npy: hand-built files of every dtype and byte order") {
  orchard_test::TempDir dir("npy2");
  {
    Bytes d;
    for (float v : {1.f, 2.f, 3.f, 4.f, 5.f, 6.5f}) put(d, v);
    const auto m =
        read_npy(io_test::write_bytes(dir / "f4", npy_bytes(dict("<f4", false, "(2, 3)"), d)));
    REQUIRE(m.rows() == 2);
    REQUIRE(m.cols() == 3);
    CHECK(m(1, 2) == 6.5);
    CHECK(m(0, 1) == 2.0);
  }
  {
    Bytes d;
    for (std::int16_t v : {-300, 7, 12345}) put(d, v, true);
    const auto m =
        read_npy(io_test::write_bytes(dir / "i2be", npy_bytes(dict(">i2", false, "(3,)"), d)));
    REQUIRE(m.rows() == 3);
    REQUIRE(m.cols() == 1);
    CHECK(m(0, 0) == -300.0);
    CHECK(m(2, 0) == 12345.0);
  }
  {
    Bytes d;
    put(d, 2.5, true);
    put(d, -1e-200, true);
    const auto m = read_npy<double>(
        io_test::write_bytes(dir / "f8be", npy_bytes(dict(">f8", false, "(1, 2)"), d)));
    CHECK(m(0, 0) == 2.5);
    CHECK(m(0, 1) == -1e-200);
  }
  {
    const Bytes d = {0, 255, 17, 128};
    const auto m = read_npy<float>(
        io_test::write_bytes(dir / "u1", npy_bytes(dict("|u1", false, "(2, 2)"), d)));
    CHECK(m(0, 1) == 255.0f);
    CHECK(m(1, 1) == 128.0f);
  }
  {
    const Bytes d = {0, 1, 1, 0};
    const auto m =
        read_npy(io_test::write_bytes(dir / "b1", npy_bytes(dict("|b1", false, "(4,)"), d)));
    CHECK(m(1, 0) == 1.0);
    CHECK(m(3, 0) == 0.0);
  }
  {
    Bytes d;
    put<std::int64_t>(d, -9000000000LL);
    put<std::uint32_t>(d, 4000000000u);  // second file
    const Bytes d1(d.begin(), d.begin() + 8), d2(d.begin() + 8, d.end());
    CHECK(read_npy(io_test::write_bytes(dir / "i8", npy_bytes(dict("<i8", false, "(1,)"), d1)))(
              0, 0) == -9000000000.0);
    CHECK(read_npy(io_test::write_bytes(dir / "u4", npy_bytes(dict("<u4", false, "()"), d2)))(
              0, 0) == 4000000000.0);
  }
  {
    Bytes d;
    put<std::int8_t>(d, -128);
    put<std::int8_t>(d, 5);
    const auto m =
        read_npy(io_test::write_bytes(dir / "i1", npy_bytes(dict("|i1", false, "(2,)"), d)));
    CHECK(m(0, 0) == -128.0);
    Bytes u;
    put<std::uint16_t>(u, 65535);
    put<std::uint64_t>(u, 0);
    const Bytes u2(u.begin(), u.begin() + 2);
    CHECK(read_npy(io_test::write_bytes(dir / "u2", npy_bytes(dict("<u2", false, "(1, 1)"), u2)))(
              0, 0) == 65535.0);
  }
}

TEST_CASE("npy: Fortran order, n-d shapes, versions 2 and 3, read_npy_array") {
  orchard_test::TempDir dir("npy3");
  // A 2 x 3 matrix [[0 1 2] [10 11 12]] in Fortran order: columns one after the other.
  Bytes d;
  for (double v : {0., 10., 1., 11., 2., 12.}) put(d, v);
  const auto m =
      read_npy(io_test::write_bytes(dir / "fo", npy_bytes(dict("<f8", true, "(2, 3)"), d)));
  REQUIRE(m.rows() == 2);
  REQUIRE(m.cols() == 3);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) CHECK(m(i, j) == 10.0 * i + j);
  }
  // A 2 x 2 x 3 array with a[i][j][k] = 100 i + 10 j + k, in C and in Fortran order.
  Bytes c3, f3;
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      for (int k = 0; k < 3; ++k) put<std::int32_t>(c3, 100 * i + 10 * j + k);
    }
  }
  for (int k = 0; k < 3; ++k) {
    for (int j = 0; j < 2; ++j) {
      for (int i = 0; i < 2; ++i) put<std::int32_t>(f3, 100 * i + 10 * j + k);
    }
  }
  const auto pc =
      io_test::write_bytes(dir / "c3", npy_bytes(dict("<i4", false, "(2, 2, 3)"), c3, 2));
  const auto pf =
      io_test::write_bytes(dir / "f3", npy_bytes(dict("<i4", true, "(2, 2, 3)"), f3, 3));
  for (const auto& p : {pc, pf}) {
    const auto a = read_npy(p);
    REQUIRE(a.rows() == 2);
    REQUIRE(a.cols() == 6);
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        for (int k = 0; k < 3; ++k) CHECK(a(i, j * 3 + k) == 100.0 * i + 10.0 * j + k);
      }
    }
    const auto x = io::read_npy_array<int>(p);
    REQUIRE(x.dimension() == 3);
    CHECK(x.shape()[2] == 3);
    CHECK(x(1, 1, 2) == 112);
    CHECK(x(0, 1, 0) == 10);
  }
  // Keys in another order, double quotes, Python 2 long literals.
  Bytes one;
  put(one, 7.0);
  const auto odd = io_test::write_bytes(
      dir / "odd",
      npy_bytes("{\"shape\": (1L, 1L), \"fortran_order\": False, \"descr\": \"<f8\"}", one));
  CHECK(read_npy(odd)(0, 0) == 7.0);
}

TEST_CASE("npy: malformed headers and data throw ParseError without allocating") {
  orchard_test::TempDir dir("npy4");
  Bytes d6;
  for (int i = 0; i < 6; ++i) put(d6, 1.0);
  const auto good = npy_bytes(dict("<f8", false, "(2, 3)"), d6);
  CHECK(npy_error(io_test::write_bytes(dir / "empty", {})).find("empty file") != std::string::npos);
  CHECK(npy_error(io_test::write_bytes(dir / "magic", {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0}))
            .find("bad magic") != std::string::npos);
  CHECK(npy_error(io_test::write_bytes(dir / "pre", {0x93, 'N', 'U', 'M', 'P', 'Y', 1}))
            .find("truncated header") != std::string::npos);
  Bytes v4 = good;
  v4[6] = 4;
  CHECK(npy_error(io_test::write_bytes(dir / "v4", v4)).find("version 4.0") != std::string::npos);
  // The header cut in the middle.
  const Bytes cut_header(good.begin(), good.begin() + 40);
  CHECK(npy_error(io_test::write_bytes(dir / "cuth", cut_header)).find("truncated header") !=
        std::string::npos);
  // The data one byte short, and one byte too many.
  const Bytes cut_data(good.begin(), good.end() - 1);
  CHECK(npy_error(io_test::write_bytes(dir / "cutd", cut_data)).find("truncated data") !=
        std::string::npos);
  Bytes extra = good;
  extra.push_back(0);
  CHECK(npy_error(io_test::write_bytes(dir / "extra", extra)).find("after the") !=
        std::string::npos);
  // Header dict problems, with the column of the problem (byte offset + 1; the dict starts at 11).
  std::int64_t line = 0, col = 0;
  npy_error(io_test::write_bytes(
                dir / "key",
                npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", d6)),
            &line, &col);
  CHECK(line == 1);
  CHECK(col == 11 + 56);
  CHECK(npy_error(
            io_test::write_bytes(dir / "nokey", npy_bytes("{'descr': '<f8', 'shape': (6,)}", d6)))
            .find("no 'fortran_order'") != std::string::npos);
  npy_error(io_test::write_bytes(dir / "fo",
                                 npy_bytes(dict("<f8", false, "(6,)").replace(34, 5, "Maybe"), d6)),
            &line, &col);
  CHECK(col == 11 + 34);
  for (const char* bad : {"<c16", "<f2", "|O", "<U3", "<f8x", "f8", "|f8", "<V8"}) {
    CHECK(npy_error(io_test::write_bytes(dir / "dt", npy_bytes(dict(bad, false, "(1,)"), d6)))
              .find("unsupported dtype") != std::string::npos);
  }
  CHECK(npy_error(
            io_test::write_bytes(
                dir / "struct",
                npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", d6)))
            .find("unsupported dtype") != std::string::npos);
  CHECK(npy_error(io_test::write_bytes(dir / "neg", npy_bytes(dict("<f8", false, "(-1, 3)"), d6)))
            .find("non-negative") != std::string::npos);
  CHECK_THROWS_AS(
      read_npy(io_test::write_bytes(dir / "shape", npy_bytes(dict("<f8", false, "(2 3)"), d6))),
      ParseError);
  CHECK_THROWS_AS(read_npy(io_test::write_bytes(dir / "brace", npy_bytes("{'descr': '<f8'", d6))),
                  ParseError);
  // Absurd shapes: over 2^40 elements, or far more than the file holds.
  CHECK(npy_error(io_test::write_bytes(dir / "huge",
                                       npy_bytes(dict("<f8", false, "(1048576, 1048576, 2)"), d6)))
            .find("2^40") != std::string::npos);
  CHECK(npy_error(io_test::write_bytes(dir / "lie",
                                       npy_bytes(dict("<f8", false, "(100000000, 1000)"), d6)))
            .find("truncated data") != std::string::npos);
  CHECK_THROWS_AS(read_npy((dir / "absent.npy").string()), IoError);
}
