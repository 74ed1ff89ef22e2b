#include <doctest/doctest.h>

#include <cmath>
#include <orchard/core/io/libsvm.hpp>
#include <string>

#include "io_test_util.hpp"
#include "orchard_test.hpp"

using namespace orchard;
using io_test::expect_parse_error;
using orchard::io::LibsvmOptions;
using orchard::io::read_libsvm;

TEST_CASE("libsvm: 1-based detection, qid ignored, comments, CRLF, absent = 0 or NaN") {
  orchard_test::TempDir dir("svm1");
  const auto p = io_test::write_text(dir / "a.svm",
                                     "# header comment\r\n"
                                     "1 qid:3 1:0.5 3:-2\r\n"
                                     "\r\n"
                                     "0\t2:1e-3   # trailing comment\r\n"
                                     "-1.5 3:4 1:7\r\n");
  const auto ds = read_libsvm(p);
  REQUIRE(ds.X.rows() == 3);
  REQUIRE(ds.X.cols() == 3);  // 1-based, largest index 3
  CHECK(ds.feature_names == std::vector<std::string>{"f0", "f1", "f2"});
  CHECK(ds.y(0) == 1.0);
  CHECK(ds.y(1) == 0.0);
  CHECK(ds.y(2) == -1.5);
  CHECK(ds.X(0, 0) == 0.5);
  CHECK(ds.X(0, 1) == 0.0);
  CHECK(ds.X(0, 2) == -2.0);
  CHECK(ds.X(1, 1) == 1e-3);
  CHECK(ds.X(2, 0) == 7.0);
  CHECK(ds.X(2, 2) == 4.0);
  LibsvmOptions o;
  o.absent_is_missing = true;
  o.num_features = 5;
  const auto m = read_libsvm<float>(p, o);
  REQUIRE(m.X.cols() == 5);
  CHECK(std::isnan(m.X(0, 1)));
  CHECK(std::isnan(m.X(0, 4)));
  CHECK(m.X(0, 2) == -2.0f);
}

TEST_CASE("libsvm: 0-based detection and explicit base") {
  orchard_test::TempDir dir("svm2");
  const auto p = io_test::write_text(dir / "z.svm", "1 0:1 2:3\n0 1:2\n");
  const auto ds = read_libsvm(p);
  REQUIRE(ds.X.cols() == 3);
  CHECK(ds.X(0, 0) == 1.0);
  CHECK(ds.X(0, 2) == 3.0);
  CHECK(ds.X(1, 1) == 2.0);
  // Forced 0-based on a file without index 0: one more column in front.
  const auto q = io_test::write_text(dir / "o.svm", "1 1:1 2:3\n");
  LibsvmOptions o;
  o.index_base = 0;
  const auto z = read_libsvm(q, o);
  REQUIRE(z.X.cols() == 3);
  CHECK(z.X(0, 0) == 0.0);
  CHECK(z.X(0, 2) == 3.0);
  // Forced 1-based on a file with index 0.
  LibsvmOptions one;
  one.index_base = 1;
  expect_parse_error([&] { read_libsvm(p, one); }, 1, 3);
  // Rows with only a label.
  const auto r = io_test::write_text(dir / "l.svm", "1\n0\n");
  const auto labels_only = read_libsvm(r);
  CHECK(labels_only.X.rows() == 2);
  CHECK(labels_only.X.cols() == 0);
}

