#pragma once
// Memory for the families that fill large arrays once (influence structures, ss3 value tables and
// model file buffers): huge-page hints, populating pages in one call, and an allocator that does
// not zero-fill and gives large arrays mappings of their own, reused by length (huge pages from
// 2 MiB).

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sys/mman.h>
#endif

namespace orchard {

inline constexpr std::size_t huge_page_bytes = std::size_t{1} << 21;

// Large arrays are mappings of their own (map_block) on Linux, except under AddressSanitizer,
// which checks heap blocks only.
#if defined(__SANITIZE_ADDRESS__)
#define ORCHARD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ORCHARD_ASAN 1
#endif
#endif
#if defined(__linux__) && !defined(ORCHARD_ASAN)
#define ORCHARD_MAP_BLOCKS 1
#else
#define ORCHARD_MAP_BLOCKS 0
#endif

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

/// Arrays of at least this many bytes get mappings of their own (map_block).
inline constexpr std::size_t mapped_block_bytes = std::size_t{32} << 10;

namespace detail {
/// Mappings given back to unmap_block and kept for reuse, most recent last, at most
/// block_cache_bytes in all: reused memory is already faulted in, as blocks the C library's heap
/// reuses are (a fresh mapping costs a page fault and zeroing per page, or per 2 MiB, each time).
inline constexpr std::size_t block_cache_bytes = std::size_t{64} << 20;
struct BlockCache {
  std::mutex lock;
  std::vector<std::pair<void*, std::size_t>> maps;  // (address, length)
  std::size_t bytes = 0;
};
inline BlockCache& block_cache() {
  // never destroyed: usable from other statics' destructors
  static BlockCache* cache = [] {
    auto* c = new BlockCache;
#if ORCHARD_MAP_BLOCKS
    // held across fork(), so a child never inherits the lock taken by another thread
    ::pthread_atfork([] { block_cache().lock.lock(); }, [] { block_cache().lock.unlock(); },
                     [] { block_cache().lock.unlock(); });
#endif
    return c;
  }();
  return *cache;
}
/// The length of the mapping that holds `bytes`: whole pages, whole huge pages from 2 MiB.
inline std::size_t block_length(std::size_t bytes) noexcept {
  const std::size_t unit = bytes >= huge_page_bytes ? huge_page_bytes : std::size_t{4096};
  return (bytes + unit - 1) & ~(unit - 1);
}
}  // namespace detail

/// Memory for an array of `bytes` (at least mapped_block_bytes); from 2 MiB it is 2 MiB-aligned
/// and advised for huge pages. On Linux it is a mapping of its own, taken from and given back to
/// a cache by length (detail::block_cache_bytes). The C library's heap serves large arrays badly
/// in a loop that saves and loads a model: 2 MiB-aligned heap blocks leave unaligned remainders
/// that later blocks do not fit (the heap of a loop over a 6 MB ss3 model grew by 30 MB a round,
/// to 250-360 MB, faulting in fresh memory each time), and without them the heap's top is given
/// back at each free and faulted in again. Throws std::bad_alloc.
inline void* map_block(std::size_t bytes) {
  if (bytes > std::numeric_limits<std::size_t>::max() - 2 * huge_page_bytes) throw std::bad_alloc();
#if ORCHARD_MAP_BLOCKS
  const std::size_t len = detail::block_length(bytes);
  {
    detail::BlockCache& c = detail::block_cache();
    const std::lock_guard<std::mutex> g(c.lock);
    for (std::size_t i = c.maps.size(); i-- > 0;) {
      if (c.maps[i].second != len) continue;
      void* p = c.maps[i].first;
      c.maps.erase(c.maps.begin() + static_cast<std::ptrdiff_t>(i));
      c.bytes -= len;
      return p;
    }
  }
  if (len < huge_page_bytes) {
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
  }
  constexpr std::size_t huge = huge_page_bytes;
  void* raw =
      ::mmap(nullptr, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  // keep the aligned len bytes of the over-sized mapping
  const auto r = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t a = (r + huge - 1) & ~(huge - 1);
  if (a > r) ::munmap(raw, a - r);
  if (r + huge > a) ::munmap(reinterpret_cast<void*>(a + len), r + huge - a);
  void* p = reinterpret_cast<void*>(a);
  advise_huge_pages(p, len);
  return p;
#else
  // heap blocks: 2 MiB-aligned only where a whole huge page can be advised
  if (bytes < huge_page_bytes) return ::operator new(bytes);
  void* p = ::operator new(bytes, std::align_val_t{huge_page_bytes});
  advise_huge_pages(p, bytes);
  return p;
#endif
}
/// Gives back the memory of map_block(bytes).
inline void unmap_block(void* p, std::size_t bytes) noexcept {
#if ORCHARD_MAP_BLOCKS
  const std::size_t len = detail::block_length(bytes);
  if (len <= detail::block_cache_bytes) {
    detail::BlockCache& c = detail::block_cache();
    const std::lock_guard<std::mutex> g(c.lock);
    bool kept = false;
    try {
      c.maps.emplace_back(p, len);
      kept = true;
    } catch (const std::bad_alloc&) {  // no room for the list: the mapping goes back now
    }
    if (kept) {
      c.bytes += len;
      std::size_t n = 0;  // the oldest mappings beyond the limit go back to the system
      for (; c.bytes > detail::block_cache_bytes; ++n) {
        ::munmap(c.maps[n].first, c.maps[n].second);
        c.bytes -= c.maps[n].second;
      }
      c.maps.erase(c.maps.begin(), c.maps.begin() + static_cast<std::ptrdiff_t>(n));
      return;
    }
  }
  ::munmap(p, len);
#else
  if (bytes < huge_page_bytes) {
    ::operator delete(p);
  } else {
    ::operator delete(p, std::align_val_t{huge_page_bytes});
  }
#endif
}

/// Gives every block kept for reuse back to the system (a long-running program that has freed
/// its models and wants the memory back); returns the bytes given back.
inline std::size_t release_cached_blocks() noexcept {
#if ORCHARD_MAP_BLOCKS
  detail::BlockCache& c = detail::block_cache();
  const std::lock_guard<std::mutex> g(c.lock);
  for (const auto& [p, len] : c.maps) ::munmap(p, len);
  const std::size_t bytes = c.bytes;
  c.maps.clear();
  c.bytes = 0;
  return bytes;
#else
  return 0;
#endif
}

/// Allocator for arrays that are written in full after they are allocated: value-initialisation
/// leaves trivial elements uninitialised (no zero fill before the real first write). Arrays of
/// mapped_block_bytes or more are blocks of map_block, reused by length; from 2 MiB they are
/// aligned to 2 MiB and advised for huge pages, so the first write faults once per 2 MiB instead
/// of once per 4 KiB.
template <class T>
struct UninitAllocator {
  using value_type = T;
  UninitAllocator() = default;
  template <class U>
  UninitAllocator(const UninitAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    if (bytes < mapped_block_bytes) return std::allocator<T>().allocate(n);
    return static_cast<T*>(map_block(bytes));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < mapped_block_bytes) {
      std::allocator<T>().deallocate(p, n);
    } else {
      unmap_block(p, n * sizeof(T));
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
