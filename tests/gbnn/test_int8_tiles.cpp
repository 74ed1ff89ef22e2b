// Byte-coded features on AMX integer tiles (int8_tiles.hpp): code detection, the tile layouts,
// the fixed-point weights, and the per-step objective and GBNN fits against the float kernels and
// a double reference. The AMX cases are skipped (with a message) on a CPU without AMX-INT8.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <orchard/gbnn.hpp>
#include <utility>
#include <vector>

using namespace orchard;
using gbnn::NetObjective;
using gbnn::OutputLoss;
using MatF = gbnn::RowMatrix<float>;

namespace {

// n × d codes k/255 (about half zero, like image pixels), as float.
MatF pixel_rows(Rng& rng, index_t n, index_t d) {
  MatF X(n, d);
  for (index_t i = 0; i < n; ++i)
    for (index_t c = 0; c < d; ++c)
      X(i, c) = rng.bernoulli(0.5) ? 0.0f : static_cast<float>(rng.uniform_int(256) / 255.0);
  X(0, 0) = 1.0f;  // the largest code, so the scale is 1/255
  return X;
}

bool amx_or_skip() {
  if (gbnn::detail::amx_int8_usable()) return true;
  MESSAGE("no AMX-INT8 on this CPU: the tile path is not exercised");
  return false;
}

// The per-step objective (squared loss) in double, straight from its definition.
double reference_objective(const MatF& X, const MatF& R, const std::vector<double>& w, int J,
                           double alpha, std::vector<double>& grad) {
  const index_t n = X.rows(), d = X.cols(), K = R.cols();
  const double* W1 = w.data();
  const double* W2 = W1 + d * J;
  const double* b1 = W2 + J * K;
  const double* b2 = b1 + J;
  grad.assign(w.size(), 0.0);
  double loss = 0;
  std::vector<double> h(static_cast<std::size_t>(J)), err(static_cast<std::size_t>(K));
  for (index_t i = 0; i < n; ++i) {
    for (int j = 0; j < J; ++j) {
      double z = b1[j];
      for (index_t c = 0; c < d; ++c) z += static_cast<double>(X(i, c)) * W1[c * J + j];
      h[j] = 1.0 / (1.0 + std::exp(-z));
    }
    for (index_t k = 0; k < K; ++k) {
      double o = b2[k];
      for (int j = 0; j < J; ++j) o += h[j] * W2[j * K + k];
      err[k] = o - R(i, k);
      loss += 0.5 * err[k] * err[k];
      grad[d * J + J * K + J + k] += err[k];
      for (int j = 0; j < J; ++j) grad[d * J + j * K + k] += h[j] * err[k];
    }
    for (int j = 0; j < J; ++j) {
      double a = 0;
      for (index_t k = 0; k < K; ++k) a += err[k] * W2[j * K + k];
      const double delta = a * h[j] * (1 - h[j]);
      grad[d * J + J * K + j] += delta;
      for (index_t c = 0; c < d; ++c) grad[c * J + j] += delta * X(i, c);
    }
  }
  const index_t nw = d * J + J * K;
  double sq = 0;
  for (index_t q = 0; q < nw; ++q) sq += w[q] * w[q];
  for (auto& g : grad) g /= static_cast<double>(n);
  for (index_t q = 0; q < nw; ++q) grad[q] += alpha / static_cast<double>(n) * w[q];
  return loss / static_cast<double>(n) + 0.5 * alpha / static_cast<double>(n) * sq;
}

}  // namespace

