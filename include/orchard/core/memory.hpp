#pragma once
// Memory hints shared by the families that fill large arrays once (influence structures, SS3
// count tables).

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace orchard {

/// Asks the kernel to back [p, p + bytes) with transparent huge pages (Linux, regions of 4 MiB or
/// more, before their first write): filling the array then costs one page fault per 2 MiB instead
/// of one per 4 KiB (a quarter of BoostIn's fit at n = 50 000, T = 100; most of a cold SS3 load).
/// Only the 2 MiB-aligned interior is advised; a refused hint changes nothing.
inline void advise_huge_pages([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t huge = std::uintptr_t{1} << 21;
  if (p == nullptr || bytes < 2 * huge) return;
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t lo = (a + huge - 1) & ~(huge - 1), hi = (a + bytes) & ~(huge - 1);
  if (hi > lo) (void)::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#endif
}

}  // namespace orchard
