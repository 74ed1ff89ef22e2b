#pragma once
// The spectrum of an N × K embedding matrix Z, by an exact SVD or by the streaming float64 Gram
// matrix, and every metric of the spectral family computed from it in one call.
//
//   orchard::spectral::Params params;                  // RankMe defaults: eps 1e-7, 25,600 rows
//   auto spec = orchard::spectral::spectrum(Z, params, ctx);
//   auto rep = orchard::spectral::report(spec, params); // rep.rankme, rep.stable_rank, ...
#include "eigen.hpp"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/matrix_view.hpp"
#include "../core/parallel.hpp"
#include "../core/random.hpp"
#include "gram.hpp"
#include "metrics.hpp"

namespace orchard::spectral {

/// How the singular values are obtained.
enum class Method {
  automatic,  ///< svd when rows × cols <= Params::svd_max_elements, else gram
  svd,        ///< exact: Eigen BDCSVD of Z (Z converted to double and held whole)
  gram,       ///< streaming: eigenvalues of the float64 Gram ZᵀZ, σ = √max(λ, 0); O(K²) memory
};

/// Which rows are kept when Z has more than Params::max_rows.
enum class Subsample {
  first,   ///< the first max_rows rows
  random,  ///< max_rows distinct rows drawn with Rng(seed) (kept in their original order)
};

inline const char* to_string(Method m) {
  return m == Method::svd ? "svd" : m == Method::gram ? "gram" : "automatic";
}
inline Method parse_method(const std::string& s) {
  if (s == "auto" || s == "automatic") return Method::automatic;
  if (s == "svd") return Method::svd;
  if (s == "gram") return Method::gram;
  throw InvalidArgument("orchard: argument 'method' = " + s + ": expected auto, svd or gram");
}
inline Subsample parse_subsample(const std::string& s) {
  if (s == "first") return Subsample::first;
  if (s == "random") return Subsample::random;
  throw InvalidArgument("orchard: argument 'subsample' = " + s + ": expected first or random");
}

/// Parameters of the spectrum and of the metrics (defaults: the RankMe paper's).
struct Params {
  double eps = 1e-7;                ///< RankMe's ε added to pₖ (paper default)
  Method method = Method::automatic;
  index_t svd_max_elements = index_t{1} << 20;  ///< automatic: SVD up to this many entries
  index_t max_rows = 25600;         ///< rows used (the paper's 25,600); 0 = all rows
  Subsample subsample = Subsample::first;
  std::uint64_t seed = 0;           ///< seed of Subsample::random
  bool centred = true;  ///< also compute the centred covariance spectrum (NESum, participation
                        ///< ratio, α-ReQ, centred RankMe); costs a second eigen/SVD solve
  GramOptions gram;                 ///< block and tile sizes of the Gram path
  double lidar_delta = 1e-4;        ///< LiDAR: δ added to the within-group covariance's diagonal
  double lidar_eps = 1e-8;          ///< LiDAR: ε of its effective-rank formula

