#pragma once
// The unified functional hash. A candidate (lambda, program, graph, training procedure) is run on
// a fixed canonical probe set: N_E seeded inputs, repeated for N_S seeds with the candidate's RNG
// reset to the repetition's seed before each run. Its float outputs are canonicalised (see
// canonical.hpp) and mixed with XXH3 (or, in reference-parity mode, with the official Python
// SHA-256 mixing). Optional key parts (task id, budget) make the same function hash differently
// on different tasks or evaluation budgets.
#include <xxhash.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/matrix_view.hpp"
#include "../core/parallel.hpp"
#include "../core/random.hpp"
#include "canonical.hpp"
#include "parity.hpp"

namespace orchard::fhash {

/// How canonical words are mixed into the hash.
enum class Mixer {
  xxh3,             ///< XXH3-64 over the canonical words (fast; the default)
  reference_sha256  ///< the official Python significant_float_mix (slow; parity checks)
};

inline const char* to_string(Mixer m) { return m == Mixer::xxh3 ? "xxh3" : "reference_sha256"; }

inline Mixer parse_mixer(const std::string& name) {
  if (name == "xxh3") return Mixer::xxh3;
  if (name == "reference_sha256" || name == "reference") return Mixer::reference_sha256;
  throw InvalidArgument("orchard: argument 'mixer' = " + name +
                        ": expected 'xxh3' or 'reference_sha256'");
}

/// The canonical probe inputs: N_E examples of input_dim values drawn uniformly from [lo, hi)
/// with a fixed seed, and N_S repetition seeds.
struct ProbeParams {
  int num_examples = 32;  ///< N_E: probe inputs per repetition
  int num_seeds = 1;      ///< N_S: repetitions, each with the candidate RNG reset to its seed
  int input_dim = 1;      ///< values per probe input
  double lo = -2.0;       ///< inputs are uniform in [lo, hi)
  double hi = 2.0;
  std::uint64_t seed = 20230101;  ///< fixes the inputs and the repetition seeds

  void validate() const {
    require(num_examples >= 1, "num_examples", num_examples,
            "the probe set must not be empty (N_E >= 1)");
    require(num_seeds >= 1, "num_seeds", num_seeds, "the probe set must not be empty (N_S >= 1)");
    require(input_dim >= 1, "input_dim", input_dim, "must be >= 1");
    require(std::isfinite(lo) && std::isfinite(hi) && lo < hi, "lo", lo, "needs finite lo < hi");
  }
};

class ProbeSet {
 public:
  ProbeSet() : ProbeSet(ProbeParams{}) {}
  explicit ProbeSet(const ProbeParams& p) {
    p.validate();
    n_ = p.num_examples;
    d_ = p.input_dim;
    Rng rng(p.seed);
    inputs_.resize(static_cast<std::size_t>(n_) * static_cast<std::size_t>(d_));
    for (auto& v : inputs_) v = rng.uniform(p.lo, p.hi);
    seeds_.resize(static_cast<std::size_t>(p.num_seeds));
    Rng seed_rng = rng.split(0x5EED);
    for (auto& s : seeds_) s = seed_rng.next();
  }
  /// Custom canonical inputs (row-major n x d) and repetition seeds.
  ProbeSet(std::vector<double> inputs, int num_examples, std::vector<std::uint64_t> seeds)
      : inputs_(std::move(inputs)), seeds_(std::move(seeds)), n_(num_examples) {
    require(num_examples >= 1, "num_examples", num_examples, "the probe set must not be empty");
    require(!seeds_.empty(), "seeds.size", seeds_.size(), "the probe set needs >= 1 seed");
    require(!inputs_.empty() && inputs_.size() % static_cast<std::size_t>(num_examples) == 0,
            "inputs.size", inputs_.size(), "must be a positive multiple of num_examples");
    d_ = static_cast<int>(inputs_.size() / static_cast<std::size_t>(num_examples));
  }

  int num_examples() const noexcept { return n_; }
  int num_seeds() const noexcept { return static_cast<int>(seeds_.size()); }
  int input_dim() const noexcept { return d_; }
  std::uint64_t seed(int s) const { return seeds_.at(static_cast<std::size_t>(s)); }
  const double* example(int i) const { return inputs_.data() + static_cast<std::size_t>(i) * d_; }
  ConstMatrixView<double> inputs() const { return ConstMatrixView<double>(inputs_.data(), n_, d_); }

