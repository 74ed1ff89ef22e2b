#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <orchard/core/io/fashion_mnist.hpp>
#include <orchard/core/io/idx.hpp>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "orchard_test.hpp"

using namespace orchard;
using orchard::io::read_idx;

namespace {
using Bytes = std::vector<unsigned char>;

Bytes idx_header(unsigned char type, const std::vector<std::uint32_t>& dims) {
  Bytes b = {0, 0, type, static_cast<unsigned char>(dims.size())};
  for (auto d : dims) {
    b.push_back(static_cast<unsigned char>(d >> 24));
    b.push_back(static_cast<unsigned char>(d >> 16));
    b.push_back(static_cast<unsigned char>(d >> 8));
    b.push_back(static_cast<unsigned char>(d));
  }
  return b;
}

template <class U>
void put_be(Bytes& b, U v) {
  unsigned char tmp[sizeof(U)];
  std::memcpy(tmp, &v, sizeof(U));
  for (std::size_t k = 0; k < sizeof(U); ++k) b.push_back(tmp[sizeof(U) - 1 - k]);  // host is LE
}

std::string parse_message(const std::string& path) {
  try {
    read_idx(path);
  } catch (const ParseError& e) {
    return e.what();
  }
  FAIL("no ParseError for " << path);
  return {};
}
}  // namespace

TEST_CASE("idx: uint8 3-D file, plain and gzip, rows = first dimension") {
  orchard_test::TempDir dir("idx1");
  Bytes b = idx_header(0x08, {2, 2, 3});
  for (int i = 0; i < 12; ++i) b.push_back(static_cast<unsigned char>(i * 20));
  const auto plain = io_test::write_bytes(dir / "a.idx", b);
  const auto gz = io_test::write_gz(dir / "a.idx.gz", b);
  for (const auto& p : {plain, gz}) {
    const auto m = read_idx(p);
    REQUIRE(m.rows() == 2);
    REQUIRE(m.cols() == 6);
    CHECK(m(0, 0) == 0.0f);
    CHECK(m(0, 5) == 100.0f);
    CHECK(m(1, 5) == 220.0f);
  }
  const auto shape = io::idx_shape(gz);
  CHECK(shape == std::vector<std::uint32_t>{2, 2, 3});
}

TEST_CASE("idx: every element type, big-endian, 1-D gives n x 1") {
  orchard_test::TempDir dir("idx2");
  {
    Bytes b = idx_header(0x09, {3});
    b.push_back(0xff);  // -1
    b.push_back(0x7f);  // 127
    b.push_back(0x80);  // -128
    const auto m = read_idx<double>(io_test::write_bytes(dir / "i8", b));
    REQUIRE(m.rows() == 3);
    REQUIRE(m.cols() == 1);
    CHECK(m(0, 0) == -1.0);
    CHECK(m(1, 0) == 127.0);
    CHECK(m(2, 0) == -128.0);
  }
  {
    Bytes b = idx_header(0x0B, {2});
    put_be<std::int16_t>(b, -1234);
    put_be<std::int16_t>(b, 30000);
    const auto m = read_idx<double>(io_test::write_bytes(dir / "i16", b));
    CHECK(m(0, 0) == -1234.0);
    CHECK(m(1, 0) == 30000.0);
  }
  {
    Bytes b = idx_header(0x0C, {1, 2});
    put_be<std::int32_t>(b, -7);
    put_be<std::int32_t>(b, 2000000000);
    const auto m = read_idx<double>(io_test::write_gz(dir / "i32.gz", b));
    CHECK(m(0, 0) == -7.0);
    CHECK(m(0, 1) == 2000000000.0);
  }
  {
    Bytes b = idx_header(0x0D, {2, 1});
    put_be<float>(b, 1.5f);
    put_be<float>(b, -0.125f);
    const auto m = read_idx<float>(io_test::write_bytes(dir / "f32", b));
    CHECK(m(0, 0) == 1.5f);
    CHECK(m(1, 0) == -0.125f);
  }
  {
    Bytes b = idx_header(0x0E, {1, 1, 2});
    put_be<double>(b, 3.141592653589793);
    put_be<double>(b, -1e300);
    const auto m = read_idx<double>(io_test::write_bytes(dir / "f64", b));
    CHECK(m(0, 0) == 3.141592653589793);
    CHECK(m(0, 1) == -1e300);
  }
}

