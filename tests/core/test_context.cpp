#include <doctest/doctest.h>

#include <orchard/core/context.hpp>

using namespace orchard;

TEST_CASE("Context resolves 0 threads to all and rejects negative counts") {
  CHECK(Context(0).threads() >= 1);
  CHECK(Context(3).threads() == 3);
  CHECK(Context(2).with_threads(5).threads() == 5);
  CHECK_THROWS_AS(Context(-1), InvalidArgument);
  CHECK_THROWS_AS(Context(1, Device::cuda, -1), InvalidArgument);
}

TEST_CASE("device names parse and unknown ones are rejected") {
  CHECK(parse_device("cpu") == Device::cpu);
  CHECK(parse_device("cuda") == Device::cuda);
  CHECK(std::string(to_string(Device::cuda)) == "cuda");
  CHECK_THROWS_WITH_AS(parse_device("tpu"), doctest::Contains("tpu"), InvalidArgument);
}
