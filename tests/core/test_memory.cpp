#include <doctest/doctest.h>

#include <cstdint>
#include <numeric>
#include <vector>

#include "orchard/core/memory.hpp"

// The hint must never change what the memory holds, whatever the region's size or alignment.
TEST_CASE("advise_huge_pages: a hint only, for any region") {
  orchard::advise_huge_pages(nullptr, 1 << 24);
  std::vector<std::int64_t> small(100);
  orchard::advise_huge_pages(small.data(), small.size() * sizeof(std::int64_t));
  for (const std::size_t n : {std::size_t{1} << 19, (std::size_t{5} << 20) / 8 + 3}) {
    std::vector<std::int64_t> big(n);
    std::iota(big.begin(), big.end(), std::int64_t{7});
    // an unaligned start inside the region, after it was written
    orchard::advise_huge_pages(big.data() + 1, (n - 1) * sizeof(std::int64_t));
    std::int64_t sum = 0;
    for (const auto v : big) sum += v;
    const auto nn = static_cast<std::int64_t>(n);
    CHECK(sum == nn * 7 + nn * (nn - 1) / 2);
  }
}