  void validate() const {
    require(std::isfinite(eps) && eps >= 0, "eps", eps, "must be finite and >= 0");
    require(svd_max_elements >= 0, "svd_max_elements", svd_max_elements, "must be >= 0");
    require(max_rows >= 0, "max_rows", max_rows, "must be >= 0 (0 = all rows)");
    require(gram.block_rows > 0, "gram.block_rows", gram.block_rows, "must be > 0");
    require(gram.tile > 0, "gram.tile", gram.tile, "must be > 0");
    require(std::isfinite(lidar_delta) && lidar_delta > 0, "lidar_delta", lidar_delta,
            "must be finite and > 0");
    require(std::isfinite(lidar_eps) && lidar_eps >= 0, "lidar_eps", lidar_eps,
            "must be finite and >= 0");
  }
};

/// Singular values of Z and (when Params::centred) the eigenvalues of its covariance.
struct Spectrum {
  Eigen::VectorXd sigma;        ///< singular values of the raw Z, descending, min(rows, cols)
  Eigen::VectorXd covariance;   ///< eigenvalues of the centred covariance (divisor rows − 1, 1
                                ///< when rows = 1), descending, min(rows, cols); empty when not
                                ///< centred. Values below the rank tolerance² are set to 0.
  index_t rows = 0;             ///< rows used (after subsampling)
  index_t cols = 0;
  index_t input_rows = 0;       ///< rows given
  double input_epsilon = 0;     ///< machine epsilon of the input scalar type
  double rank_tolerance = 0;    ///< singular values above it count for the numerical rank
  Method method = Method::svd;  ///< svd or gram (the one that ran)
  bool on_device = false;       ///< computed by the CUDA path
};

/// Every metric, from one spectrum.
struct Report {
  index_t rows = 0, cols = 0, input_rows = 0;
  Method method = Method::svd;
  double rankme = 0;               ///< exp(H), pₖ = σₖ/Σσ + ε, ε = Params::eps (1e-7)
  double rankme_eps0 = 0;          ///< ε = 0: Roy & Vetterli's effective rank
  double rankme_eps1e5 = 0;        ///< ε = 1e-5 (a popular training-callback implementation)
  double rankme_centred = 0;       ///< on the centred covariance eigenvalues (σ² of centred Z)
  double rankme_normalised = 0;    ///< H / ln K (1 when K = 1)
  index_t numerical_rank = 0;      ///< #σ > rank_tolerance (numpy's matrix_rank rule)
  double rank_tolerance = 0;
  double largest_singular_value = 0;
  double stable_rank = 0;          ///< Σσ² / σ₁²
  double participation_ratio = 0;  ///< (Σλ)² / Σλ², λ = centred covariance eigenvalues
  double nesum = 0;                ///< Σλ / λ₁, centred covariance
  double alpha_req = 0;            ///< α of λᵢ ∝ i^(−α), weighted least squares (weights 1/i)
  index_t alpha_req_points = 0;    ///< eigenvalues used in the α fit
  double condition_number = 0;     ///< σ₁ / σ_min over min(N, K) singular values
  std::optional<double> lidar;     ///< LiDAR, when augmentation groups were given
};

/// A source of row blocks for the streaming path: each call returns the next block (all blocks
/// with the same column count), or an empty view (0 rows) when the data are exhausted.
template <class T>
using BlockSource = std::function<ConstMatrixView<T>()>;

namespace detail {

using CudaSpectrumF = Spectrum (*)(ConstMatrixView<float>, const Params&, const Context&);
using CudaSpectrumD = Spectrum (*)(ConstMatrixView<double>, const Params&, const Context&);
/// Filled in by <orchard/spectral/cuda.hpp> (a translation unit compiled with nvcc), so a
/// Context with Device::cuda reaches the GPU from any translation unit of the program.
struct CudaHooks {
  CudaSpectrumF f = nullptr;
  CudaSpectrumD d = nullptr;
};
inline CudaHooks& cuda_hooks() {
  static CudaHooks hooks;
  return hooks;
}

template <class T>
constexpr double machine_epsilon() {
  return static_cast<double>(std::numeric_limits<T>::epsilon());
}

/// numpy's matrix_rank tolerance σ₁·max(N, K)·u (u of the input type); the Gram path cannot
/// resolve singular values below about σ₁·√(K·u₆₄), so its tolerance is at least
/// σ₁·√(max(N, K)·u₆₄).
inline double rank_tolerance(double sigma1, index_t n, index_t k, double input_eps, Method m) {
  const double big = static_cast<double>(std::max(n, k));
  double tol = sigma1 * big * input_eps;
  if (m == Method::gram) {
    tol = std::max(tol, sigma1 * std::sqrt(big * std::numeric_limits<double>::epsilon()));
  }
  return tol;
}

inline void sort_descending(Eigen::VectorXd& v) {
  std::sort(v.data(), v.data() + v.size(), [](double a, double b) { return a > b; });
}

inline void require_nonzero(const Spectrum& s) {
  require(s.sigma.size() > 0 && s.sigma(0) > 0, "Z",
          "all-zero " + shape_text(s.rows, s.cols) + " matrix",
          "the spectrum is zero, so RankMe and its companions are undefined");
}

/// Scatter eigenvalues (any order) -> covariance eigenvalues, descending, the first m, zeroing
/// those below tol².
inline Eigen::VectorXd finish_covariance(Eigen::VectorXd scatter_eigs, index_t m, index_t rows,
                                         double tol) {
  sort_descending(scatter_eigs);
  Eigen::VectorXd c = scatter_eigs.head(m);
  const double div = rows > 1 ? static_cast<double>(rows - 1) : 1.0;
  for (Eigen::Index i = 0; i < c.size(); ++i) c(i) = c(i) > tol * tol ? c(i) / div : 0.0;
  return c;
}

}  // namespace detail

/// The spectrum from eigenvalues of a Gram matrix (any order) and, when centred, of the centred
/// scatter ZᵀZ − s sᵀ/n (empty otherwise). Used by the CPU and CUDA Gram paths alike.
inline Spectrum spectrum_from_eigenvalues(Eigen::VectorXd gram_eigs, Eigen::VectorXd scatter_eigs,
                                          index_t rows, index_t cols, index_t input_rows,
                                          double input_epsilon) {
  Spectrum s;
  s.rows = rows;
  s.cols = cols;
  s.input_rows = input_rows;
  s.input_epsilon = input_epsilon;
  s.method = Method::gram;
  const index_t m = std::min(rows, cols);
  detail::sort_descending(gram_eigs);
  s.sigma.resize(m);
  for (index_t i = 0; i < m; ++i) s.sigma(i) = std::sqrt(std::max(gram_eigs(i), 0.0));
  s.rank_tolerance = detail::rank_tolerance(m > 0 ? s.sigma(0) : 0.0, rows, cols, input_epsilon,
                                            Method::gram);
  detail::require_nonzero(s);
  if (scatter_eigs.size() > 0) {
    s.covariance = detail::finish_covariance(std::move(scatter_eigs), m, rows, s.rank_tolerance);
  }
  return s;
}

/// The spectrum of the rows accumulated in a Gram (e.g. merged shards). `input_epsilon` is the
/// machine epsilon of the data's scalar type (numerical-rank tolerance). With two or more
/// threads the raw and centred eigenproblems are solved concurrently.
inline Spectrum spectrum(const GramAccumulator& acc, double input_epsilon, const Params& params,
                         const Context& ctx = Context(1)) {
  params.validate();
  require(acc.rows() > 0, "gram.rows", acc.rows(), "no rows were added");
  detail::EigenSingleThread single;
  // The raw and the centred eigenproblems are independent: with two or more threads they run
  // side by side (each solver is sequential, so the results do not depend on the thread count).
  Eigen::VectorXd raw, scatter;
  parallel_for(ctx, params.centred ? 2 : 1, [&](index_t task) {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es;
    if (task == 0) {
      es.compute(acc.lower(), Eigen::EigenvaluesOnly);  // reads the lower triangle only
      raw = es.eigenvalues();
    } else {
      es.compute(acc.centred_scatter(), Eigen::EigenvaluesOnly);
      scatter = es.eigenvalues();
    }
  });
  // An all-zero Z (caught below) has no centred spectrum either.
  if (!(raw.maxCoeff() > 0)) scatter.resize(0);
  return spectrum_from_eigenvalues(std::move(raw), std::move(scatter), acc.rows(), acc.cols(),
                                   acc.rows(), input_epsilon);
}

namespace detail {

template <class T>
Spectrum svd_spectrum(ConstMatrixView<T> z, std::span<const index_t> rows, const Params& params,
                      index_t input_rows) {
  const index_t n = rows.empty() ? z.rows : static_cast<index_t>(rows.size());
  const index_t k = z.cols;
  Eigen::MatrixXd a(n, k);
  for (index_t i = 0; i < n; ++i) {
    const index_t src = rows.empty() ? i : rows[static_cast<std::size_t>(i)];
    for (index_t j = 0; j < k; ++j) {
      const double v = static_cast<double>(z(src, j));
      require(std::isfinite(v), "Z", v,
              "entries must be finite (row " + std::to_string(src) + ", column " +
                  std::to_string(j) + ")");
      a(i, j) = v;
    }
  }
  EigenSingleThread single;
  Spectrum s;
  s.rows = n;
  s.cols = k;
  s.input_rows = input_rows;
  s.input_epsilon = machine_epsilon<T>();
  s.method = Method::svd;
  {
    Eigen::BDCSVD<Eigen::MatrixXd> svd(a);
    s.sigma = svd.singularValues();
  }
  sort_descending(s.sigma);
  s.rank_tolerance = rank_tolerance(s.sigma.size() > 0 ? s.sigma(0) : 0.0, n, k,
                                    s.input_epsilon, Method::svd);
  require_nonzero(s);
  if (params.centred) {
    const Eigen::RowVectorXd mean = a.colwise().mean();
    a.rowwise() -= mean;
    Eigen::BDCSVD<Eigen::MatrixXd> svd(a);
    Eigen::VectorXd sc = svd.singularValues().array().square().matrix();
    s.covariance = finish_covariance(std::move(sc), std::min(n, k), n, s.rank_tolerance);
  }
  return s;
}

template <class T>
Spectrum view_spectrum(ConstMatrixView<T> z, const Params& params, const Context& ctx) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "spectrum() takes float or double data");
  params.validate();
  require(z.rows > 0, "Z.rows", z.rows, "must be > 0 (empty matrix)");
  require(z.cols > 0, "Z.cols", z.cols, "must be > 0 (empty matrix)");
  require(z.data != nullptr, "Z.data", "null", "must point to the data");
  // Subsample: the first max_rows rows, or max_rows rows drawn with the seed.
  std::vector<index_t> picked;
  index_t n = z.rows;
  if (params.max_rows > 0 && z.rows > params.max_rows) {
    n = params.max_rows;
    if (params.subsample == Subsample::random) {
      Rng rng(params.seed);
      picked = rng.sample_without_replacement(z.rows, n);
    }
  }
  const ConstMatrixView<T> used = picked.empty() ? z.row_block(0, n) : z;

