#pragma once
// Shared pieces of orchard::gbnn: matrix aliases, the logistic function, losses, progress
// reports, input validation and the fixed row-block rule that keeps every reduction independent of
// the thread count.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "../core/config.hpp"
#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/matrix_view.hpp"
#include "../core/parallel.hpp"

namespace orchard::gbnn {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// What a model predicts. classification picks binary (two classes) or multiclass (more) from
/// the training labels, as the reference package does.
enum class Task { regression, classification };

/// The loss a model minimises (decided at fit time).
///  squared:    ½(y − F)², F0 = mean(y)
///  binary:     ln(1 + exp(−2yF)) with y in {−1, +1}; F is half the log-odds
///  multiclass: softmax cross-entropy over K outputs, F0 = 0
enum class Loss { squared, binary, multiclass };

inline const char* to_string(Loss l) {
  switch (l) {
    case Loss::squared: return "squared";
    case Loss::binary: return "binary";
    case Loss::multiclass: return "multiclass";
  }
  return "?";
}

/// One report per boosting step (GBNN) or per solver iteration / epoch (MLP).
struct Progress {
  int step = 0;                 ///< steps (or iterations) done so far
  int total = 0;                ///< steps planned
  double train_loss = 0;        ///< mean training loss after this step
  double valid_loss = std::numeric_limits<double>::quiet_NaN();  ///< NaN without validation data
  double seconds = 0;           ///< wall time since training started
};
using ProgressFn = std::function<bool(const Progress&)>;

ORCHARD_HD inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }
ORCHARD_HD inline float sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

/// ln(1 + exp(x)) without overflow.
template <class T>
inline T log1pexp(T x) {
  return x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

namespace detail {

/// Scopes Eigen's own GEMM threading to one thread: all parallelism goes through
/// orchard::parallel_for over fixed row blocks, so the Context's thread count is honoured and the
/// results do not depend on it.
class EigenSingleThread {
 public:
  EigenSingleThread() : saved_(Eigen::nbThreads()) { Eigen::setNbThreads(1); }
  ~EigenSingleThread() { Eigen::setNbThreads(saved_); }
  EigenSingleThread(const EigenSingleThread&) = delete;
  EigenSingleThread& operator=(const EigenSingleThread&) = delete;

 private:
  int saved_;
};

/// Rows per block for row-parallel work with per-block partial results of `width` scalars and
/// about `work` multiply-adds per row: enough rows that a block is worth a thread (>= 128 rows and
/// >= 1M multiply-adds, so small problems run on one thread without fork/join overhead), and few enough blocks that the partials stay under ~4M scalars. Depends
/// only on the problem shape, never on the thread count.
inline index_t block_rows(index_t n, index_t width, index_t work = 1) {
  constexpr index_t budget = 4'000'000;
  const index_t max_blocks = std::max<index_t>(1, budget / std::max<index_t>(width, 1));
  const index_t by_memory = (std::max<index_t>(n, 0) + max_blocks - 1) / max_blocks;
  const index_t by_work = (index_t{1} << 20) / std::max<index_t>(work, 1);
  return std::max<index_t>({128, by_memory, by_work});
}

/// Copies a view into a contiguous row-major matrix, rejecting NaN / infinite entries.
template <class T>
void copy_checked(ConstMatrixView<T> X, RowMatrix<T>& out, const char* name) {
  out.resize(X.rows, X.cols);
  for (index_t i = 0; i < X.rows; ++i) {
    for (index_t j = 0; j < X.cols; ++j) {
      const T v = X(i, j);
      if (!std::isfinite(v)) {
        throw InvalidArgument(std::string("orchard: argument '") + name + "(" + std::to_string(i) +
                              ", " + std::to_string(j) + ")' = " + ::orchard::detail::to_text(v) +
                              ": features must be finite (no NaN or infinity)");
      }
      out(i, j) = v;
    }
  }
}

/// Checks that a view holds finite features (without copying).
template <class T>
void check_finite(ConstMatrixView<T> X, const char* name) {
  for (index_t i = 0; i < X.rows; ++i) {
    for (index_t j = 0; j < X.cols; ++j) {
      const T v = X(i, j);
      if (!std::isfinite(v)) {
        throw InvalidArgument(std::string("orchard: argument '") + name + "(" + std::to_string(i) +
                              ", " + std::to_string(j) + ")' = " + ::orchard::detail::to_text(v) +
                              ": features must be finite (no NaN or infinity)");
      }
    }
  }
}

/// Class labels: non-negative integers stored as floating point. Returns the number of classes
/// (max label + 1) and throws on anything else.
template <class T>
int check_class_labels(ConstVectorView<T> y, const char* name) {
  long long top = -1;
  for (index_t i = 0; i < y.size; ++i) {
    const T v = y[i];
    if (!std::isfinite(v) || v < 0 || v != std::floor(v) || v > T(1e6)) {
      throw InvalidArgument(std::string("orchard: argument '") + name + "[" + std::to_string(i) +
                            "]' = " + ::orchard::detail::to_text(v) +
                            ": class labels must be integers in [0, 1e6]");
    }
    top = std::max(top, static_cast<long long>(v));
  }
  return static_cast<int>(top + 1);
}

}  // namespace detail
}  // namespace orchard::gbnn
