#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <orchard/fhash.hpp>
#include <string>
#include <vector>

using namespace orchard;
using namespace orchard::fhash;

TEST_CASE("sha256 FIPS 180-4 / NIST test vectors") {
  CHECK(Sha256::hex(Sha256::digest("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256::hex(Sha256::digest("")) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256::hex(Sha256::digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(Sha256::hex(Sha256::digest("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmn"
                                   "oijklmnopjklmnopqklmnopqrl"
                                   "mnopqrsmnopqrstnopqrstu")) ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  // One million 'a', fed in uneven pieces to exercise the block boundary logic.
  Sha256 h;
  const std::string chunk(997, 'a');
  std::size_t left = 1000000;
  while (left > 0) {
    const std::size_t n = std::min(left, chunk.size());
    h.update(chunk.data(), n);
    left -= n;
  }
  CHECK(Sha256::hex(h.finish()) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Padding edge: 55, 56 and 64 byte messages differ in block count; compare incremental vs
  // one-shot digests byte for byte.
  for (std::size_t n : {55u, 56u, 63u, 64u, 65u, 119u, 120u}) {
    const std::string s(n, 'x');
    Sha256 inc;
    for (char c : s) inc.update(&c, 1);
    CHECK(inc.finish() == Sha256::digest(s));
  }
}

TEST_CASE("reference parity: significant_float_mix on the repo's test stats") {
  // COMPUTED_STATS["28cfc7874f6d200472e1a9dcd8650aa0"][4][0] of unified_functional_hashing:
  // final_train, halfway_train, final_validation, halfway_validation accuracy.
  const std::vector<double> acc = {0.5406650900840759, 0.14743590354919434, 0.5259414911270142,
                                   0.15294471383094788};
  CHECK(significant_float_mix(acc, 24) == 5379572464749505659ull);
  CHECK(significant_float_mix(acc, 8) != 5379572464749505659ull);
  CHECK_THROWS_AS(significant_float_mix(acc, 0), InvalidArgument);
  CHECK_THROWS_AS(significant_float_mix(acc, 53), InvalidArgument);
  // The hasher's parity mode gives the same value through the probe harness and the buffer path.
  HashParams hp;
  hp.mixer = Mixer::reference_sha256;
  hp.canonical.mantissa_bits = 24;
  Hasher hasher(hp, ProbeSet(ProbeParams{}));
  CHECK(hasher.hash_outputs(acc) == 5379572464749505659ull);
  const auto r = hasher.hash([&](ProbeRun& run) { run.emit(acc); });
  CHECK(r.hash == 5379572464749505659ull);
}

static std::uint64_t bits(double x) { return std::bit_cast<std::uint64_t>(x); }

TEST_CASE("canonicalisation by hand") {
  CanonicalParams p;
  p.mantissa_bits = 10;
  Canonicalizer trunc(p);
  p.rounding = Rounding::nearest;
  Canonicalizer round(p);
  // -0 and +0
  CHECK(trunc(-0.0) == trunc(0.0));
  CHECK(trunc(0.0) == 0u);
  // NaN payloads fold to one NaN, distinct from infinities; +-inf kept apart.
  const double nan1 = std::bit_cast<double>(0x7FF8000000000001ull);
  const double nan2 = std::bit_cast<double>(0xFFF80000DEADBEEFull);
  const double snan = std::bit_cast<double>(0x7FF0000000000010ull);
  CHECK(trunc(nan1) == trunc(nan2));
  CHECK(trunc(nan1) == trunc(snan));
  CHECK(trunc(nan1) == kCanonicalNaN);
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(trunc(inf) == kPositiveInf);
  CHECK(trunc(-inf) == kNegativeInf);
  CHECK(round(inf) == kPositiveInf);
  CHECK(trunc(inf) != trunc(nan1));
  // Truncation vs rounding against manual bit arithmetic: keep the top 10 of 52 mantissa bits.
  const std::uint64_t drop = 42;
  const std::uint64_t low = (1ull << drop) - 1;
  for (double x : {1.0, 1.2345678, -3.14159, 1e-300, 6.02e23, 0.999999999, -1.9999999999}) {
    const std::uint64_t b = bits(x);
    CHECK(trunc(x) == (b & ~low));
    const std::uint64_t rounded = ((b + (1ull << (drop - 1))) >> drop) << drop;
    CHECK(round(x) == rounded);
  }
  // A value just below 2 rounds up into the next binade (exponent carry), truncates down.
  const double below2 = std::nextafter(2.0, 0.0);
  CHECK(round(below2) == bits(2.0));
  CHECK(trunc(below2) == (bits(below2) & ~low));
  // Differences beyond m bits vanish, within m bits they remain.
  const double a = 1.0 + std::ldexp(1.0, -20);  // bit 20 of the mantissa: beyond m = 10
  const double b = 1.0 + std::ldexp(1.0, -5);   // bit 5: within m = 10
  CHECK(trunc(a) == trunc(1.0));
  CHECK(trunc(b) != trunc(1.0));
  // Sign kept
  CHECK(trunc(-1.5) != trunc(1.5));
  // Absolute quantisation near zero.
  CanonicalParams q;
  q.zero_threshold = 1e-9;
  Canonicalizer cq(q);
  CHECK(cq(3e-10) == 0u);
  CHECK(cq(-3e-10) == 0u);
  CHECK(cq(3e-9) != 0u);
  // m = 52 keeps the value exactly.
  CanonicalParams full;
  full.mantissa_bits = 52;
  CHECK(Canonicalizer(full)(1.2345678) == bits(1.2345678));
  // Tokens never collide with canonical floats.
  CHECK(is_token(token(TokenKind::failure, 3)));
  CHECK(!is_token(kCanonicalNaN));
  CHECK(!is_token(kNegativeInf));
  // Bad m.
  for (int m : {0, -1, 53, 64}) {
    CanonicalParams bad;
    bad.mantissa_bits = m;
    CHECK_THROWS_AS(Canonicalizer{bad}, InvalidArgument);
  }
}

TEST_CASE("functionally equivalent programs hash equal, different ones differ") {
  HashParams hp;
  hp.canonical.mantissa_bits = 20;
  ProbeParams pp;
  pp.num_examples = 16;
  pp.input_dim = 2;
  Hasher h(hp, ProbeSet(pp));
  auto f1 = [](std::span<const double> x) { return (x[0] + x[1]) * (x[0] + x[1]); };
  auto f2 = [](std::span<const double> x) { return x[0] * x[0] + 2 * x[0] * x[1] + x[1] * x[1]; };
  auto f3 = [](std::span<const double> x) { return x[0] * x[0] + x[1] * x[1]; };
  const auto h1 = hash_function(h, f1).hash;
  CHECK(h1 == hash_function(h, f2).hash);
  CHECK(h1 != hash_function(h, f3).hash);
  // A perturbation beyond m bits hashes equal, within m bits differs.
  auto g_small = [&](std::span<const double> x) {
    const double v = f1(x);
    return std::bit_cast<double>(std::bit_cast<std::uint64_t>(v) ^ (1ull << 5));
  };
  auto g_big = [&](std::span<const double> x) {
    const double v = f1(x);
    return std::bit_cast<double>(std::bit_cast<std::uint64_t>(v) ^ (1ull << 45));
  };
  CHECK(h1 == hash_function(h, g_small).hash);
  CHECK(h1 != hash_function(h, g_big).hash);
  // Task id and budget change the key.
  HashParams hk = hp;
  hk.task_id = 7;
  Hasher ht(hk, ProbeSet(pp));
  CHECK(hash_function(ht, f1).hash != h1);
  hk.budget = 3;
  Hasher htb(hk, ProbeSet(pp));
  CHECK(hash_function(htb, f1).hash != hash_function(ht, f1).hash);
}

TEST_CASE("probe harness: RNG reset, seeds, failures, early stop, empty probe") {
  ProbeParams pp;
  pp.num_examples = 4;
  pp.num_seeds = 3;
  Hasher h(HashParams{}, ProbeSet(pp));
  // A stochastic candidate using the harness RNG hashes identically on every call (reset hook).
  auto noisy = [](ProbeRun& run) {
    for (int i = 0; i < run.probes().num_examples(); ++i)
      run.emit(run.probes().example(i)[0] + run.rng().normal());
  };
  CHECK(h.hash(noisy).hash == h.hash(noisy).hash);
  // Own generator reseeded via the hook.
  Rng own(99);
  auto own_noisy = [&](ProbeRun& run) { run.emit(own.uniform()); };
  const auto a = h.hash(own_noisy, [&](std::uint64_t s) { own.reseed(s); }).hash;
  const auto b = h.hash(own_noisy, [&](std::uint64_t s) { own.reseed(s); }).hash;
  CHECK(a == b);
  // A throwing candidate is a failure token, not a crash; the position matters.
  auto fail_at = [](int k) {
    return [k](ProbeRun& run) {
      for (int i = 0; i < 4; ++i) {
        if (i == k) throw std::runtime_error("boom");
        run.emit(1.0 * i);
      }
    };
  };
  const auto r1 = h.hash(fail_at(1));
  CHECK(r1.failed);
  CHECK(r1.error == "boom");
  CHECK(r1.hash == h.hash(fail_at(1)).hash);
  CHECK(r1.hash != h.hash(fail_at(2)).hash);
  auto ok = [](ProbeRun& run) {
    for (int i = 0; i < 4; ++i) run.emit(1.0 * i);
  };
  CHECK(!h.hash(ok).failed);
  CHECK(h.hash(ok).outputs == 12);
  // Early stop differs from the same outputs without it.
  auto stop = [](ProbeRun& run) {
    run.emit(1.0);
    run.stop_early();
  };
  auto nostop = [](ProbeRun& run) { run.emit(1.0); };
  CHECK(h.hash(stop).hash != h.hash(nostop).hash);
  CHECK(h.hash(stop).stopped_early);
  // Empty probe set.
  ProbeParams empty;
  empty.num_examples = 0;
  CHECK_THROWS_AS(ProbeSet{empty}, InvalidArgument);
  empty.num_examples = 3;
  empty.num_seeds = 0;
  CHECK_THROWS_AS(ProbeSet{empty}, InvalidArgument);
}

TEST_CASE("batched hashing equals one-by-one, long buffers, any thread count") {
  const int rows = 37, cols = 700;  // > the 256-word block: exercises the streaming path
  std::vector<double> m(static_cast<std::size_t>(rows) * cols);
  Rng rng(5);
  for (auto& v : m) v = rng.normal();
  Hasher h;
  ConstMatrixView<double> view(m.data(), rows, cols);
  const auto one = h.hash_rows(Context(1), view);
  const auto two = h.hash_rows(Context(2), view);
  CHECK(one == two);
  for (int r = 0; r < rows; ++r) {
    // reference: one-shot XXH3 over the canonical words
    std::vector<std::uint64_t> w(cols);
    for (int j = 0; j < cols; ++j)
      w[j] = h.canonicalizer()(m[static_cast<std::size_t>(r) * cols + j]);
    CHECK(one[r] == XXH3_64bits_withSeed(w.data(), w.size() * 8, h.key_seed()));
  }
  // float buffers hash like the same values as doubles.
  std::vector<float> f = {1.5f, -0.0f, 3.25f};
  std::vector<double> d = {1.5, 0.0, 3.25};
  CHECK(h.hash_outputs(f) == h.hash_outputs(d));
}

TEST_CASE("nested hashing inside a candidate does not disturb the outer hash") {
  Hasher h;
  auto inner = [&](ProbeRun& run) {
    for (int i = 0; i < 5; ++i) run.emit(run.probes().example(i)[0] * 3.0);
  };
  auto plain = [&](ProbeRun& run) {
    run.emit(1.0);
    run.emit(2.0);
  };
  auto nested = [&](ProbeRun& run) {
    run.emit(1.0);
    const auto r = h.hash(inner);  // a candidate that hashes something itself
    CHECK(r.outputs == 5);
    run.emit(2.0);
  };
  CHECK(h.hash(plain).hash == h.hash(nested).hash);
}
