#include <doctest/doctest.h>

#include <orchard/core/error.hpp>
#include <string>

using namespace orchard;

TEST_CASE("require names the argument, the value and the rule") {
  CHECK_NOTHROW(require(true, "k", 3, "must be > 0"));
  try {
    require(false, "k", -2, "must be > 0");
    FAIL("no throw");
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    CHECK(m.find("'k'") != std::string::npos);
    CHECK(m.find("-2") != std::string::npos);
    CHECK(m.find("must be > 0") != std::string::npos);
  }
}

TEST_CASE("every error is an orchard::Error") {
  CHECK_THROWS_AS(throw InvalidArgument("x"), Error);
  CHECK_THROWS_AS(throw IoError("x"), Error);
  CHECK_THROWS_AS(throw FormatError("x"), Error);
  CHECK_THROWS_AS(throw StateError("x"), Error);
  CHECK_THROWS_AS(throw DeviceError("x"), Error);
  CHECK_THROWS_AS(throw ParseError("f.csv", 3, 4, "bad"), Error);
}

TEST_CASE("ParseError carries source, line and column") {
  ParseError e("data.csv", 12, 5, "not a number: 'abc'");
  CHECK(e.source() == "data.csv");
  CHECK(e.line() == 12);
  CHECK(e.column() == 5);
  CHECK(std::string(e.what()) == "parse error in data.csv at line 12, column 5: not a number: 'abc'");
}