TEST_CASE("libsvm: bad tokens give line and column of the offending part") {
  orchard_test::TempDir dir("svm3");
  const auto a = io_test::write_text(dir / "a.svm", "1 1:1\n0 2:1 3:abc\n");
  CHECK(expect_parse_error([&] { read_libsvm(a); }, 2, 9).find("'abc'") != std::string::npos);
  const auto b = io_test::write_text(dir / "b.svm", "1 x:1\n");
  expect_parse_error([&] { read_libsvm(b); }, 1, 3);
  const auto c = io_test::write_text(dir / "c.svm", "1 1:1\n1 1:2\nyes 1:1\n");
  expect_parse_error([&] { read_libsvm(c); }, 3, 1);
  const auto d = io_test::write_text(dir / "d.svm", "1 1:1  5\n");
  expect_parse_error([&] { read_libsvm(d); }, 1, 8);
  const auto e = io_test::write_text(dir / "e.svm", "1 -1:1\n");
  expect_parse_error([&] { read_libsvm(e); }, 1, 3);
  const auto f = io_test::write_text(dir / "f.svm", "1 1.5:1\n");
  expect_parse_error([&] { read_libsvm(f); }, 1, 3);
  const auto g = io_test::write_text(dir / "g.svm", "1 2:1 2:3\n");
  CHECK(expect_parse_error([&] { read_libsvm(g); }, 1, 7).find("repeats") != std::string::npos);
  const auto h = io_test::write_text(dir / "h.svm", "1 qid:x 1:1\n");
  expect_parse_error([&] { read_libsvm(h); }, 1, 7);
  const auto i = io_test::write_text(dir / "i.svm", "1 3:\n");
  expect_parse_error([&] { read_libsvm(i); }, 1, 5);
  // Truncated in the middle of a token.
  const auto t = io_test::write_text(dir / "t.svm", "1 1:1 2:2\n0 1:");
  expect_parse_error([&] { read_libsvm(t); }, 2, 5);
  // An index beyond num_features.
  const auto w = io_test::write_text(dir / "w.svm", "1 1:1\n0 9:2\n");
  LibsvmOptions o;
  o.num_features = 4;
  expect_parse_error([&] { read_libsvm(w, o); }, 2, 3);
  // An index that would make the dense matrix absurd: too wide to detect, and, when the caller
  // asks for that width, too big for memory.
  const auto big = io_test::write_text(dir / "big.svm", "1 1:1\n0 99999999999:2\n1 1:1\n");
  CHECK(expect_parse_error([&] { read_libsvm(big); }, 2, 3).find("2^20") != std::string::npos);
  LibsvmOptions wide;
  wide.num_features = 100000000000;
  CHECK(expect_parse_error([&] { read_libsvm(big, wide); }, 2, 3).find("memory") != std::string::npos);
  // The widest detected matrix is accepted.
  const auto edge = io_test::write_text(dir / "edge.svm", "1 1048576:2\n");
  CHECK(read_libsvm(edge).X.cols() == orchard::io::kMaxDetectedFeatures);
  const auto huge = io_test::write_text(dir / "huge.svm", "1 99999999999999999999:2\n");
  expect_parse_error([&] { read_libsvm(huge); }, 1, 3);
}

TEST_CASE("libsvm: empty files and bad options") {
  orchard_test::TempDir dir("svm4");
  const auto e = io_test::write_text(dir / "e.svm", "");
  CHECK(expect_parse_error([&] { read_libsvm(e); }, 0, 0).find("empty file") != std::string::npos);
  const auto c = io_test::write_text(dir / "c.svm", "# only a comment\n\n");
  CHECK_THROWS_AS(read_libsvm(c), ParseError);
  const auto ok = io_test::write_text(dir / "ok.svm", "1 1:1\n");
  LibsvmOptions o;
  o.index_base = 2;
  CHECK_THROWS_AS(read_libsvm(ok, o), InvalidArgument);
  LibsvmOptions o2;
  o2.num_features = -1;
  CHECK_THROWS_AS(read_libsvm(ok, o2), InvalidArgument);
  CHECK_THROWS_AS(read_libsvm((dir / "absent.svm").string()), IoError);
}

TEST_SUITE("realdata") {
  TEST_CASE("libsvm realdata: XGBoost agaricus.txt.train") {
    const auto path = orchard_test::data("xgboost/agaricus.txt.train");
    if (!orchard_test::have_data(path)) return;
    const auto ds = read_libsvm<float>(path.string());
    CHECK(ds.X.rows() == 6513);
    CHECK(ds.X.cols() == 126);
    CHECK(ds.y(0) == 1.0f);
    CHECK(ds.y(1) == 0.0f);
    // First row: "1 3:1 10:1 11:1 21:1 ... 124:1" (1-based), 22 ones.
    CHECK(ds.X(0, 2) == 1.0f);
    CHECK(ds.X(0, 9) == 1.0f);
    CHECK(ds.X(0, 123) == 1.0f);
    CHECK(ds.X(0, 0) == 0.0f);
    CHECK(ds.X.row(0).sum() == 22.0f);
    // One-hot groups: every row has the same number of ones.
    for (Eigen::Index i = 0; i < ds.X.rows(); ++i) REQUIRE(ds.X.row(i).sum() == 22.0f);
  }
}