  if (ctx.device() == Device::cuda) {
    const auto& hooks = cuda_hooks();
    const bool have = std::is_same_v<T, float> ? hooks.f != nullptr : hooks.d != nullptr;
    if (!have) {
      throw DeviceError(
          "orchard: argument 'ctx.device' = cuda: the spectral CUDA path is not linked in; "
          "include <orchard/spectral/cuda.hpp> in a translation unit compiled with nvcc");
    }
    Spectrum s;
    if (picked.empty()) {
      if constexpr (std::is_same_v<T, float>) s = hooks.f(used, params, ctx);
      else s = hooks.d(used, params, ctx);
    } else {
      // Gather the subsample into one contiguous block for the device.
      std::vector<T> buf(static_cast<std::size_t>(n * z.cols));
      for (index_t i = 0; i < n; ++i) {
        for (index_t j = 0; j < z.cols; ++j) {
          buf[static_cast<std::size_t>(i * z.cols + j)] = z(picked[static_cast<std::size_t>(i)], j);
        }
      }
      const ConstMatrixView<T> g(buf.data(), n, z.cols);
      if constexpr (std::is_same_v<T, float>) s = hooks.f(g, params, ctx);
      else s = hooks.d(g, params, ctx);
    }
    s.input_rows = z.rows;
    return s;
  }

