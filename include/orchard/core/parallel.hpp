#pragma once
// The only home of `#pragma omp` in Orchard. Every loop names its thread count (LightGBM's rule),
// and an exception thrown by any iteration is rethrown on the calling thread: the one from the
// lowest index, so the error a user sees does not depend on the thread count.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>

#include "context.hpp"

namespace orchard {

namespace detail {
class FirstError {
 public:
  void capture(std::int64_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (index < index_) {
      index_ = index;
      error_ = std::current_exception();
    }
  }
  bool failed() const { return error_ != nullptr; }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::int64_t index_ = std::numeric_limits<std::int64_t>::max();
  std::exception_ptr error_;
};
}  // namespace detail

/// Calls fn(i) for i in [0, n) on ctx.threads() threads, static schedule.
template <class Fn>
void parallel_for(const Context& ctx, std::int64_t n, Fn&& fn) {
  if (n <= 0) return;
  const int nt = static_cast<int>(std::min<std::int64_t>(ctx.threads(), n));
  if (nt <= 1) {
    for (std::int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  detail::FirstError err;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    try {
      fn(i);
    } catch (...) {
      err.capture(i);
    }
  }
  err.rethrow();
}

/// Like parallel_for, with dynamic scheduling for iterations of uneven cost.
template <class Fn>
void parallel_for_dynamic(const Context& ctx, std::int64_t n, Fn&& fn, int chunk = 1) {
  if (n <= 0) return;
  const int nt = static_cast<int>(std::min<std::int64_t>(ctx.threads(), n));
  if (nt <= 1) {
    for (std::int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  detail::FirstError err;
#pragma omp parallel for num_threads(nt) schedule(dynamic, chunk)
  for (std::int64_t i = 0; i < n; ++i) {
    try {
      fn(i);
    } catch (...) {
      err.capture(i);
    }
  }
  err.rethrow();
}

/// Splits [0, n) into blocks of `block` indices (the split depends on n and block only, never on
/// the thread count) and calls fn(block_index, begin, end). Callers that keep one partial result
/// per block and combine them in block order get bit-identical sums for any thread count.
template <class Fn>
void parallel_blocks(const Context& ctx, std::int64_t n, std::int64_t block, Fn&& fn) {
  require(block > 0, "block", block, "must be > 0");
  const std::int64_t nb = n <= 0 ? 0 : (n + block - 1) / block;
  parallel_for_dynamic(ctx, nb, [&](std::int64_t b) {
    const std::int64_t begin = b * block;
    fn(b, begin, std::min(n, begin + block));
  });
}

inline std::int64_t num_blocks(std::int64_t n, std::int64_t block) {
  return n <= 0 ? 0 : (n + block - 1) / block;
}

/// Index of the calling thread inside a parallel_for body (0 outside).
inline int thread_index() { return omp_get_thread_num(); }

}  // namespace orchard
