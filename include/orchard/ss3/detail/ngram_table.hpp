#pragma once
// (parent term, word) -> term for the n-grams counted while training. The slot of an n-gram comes
// from a hash of its words' ids, not of its parent's term id: the term ids are only known once
// the previous word's lookups are done, while the word ids of a whole document are known before
// counting starts, so the slots of the next few words' n-grams can be prefetched.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../../core/error.hpp"

namespace orchard::ss3::detail {

/// Hash of the 1-gram of word w; ngram_hash_extend(h, w) is the hash of the n-gram h followed
/// by w. The multiply carries every input bit into the top bits, which pick the slot.
inline std::uint64_t ngram_hash_word(std::int32_t w) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(w)) + 1) * 0x9e3779b97f4a7c15ull;
}
inline std::uint64_t ngram_hash_extend(std::uint64_t h, std::int32_t w) {
  return (((h << 29) | (h >> 35)) ^ ngram_hash_word(w)) * 0xc2b2ae3d27d4eb4full;
}

/// Flat open-addressing table (linear probing, at most half full) of 16-byte slots: the top 32
/// bits of the hash (to rehash on growth), the parent term, the word and the term.
class NgramTable {
 public:
  NgramTable() { reset(0); }
  /// Empties the table, with room for `expected` entries before it grows (the memory is kept).
  void reset(std::size_t expected) {
    bits_ = 10;
    while (bits_ < 32 && (std::size_t{1} << bits_) < 2 * expected) ++bits_;
    slot_.assign(std::size_t{1} << bits_, Slot{});
    size_ = 0;
  }
  void prefetch(std::uint64_t h) const { __builtin_prefetch(&slot_[index(tag(h))], 1); }

  /// The term of (parent, word), whose n-gram hash is h; make() gives a new term the first time.
  template <class Make>
  std::int32_t find_or_add(std::uint64_t h, std::int32_t parent, std::int32_t word, Make&& make) {
    const std::uint32_t g = tag(h);
    const std::size_t mask = slot_.size() - 1;
    std::size_t i = index(g);
    for (; slot_[i].term >= 0; i = (i + 1) & mask)
      if (slot_[i].parent == parent && slot_[i].word == word) return slot_[i].term;
    const std::int32_t t = make();
    slot_[i] = Slot{g, parent, word, t};
    if (2 * ++size_ > slot_.size()) grow();
    return t;
  }
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint32_t tag = 0;
    std::int32_t parent = -1, word = -1, term = -1;  // term < 0: an empty slot
  };
  static std::uint32_t tag(std::uint64_t h) { return static_cast<std::uint32_t>(h >> 32); }
  std::size_t index(std::uint32_t g) const { return static_cast<std::size_t>(g >> (32 - bits_)); }
  void grow() {
    if (bits_ == 32) throw InvalidArgument("ss3 training: more than 2^31 distinct n-grams in one category");
    std::vector<Slot> old(std::size_t{2} << bits_);
    old.swap(slot_);
    ++bits_;
    const std::size_t mask = slot_.size() - 1;
    for (const Slot& e : old) {
      if (e.term < 0) continue;
      std::size_t i = index(e.tag);
      while (slot_[i].term >= 0) i = (i + 1) & mask;
      slot_[i] = e;
    }
  }
  std::vector<Slot> slot_;
  unsigned bits_ = 0;
  std::size_t size_ = 0;
};

}  // namespace orchard::ss3::detail
