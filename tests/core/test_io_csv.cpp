#include <doctest/doctest.h>

#include <cmath>
#include <orchard/core/io/csv.hpp>
#include <string>

#include "io_test_util.hpp"
#include "orchard_test.hpp"

using namespace orchard;
using io_test::expect_parse_error;
using orchard::io::CsvOptions;
using orchard::io::read_csv;
using orchard::io::read_tsv;

TEST_CASE("csv: header, label by name, NaN for missing, quotes, CRLF") {
  orchard_test::TempDir dir("csv1");
  const auto p = io_test::write_text(dir / "a.csv",
                                     "a,\"b, quoted\",label,c\r\n"
                                     "1.5,2,0,-3e2\r\n"
                                     "NA,\"4\",1,\r\n"
                                     "\r\n"
                                     "  7 , ? ,1, nan\r\n");
  CsvOptions o;
  o.header = true;
  o.label_name = "label";
  const auto ds = read_csv(p, o);
  REQUIRE(ds.X.rows() == 3);
  REQUIRE(ds.X.cols() == 3);
  REQUIRE(ds.y.size() == 3);
  CHECK(ds.feature_names == std::vector<std::string>{"a", "b, quoted", "c"});
  CHECK(ds.X(0, 0) == 1.5);
  CHECK(ds.X(0, 1) == 2.0);
  CHECK(ds.X(0, 2) == -300.0);
  CHECK(std::isnan(ds.X(1, 0)));
  CHECK(ds.X(1, 1) == 4.0);
  CHECK(std::isnan(ds.X(1, 2)));
  CHECK(ds.X(2, 0) == 7.0);
  CHECK(std::isnan(ds.X(2, 1)));
  CHECK(std::isnan(ds.X(2, 2)));
  CHECK(ds.y(0) == 0.0);
  CHECK(ds.y(1) == 1.0);
  CHECK(ds.y(2) == 1.0);
}

TEST_CASE("csv: no header, label by index, default names, float, no trailing newline") {
  orchard_test::TempDir dir("csv2");
  const auto p = io_test::write_text(dir / "b.csv", "1,2,3\n4,5,6\n+7,8,.5");
  CsvOptions o;
  o.label_column = 2;
  const auto ds = read_csv<float>(p, o);
  REQUIRE(ds.X.rows() == 3);
  REQUIRE(ds.X.cols() == 2);
  CHECK(ds.feature_names == std::vector<std::string>{"f0", "f1"});
  CHECK(ds.X(2, 0) == 7.0f);
  CHECK(ds.X(1, 1) == 5.0f);
  CHECK(ds.y(0) == 3.0f);
  CHECK(ds.y(2) == 0.5f);
  // No label: y stays empty, every column is a feature.
  const auto all = read_csv(p);
  CHECK(all.X.cols() == 3);
  CHECK(all.y.size() == 0);
  CHECK(all.X(2, 2) == 0.5);
}

TEST_CASE("csv: quoted fields hold delimiters, doubled quotes and newlines") {
  orchard_test::TempDir dir("csv3");
  const auto p = io_test::write_text(dir / "q.csv",
                                     "\"x \"\"one\"\"\",\"y\ntwo\"\n"
                                     "\"1\",2\n");
  CsvOptions o;
  o.header = true;
  const auto ds = read_csv(p, o);
  CHECK(ds.feature_names == std::vector<std::string>{"x \"one\"", "y\ntwo"});
  REQUIRE(ds.X.rows() == 1);
  CHECK(ds.X(0, 0) == 1.0);
  CHECK(ds.X(0, 1) == 2.0);
  // A bad field after the multi-line header is reported on the right physical line.
  const auto bad = io_test::write_text(dir / "q2.csv", "\"a\nb\",c\n1,zz\n");
  expect_parse_error([&] { read_csv(bad, o); }, 3, 3);
}

TEST_CASE("tsv: tab-separated with header and label first, skip_rows") {
  orchard_test::TempDir dir("tsv");
  const auto p =
      io_test::write_text(dir / "t.tsv", "# comment line\ny\tu v\tw\n1\t0.25\t-1\n0\t\t2\n");
  CsvOptions o;
  o.header = true;
  o.label_column = 0;
  o.skip_rows = 1;
  const auto ds = read_tsv(p, o);
  CHECK(ds.feature_names == std::vector<std::string>{"u v", "w"});
  REQUIRE(ds.X.rows() == 2);
  CHECK(ds.X(0, 0) == 0.25);
  CHECK(std::isnan(ds.X(1, 0)));
  CHECK(ds.y(0) == 1.0);
  CHECK(ds.y(1) == 0.0);
}

TEST_CASE("csv: gzip-compressed files are read transparently") {
  orchard_test::TempDir dir("csvgz");
  const std::string text = "1,2\n3,4\n";
  const auto p = io_test::write_gz(dir / "a.csv.gz", {text.begin(), text.end()});
  const auto ds = read_csv(p);
  REQUIRE(ds.X.rows() == 2);
  CHECK(ds.X(1, 1) == 4.0);
}

TEST_CASE("csv: ragged rows give the line and the column") {
  orchard_test::TempDir dir("csvrag");
  // Too many fields: column of the first extra field.
  const auto p1 = io_test::write_text(dir / "r1.csv", "1,2,3\n4,5,6\n7,8,9,10\n");
  const auto m = expect_parse_error([&] { read_csv(p1); }, 3, 7);
  CHECK(m.find("expected 3 fields, found 4") != std::string::npos);
  CHECK(m.find("r1.csv") != std::string::npos);
  // Too few fields: column just past the end of the short row.
  const auto p2 = io_test::write_text(dir / "r2.csv", "a,b,c\n1,2,3\n\n4,5\n");
  CsvOptions o;
  o.header = true;
  expect_parse_error([&] { read_csv(p2, o); }, 4, 4);
  // CRLF: the '\r' is not part of the row.
  const auto p3 = io_test::write_text(dir / "r3.csv", "1,2,3\r\n4,5\r\n");
  expect_parse_error([&] { read_csv(p3); }, 2, 4);
}

