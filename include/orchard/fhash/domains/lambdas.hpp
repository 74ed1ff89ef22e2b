#pragma once
// Domain 3, arbitrary C++ callables: `hash_lambda` hashes any lambda by running it on the probe
// inputs, whatever its shape:
//   f(double)                        scalar in (first input coordinate)
//   f(std::span<const double>)       one probe input row
//   f(std::span<const double>, Rng&) stochastic (the RNG is reset per repetition)
// returning a number or a container of numbers. `LambdaChainDomain` is a search domain over
// compositions of a library of unary lambdas (many compositions are the same function:
// neg∘neg, abs∘square, ...); its candidates materialise to std::function and are hashed through
// hash_lambda, and the evaluation scores them against a target on a dense grid.
#include <cmath>
#include <concepts>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../../core/error.hpp"
#include "../../core/random.hpp"
#include "../hasher.hpp"

namespace orchard::fhash {

namespace detail {
template <class R>
void emit_result(ProbeRun& run, const R& r) {
  if constexpr (std::is_arithmetic_v<R>) {
    run.emit(static_cast<double>(r));
  } else {
    for (const auto& v : r) run.emit(static_cast<double>(v));
  }
}
}  // namespace detail

/// Hashes a callable on the hasher's probe inputs (see the header comment for the shapes).
template <class F>
HashResult hash_lambda(const Hasher& hasher, F&& f) {
  return hasher.hash([&](ProbeRun& run) {
    const auto& p = run.probes();
    const auto d = static_cast<std::size_t>(p.input_dim());
    for (int i = 0; i < p.num_examples(); ++i) {
      const std::span<const double> x(p.example(i), d);
      if constexpr (std::is_invocable_v<F&, std::span<const double>, Rng&>) {
        detail::emit_result(run, f(x, run.rng()));
      } else if constexpr (std::is_invocable_v<F&, std::span<const double>>) {
        detail::emit_result(run, f(x));
      } else {
        static_assert(std::is_invocable_v<F&, double>,
                      "hash_lambda: the callable must take double, span<const double> or "
                      "(span<const double>, Rng&)");
        detail::emit_result(run, f(x[0]));
      }
    }
  });
}

/// A named unary primitive.
struct Primitive {
  std::string name;
  std::function<double(double)> fn;
};

/// A small default library with many algebraic identities among its compositions.
inline std::vector<Primitive> default_primitives() {
  return {{"id", [](double x) { return x; }},
          {"neg", [](double x) { return -x; }},
          {"abs", [](double x) { return std::fabs(x); }},
          {"square", [](double x) { return x * x; }},
          {"sqrt_abs", [](double x) { return std::sqrt(std::fabs(x)); }},
          {"sin", [](double x) { return std::sin(x); }},
          {"cos", [](double x) { return std::cos(x); }},
          {"inc", [](double x) { return x + 1.0; }},
          {"dec", [](double x) { return x - 1.0; }},
          {"twice", [](double x) { return 2.0 * x; }},
          {"half", [](double x) { return 0.5 * x; }},
          {"tanh", [](double x) { return std::tanh(x); }},
          {"relu", [](double x) { return x > 0 ? x : 0.0; }}};
}

struct LambdaChainParams {
  int length = 6;   ///< primitives per chain (id pads shorter functions)
  int grid = 5000;  ///< evaluation points on [lo, hi]
  double lo = -3.0, hi = 3.0;
  ProbeParams probe{12, 1, 1, -3.0, 3.0, 20230101};
  CanonicalParams canonical{};
  std::function<double(double)> target = [](double x) { return std::sin(x) * std::sin(x) + 1.0; };

  void validate() const {
    require(length >= 1 && length <= 64, "length", length, "must lie in 1..64");
    require(grid >= 1, "grid", grid, "must be >= 1");
    require(std::isfinite(lo) && std::isfinite(hi) && lo < hi, "lo", lo, "needs finite lo < hi");
    require(static_cast<bool>(target), "target", "empty", "needs a target function");
  }
};

/// Search domain: a candidate is a chain of primitive indices applied left to right.
class LambdaChainDomain {
 public:
  using Candidate = std::vector<int>;

  explicit LambdaChainDomain(const LambdaChainParams& p = {},
                             std::vector<Primitive> library = default_primitives())
      : p_(p), lib_(std::move(library)) {
    p.validate();
    require(!lib_.empty(), "library.size", lib_.size(), "needs >= 1 primitive");
    ProbeParams pp = p.probe;
    pp.input_dim = 1;
    HashParams hp;
    hp.canonical = p.canonical;
    hasher_ = Hasher(hp, ProbeSet(pp));
  }

  const Hasher& hasher() const noexcept { return hasher_; }
  const std::vector<Primitive>& library() const noexcept { return lib_; }

  /// The candidate as a plain C++ callable.
  std::function<double(double)> as_lambda(const Candidate& c) const {
    return [this, c](double x) {
      for (int g : c) x = lib_[static_cast<std::size_t>(g)].fn(x);
      return x;
    };
  }

  std::string describe(const Candidate& c) const {
    std::string s = "x";
    for (int g : c) s = lib_[static_cast<std::size_t>(g)].name + "(" + s + ")";
    return s;
  }

  Candidate random_candidate(Rng& rng) const {
    Candidate c(static_cast<std::size_t>(p_.length));
    for (auto& g : c) g = static_cast<int>(rng.uniform_int(lib_.size()));
    return c;
  }

  Candidate mutate(const Candidate& parent, Rng& rng) const {
    Candidate c = parent;
    c[static_cast<std::size_t>(rng.uniform_int(c.size()))] =
        static_cast<int>(rng.uniform_int(lib_.size()));
    return c;
  }

  std::uint64_t hash(const Candidate& c) const { return hash_lambda(hasher_, as_lambda(c)).hash; }

  /// 1 / (1 + mean squared error) against the target on the grid (0 when not finite).
  double evaluate(const Candidate& c, Rng&) const {
    const auto f = as_lambda(c);
    double loss = 0;
    for (int i = 0; i < p_.grid; ++i) {
      const double x = p_.grid == 1 ? p_.lo : p_.lo + (p_.hi - p_.lo) * i / (p_.grid - 1);
      const double e = f(x) - p_.target(x);
      loss += e * e;
    }
    const double mse = loss / p_.grid;
    return std::isfinite(mse) ? 1.0 / (1.0 + mse) : 0.0;
  }

 private:
  LambdaChainParams p_;
  std::vector<Primitive> lib_;
  Hasher hasher_;
};

}  // namespace orchard::fhash