  Method m = params.method;
  if (m == Method::automatic) {
    m = n * z.cols <= params.svd_max_elements ? Method::svd : Method::gram;
  }
  if (m == Method::svd) return svd_spectrum<T>(z.row_block(0, picked.empty() ? n : z.rows),
                                               picked, params, z.rows);
  GramAccumulator acc(z.cols, params.gram);
  if (picked.empty()) {
    acc.add(used, ctx);
  } else {
    acc.add_rows(z, std::span<const index_t>(picked), ctx);
  }
  Spectrum s = spectrum(acc, machine_epsilon<T>(), params, ctx);
  s.input_rows = z.rows;
  return s;
}

}  // namespace detail

/// The spectrum of Z (float or double, any strides): SVD or Gram path per Params::method, on the
/// CPU or (Context device cuda, with <orchard/spectral/cuda.hpp> linked in) on the GPU.
/// Throws InvalidArgument for an empty Z, a NaN/inf entry (naming row and column) or an all-zero
/// Z (its spectrum is zero and every metric undefined).
inline Spectrum spectrum(ConstMatrixView<float> z, const Params& params, const Context& ctx) {
  return detail::view_spectrum<float>(z, params, ctx);
}
inline Spectrum spectrum(ConstMatrixView<double> z, const Params& params, const Context& ctx) {
  return detail::view_spectrum<double>(z, params, ctx);
}

