#pragma once
// Streaming float64 Gram matrix G = Zᵀ Z (and column sums) accumulated over row blocks.
//
// Memory is O(K²) whatever the number of rows: each call to add() converts at most `block_rows`
// rows at a time to double and adds their outer products tile by tile. Threads work on disjoint
// tiles of G, so every entry of G is summed in the same order for any thread count (results are
// bit-identical for 1 or N threads). Partial Grams of different shards add: merge() sums them.
#include <omp.h>

#include "eigen.hpp"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/matrix_view.hpp"
#include "../core/parallel.hpp"

namespace orchard::spectral {

namespace detail {

/// Keeps Eigen's own OpenMP GEMM threads out of a region: Orchard decides the thread count, and
/// Eigen would otherwise start omp_get_max_threads() threads when called outside a parallel
/// region (as our one-thread path is). Restores the caller's setting on exit.
class EigenSingleThread {
 public:
  EigenSingleThread() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~EigenSingleThread() { omp_set_num_threads(saved_); }
  EigenSingleThread(const EigenSingleThread&) = delete;
  EigenSingleThread& operator=(const EigenSingleThread&) = delete;

 private:
  int saved_;
};

inline std::string shape_text(index_t rows, index_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

}  // namespace detail

/// Tuning of the Gram accumulation (defaults measured on a 2-core AVX-512 machine).
struct GramOptions {
  index_t block_rows = 1024;  ///< rows converted to double per step (buffer block_rows × K)
  index_t tile = 256;         ///< side of the square tiles of G that threads share out
};

/// G = Σ zᵢ zᵢᵀ (lower triangle kept) and s = Σ zᵢ over every row added so far, in float64.
class GramAccumulator {
 public:
  explicit GramAccumulator(index_t cols, GramOptions options = {})
      : cols_(cols), options_(options) {
    require(cols > 0, "cols", cols, "must be > 0");
    require(options.block_rows > 0, "block_rows", options.block_rows, "must be > 0");
    require(options.tile > 0, "tile", options.tile, "must be > 0");
    gram_.setZero(cols, cols);
    sums_.setZero(cols);
  }

  index_t cols() const noexcept { return cols_; }
  /// Rows added so far (over every add and merge).
  index_t rows() const noexcept { return rows_; }
  const GramOptions& options() const noexcept { return options_; }

  /// Adds the rows of `block` (float or double; any strides). Throws InvalidArgument when the
  /// column count differs or an entry is NaN/inf (nothing is added then).
  template <class T>
  void add(ConstMatrixView<T> block, const Context& ctx) {
    static_assert(std::is_floating_point_v<T>, "GramAccumulator::add needs float or double data");
    require(block.cols == cols_, "block.cols", block.cols,
            "must equal the accumulator's column count " + std::to_string(cols_));
    require(block.rows >= 0, "block.rows", block.rows, "must be >= 0");
    add_rows(block.rows, ctx, [&](index_t i) { return RowRef<T>{block.row_ptr(i), block.col_stride}; });
  }
  template <class T>
  void add(MatrixView<T> block, const Context& ctx) {
    add(ConstMatrixView<T>(block), ctx);
  }

  /// Adds the rows `rows[0..]` of `z` (in that order), e.g. a subsample.
  template <class T>
  void add_rows(ConstMatrixView<T> z, std::span<const index_t> rows, const Context& ctx) {
    require(z.cols == cols_, "Z.cols", z.cols,
            "must equal the accumulator's column count " + std::to_string(cols_));
    for (index_t r : rows) require(r >= 0 && r < z.rows, "rows[]", r, "row index out of range");
    add_rows(static_cast<index_t>(rows.size()), ctx, [&](index_t i) {
      return RowRef<T>{z.row_ptr(rows[static_cast<std::size_t>(i)]), z.col_stride};
    });
  }

  /// Adds another accumulator's Gram and sums (shards computed elsewhere).
  void merge(const GramAccumulator& other) {
    require(other.cols_ == cols_, "other.cols", other.cols_,
            "must equal the accumulator's column count " + std::to_string(cols_));
    gram_.triangularView<Eigen::Lower>() += other.gram_;
    sums_ += other.sums_;
    rows_ += other.rows_;
  }

  /// Adds a Gram matrix and column sums computed elsewhere (e.g. copied back from a GPU); only
  /// the lower triangle of `gram` is read.
  void add_gram(const Eigen::MatrixXd& gram, const Eigen::VectorXd& sums, index_t rows) {
    require(gram.rows() == cols_ && gram.cols() == cols_, "gram.shape",
            detail::shape_text(gram.rows(), gram.cols()), "must be K x K");
    require(sums.size() == cols_, "sums.size", sums.size(), "must be K");
    require(rows >= 0, "rows", rows, "must be >= 0");
    require(gram.allFinite() && sums.allFinite(), "gram", "non-finite", "entries must be finite");
    gram_.triangularView<Eigen::Lower>() += gram;
    sums_ += sums;
    rows_ += rows;
  }

