#pragma once
// Memory for the families that fill large arrays once (influence structures, ss3 value tables and
// model file buffers): huge-page hints, populating pages in one call, and an allocator that does
// not zero-fill and puts arrays of 2 MiB or more on huge pages.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace orchard {

inline constexpr std::size_t huge_page_bytes = std::size_t{1} << 21;

/// The part of [addr, addr + bytes) that advise_huge_pages advises: its 2 MiB-aligned interior
/// ({0, 0} for a null address or when the interior holds no whole huge page).
struct HugePageRange {
  std::uintptr_t lo = 0, hi = 0;
};
inline HugePageRange huge_page_range(std::uintptr_t addr, std::size_t bytes) noexcept {
  constexpr std::uintptr_t huge = huge_page_bytes;
  if (addr == 0) return {};
  const std::uintptr_t lo = (addr + huge - 1) & ~(huge - 1), hi = (addr + bytes) & ~(huge - 1);
  return hi > lo ? HugePageRange{lo, hi} : HugePageRange{};
}

/// Asks the kernel to back [p, p + bytes) with transparent huge pages (Linux, before the region's
/// first write): filling the array then costs one page fault per 2 MiB instead of one per 4 KiB
/// (a quarter of BoostIn's fit at n = 50 000, T = 100). Only the 2 MiB-aligned interior is
/// advised; a refused hint changes nothing.
inline void advise_huge_pages([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const HugePageRange r = huge_page_range(reinterpret_cast<std::uintptr_t>(p), bytes);
  if (r.hi > r.lo) (void)::madvise(reinterpret_cast<void*>(r.lo), r.hi - r.lo, MADV_HUGEPAGE);
#endif
}

/// Arrays smaller than this are not worth a system call to populate_pages.
inline constexpr std::size_t populate_min_bytes = std::size_t{64} << 10;

/// Faults in the whole pages of [p, p + bytes) now, in one system call (Linux 5.14 and later,
/// MADV_POPULATE_WRITE), for an array that is about to be written in full: the kernel then zeroes
/// and maps the pages in one pass instead of taking one page fault per 4 KiB on the first writes
/// (4 MiB of fresh memory on the 2-vCPU development VM: 0.65 ms against 1.35 ms). Pages already
/// present keep what they hold. Returns whether the pages were populated: false for ranges under
/// populate_min_bytes and where the kernel refuses, which changes nothing.
inline bool populate_pages([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__)
#ifndef MADV_POPULATE_WRITE
  constexpr int MADV_POPULATE_WRITE = 23;  // older C library headers lack the name
#endif
  constexpr std::uintptr_t page = 4096;  // with larger pages an unaligned start is refused
  if (p == nullptr || bytes < populate_min_bytes) return false;
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t lo = (a + page - 1) & ~(page - 1), hi = (a + bytes) & ~(page - 1);
  return hi > lo && ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_POPULATE_WRITE) == 0;
#else
  return false;
#endif
}

/// v.resize(n) with the new storage's pages populated first (populate_pages), for a vector whose
/// n elements are about to be written: the resize's own fill (if any) and the writes then fault
/// nothing.
template <class Vector>
void resize_populated(Vector& v, std::size_t n) {
  v.reserve(n);
  populate_pages(v.data(), n * sizeof(typename Vector::value_type));
  v.resize(n);
}

/// Allocator for arrays that are written in full after they are allocated: value-initialisation
/// leaves trivial elements uninitialised (no zero fill before the real first write), and arrays of
/// 2 MiB or more are aligned to 2 MiB and advised for huge pages, so the first write faults once
/// per 2 MiB instead of once per 4 KiB (the advice covers their whole huge pages; the tail is
/// ordinary pages).
template <class T>
struct UninitAllocator {
  using value_type = T;
  UninitAllocator() = default;
  template <class U>
  UninitAllocator(const UninitAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    if (bytes < huge_page_bytes) return std::allocator<T>().allocate(n);
    void* p = ::operator new(bytes, std::align_val_t{huge_page_bytes});
    advise_huge_pages(p, bytes);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < huge_page_bytes) {
      std::allocator<T>().deallocate(p, n);
    } else {
      ::operator delete(p, std::align_val_t{huge_page_bytes});
    }
  }
  template <class U, class... A>
  void construct(U* p, A&&... a) {
    if constexpr (sizeof...(A) == 0) {
      ::new (static_cast<void*>(p)) U;
    } else {
      ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
    }
  }
  template <class U>
  bool operator==(const UninitAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace orchard