/// The streaming path over blocks from a callback: Z is never held whole. The first
/// Params::max_rows rows are used (0 = all; Subsample::random needs the whole matrix and is
/// rejected here).
template <class T>
Spectrum spectrum(const BlockSource<T>& next, index_t cols, const Params& params,
                  const Context& ctx) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "spectrum() takes float or double data");
  params.validate();
  require(cols > 0, "cols", cols, "must be > 0");
  require(static_cast<bool>(next), "next", "empty function", "must be a callable block source");
  require(params.subsample == Subsample::first || params.max_rows == 0, "subsample", "random",
          "a block source supports only Subsample::first (or max_rows = 0)");
  GramAccumulator acc(cols, params.gram);
  index_t seen = 0;
  for (;;) {
    ConstMatrixView<T> b = next();
    if (b.rows == 0) break;
    require(b.cols == cols, "block.cols", b.cols, "must equal cols = " + std::to_string(cols));
    seen += b.rows;
    if (params.max_rows > 0 && acc.rows() + b.rows > params.max_rows) {
      b = b.row_block(0, params.max_rows - acc.rows());
    }
    if (b.rows > 0) acc.add(b, ctx);
    if (params.max_rows > 0 && acc.rows() >= params.max_rows) break;
  }
  require(acc.rows() > 0, "Z.rows", 0, "must be > 0 (the block source gave no rows)");
  Spectrum s = spectrum(acc, detail::machine_epsilon<T>(), params, ctx);
  s.input_rows = seen;
  return s;
}

/// Every metric from one spectrum.
inline Report report(const Spectrum& s, const Params& params) {
  params.validate();
  detail::require_nonzero(s);
  Report r;
  r.rows = s.rows;
  r.cols = s.cols;
  r.input_rows = s.input_rows;
  r.method = s.method;
  const double h = spectral_entropy(s.sigma, params.eps);
  r.rankme = std::exp(h);
  r.rankme_eps0 = effective_rank(s.sigma, 0.0);
  r.rankme_eps1e5 = effective_rank(s.sigma, 1e-5);
  r.rankme_normalised = s.cols > 1 ? h / std::log(static_cast<double>(s.cols)) : 1.0;
  r.rank_tolerance = s.rank_tolerance;
  r.numerical_rank = numerical_rank(s.sigma, s.rank_tolerance);
  r.largest_singular_value = s.sigma(0);
  r.stable_rank = stable_rank(s.sigma);
  r.condition_number = condition_number(s.sigma);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (s.covariance.size() == 0) {
    r.rankme_centred = r.participation_ratio = r.nesum = r.alpha_req = nan;
  } else if (s.covariance(0) <= 0) {
    // Zero covariance (identical rows, or one row): no spread in any direction.
    r.rankme_centred = r.participation_ratio = r.nesum = 0;
    r.alpha_req = nan;
  } else {
    r.rankme_centred = effective_rank(s.covariance, params.eps);
    r.participation_ratio = participation_ratio(s.covariance);
    r.nesum = nesum(s.covariance);
    const PowerLawFit fit = power_law_fit(s.covariance, 0.0);
    r.alpha_req = fit.alpha;
    r.alpha_req_points = fit.points;
  }
  return r;
}

/// spectrum() then report() in one call.
inline Report report(ConstMatrixView<float> z, const Params& params, const Context& ctx) {
  return report(spectrum(z, params, ctx), params);
}
inline Report report(ConstMatrixView<double> z, const Params& params, const Context& ctx) {
  return report(spectrum(z, params, ctx), params);
}

}  // namespace orchard::spectral