  /// Lower triangle holds G (the strict upper triangle is unspecified).
  const Eigen::MatrixXd& lower() const noexcept { return gram_; }
  /// The full symmetric G.
  Eigen::MatrixXd gram() const {
    Eigen::MatrixXd g = gram_;
    g.triangularView<Eigen::StrictlyUpper>() = g.transpose();
    return g;
  }
  /// Column sums Σ zᵢ.
  const Eigen::VectorXd& column_sums() const noexcept { return sums_; }
  /// The centred scatter matrix Σ (zᵢ − z̄)(zᵢ − z̄)ᵀ = G − s sᵀ / n (full, symmetric).
  Eigen::MatrixXd centred_scatter() const {
    Eigen::MatrixXd c = gram();
    if (rows_ > 0) c.noalias() -= sums_ * sums_.transpose() / static_cast<double>(rows_);
    return c;
  }

  void reset() {
    gram_.setZero();
    sums_.setZero();
    rows_ = 0;
  }

 private:
  template <class T>
  struct RowRef {
    const T* ptr;
    index_t stride;
  };

  using RowMajorXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  template <class Fetch>
  void add_rows(index_t n, const Context& ctx, Fetch&& fetch) {
    if (n == 0) return;
    detail::EigenSingleThread single;
    const index_t chunk = std::min<index_t>(options_.block_rows, n);
    if (buffer_.rows() < chunk || buffer_.cols() != cols_) buffer_.resize(chunk, cols_);
    // Validate everything first, so a bad entry leaves the accumulator untouched.
    check_finite(n, ctx, fetch);
    for (index_t begin = 0; begin < n; begin += chunk) {
      const index_t r = std::min(chunk, n - begin);
      convert(begin, r, ctx, fetch);
      accumulate(r, ctx);
    }
    rows_ += n;
  }

  // Reports the first (lowest row, then column) non-finite entry, whatever the thread count.
  template <class Fetch>
  void check_finite(index_t n, const Context& ctx, Fetch& fetch) {
    const index_t block = 256;
    std::vector<index_t> first_bad(static_cast<std::size_t>(num_blocks(n, block)), -1);
    parallel_blocks(ctx, n, block, [&](index_t b, index_t lo, index_t hi) {
      for (index_t i = lo; i < hi; ++i) {
        const auto row = fetch(i);
        bool ok = true;
        for (index_t j = 0; j < cols_; ++j) ok &= std::isfinite(row.ptr[j * row.stride]);
        if (!ok) {
          first_bad[static_cast<std::size_t>(b)] = i;
          return;
        }
      }
    });
    for (index_t i : first_bad) {
      if (i < 0) continue;
      const auto row = fetch(i);
      for (index_t j = 0; j < cols_; ++j) {
        const double v = static_cast<double>(row.ptr[j * row.stride]);
        require(std::isfinite(v), "Z", v,
                "entries must be finite (row " + std::to_string(rows_ + i) + ", column " +
                    std::to_string(j) + ")");
      }
    }
  }

  template <class Fetch>
  void convert(index_t begin, index_t r, const Context& ctx, Fetch& fetch) {
    parallel_blocks(ctx, r, 64, [&](index_t, index_t lo, index_t hi) {
      for (index_t i = lo; i < hi; ++i) {
        const auto row = fetch(begin + i);
        double* out = buffer_.data() + i * cols_;
        if (row.stride == 1) {
          for (index_t j = 0; j < cols_; ++j) out[j] = static_cast<double>(row.ptr[j]);
        } else {
          for (index_t j = 0; j < cols_; ++j) out[j] = static_cast<double>(row.ptr[j * row.stride]);
        }
      }
    });
  }

  // G_IJ += B_Iᵀ B_J over the lower tiles I >= J; the diagonal tiles also add the column sums.
  void accumulate(index_t r, const Context& ctx) {
    const index_t t = options_.tile;
    const index_t nt = (cols_ + t - 1) / t;
    const index_t ntiles = nt * (nt + 1) / 2;
    const auto b = buffer_.topRows(r);
    parallel_for_dynamic(ctx, ntiles, [&](index_t k) {
      // Tile k -> (i, j) with i >= j, row-major over the lower triangle.
      index_t i = static_cast<index_t>((std::sqrt(8.0 * static_cast<double>(k) + 1.0) - 1.0) / 2.0);
      while (i * (i + 1) / 2 > k) --i;
      while ((i + 1) * (i + 2) / 2 <= k) ++i;
      const index_t j = k - i * (i + 1) / 2;
      const index_t i0 = i * t, j0 = j * t;
      const index_t wi = std::min(t, cols_ - i0), wj = std::min(t, cols_ - j0);
      gram_.block(i0, j0, wi, wj).noalias() +=
          b.middleCols(i0, wi).transpose() * b.middleCols(j0, wj);
      if (i == j) {
        for (index_t c = i0; c < i0 + wi; ++c) {
          double s = 0;
          for (index_t row = 0; row < r; ++row) s += b(row, c);
          sums_(c) += s;
        }
      }
    });
  }

  index_t cols_;
  GramOptions options_;
  index_t rows_ = 0;
  Eigen::MatrixXd gram_;
  Eigen::VectorXd sums_;
  RowMajorXd buffer_;
};

}  // namespace orchard::spectral
