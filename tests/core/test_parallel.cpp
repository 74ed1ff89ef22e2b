#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <orchard/core/parallel.hpp>
#include <stdexcept>
#include <string>
#include <vector>

using namespace orchard;

TEST_CASE("parallel_for visits every index once for any thread count") {
  for (int t : {1, 2, 3, 8}) {
    std::vector<int> hits(1001, 0);
    parallel_for(Context(t), 1001, [&](std::int64_t i) { hits[i] += 1; });
    CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
    std::vector<int> dyn(77, 0);
    parallel_for_dynamic(Context(t), 77, [&](std::int64_t i) { dyn[i] += 1; }, 4);
    CHECK(std::accumulate(dyn.begin(), dyn.end(), 0) == 77);
  }
  parallel_for(Context(4), 0, [&](std::int64_t) { FAIL("called on empty range"); });
}

TEST_CASE("an exception inside the loop reaches the caller: the lowest failing index") {
  for (int t : {1, 4}) {
    try {
      parallel_for(Context(t), 100, [](std::int64_t i) {
        if (i == 17 || i == 80) throw std::runtime_error("row " + std::to_string(i));
      });
      FAIL("no throw");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "row 17");
    }
  }
}

TEST_CASE("parallel_blocks splits by block size only, so block sums are thread-invariant") {
  std::vector<double> x(10007);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.0 / static_cast<double>(i + 1);
  auto sum_with = [&](int threads) {
    const std::int64_t block = 256;
    std::vector<double> part(num_blocks(10007, block), 0.0);
    parallel_blocks(Context(threads), 10007, block, [&](std::int64_t b, std::int64_t lo,
                                                        std::int64_t hi) {
      for (std::int64_t i = lo; i < hi; ++i) part[b] += x[i];
    });
    return std::accumulate(part.begin(), part.end(), 0.0);
  };
  const double s1 = sum_with(1);
  CHECK(s1 == sum_with(2));
  CHECK(s1 == sum_with(7));
  double naive = 0;
  for (double v : x) naive += v;
  CHECK(s1 == doctest::Approx(naive).epsilon(1e-12));
  CHECK_THROWS_AS(parallel_blocks(Context(1), 10, 0, [](auto, auto, auto) {}), InvalidArgument);
}