 private:
  std::vector<double> inputs_;
  std::vector<std::uint64_t> seeds_;
  int n_ = 0, d_ = 0;
};

struct HashParams {
  CanonicalParams canonical;  ///< mantissa bits, rounding, zero threshold
  Mixer mixer = Mixer::xxh3;
  std::optional<std::uint64_t> task_id;  ///< mixed into the key when set
  std::optional<std::uint64_t> budget;   ///< e.g. training epochs; mixed into the key when set
  std::uint64_t salt = 0;                ///< XXH3 seed base
};

/// What one candidate's probe produced.
struct HashResult {
  std::uint64_t hash = 0;
  std::int64_t outputs = 0;    ///< float outputs mixed
  bool failed = false;         ///< the candidate threw in at least one repetition
  bool stopped_early = false;  ///< the candidate signalled an early stop
  std::string error;           ///< message of the first failure
};

/// Handed to the candidate for one repetition: the probe inputs, the reset RNG and the sink for
/// its outputs.
class ProbeRun {
 public:
  const ProbeSet& probes() const noexcept { return *probes_; }
  ConstMatrixView<double> inputs() const { return probes_->inputs(); }
  int seed_index() const noexcept { return seed_index_; }
  std::uint64_t seed() const { return probes_->seed(seed_index_); }
  /// The candidate's RNG, reseeded to seed() before the repetition.
  Rng& rng() noexcept { return rng_; }

  void emit(double v) {
    words_->push_back(parity_ ? std::bit_cast<std::uint64_t>(v) : canon_(v));
    if (parity_) flags_->push_back(0);
    ++emitted_;
  }
  void emit(float v) { emit(static_cast<double>(v)); }
  template <class T>
  void emit(std::span<const T> values) {
    for (const T v : values) emit(static_cast<double>(v));
  }
  void emit(const std::vector<double>& values) { emit(std::span<const double>(values)); }
  void emit(const std::vector<float>& values) { emit(std::span<const float>(values)); }
  /// Records that the candidate stopped at the current output position (e.g. diverged training).
  void stop_early() {
    push_token(TokenKind::early_stop);
    stopped_early_ = true;
  }
  std::int64_t emitted() const noexcept { return emitted_; }

 private:
  friend class Hasher;
  void push_token(TokenKind k) {
    words_->push_back(token(k, static_cast<std::uint64_t>(emitted_)));
    if (parity_) flags_->push_back(1);
  }
  const ProbeSet* probes_ = nullptr;
  Canonicalizer canon_;
  std::vector<std::uint64_t>* words_ = nullptr;
  std::vector<std::uint8_t>* flags_ = nullptr;
  Rng rng_;
  int seed_index_ = 0;
  std::int64_t emitted_ = 0;
  bool parity_ = false;
  bool stopped_early_ = false;
};

class Hasher {
 public:
  Hasher() : Hasher(HashParams{}, ProbeSet{}) {}
  Hasher(const HashParams& params, ProbeSet probes)
      : params_(params), probes_(std::move(probes)), canon_(params.canonical) {
    if (params.task_id || params.budget) {
      const std::uint64_t key[4] = {params.task_id ? 1u + 2u * (params.budget ? 1u : 0u) : 2u,
                                    params.task_id.value_or(0), params.budget.value_or(0),
                                    params.salt};
      seed_ = XXH3_64bits_withSeed(key, sizeof(key), 0x0F4A5E5Dull);
    } else {
      seed_ = params.salt;
    }
  }

  const HashParams& params() const noexcept { return params_; }
  const ProbeSet& probes() const noexcept { return probes_; }
  const Canonicalizer& canonicalizer() const noexcept { return canon_; }
  std::uint64_t key_seed() const noexcept { return seed_; }

  /// Hash of an output buffer (values in order).
  template <class T>
  std::uint64_t hash_outputs(std::span<const T> values) const {
    if (params_.mixer == Mixer::reference_sha256) {
      std::vector<double> d(values.begin(), values.end());
      return significant_float_mix(d, params_.canonical.mantissa_bits);
    }
    constexpr std::size_t kBlock = 256;
    std::uint64_t buf[kBlock];
    if (values.size() <= kBlock) {
      for (std::size_t i = 0; i < values.size(); ++i) buf[i] = canon_(values[i]);
      return XXH3_64bits_withSeed(buf, values.size() * sizeof(std::uint64_t), seed_);
    }
    XXH3_state_t* state = thread_state();
    XXH3_64bits_reset_withSeed(state, seed_);
    for (std::size_t b = 0; b < values.size(); b += kBlock) {
      const std::size_t e = std::min(values.size(), b + kBlock);
      for (std::size_t i = b; i < e; ++i) buf[i - b] = canon_(values[i]);
      XXH3_64bits_update(state, buf, (e - b) * sizeof(std::uint64_t));
    }
    return XXH3_64bits_digest(state);
  }
  std::uint64_t hash_outputs(const std::vector<double>& v) const {
    return hash_outputs(std::span<const double>(v));
  }
  std::uint64_t hash_outputs(const std::vector<float>& v) const {
    return hash_outputs(std::span<const float>(v));
  }

  /// Batched hashing: one hash per row of `outputs` (row = one candidate's output buffer),
  /// rows spread over ctx.threads(). Bit-identical for any thread count.
  template <class T>
  std::vector<std::uint64_t> hash_rows(const Context& ctx, ConstMatrixView<T> outputs) const {
    std::vector<std::uint64_t> out(static_cast<std::size_t>(outputs.rows));
    parallel_for(ctx, outputs.rows, [&](std::int64_t r) {
      if (outputs.col_stride == 1) {
        out[static_cast<std::size_t>(r)] = hash_outputs(
            std::span<const T>(outputs.row_ptr(r), static_cast<std::size_t>(outputs.cols)));
      } else {
        std::vector<T> row(static_cast<std::size_t>(outputs.cols));
        for (index_t j = 0; j < outputs.cols; ++j) row[static_cast<std::size_t>(j)] = outputs(r, j);
        out[static_cast<std::size_t>(r)] = hash_outputs(std::span<const T>(row));
      }
    });
    return out;
  }

