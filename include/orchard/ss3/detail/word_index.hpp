#pragma once
// The vocabulary's index from word bytes to word id. The words themselves live once, in the
// model's word list; the index holds 8-byte slots (a 32-bit tag of the hash and the id), so a
// table at most half full costs 16 bytes per word instead of a bucket holding a copy of the
// string (48 bytes per bucket, 96 per word): loading a model faults in a quarter of the pages,
// and the index of a large vocabulary stays in L2 while documents are classified.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "../../core/memory.hpp"

namespace orchard::ss3 {

/// Transparent string hash (lookups by std::string_view without allocating).
/// Words are short: eight bytes at a time, multiply-xorshift mixing, a full avalanche at the end
/// (tables use the low bits).
struct StringHash {
  using is_transparent = void;
  static std::uint64_t mix(std::uint64_t h) noexcept {
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
  }
  std::size_t operator()(std::string_view s) const noexcept {
    const char* p = s.data();
    std::size_t n = s.size();
    std::uint64_t h = 0x9e3779b97f4a7c15ull ^ (static_cast<std::uint64_t>(n) * 0xff51afd7ed558ccdull);
    // fixed-size loads only (a variable-length copy of the tail was a library call per word)
    if (n >= 8) {
      std::uint64_t k;
      while (n > 8) {
        std::memcpy(&k, p, 8);
        h = mix(h ^ (k * 0xc4ceb9fe1a85ec53ull));
        p += 8;
        n -= 8;
      }
      std::memcpy(&k, p + n - 8, 8);  // the last 8 bytes (overlapping the previous block)
      h = mix(h ^ (k * 0xc4ceb9fe1a85ec53ull));
    } else if (n >= 4) {
      std::uint32_t lo, hi;  // first and last 4 bytes (overlapping when n < 8)
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      const std::uint64_t k = lo | (static_cast<std::uint64_t>(hi) << 32);
      h = mix(h ^ (k * 0xc4ceb9fe1a85ec53ull));
    } else if (n > 0) {
      const auto b = [&](std::size_t i) { return static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])); };
      const std::uint64_t k = b(0) | (b(n / 2) << 8) | (b(n - 1) << 16);
      h = mix(h ^ (k * 0xc4ceb9fe1a85ec53ull));
    }
    return static_cast<std::size_t>(mix(h));
  }
  std::size_t operator()(const std::string& s) const noexcept { return (*this)(std::string_view(s)); }
};

namespace detail {

/// Open addressing with linear probing, kept at most half full; ids are below 2^32 - 1. The
/// word list is passed to every call (the index stores no pointer to it, so a model can be moved
/// or copied freely).
class WordIndex {
 public:
  std::size_t size() const noexcept { return size_; }
  /// Room for n words without growing.
  void reserve(std::size_t n, const std::vector<std::string>& words) {
    std::size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    if (cap > slots_.size()) rehash(cap, words);
  }
  /// The id of w, or -1.
  std::int32_t find(std::string_view w, const std::vector<std::string>& words) const noexcept {
    if (slots_.empty()) return -1;
    const std::uint64_t s = slots_[slot_of(StringHash()(w), w, words)];
    return s == 0 ? -1 : static_cast<std::int32_t>(static_cast<std::uint32_t>(s) - 1);
  }
  /// Adds words[id] (the list already holds it); false when an equal word is indexed already.
  bool insert(std::uint32_t id, const std::vector<std::string>& words) {
    if (2 * (size_ + 1) > slots_.size()) rehash(slots_.empty() ? 16 : 2 * slots_.size(), words);
    return insert_hashed(id, StringHash()(words[id]), words);
  }
  /// Indexes words[0..n) as ids 0..n-1 in an empty index (a model being loaded); returns the id of
  /// the first word equal to an earlier one, or -1. The hashes run a few words ahead of the
  /// inserts so that the slots they probe are already on their way from memory (a large
  /// vocabulary's table is far bigger than L1).
  std::int64_t assign(const std::vector<std::string>& words) {
    reserve(words.size(), words);
    constexpr std::size_t ahead = 8;
    std::uint64_t h[ahead];
    const std::size_t n = words.size();
    const auto start = [&](std::size_t i) {
      h[i % ahead] = StringHash()(words[i]);
      __builtin_prefetch(&slots_[h[i % ahead] & mask_], 1);
    };
    for (std::size_t i = 0; i < std::min(ahead, n); ++i) start(i);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t hi = h[i % ahead];
      if (i + ahead < n) start(i + ahead);
      if (!insert_hashed(static_cast<std::uint32_t>(i), hi, words)) return static_cast<std::int64_t>(i);
    }
    return -1;
  }

 private:
  /// The slot holding w (hash h), or the empty slot where it would go.
  std::size_t slot_of(std::uint64_t h, std::string_view w, const std::vector<std::string>& words) const noexcept {
    const std::uint64_t tag = h >> 32;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const std::uint64_t s = slots_[i];
      if (s == 0 || ((s >> 32) == tag && words[static_cast<std::uint32_t>(s) - 1] == w)) return i;
    }
  }
  /// Adds words[id] with hash h (the table has room).
  bool insert_hashed(std::uint32_t id, std::uint64_t h, const std::vector<std::string>& words) {
    const std::size_t i = slot_of(h, words[id], words);
    if (slots_[i] != 0) return false;
    slots_[i] = ((h >> 32) << 32) | (static_cast<std::uint64_t>(id) + 1);
    ++size_;
    return true;
  }
  void rehash(std::size_t cap, const std::vector<std::string>& words) {
    Slots old(cap, 0);
    old.swap(slots_);
    mask_ = cap - 1;
    for (const std::uint64_t s : old) {
      if (s == 0) continue;
      const std::uint64_t h = StringHash()(words[static_cast<std::uint32_t>(s) - 1]);
      std::size_t i = h & mask_;
      while (slots_[i] != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  // a large vocabulary's table through the block cache: loading a model again reuses its pages
  using Slots = std::vector<std::uint64_t, UninitAllocator<std::uint64_t>>;
  Slots slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace detail
}  // namespace orchard::ss3
