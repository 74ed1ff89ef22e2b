#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <limits>
#include <orchard/tree.hpp>
#include <vector>

using namespace orchard;
using namespace orchard::tree;

TEST_CASE("binning: few distinct values get one bin each, cut at midpoints, NaN last") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> x = {3, 1, 2, 2, nan, 1, 3};
  ConstMatrixView<double> X(x.data(), 7, 1);
  auto b = BinnedMatrix::fit(X, BinParams{}, Context(1));
  const auto& m = b.mapper();
  REQUIRE(m.cuts(0).size() == 2);
  CHECK(m.cuts(0)[0] == 1.5);
  CHECK(m.cuts(0)[1] == 2.5);
  CHECK(m.num_bins(0) == 4);
  CHECK(m.missing_bin(0) == 3);
  std::vector<int> want = {2, 0, 1, 1, 3, 0, 2};
  for (int i = 0; i < 7; ++i) CHECK(b.code(i, 0) == want[static_cast<std::size_t>(i)]);
  CHECK_FALSE(b.wide());
  // The raw test x <= threshold(bin) agrees with the code for every value.
  for (double v : {0.5, 1.0, 1.5, 1.7, 2.0, 2.5, 3.0, 9.0}) {
    const int c = m.bin(0, v);
    for (int t = 0; t < 3; ++t) CHECK((v <= m.threshold(0, t)) == (c <= t));
  }
}

TEST_CASE("binning: quantile bins hold about equal counts; max_bin > 255 gives uint16 codes") {
  std::vector<double> x(3000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<double>(i) * 0.37) * 100;
  ConstMatrixView<double> X(x.data(), 3000, 1);
  BinParams p;
  p.max_bin = 10;
  auto b = BinnedMatrix::fit(X, p, Context(2));
  CHECK(b.mapper().num_bins(0) == 11);
  std::vector<int> cnt(11, 0);
  for (int i = 0; i < 3000; ++i) ++cnt[static_cast<std::size_t>(b.code(i, 0))];
  for (int k = 0; k < 10; ++k) CHECK(std::abs(cnt[static_cast<std::size_t>(k)] - 300) <= 2);
  CHECK(cnt[10] == 0);
  p.max_bin = 1000;
  auto w = BinnedMatrix::fit(X, p, Context(2));
  CHECK(w.wide());
  CHECK(w.mapper().num_bins(0) == 1001);
  // Sampled quantiles depend on the seed only.
  p.max_bin = 16;
  p.sample_rows = 500;
  auto s1 = BinMapper::fit(X, p, Context(1));
  auto s2 = BinMapper::fit(X, p, Context(2));
  CHECK(s1.cuts(0) == s2.cuts(0));
  CHECK(s1.cuts(0).size() == 15);
}

TEST_CASE("binning: categorical codes and bad input") {
  std::vector<double> x = {0, 3, 1, 3};
  ConstMatrixView<double> X(x.data(), 4, 1);
  BinParams p;
  p.max_bin = 8;
  p.categorical = {0};
  auto b = BinnedMatrix::fit(X, p, Context(1));
  CHECK(b.code(1, 0) == 3);
  CHECK(b.mapper().missing_bin(0) == 8);
  std::vector<double> bad = {0.5, 1};
  CHECK_THROWS_AS(BinMapper::fit(ConstMatrixView<double>(bad.data(), 2, 1), p, Context(1)),
                  InvalidArgument);
  p.categorical = {};
  p.max_bin = 1;
  CHECK_THROWS_AS(BinMapper::fit(X, p, Context(1)), InvalidArgument);
  CHECK_THROWS_AS(BinMapper::fit(ConstMatrixView<double>(x.data(), 0, 1), BinParams{}, Context(1)),
                  InvalidArgument);
}

TEST_CASE("binning: radix_sort_pairs orders positions by value, ties by position") {
  // Kinds: spread values, many ties, values sharing their top bytes (the insertion pass gives up
  // and the full radix sort finishes), signed zeros; sizes on both sides of the small-n path.
  Rng rng(7);
  for (int kind = 0; kind < 4; ++kind) {
    for (std::size_t n : {std::size_t{1}, std::size_t{40}, std::size_t{300}, std::size_t{3000}}) {
      std::vector<double> v(n);
      for (auto& x : v) {
        const double z = rng.normal();
        x = kind == 0 ? z : kind == 1 ? std::round(3 * z) : kind == 2 ? 1e9 + 1e-3 * z : (z < 0 ? -0.0 : 0.0);
      }
      std::vector<std::uint64_t> keys(n);
      std::vector<std::uint32_t> ids(n);
      for (std::size_t i = 0; i < n; ++i) {
        keys[i] = tree::detail::sort_key(v[i]);
        ids[i] = static_cast<std::uint32_t>(i);
      }
      tree::detail::radix_sort_pairs(keys, ids);
      std::vector<std::uint32_t> ref(n);
      std::iota(ref.begin(), ref.end(), 0u);
      std::stable_sort(ref.begin(), ref.end(), [&](std::uint32_t a, std::uint32_t b) {
        return tree::detail::sort_key(v[a]) < tree::detail::sort_key(v[b]);
      });
      CHECK(ids == ref);
      for (std::size_t i = 0; i < n; ++i) CHECK(keys[i] == tree::detail::sort_key(v[ids[i]]));
    }
  }
}
