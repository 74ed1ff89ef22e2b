#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <numeric>
#include <vector>

#include "orchard/core/memory.hpp"

TEST_CASE("huge_page_range: the whole 2 MiB pages inside a region") {
  constexpr std::uintptr_t M2 = std::uintptr_t{1} << 21;
  using orchard::huge_page_range;
  // aligned region of exactly 4 MiB: all of it
  auto r = huge_page_range(8 * M2, 2 * M2);
  CHECK(r.lo == 8 * M2);
  CHECK(r.hi == 10 * M2);
  // unaligned start and end: rounded inwards, never outside [addr, addr + bytes)
  const std::uintptr_t a = 8 * M2 + 4096 + 8;
  const std::size_t bytes = 5 * M2 + 123;
  r = huge_page_range(a, bytes);
  CHECK(r.lo == 9 * M2);
  CHECK(r.hi == 13 * M2);
  CHECK(r.lo >= a);
  CHECK(r.hi <= a + bytes);
  CHECK(r.lo % M2 == 0);
  CHECK(r.hi % M2 == 0);
  // an aligned region of one huge page and a bit: that page
  r = huge_page_range(8 * M2, 2 * M2 - 1);
  CHECK(r.lo == 8 * M2);
  CHECK(r.hi == 9 * M2);
  r = huge_page_range(8 * M2, M2);
  CHECK(r.lo == 8 * M2);
  CHECK(r.hi == 9 * M2);
  // under 2 MiB, a null pointer, or an interior of less than one huge page: nothing
  r = huge_page_range(8 * M2, M2 - 1);
  CHECK(r.hi == r.lo);
  r = huge_page_range(8 * M2 + 4096, M2 + 4095);  // [8 M2 + 4 KiB, 9 M2 + 8 KiB): no whole page
  CHECK(r.hi == r.lo);
  r = huge_page_range(0, 64 * M2);
  CHECK(r.hi == r.lo);
  r = huge_page_range(8 * M2 + 1, 2 * M2);  // [8 M2 + 1, 10 M2 + 1): interior [9 M2, 10 M2)
  CHECK(r.lo == 9 * M2);
  CHECK(r.hi == 10 * M2);
}

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

TEST_CASE("UninitAllocator: small and huge arrays hold what is written; huge ones are 2 MiB aligned") {
  using V = std::vector<std::int64_t, orchard::UninitAllocator<std::int64_t>>;
  for (const std::size_t n : {std::size_t{0}, std::size_t{10}, orchard::huge_page_bytes / 8 - 1,
                              orchard::huge_page_bytes / 8, (std::size_t{5} << 20) / 8 + 3}) {
    V v(n);
    std::iota(v.begin(), v.end(), std::int64_t{-3});
    if (n * sizeof(std::int64_t) >= orchard::huge_page_bytes)
      CHECK(reinterpret_cast<std::uintptr_t>(v.data()) % orchard::huge_page_bytes == 0);
    V w = v;  // copies, grows and frees through the allocator
    w.push_back(42);
    const auto nn = static_cast<std::int64_t>(n);
    std::int64_t sum = 0;
    for (const auto x : w) sum += x;
    CHECK(sum == nn * -3 + nn * (nn - 1) / 2 + 42);
  }
  // non-trivial elements are still constructed
  std::vector<std::string, orchard::UninitAllocator<std::string>> s(3);
  CHECK(s[1].empty());
  s.emplace_back("x");
  CHECK(s.back() == "x");
  CHECK_THROWS_AS(orchard::UninitAllocator<std::int64_t>().allocate(std::numeric_limits<std::size_t>::max() / 4),
                  std::bad_array_new_length);
}

#if defined(__linux__)
#include <sys/resource.h>
namespace {
long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}
}  // namespace
#endif

// Populating must keep what present pages hold, and (where the kernel supports it) leave nothing
// to fault in for the writes that follow.
TEST_CASE("populate_pages and resize_populated: contents kept, later writes fault nothing") {
  CHECK_FALSE(orchard::populate_pages(nullptr, 1 << 20));
  std::vector<std::int64_t> small(100, 5);
  CHECK_FALSE(orchard::populate_pages(small.data(), small.size() * sizeof(std::int64_t)));
  CHECK(small[99] == 5);
  // written first, then populated from an unaligned start: the values stay
  std::vector<std::int64_t> w(std::size_t{1} << 17);
  std::iota(w.begin(), w.end(), std::int64_t{1});
  orchard::populate_pages(w.data() + 3, (w.size() - 3) * sizeof(std::int64_t));
  const auto n = static_cast<std::int64_t>(w.size());
  CHECK(std::accumulate(w.begin(), w.end(), std::int64_t{0}) == n * (n + 1) / 2);
  // a fresh 8 MiB array that is not yet written (plain pages: UninitAllocator would ask for huge
  // pages, which fault once per 2 MiB anyway): populated, then filled
  std::vector<std::int32_t> v;
  const std::size_t m = std::size_t{1} << 21;
  v.reserve(m);
#if defined(__linux__)
  const bool populated = orchard::populate_pages(v.data(), m * sizeof(std::int32_t));
  const long before = minor_faults();
  v.resize(m);
  std::iota(v.begin(), v.end(), 0);
  const long faults = minor_faults() - before;
  // one fault per 4 KiB page (2 048) when not populated; AddressSanitizer adds its shadow's 256
  if (populated) CHECK(faults < 512);
#else
  v.resize(m);
  std::iota(v.begin(), v.end(), 0);
#endif
  CHECK(v[m - 1] == static_cast<std::int32_t>(m - 1));
  // resize_populated is a resize: old elements kept, new ones value-initialised
  std::vector<std::int64_t> r(3, 7);
  orchard::resize_populated(r, std::size_t{1} << 15);
  CHECK(r.size() == std::size_t{1} << 15);
  CHECK(r[2] == 7);
  CHECK(r[3] == 0);
  CHECK(r.back() == 0);
}
