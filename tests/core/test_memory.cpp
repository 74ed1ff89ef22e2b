#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <numeric>
#include <thread>
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

// Blocks of map_block hold what is written, are aligned (see below), come back
// from the cache by length, and the cache never holds more than its bound, also when threads
// take and give back blocks at once.
TEST_CASE("map_block / unmap_block: aligned, reused by length, cache bounded") {
  using orchard::huge_page_bytes;
  for (const std::size_t bytes : {orchard::mapped_block_bytes, orchard::mapped_block_bytes + 12345,
                                  huge_page_bytes, 3 * huge_page_bytes + 5}) {
    auto* p = static_cast<std::uint8_t*>(orchard::map_block(bytes));
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    // page-aligned mappings; heap blocks (AddressSanitizer, other systems) only from 2 MiB
    if (bytes >= huge_page_bytes) CHECK(a % huge_page_bytes == 0);
    else if (ORCHARD_MAP_BLOCKS) CHECK(a % 4096 == 0);
    for (std::size_t i = 0; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(i * 7 + 1);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < bytes; ++i) bad += p[i] != static_cast<std::uint8_t>(i * 7 + 1);
    CHECK(bad == 0);
    orchard::unmap_block(p, bytes);
#if ORCHARD_MAP_BLOCKS
    // the same length again: the block just given back
    void* q = orchard::map_block(bytes);
    CHECK(reinterpret_cast<std::uintptr_t>(q) == a);
    orchard::unmap_block(q, bytes);
#endif
  }
#if ORCHARD_MAP_BLOCKS
  // more blocks given back than the cache keeps: the oldest go back to the system
  std::vector<void*> blocks;
  const std::size_t n = orchard::detail::block_cache_bytes / huge_page_bytes + 8;
  for (std::size_t i = 0; i < n; ++i) blocks.push_back(orchard::map_block(huge_page_bytes));
  for (void* b : blocks) orchard::unmap_block(b, huge_page_bytes);
  CHECK(orchard::detail::block_cache().bytes <= orchard::detail::block_cache_bytes);
  // a block longer than the whole cache is never kept
  void* big = orchard::map_block(orchard::detail::block_cache_bytes + huge_page_bytes);
  orchard::unmap_block(big, orchard::detail::block_cache_bytes + huge_page_bytes);
  for (const auto& [b, len] : orchard::detail::block_cache().maps) CHECK(b != big);
  CHECK(orchard::release_cached_blocks() > 0);
  CHECK(orchard::detail::block_cache().maps.empty());
  CHECK(orchard::release_cached_blocks() == 0);
#else
  CHECK(orchard::release_cached_blocks() == 0);
#endif
  std::vector<std::thread> threads;
  std::vector<std::size_t> bad(4, 0);
  for (std::size_t t = 0; t < 4; ++t)
    threads.emplace_back([t, &bad] {
      for (std::size_t r = 0; r < 50; ++r) {
        const std::size_t bytes = orchard::mapped_block_bytes * (1 + (r + t) % 10);
        auto* p = static_cast<std::uint64_t*>(orchard::map_block(bytes));
        const std::size_t m = bytes / 8;
        for (std::size_t i = 0; i < m; i += 512) p[i] = t * 1000003 + i;
        for (std::size_t i = 0; i < m; i += 512) bad[t] += p[i] != t * 1000003 + i;
        orchard::unmap_block(p, bytes);
      }
    });
  for (auto& th : threads) th.join();
  for (const auto b : bad) CHECK(b == 0);
}

#if ORCHARD_MAP_BLOCKS
#include <atomic>
#include <sys/wait.h>
#include <unistd.h>
// A child forked while another thread takes and gives back blocks can still use the cache (the
// lock is held across fork, not inherited in the middle of another thread's use).
TEST_CASE("map_block after fork: the child's cache is usable") {
  std::atomic<bool> stop{false};
  std::thread busy([&stop] {
    constexpr std::size_t bytes = orchard::mapped_block_bytes;
    while (!stop.load()) orchard::unmap_block(orchard::map_block(bytes), bytes);
  });
  int failures = 0;
  for (int r = 0; r < 20; ++r) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::alarm(10);  // a deadlocked child dies by SIGALRM instead of hanging the test
      void* p = orchard::map_block(2 * orchard::mapped_block_bytes);
      static_cast<char*>(p)[0] = 1;
      orchard::unmap_block(p, 2 * orchard::mapped_block_bytes);
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    failures += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  stop = true;
  busy.join();
  CHECK(failures == 0);
}
#endif