TEST_CASE("csv: non-numeric fields give the line and the column of the field") {
  orchard_test::TempDir dir("csvnum");
  const auto p = io_test::write_text(dir / "n.csv", "1,2,3\n4,  abc,6\n");
  const auto m = expect_parse_error([&] { read_csv(p); }, 2, 5);
  CHECK(m.find("'abc'") != std::string::npos);
  const auto p2 = io_test::write_text(dir / "n2.csv", "1,2,3\n4,5,6x\n");
  expect_parse_error([&] { read_csv(p2); }, 2, 5);
  const auto p3 = io_test::write_text(dir / "n3.csv", "1,0x10\n");
  expect_parse_error([&] { read_csv(p3); }, 1, 3);
  const auto p4 = io_test::write_text(dir / "n4.csv", "1,2\n\"3\"x,4\n");
  expect_parse_error([&] { read_csv(p4); }, 2, 4);
  const auto p5 = io_test::write_text(dir / "n5.csv", "1,2\n3,\"4\n");
  expect_parse_error([&] { read_csv(p5); }, 2, 3);
  // A value out of double range is not silently clamped.
  const auto p6 = io_test::write_text(dir / "n6.csv", "1,1e999\n");
  expect_parse_error([&] { read_csv(p6); }, 1, 3);
  // Values too small for a double read as zero (as in Python and NumPy).
  const auto p7 = io_test::write_text(dir / "n7.csv", "1e-400,-2.5e-999\n");
  const auto tiny = read_csv(p7);
  CHECK(tiny.X(0, 0) == 0.0);
  CHECK(std::signbit(tiny.X(0, 1)));
}

TEST_CASE("csv: empty files, header-only files, truncated rows") {
  orchard_test::TempDir dir("csvempty");
  const auto e = io_test::write_text(dir / "e.csv", "");
  CHECK(expect_parse_error([&] { read_csv(e); }, 0, 0).find("empty file") != std::string::npos);
  const auto b = io_test::write_text(dir / "b.csv", "\n  \n\r\n");
  CHECK(expect_parse_error([&] { read_csv(b); }, 0, 0).find("empty file") != std::string::npos);
  const auto h = io_test::write_text(dir / "h.csv", "a,b\n");
  CsvOptions o;
  o.header = true;
  CHECK_THROWS_AS(read_csv(h, o), ParseError);
  // A file cut in the middle of its last row.
  const auto t = io_test::write_text(dir / "t.csv", "1,2,3\n4,5,6\n7,");
  expect_parse_error([&] { read_csv(t); }, 3, 3);
}

TEST_CASE("csv: bad options and unreadable files") {
  orchard_test::TempDir dir("csvopt");
  const auto p = io_test::write_text(dir / "a.csv", "x,y\n1,2\n");
  CsvOptions o;
  o.header = true;
  o.label_name = "nope";
  CHECK_THROWS_AS(read_csv(p, o), InvalidArgument);
  CsvOptions o2;
  o2.label_name = "y";  // header = false
  CHECK_THROWS_AS(read_csv(p, o2), InvalidArgument);
  CsvOptions o3;
  o3.header = true;
  o3.label_column = 2;
  CHECK_THROWS_AS(read_csv(p, o3), InvalidArgument);
  CsvOptions o4;
  o4.label_column = -2;
  CHECK_THROWS_AS(read_csv(p, o4), InvalidArgument);
  CHECK_THROWS_AS(read_csv((dir / "missing.csv").string()), IoError);
  CHECK_THROWS_AS(read_csv(dir.path().string()), IoError);
}

TEST_SUITE("realdata") {
  TEST_CASE("csv realdata: LightGBM binary.train (TSV, label first)") {
    const auto path = orchard_test::data("lightgbm/binary.train");
    if (!orchard_test::have_data(path)) return;
    CsvOptions o;
    o.label_column = 0;
    const auto ds = read_tsv(path.string(), o);
    CHECK(ds.X.rows() == 7000);
    CHECK(ds.X.cols() == 28);
    CHECK(ds.y(0) == 1.0);
    CHECK(ds.X(0, 0) == doctest::Approx(0.869));
    CHECK(ds.X(0, 27) == doctest::Approx(0.877));
    CHECK(ds.X(1, 0) == doctest::Approx(0.908));
    for (Eigen::Index i = 0; i < ds.y.size(); ++i) {
      REQUIRE((ds.y(i) == 0.0 || ds.y(i) == 1.0));
    }
  }

  TEST_CASE("csv realdata: scikit-learn iris.csv (first line: counts and class names)") {
    const auto path = orchard_test::data("sklearn/iris.csv");
    if (!orchard_test::have_data(path)) return;
    CsvOptions o;
    o.skip_rows = 1;
    o.label_column = 4;
    const auto ds = read_csv(path.string(), o);
    CHECK(ds.X.rows() == 150);
    CHECK(ds.X.cols() == 4);
    CHECK(ds.X(0, 0) == doctest::Approx(5.1));
    CHECK(ds.X(0, 1) == doctest::Approx(3.5));
    CHECK(ds.y(0) == 0.0);
    CHECK(ds.y(149) == 2.0);
    CHECK(ds.y.sum() == doctest::Approx(150.0));  // 50 of each class 0, 1, 2
  }
}