TEST_CASE("byte_codes finds k·a/m codes, also one float ulp off, and rejects the rest") {
  Rng rng(5);
  MatF X = pixel_rows(rng, 40, 13);
  std::vector<std::uint8_t> codes;
  double scale = 0;
  REQUIRE(gbnn::detail::byte_codes(X.data(), 40, 13, codes, scale));
  CHECK(scale == doctest::Approx(1.0 / 255).epsilon(1e-15));
  for (index_t i = 0; i < X.size(); ++i)
    CHECK(static_cast<float>(codes[static_cast<std::size_t>(i)] / 255.0) == X.data()[i]);

  // "%.9g" of 4/255 reads back one ulp from float(4/255): still code 4
  float printed = 0;
  std::sscanf("0.0156862745", "%f", &printed);
  REQUIRE(printed != static_cast<float>(4 / 255.0));
  X(1, 1) = printed;
  REQUIRE(gbnn::detail::byte_codes(X.data(), 40, 13, codes, scale));
  CHECK(codes[13 + 1] == 4);

  // raw counts: scale 1; other denominators: 0.5 = 1/2, 0.25 = 1/4 … with a = 0.75 → m = 3? no:
  // a/m must give every value, here m = 4 (0, 0.1875 = 1·0.75/4, 0.375, 0.75)
  std::vector<float> counts = {0, 3, 7, 200, 1};
  REQUIRE(gbnn::detail::byte_codes(counts.data(), 1, 5, codes, scale));
  CHECK(scale == 1.0);
  CHECK(codes[3] == 200);
  std::vector<float> quarters = {0, 0.1875f, 0.375f, 0.75f};
  REQUIRE(gbnn::detail::byte_codes(quarters.data(), 1, 4, codes, scale));
  CHECK(static_cast<float>(codes[1] * scale) == 0.1875f);

  std::vector<float> zeros(6, 0.0f);
  CHECK(gbnn::detail::byte_codes(zeros.data(), 2, 3, codes, scale));

  std::vector<float> negative = {0, -1.0f / 255, 1};
  CHECK_FALSE(gbnn::detail::byte_codes(negative.data(), 1, 3, codes, scale));
  std::vector<float> nan = {0, std::nanf(""), 1};
  CHECK_FALSE(gbnn::detail::byte_codes(nan.data(), 1, 3, codes, scale));
  std::vector<float> real = {0.1f, 0.2f, 0.3f, 1.0f / 3, 0.123456f};
  CHECK_FALSE(gbnn::detail::byte_codes(real.data(), 1, 5, codes, scale));
  std::vector<float> wide = {0, 1, 300};  // 300 codes need more than a byte with m <= 255
  CHECK_FALSE(gbnn::detail::byte_codes(wide.data(), 1, 3, codes, scale));
}

TEST_CASE("QuadCodes: row r, column c at its tile byte; padding rows and columns are zero") {
  const index_t n = 70, d = 21;  // a partial row tile and a partial column tile
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(n * d));
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::uint8_t>(1 + i % 250);
  std::vector<index_t> rows(35);
  for (index_t r = 0; r < 35; ++r) rows[static_cast<std::size_t>(r)] = 2 * r;
  gbnn::detail::QuadCodes q;
  q.assign(codes.data(), rows.data(), 35, d, Context(2));
  REQUIRE(q.padded_rows() == 256);
  REQUIRE(q.padded_features() == 32);
  const std::uint8_t* base = q.rows_at(0);
  for (index_t r = 0; r < q.padded_rows(); ++r)
    for (index_t c = 0; c < q.padded_features(); ++c) {
      const std::uint8_t got = base[((r / 64) * q.column_tiles() + c / 16) * 1024 +
                                    (r % 64 / 4) * 64 + (c % 16) * 4 + r % 4];
      const std::uint8_t want =
          r < 35 && c < d ? codes[static_cast<std::size_t>(rows[static_cast<std::size_t>(r)] * d + c)] : 0;
      REQUIRE(got == want);
    }
}

TEST_CASE("weight_tiles: the pieces give w back to float precision, at the documented bytes") {
  Rng rng(9);
  const index_t d = 37;
  std::vector<float> w(static_cast<std::size_t>(d));
  for (auto& v : w) v = static_cast<float>(rng.normal());
  w[5] = 0;
  std::vector<std::int8_t> tiles(3 * 1024, 0);
  const double S = gbnn::detail::weight_tiles(w.data(), d, tiles.data());
  double mx = 0;
  for (float v : w) mx = std::max(mx, std::fabs(static_cast<double>(v)));
  for (index_t c = 0; c < 48; ++c) {
    const std::int8_t* row = tiles.data() + (c / 16) * 1024 + (c % 16) * 64;
    for (int i = 0; i < 4; ++i) {  // the same pieces in every row of a quad
      double v = 0;
      for (int p = 3; p >= 0; --p) v = v / 128 + row[4 * (4 * p + i) + i];
      const double want = c < d ? w[static_cast<std::size_t>(c)] : 0.0;
      // w·(127/mx) rounded to float, then exact down to 128^-3 = 2^-21
      CHECK(std::fabs(v * S - want) <= std::fabs(want) * 1.2e-7 + mx * 4e-9);
    }
    for (int b = 0; b < 64; ++b)  // every other byte is zero
      if (b % 4 != (b / 4) % 4) CHECK(row[b] == 0);
  }
}