  /// Runs the candidate `fn(ProbeRun&)` on the probe set (N_S repetitions) and hashes what it
  /// emitted. `reset_rng(seed)`, when given, is called before each repetition so a candidate
  /// with its own generator can reseed it. A candidate that throws is not an error here: the
  /// failure and its output position become part of the hash.
  template <class Fn>
  HashResult hash(Fn&& fn, const std::function<void(std::uint64_t)>& reset_rng = {}) const {
    // Per-thread scratch buffers, one level per nesting depth (a candidate may itself hash).
    struct Buffers {
      std::vector<std::uint64_t> words;
      std::vector<std::uint8_t> flags;
    };
    thread_local std::vector<std::unique_ptr<Buffers>> stack;
    thread_local std::size_t depth = 0;
    if (stack.size() <= depth) stack.push_back(std::make_unique<Buffers>());
    struct DepthGuard {
      std::size_t& d;
      explicit DepthGuard(std::size_t& x) : d(x) { ++d; }
      ~DepthGuard() { --d; }
    };
    Buffers& buf = *stack[depth];
    const DepthGuard guard(depth);
    auto& words = buf.words;
    auto& flags = buf.flags;
    words.clear();
    flags.clear();
    HashResult res;
    ProbeRun run;
    run.probes_ = &probes_;
    run.canon_ = canon_;
    run.words_ = &words;
    run.flags_ = &flags;
    run.parity_ = params_.mixer == Mixer::reference_sha256;
    for (int s = 0; s < probes_.num_seeds(); ++s) {
      run.seed_index_ = s;
      run.emitted_ = 0;
      run.rng_.reseed(probes_.seed(s));
      try {
        if (reset_rng) reset_rng(probes_.seed(s));
        fn(run);
      } catch (const std::exception& e) {
        if (!res.failed) res.error = e.what();
        res.failed = true;
        run.push_token(TokenKind::failure);
      } catch (...) {
        if (!res.failed) res.error = "unknown exception";
        res.failed = true;
        run.push_token(TokenKind::failure);
      }
      res.outputs += run.emitted_;
      if (!run.parity_) words.push_back(token(TokenKind::separator, static_cast<std::uint64_t>(s)));
    }
    res.stopped_early = run.stopped_early_;
    if (run.parity_) {
      res.hash = parity_words(words, flags);
    } else {
      res.hash = XXH3_64bits_withSeed(words.data(), words.size() * sizeof(std::uint64_t), seed_);
    }
    return res;
  }

  /// Hashes n candidates `fn(i, ProbeRun&)` in parallel; bit-identical for any thread count.
  template <class Fn>
  std::vector<HashResult> hash_many(const Context& ctx, std::int64_t n, Fn&& fn) const {
    require(n >= 0, "n", n, "must be >= 0");
    std::vector<HashResult> out(static_cast<std::size_t>(n));
    parallel_for_dynamic(ctx, n, [&](std::int64_t i) {
      out[static_cast<std::size_t>(i)] = hash([&](ProbeRun& run) { fn(i, run); });
    });
    return out;
  }

 private:
  std::uint64_t parity_words(const std::vector<std::uint64_t>& words,
                             const std::vector<std::uint8_t>& flags) const {
    const int m = params_.canonical.mantissa_bits;
    const std::uint64_t mantissa_mask = (kMantissaMask >> (52 - m)) << (52 - m);
    std::uint64_t mix = 0;
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (flags[i]) {
        mix = detail::parity_step(mix, words[i]);
      } else {
        mix = detail::parity_step(mix, words[i] & kExponentMask);
        mix = detail::parity_step(mix, words[i] & mantissa_mask);
      }
    }
    return mix;
  }

  static XXH3_state_t* thread_state() {
    struct Holder {
      XXH3_state_t* s = XXH3_createState();
      ~Holder() { XXH3_freeState(s); }
    };
    thread_local Holder h;
    return h.s;
  }

  HashParams params_;
  ProbeSet probes_;
  Canonicalizer canon_;
  std::uint64_t seed_ = 0;
};

/// Convenience: the hash of a scalar function f(x) (x = probe input row) under `hasher`.
template <class F>
HashResult hash_function(const Hasher& hasher, F&& f) {
  return hasher.hash([&](ProbeRun& run) {
    const auto& p = run.probes();
    for (int i = 0; i < p.num_examples(); ++i) {
      run.emit(static_cast<double>(
          f(std::span<const double>(p.example(i), static_cast<std::size_t>(p.input_dim())))));
    }
  });
}

}  // namespace orchard::fhash