TEST_CASE("idx: malformed files throw ParseError, never allocate absurd sizes") {
  orchard_test::TempDir dir("idx3");
  CHECK(parse_message(io_test::write_bytes(dir / "empty", {})).find("empty file") !=
        std::string::npos);
  CHECK(parse_message(io_test::write_bytes(dir / "short", {0, 0, 8})).find("truncated header") !=
        std::string::npos);
  CHECK(parse_message(io_test::write_bytes(dir / "magic", {1, 0, 8, 1, 0, 0, 0, 1, 5}))
            .find("bad magic") != std::string::npos);
  CHECK(parse_message(io_test::write_bytes(dir / "type", {0, 0, 7, 1, 0, 0, 0, 1, 5}))
            .find("unknown IDX element type 0x07") != std::string::npos);
  CHECK(parse_message(io_test::write_bytes(dir / "nd0", {0, 0, 8, 0})).find("zero dimensions") !=
        std::string::npos);
  // Dimensions cut short.
  Bytes dims_cut = idx_header(0x08, {2, 3});
  dims_cut.resize(dims_cut.size() - 2);
  CHECK(parse_message(io_test::write_bytes(dir / "dims", dims_cut)).find("truncated header") !=
        std::string::npos);
  // Data cut short: plain (caught by the size check) and gzip (caught while reading).
  Bytes data_cut = idx_header(0x08, {4, 3});
  for (int i = 0; i < 10; ++i) data_cut.push_back(1);
  CHECK(parse_message(io_test::write_bytes(dir / "cut", data_cut)).find("more than the") !=
        std::string::npos);
  CHECK(parse_message(io_test::write_gz(dir / "cut.gz", data_cut)).find("truncated data") !=
        std::string::npos);
  // A gzip stream itself cut in the middle.
  Bytes big = idx_header(0x08, {1000, 100});
  for (int i = 0; i < 100000; ++i) big.push_back(static_cast<unsigned char>((i * 7919) % 251));
  const auto gzp = io_test::write_gz(dir / "big.gz", big);
  const auto gzbytes = io_test::read_bytes(gzp);
  const Bytes half(gzbytes.begin(),
                   gzbytes.begin() + static_cast<std::ptrdiff_t>(gzbytes.size() / 2));
  CHECK_THROWS_AS(read_idx(io_test::write_bytes(dir / "half.gz", half)), ParseError);
  // Trailing bytes.
  Bytes extra = idx_header(0x08, {2});
  extra.insert(extra.end(), {1, 2, 3});
  CHECK(parse_message(io_test::write_bytes(dir / "extra", extra)).find("after the") !=
        std::string::npos);
  // Absurd declared sizes: more than 2^40 elements, or more than the file can hold.
  CHECK(parse_message(
            io_test::write_bytes(dir / "huge", idx_header(0x0E, {0xffffffffu, 0xffffffffu, 2})))
            .find("2^40") != std::string::npos);
  CHECK(parse_message(io_test::write_gz(dir / "huge.gz", idx_header(0x08, {60000000u, 784})))
            .find("more than the") != std::string::npos);
  CHECK_THROWS_AS(read_idx((dir / "absent").string()), IoError);
}

TEST_CASE("fashion-mnist loader on a hand-made miniature") {
  orchard_test::TempDir dir("fm");
  auto images = [](std::uint32_t n) {
    Bytes b = idx_header(0x08, {n, 28, 28});
    for (std::uint32_t i = 0; i < n * 784; ++i) b.push_back(static_cast<unsigned char>(i % 256));
    return b;
  };
  auto labels = [](std::uint32_t n, unsigned char first) {
    Bytes b = idx_header(0x08, {n});
    for (std::uint32_t i = 0; i < n; ++i)
      b.push_back(i == 0 ? first : static_cast<unsigned char>(i % 10));
    return b;
  };
  io_test::write_gz(dir / "train-images-idx3-ubyte.gz", images(5));
  io_test::write_gz(dir / "train-labels-idx1-ubyte.gz", labels(5, 9));
  io_test::write_gz(dir / "t10k-images-idx3-ubyte.gz", images(3));
  io_test::write_gz(dir / "t10k-labels-idx1-ubyte.gz", labels(3, 4));
  const auto d = io::load_fashion_mnist(dir.path().string());
  CHECK(d.X_train.rows() == 5);
  CHECK(d.X_train.cols() == 784);
  CHECK(d.X_test.rows() == 3);
  CHECK(d.y_train(0) == 9);
  CHECK(d.y_test(0) == 4);
  CHECK(d.X_train(0, 255) == doctest::Approx(1.0f));
  CHECK(d.X_train(1, 0) == doctest::Approx(16.0f / 255.0f));  // 784 % 256 = 16
  const auto capped = io::load_fashion_mnist(dir.path().string(), 2, 1, false);
  CHECK(capped.X_train.rows() == 2);
  CHECK(capped.y_test.size() == 1);
  CHECK(capped.X_train(0, 255) == 255.0f);
  // A label out of range and a count mismatch are format errors.
  io_test::write_gz(dir / "t10k-labels-idx1-ubyte.gz", labels(3, 12));
  CHECK_THROWS_AS(io::load_fashion_mnist(dir.path().string()), FormatError);
  io_test::write_gz(dir / "t10k-labels-idx1-ubyte.gz", labels(4, 1));
  CHECK_THROWS_AS(io::load_fashion_mnist(dir.path().string()), FormatError);
  CHECK_THROWS_AS(io::load_fashion_mnist((dir / "nowhere").string()), IoError);
  CHECK_THROWS_AS(io::load_fashion_mnist(dir.path().string(), -3), InvalidArgument);
}

TEST_SUITE("realdata") {
  TEST_CASE("fashion-mnist realdata: the Debian package's files") {
    const std::string fm = "/usr/share/datasets/fashion-mnist";
    if (!orchard_test::have_data(fm + "/train-images-idx3-ubyte.gz")) return;
    const auto d = io::load_fashion_mnist(fm);
    CHECK(d.X_train.rows() == 60000);
    CHECK(d.X_train.cols() == 784);
    CHECK(d.X_test.rows() == 10000);
    CHECK(d.X_test.cols() == 784);
    CHECK(d.y_train.size() == 60000);
    CHECK(d.y_test.size() == 10000);
    CHECK(d.y_train(0) == 9);  // the first training image is an ankle boot
    CHECK(d.y_test(0) == 9);
    CHECK(d.X_train.minCoeff() == 0.0f);
    CHECK(d.X_train.maxCoeff() == 1.0f);
    std::vector<int> counts(10, 0);
    for (Eigen::Index i = 0; i < d.y_train.size(); ++i)
      ++counts[static_cast<std::size_t>(d.y_train(i))];
    for (int c : counts) CHECK(c == 6000);  // balanced classes
    // The generic reader agrees with the loader.
    const auto raw = read_idx<float>(fm + "/t10k-labels-idx1-ubyte.gz");
    CHECK(raw.rows() == 10000);
    CHECK(raw(0, 0) == 9.0f);
  }
}