TEST_CASE("the AVX-512 weight tiles and piece sums give the portable bytes and floats") {
  if (!amx_or_skip()) return;
#if ORCHARD_GBNN_AMX
  Rng rng(12);
  for (index_t d : {1, 16, 37, 784, 801}) {
    CAPTURE(d);
    std::vector<float> w(static_cast<std::size_t>(d));
    for (auto& v : w) v = static_cast<float>(rng.normal());
    // ties of the rounding (x.5 in some piece) and zeros, where half-to-even must agree
    if (d > 4) {
      w[0] = 4.0f;  // the largest: the first piece is 127 exactly
      w[1] = 4.0f * 0.5f / 127.0f;
      w[2] = -4.0f * 2.5f / 127.0f;
      w[3] = 0.0f;
    }
    const index_t ct = (d + 15) / 16;
    std::vector<std::int8_t> want(static_cast<std::size_t>(ct * 1024), 0), got(want.size(), 0);
    const double s_want = gbnn::detail::weight_tiles(w.data(), d, want.data());
    const double s_got = gbnn::detail::weight_tiles_avx512(w.data(), d, got.data());
    CHECK(s_got == s_want);
    CHECK(got == want);
  }
  std::vector<float> zero(20, 0.0f);
  std::vector<std::int8_t> tiles(2 * 1024, 0);
  CHECK(gbnn::detail::weight_tiles_avx512(zero.data(), 20, tiles.data()) == 0.0);
  CHECK(std::all_of(tiles.begin(), tiles.end(), [](std::int8_t b) { return b == 0; }));

  // the piece sums of a super-block: the same floats as the expression, quad by quad
  std::vector<std::int32_t> C(4 * 16 * 16);
  for (auto& c : C) c = static_cast<std::int32_t>(rng.uniform_int(1u << 26)) - (1 << 25);
  const float s = 0.37f, f = 1.0f / 128;
  std::vector<float> z(static_cast<std::size_t>(gbnn::detail::kSuperRows));
  gbnn::detail::combine_pieces(C.data(), s, z.data());
  for (index_t r = 0; r < gbnn::detail::kSuperRows; ++r) {
    const std::int32_t* c = C.data() + 16 * (r / 4) + r % 4;
    const float want_z = s * (((static_cast<float>(c[12]) * f + static_cast<float>(c[8])) * f +
                               static_cast<float>(c[4])) * f + static_cast<float>(c[0]));
    CHECK(z[static_cast<std::size_t>(r)] == want_z);
  }
#endif
}

TEST_CASE("tile objective equals a double reference and the float kernels; any thread count") {
  if (!amx_or_skip()) return;
  struct Shape {
    index_t n, d;
    int J, K;
  };
  // n: one partial super-block, a partial 64-row tile, three blocks; d: partial column tiles
  // the last: more tile blocks (of at most kMaxTileBlock rows) than the float path has blocks
  for (Shape sh : {Shape{150, 37, 1, 1}, Shape{1000, 100, 2, 10}, Shape{2203, 784, 1, 10},
                   Shape{700, 50, 3, 4}, Shape{70000, 2, 1, 1}}) {
    CAPTURE(sh.n);
    CAPTURE(sh.d);
    CAPTURE(sh.J);
    Rng rng(21);
    MatF X = pixel_rows(rng, sh.n, sh.d);
    MatF R(sh.n, sh.K);
    for (index_t i = 0; i < R.size(); ++i) R.data()[i] = static_cast<float>(0.5 * rng.normal());
    std::vector<std::uint8_t> codes;
    double scale = 0;
    REQUIRE(gbnn::detail::byte_codes(X.data(), sh.n, sh.d, codes, scale));
    NetObjective<float> tiles, plain;
    tiles.configure(sh.n, sh.d, sh.J, sh.K, OutputLoss::squared, 1e-3f);
    plain.configure(sh.n, sh.d, sh.J, sh.K, OutputLoss::squared, 1e-3f);
    REQUIRE(tiles.tiles_apply());
    const Context one(1), three(3);
    REQUIRE(tiles.bind_codes(codes.data(), nullptr, sh.n, scale, R.data(), one));
    plain.bind(X.data(), R.data(), sh.n, one);
    gbnn::Vector<float> w(tiles.n_params()), g_tiles, g_plain, g3;
    std::vector<double> wd(static_cast<std::size_t>(w.size())), g_ref;
    for (index_t q = 0; q < w.size(); ++q) {
      w[q] = static_cast<float>(0.1 * rng.normal());
      wd[static_cast<std::size_t>(q)] = w[q];
    }
    const double v_ref = reference_objective(X, R, wd, sh.J, 1e-3, g_ref);
    const float v_tiles = tiles(w, g_tiles);
    const float v_plain = plain(w, g_plain);
    CHECK(v_tiles == doctest::Approx(v_ref).epsilon(2e-6));
    CHECK(v_plain == doctest::Approx(v_ref).epsilon(2e-6));
    // the W1 gradient (from the tiles' backward products) and the rest, each against its
    // largest entry
    const index_t nw1 = sh.d * sh.J;
    for (auto [q0, q1] : {std::pair<index_t, index_t>{0, nw1}, {nw1, w.size()}}) {
      double gmax = 0, err_tiles = 0, err_plain = 0;
      for (index_t q = q0; q < q1; ++q) {
        const double r = g_ref[static_cast<std::size_t>(q)];
        gmax = std::max(gmax, std::fabs(r));
        err_tiles = std::max(err_tiles, std::fabs(g_tiles[q] - r));
        err_plain = std::max(err_plain, std::fabs(g_plain[q] - r));
      }
      CHECK(err_tiles <= 2e-6 * gmax);
      CHECK(err_plain <= 2e-6 * gmax);
    }
    // the same model bit for bit with three threads, and with rows given by index
    tiles.bind_codes(codes.data(), nullptr, sh.n, scale, R.data(), three);
    CHECK(tiles(w, g3) == v_tiles);
    CHECK(g3 == g_tiles);
    std::vector<index_t> all(static_cast<std::size_t>(sh.n));
    for (index_t i = 0; i < sh.n; ++i) all[static_cast<std::size_t>(i)] = i;
    tiles.bind_codes(codes.data(), all.data(), sh.n, scale, R.data(), three);
    CHECK(tiles(w, g3) == v_tiles);
    CHECK(g3 == g_tiles);
  }
}

TEST_CASE("double models, other losses and wide rows keep the float kernels") {
  NetObjective<double> d64;
  d64.configure(10, 4, 1, 1, OutputLoss::squared, 1e-4);
  CHECK_FALSE(d64.tiles_apply());
  NetObjective<float> softmax, wide_units;
  softmax.configure(10, 4, 1, 3, OutputLoss::softmax, 1e-4f);
  CHECK_FALSE(softmax.tiles_apply());
  wide_units.configure(10, 4, 9, 1, OutputLoss::squared, 1e-4f);
  CHECK_FALSE(wide_units.tiles_apply());
}

TEST_CASE("GBNN on byte codes: as accurate as the float kernels, same model for any thread count") {
  if (!amx_or_skip()) return;
  Rng rng(33);
  const index_t n = 900, d = 40;
  MatF X = pixel_rows(rng, n, d);
  Eigen::VectorXf y(n);
  for (index_t i = 0; i < n; ++i) {  // three classes from sums of pixel groups
    const float a = X.row(i).head(10).sum(), b = X.row(i).segment(10, 10).sum();
    y[i] = a > b + 0.5f ? 2.0f : (b > a ? 1.0f : 0.0f);
  }
  gbnn::Params p;
  p.steps = 12;
  p.units = 1;
  p.seed = 4;
  gbnn::Model<float> tiles1, tiles2, plain;
  tiles1.fit(X, y, p, Context(1));
  tiles2.fit(X, y, p, Context(2));
  p.int8_tiles = false;
  plain.fit(X, y, p, Context(2));
  CHECK(tiles1.predict_proba(X) == tiles2.predict_proba(X));
  // the tile path ran (otherwise the comparisons below would hold trivially): its rounding
  // differs from the float kernels'
  CHECK(tiles1.predict_proba(X) != plain.predict_proba(X));
  const auto accuracy = [&](const gbnn::Model<float>& m) {
    const Eigen::VectorXf label = m.predict(X);
    return (label.array() == y.array()).cast<double>().mean();
  };
  // a whole fit: boosting compounds each step's rounding-level differences (from one seed to the
  // next, 12-step training losses of the two kernels differ by up to 20 % either way), so only
  // the accuracy, loosely
  CHECK(accuracy(tiles1) == doctest::Approx(accuracy(plain)).epsilon(0.05));
  // one step, where the two kernels fit the same network: its training loss within 1 % (seen:
  // at most 0.4 %), for several seeds
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    CAPTURE(seed);
    gbnn::Params q;
    q.steps = 1;
    q.units = 1;
    q.seed = seed;
    gbnn::Model<float> a, b;
    a.fit(X, y, q, Context(2));
    q.int8_tiles = false;
    b.fit(X, y, q, Context(2));
    CHECK(a.train_losses().back() == doctest::Approx(b.train_losses().back()).epsilon(0.01));
  }

  // the first t steps of a longer fit are the fit of t steps
  gbnn::Model<float> shorter;
  p.int8_tiles = true;
  p.steps = 5;
  shorter.fit(X, y, p, Context(2));
  CHECK(shorter.predict_proba(X) == tiles1.predict_proba(X, 5));
}
