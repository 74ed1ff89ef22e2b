#pragma once
// Byte-coded features on Intel AMX integer tiles: the two passes over X of GBNN's per-step
// objective (z = X·w and g = Xᵀ·δ) for features that are all codes k·s with k an integer in
// [0, 255] and one scale s (image pixels k/255, counts). X is then 1 byte per entry instead of 4,
// so a thread's share of a subsample stays in its L2 cache, and a tile instruction does
// 16 × 16 × 64 byte multiply-adds.
//
// The float operand (w, or δ) is written as a fixed-point number on a common scale S = max|v|/127:
// v/S, rounded to float, = q0 + q1/128 + q2/128² + q3/128³ with signed bytes q (q0 in [−127, 127],
// the others in [−64, 64]), exact down to 128^-3 = 2^-21, so each v keeps float precision down to
// about 2^-28 of the largest. Every byte product and every sum of them is an exact 32-bit integer,
// so the sums do not depend on their order: the result is the same for any thread count or
// tiling. Only the final combination S·s·(Σq0 + Σq1/128 + …) rounds, once per output: z and the
// gradient are as accurate as the float kernels' (both within ~1e-6 of a double reference in
// tests/gbnn/test_int8_tiles.cpp).
//
// Layout: rows in quads, 4 rows interleaved byte by byte, in tiles of 64 rows × 16 columns
// stored as 1 KB blocks (row tile u, column tile t at (u·column_tiles + t) KB; inside, byte
// 64·quad + 4c + i is row 4·quad + i, column c). Such a block is a 16-row × 64-byte tile: the left
// operand of the forward product (rows × columns) and the right operand of the backward product
// (the VNNI layout the tile instructions expect), with no second copy, and each tile load reads
// 1 KB in sequence.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "../core/config.hpp"
#include "../core/context.hpp"
#include "../core/memory.hpp"
#include "../core/parallel.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__linux__) && !defined(__CUDACC__) && \
    ((defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11) ||     \
     (defined(__clang__) && __clang_major__ >= 12))
#define ORCHARD_GBNN_AMX 1
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#define ORCHARD_GBNN_AMX 0
#endif

namespace orchard::gbnn::detail {

/// Rows of one tile (16 quads) and columns of one tile (64 bytes = 16 columns × 4 rows).
inline constexpr index_t kTileRows = 64;
inline constexpr index_t kTileCols = 16;
/// Rows per super-block: four tiles of rows, whose forward products run as four independent
/// accumulations sharing each weight tile, and whose backward products share one δ scale.
inline constexpr index_t kSuperRows = 4 * kTileRows;
/// Fixed-point pieces of the float operand (q0 … q3).
inline constexpr int kPieces = 4;
/// Most rows of one backward accumulation and most features of one forward one: a sum of that
/// many products of a code (<= 255) and a piece (|q| <= 127) stays inside 32 bits.
inline constexpr index_t kMaxTileBlock = 32768;
inline constexpr index_t kMaxTileFeatures = 32768;

/// Whether this process can run AMX integer tiles: the CPU has AMX-TILE and AMX-INT8, the
/// kernel enables their state (XCR0 bits 17, 18) and grants this process the tile data
/// (arch_prctl ARCH_REQ_XCOMP_PERM). Checked once.
inline bool amx_int8_usable() {
#if ORCHARD_GBNN_AMX
  static const bool usable = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid_max(0, nullptr) < 7) return false;
    __cpuid_count(7, 0, a, b, c, d);
    const bool tile = (d >> 24) & 1u, int8 = (d >> 25) & 1u;
    __cpuid(1, a, b, c, d);
    const bool osxsave = (c >> 27) & 1u;
    if (!tile || !int8 || !osxsave) return false;
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if (((lo >> 17) & 3u) != 3u) return false;
    constexpr long kReqXcompPerm = 0x1023, kXfeatureTileData = 18;
    return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureTileData) == 0;
  }();
  return usable;
#else
  return false;
#endif
}

/// Whether every entry of X (n × d, row-major) is a code: within one unit in the last place of
/// T(k·a/m) for integers 0 <= k <= m <= 255, with a the largest entry (one ulp, because text
/// files print such values rounded: "%.9g" of 4/255 reads back one float ulp from
/// float(4/255)). On success fills `codes` (n × d bytes) and `scale` = a/m. Rejects negative
/// and non-finite entries at the first one.
template <class T>
bool byte_codes(const T* X, index_t n, index_t d, std::vector<std::uint8_t>& codes, double& scale,
                const Context& ctx = Context(1)) {
  const index_t len = n * d;
  constexpr index_t chunk = index_t{1} << 16;  // values per parallel piece
  const index_t pieces = num_blocks(len, chunk);
  std::vector<T> piece_max(static_cast<std::size_t>(pieces), T(0));
  std::vector<char> piece_ok(static_cast<std::size_t>(pieces), 1);
  parallel_blocks(ctx, len, chunk, [&](index_t b, index_t s, index_t e) {
    T mx = 0;
    bool ok = true;
    for (index_t i = s; i < e; ++i) {
      ok = ok && X[i] >= T(0) && X[i] <= std::numeric_limits<T>::max();  // also false for NaN
      mx = std::max(mx, X[i]);
    }
    piece_max[static_cast<std::size_t>(b)] = mx;
    piece_ok[static_cast<std::size_t>(b)] = ok;
  });
  T a = 0;
  for (index_t b = 0; b < pieces; ++b) {
    if (!piece_ok[static_cast<std::size_t>(b)]) return false;
    a = std::max(a, piece_max[static_cast<std::size_t>(b)]);
  }
  codes.resize(static_cast<std::size_t>(len));
  if (a == T(0)) {  // all zero: every entry is code 0
    std::fill(codes.begin(), codes.end(), std::uint8_t{0});
    scale = 1.0;
    return true;
  }
  const double ad = static_cast<double>(a);
  T value[256], below[256], above[256];  // each code's value and its neighbours
  // 255 first (pixels / 255), then every other denominator
  for (int m = 255; m >= 1; --m) {
    for (int k = 0; k <= m; ++k) {
      value[k] = static_cast<T>(k * ad / m);
      below[k] = std::nextafter(value[k], T(0));
      above[k] = std::nextafter(value[k], a);
    }
    const double to_code = m / ad;
    const auto check = [&](index_t s, index_t e) {
      for (index_t i = s; i < e; ++i) {
        const T x = X[i];
        const double k = std::nearbyint(static_cast<double>(x) * to_code);
        if (k > m) return false;
        const auto c = static_cast<int>(k);
        if (x != value[c] && x != below[c] && x != above[c]) return false;
        codes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(c);
      }
      return true;
    };
    // a wrong denominator fails within the first values: try the first piece alone first
    if (!check(0, std::min(chunk, len))) continue;
    std::fill(piece_ok.begin(), piece_ok.end(), 1);
    parallel_blocks(ctx, len - chunk, chunk, [&](index_t b, index_t s, index_t e) {
      piece_ok[static_cast<std::size_t>(b)] = check(chunk + s, chunk + e);
    });
    if (std::all_of(piece_ok.begin(), piece_ok.begin() + std::max<index_t>(pieces - 1, 0),
                    [](char ok) { return ok != 0; })) {
      scale = ad / m;
      return true;
    }
  }
  return false;
}

/// The codes of a subsample in the quad layout, rows padded with zeros to whole super-blocks
/// and columns to whole tiles.
class QuadCodes {
 public:
  /// Rows `rows[0..n)` of `codes` (an N × d row-major code matrix; rows == nullptr: rows 0..n).
  void assign(const std::uint8_t* codes, const index_t* rows, index_t n, index_t d,
              const Context& ctx) {
    n_ = n;
    d_ = d;
    dpad_ = (d + kTileCols - 1) / kTileCols * kTileCols;
    npad_ = (n + kSuperRows - 1) / kSuperRows * kSuperRows;
    const std::size_t bytes = static_cast<std::size_t>(npad_ * dpad_);
    if (buf_.size() < bytes + 64) buf_.resize(bytes + 64);
    const auto addr = reinterpret_cast<std::uintptr_t>(buf_.data());
    data_ = buf_.data() + ((64 - addr % 64) % 64);  // tile rows on cache lines
    zeros_.assign(static_cast<std::size_t>(dpad_), 0);  // the padding rows
    const index_t ct = column_tiles();
    parallel_for(ctx, npad_ / 4, [&](std::int64_t quad) {
      const index_t r0 = 4 * quad;
      // one quad as words: word c holds column c of rows r0 … r0 + 3 in its bytes
      const std::uint8_t* src[4];
      for (index_t i = 0; i < 4; ++i)
        src[i] = r0 + i < n ? codes + (rows ? rows[r0 + i] : r0 + i) * d : zeros_.data();
      std::uint8_t* dst = data_ + (r0 / kTileRows) * ct * 1024 + (r0 % kTileRows / 4) * 64;
      for (index_t t = 0; t < ct; ++t, dst += 1024) {
        const index_t c0 = t * kTileCols, nc = std::min(kTileCols, d - c0);
        if (nc == kTileCols) {
          interleave4(src[0] + c0, src[1] + c0, src[2] + c0, src[3] + c0, dst);
        } else {  // the last, partial column tile: zero columns past d
          std::uint8_t in[4][kTileCols] = {};
          for (index_t i = 0; i < 4; ++i) std::memcpy(in[i], src[i] + c0, static_cast<std::size_t>(nc));
          interleave4(in[0], in[1], in[2], in[3], dst);
        }
      }
    });
  }
  /// out[4c + i] = row i's byte c for 16 columns c of 4 rows.
  static void interleave4(const std::uint8_t* r0, const std::uint8_t* r1, const std::uint8_t* r2,
                          const std::uint8_t* r3, std::uint8_t* out) {
#if defined(__SSE2__)
    const auto load = [](const std::uint8_t* p) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    };
    const __m128i a = load(r0), b = load(r1), c = load(r2), d = load(r3);
    const __m128i ab_lo = _mm_unpacklo_epi8(a, b), ab_hi = _mm_unpackhi_epi8(a, b);
    const __m128i cd_lo = _mm_unpacklo_epi8(c, d), cd_hi = _mm_unpackhi_epi8(c, d);
    auto* o = reinterpret_cast<__m128i*>(out);
    _mm_storeu_si128(o, _mm_unpacklo_epi16(ab_lo, cd_lo));
    _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(ab_lo, cd_lo));
    _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(ab_hi, cd_hi));
    _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(ab_hi, cd_hi));
#else
    const std::uint8_t* r[4] = {r0, r1, r2, r3};
    for (index_t c = 0; c < kTileCols; ++c)
      for (index_t i = 0; i < 4; ++i) out[4 * c + i] = r[i][c];
#endif
  }

  index_t rows() const { return n_; }
  index_t padded_rows() const { return npad_; }
  index_t features() const { return d_; }
  index_t padded_features() const { return dpad_; }
  index_t column_tiles() const { return dpad_ / kTileCols; }
  /// The first tile of row r (a multiple of kTileRows).
  const std::uint8_t* rows_at(index_t r) const { return data_ + (r / kTileRows) * column_tiles() * 1024; }

 private:
  index_t n_ = 0, d_ = 0, dpad_ = 0, npad_ = 0;
  std::vector<std::uint8_t, UninitAllocator<std::uint8_t>> buf_;
  std::vector<std::uint8_t> zeros_;
  std::uint8_t* data_ = nullptr;
};

/// One fixed-point piece of each of the n values rem (in [−127, 127] for the first piece): the
/// nearest integer as a signed byte q, and rem replaced by (rem − q)·128, exact in float.
template <class T>
inline void next_piece(T* rem, index_t n, std::int8_t* q) {
  // round to nearest by adding and subtracting 1.5·2^(mantissa bits) (|rem| < 2^22): the same
  // result as nearbyint, but plain arithmetic the compiler vectorizes on any x86-64
  const T magic = std::is_same_v<T, float> ? T(12582912.0) : T(6755399441055744.0);
  for (index_t i = 0; i < n; ++i) {
#ifdef __FAST_MATH__  // which may fold the trick away
    const T k = std::nearbyint(rem[i]);
#else
    const T k = (rem[i] + magic) - magic;
#endif
    q[i] = static_cast<std::int8_t>(k);
    rem[i] = (rem[i] - k) * T(128);
  }
}

/// out[0..16) = {b, 0, 0, 0,  0, b, 0, 0,  0, 0, b, 0,  0, 0, 0, b}.
inline void diagonal16(std::int8_t b, std::int8_t* out) {
#if defined(__SSE2__)
  const __m128i mask = _mm_set_epi32(static_cast<int>(0xff000000u), 0x00ff0000, 0x0000ff00, 0xff);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_and_si128(_mm_set1_epi8(b), mask));
#else
  for (int i = 0; i < 16; ++i) out[i] = i % 5 == 0 ? b : std::int8_t{0};
#endif
}

/// The weight tiles of one unit's W1 column w (d values): for column tile t, 16 rows (its
/// columns) × 64 bytes, where byte 4·(4p + i) + i of row k is piece p of w[16t + k] (so output
/// column 4p + i of the forward product is piece p of row i of each quad) and every other byte
/// is 0. `tiles` holds column_tiles × 1024 bytes (columns past d stay as they are: zero).
/// Returns S. Portable; weight_tiles_avx512 writes the same bytes.
template <class T>
double weight_tiles(const T* w, index_t d, std::int8_t* tiles) {
  static_assert(kPieces == 4, "one 64-byte tile row holds 4 pieces × 4 rows");
  T mx = 0;
  for (index_t c = 0; c < d; ++c) mx = std::max(mx, std::fabs(w[c]));
  const T inv = mx > T(0) ? T(127) / mx : T(0);
  alignas(64) T rem[kTileCols];
  alignas(64) std::int8_t q[kPieces][kTileCols];
  for (index_t c0 = 0; c0 < d; c0 += kTileCols) {
    const index_t nc = std::min(kTileCols, d - c0);
    for (index_t k = 0; k < kTileCols; ++k) rem[k] = k < nc ? w[c0 + k] * inv : T(0);
    for (int p = 0; p < kPieces; ++p) next_piece(rem, kTileCols, q[p]);
    // row k as 16 words: word 4p + i holds piece p in its byte i
    std::int8_t* rows = tiles + (c0 / kTileCols) * 1024;
    for (index_t k = 0; k < nc; ++k)
      for (int p = 0; p < kPieces; ++p) diagonal16(q[p][k], rows + 64 * k + 16 * p);
  }
  return inv > T(0) ? 1.0 / static_cast<double>(inv) : 0.0;  // the pieces are w·inv
}

#if ORCHARD_GBNN_AMX
struct TileConfig {
  std::uint8_t palette = 1, start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

/// Forward products of one super-block (its four row tiles from `x`) with one unit's weight
/// tiles: C[u][quad][4p + i] = Σ over the columns of code · piece p, for row 64u + 4·quad + i.
__attribute__((target("amx-tile,amx-int8"))) inline void amx_forward(
    const std::uint8_t* x, index_t column_tiles, const std::int8_t* wtiles, std::int32_t* C) {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
  const std::size_t row_tile = static_cast<std::size_t>(column_tiles) * 1024;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (index_t t = 0; t < column_tiles; ++t) {
    const std::uint8_t* xt = x + 1024 * t;
    _tile_loadd(5, wtiles + 1024 * t, 64);
    _tile_loadd(4, xt, 64);
    _tile_dpbusd(0, 4, 5);
    _tile_loadd(6, xt + row_tile, 64);
    _tile_dpbusd(1, 6, 5);
    _tile_loadd(7, xt + 2 * row_tile, 64);
    _tile_dpbusd(2, 7, 5);
    _tile_loadd(4, xt + 3 * row_tile, 64);
    _tile_dpbusd(3, 4, 5);
  }
  _tile_stored(0, C, 64);
  _tile_stored(1, C + 256, 64);
  _tile_stored(2, C + 512, 64);
  _tile_stored(3, C + 768, 64);
  _tile_release();
}

/// Backward products of `row_tiles` consecutive row tiles (64 rows each): for column tile t,
/// G[t][p][k] + G[ct + t][p][k] = Σ over the rows of piece p of δ (A: row tile u's kPieces × 64
/// bytes at A + u·kPieces·64) · code of column 16t + k. Even and odd row tiles go to the two
/// halves of G, two independent chains of tile products.
__attribute__((target("amx-tile,amx-int8"))) inline void amx_backward(
    const std::uint8_t* x, index_t column_tiles, index_t row_tiles, const std::int8_t* A,
    std::int32_t* G) {
  TileConfig cfg;
  cfg.rows[0] = cfg.rows[1] = kPieces;  // δ pieces
  cfg.colsb[0] = cfg.colsb[1] = 64;
  cfg.rows[4] = cfg.rows[5] = 16;  // rows of X
  cfg.colsb[4] = cfg.colsb[5] = 64;
  cfg.rows[6] = cfg.rows[7] = kPieces;  // sums
  cfg.colsb[6] = cfg.colsb[7] = 64;
  _tile_loadconfig(&cfg);
  const std::size_t tile = static_cast<std::size_t>(column_tiles) * 1024;  // next row tile
  constexpr index_t a_tile = kPieces * 64;
  for (index_t t = 0; t < column_tiles; ++t) {
    const std::uint8_t* xt = x + 1024 * t;
    _tile_zero(6);
    _tile_zero(7);
    index_t u = 0;
    for (; u + 2 <= row_tiles; u += 2) {
      _tile_loadd(0, A + u * a_tile, 64);
      _tile_loadd(4, xt + u * tile, 64);
      _tile_dpbsud(6, 0, 4);
      _tile_loadd(1, A + (u + 1) * a_tile, 64);
      _tile_loadd(5, xt + (u + 1) * tile, 64);
      _tile_dpbsud(7, 1, 5);
    }
    if (u < row_tiles) {
      _tile_loadd(0, A + u * a_tile, 64);
      _tile_loadd(4, xt + u * tile, 64);
      _tile_dpbsud(6, 0, 4);
    }
    _tile_stored(6, G + t * a_tile / 4, 64);
    _tile_stored(7, G + (column_tiles + t) * a_tile / 4, 64);
  }
  _tile_release();
}

// GCC 12 warns that its own AVX-512 intrinsics read an uninitialised "__Y" when they inline into
// a function with a target attribute (GCC bug 105593, fixed in 12.3)
#pragma GCC diagnostic push
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
/// weight_tiles for float on AVX-512 (every AMX CPU has it; called only where
/// amx_int8_usable()): the same bytes and scale, 16 columns per vector instead of one at a time.
/// Every thread runs it once per evaluation (ThreadWeightTiles); the portable loop took ~4 µs of
/// a 2500 × 784 evaluation.
__attribute__((target("avx512f,avx512bw"))) inline double weight_tiles_avx512(
    const float* w, index_t d, std::int8_t* tiles) {
  const auto lanes = [&](index_t c0) {
    const index_t nc = std::min(kTileCols, d - c0);
    return static_cast<__mmask16>((1u << nc) - 1u);
  };
  __m512 mx = _mm512_setzero_ps();
  for (index_t c0 = 0; c0 < d; c0 += kTileCols)
    mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_maskz_loadu_ps(lanes(c0), w + c0)));
  alignas(64) float mx16[kTileCols];
  _mm512_store_ps(mx16, mx);
  const float m = *std::max_element(mx16, mx16 + kTileCols);
  const float inv = m > 0.0f ? 127.0f / m : 0.0f;
  // lane p of a tile row: byte p of the row's packed pieces at bytes 0, 5, 10, 15, zero elsewhere
  alignas(64) std::int8_t sel[64];
  for (int b = 0; b < 64; ++b) sel[b] = b % 16 % 5 == 0 ? static_cast<std::int8_t>(b / 16) : -1;
  const __m512i select = _mm512_load_si512(sel);
  const __m512 vinv = _mm512_set1_ps(inv), base = _mm512_set1_ps(128.0f);
  alignas(64) std::uint32_t packed[kTileCols];
  for (index_t c0 = 0; c0 < d; c0 += kTileCols) {
    const __mmask16 in = lanes(c0);
    __m512 rem = _mm512_mul_ps(_mm512_maskz_loadu_ps(in, w + c0), vinv);
    __m512i word = _mm512_setzero_si512();
    for (int p = 0; p < kPieces; ++p) {  // next_piece: round half to even, then the rest × 128
      const __m512 k = _mm512_roundscale_ps(rem, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      const __m512i qb = _mm512_and_si512(_mm512_cvtps_epi32(k), _mm512_set1_epi32(0xff));
      word = _mm512_or_si512(word, _mm512_slli_epi32(qb, 8 * p));
      rem = _mm512_mul_ps(_mm512_sub_ps(rem, k), base);
    }
    _mm512_store_si512(packed, word);
    std::int8_t* rows = tiles + (c0 / kTileCols) * 1024;
    const index_t nc = std::min(kTileCols, d - c0);
    for (index_t k = 0; k < nc; ++k)
      _mm512_storeu_si512(rows + 64 * k,
                          _mm512_shuffle_epi8(_mm512_set1_epi32(static_cast<int>(packed[k])), select));
  }
  return inv > 0.0f ? 1.0 / static_cast<double>(inv) : 0.0;
}
/// z (kSuperRows values, row order) from a super-block's forward sums C (row 4Q + i: quad Q's
/// 16 sums, C[16Q + 4p + i] = piece p's): s·(((c3/128 + c2)/128 + c1)/128 + c0), in float.
/// Four quads at a time: the pieces scaled by 128^-p (exact), a transpose of their 128-bit
/// lanes, and the same three adds in the same order, so the same floats as that expression.
__attribute__((target("avx512f"))) inline void combine_pieces(const std::int32_t* C, float s, float* z) {
  constexpr float f = 1.0f / 128, f2 = f * f, f3 = f2 * f;
  const __m512 by_piece = _mm512_setr_ps(1, 1, 1, 1, f, f, f, f, f2, f2, f2, f2, f3, f3, f3, f3);
  const __m512 vs = _mm512_set1_ps(s);
  for (index_t Q = 0; Q < kSuperRows / 4; Q += 4) {
    __m512 piece_rows[4];  // quad Q + k's pieces, each scaled by 128^-p
    for (index_t k = 0; k < 4; ++k)
      piece_rows[k] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(C + 16 * (Q + k))), by_piece);
    const __m512 a = piece_rows[0], b = piece_rows[1], c = piece_rows[2], e = piece_rows[3];
    const __m512 ab_lo = _mm512_shuffle_f32x4(a, b, 0x44), ab_hi = _mm512_shuffle_f32x4(a, b, 0xEE);
    const __m512 ce_lo = _mm512_shuffle_f32x4(c, e, 0x44), ce_hi = _mm512_shuffle_f32x4(c, e, 0xEE);
    const __m512 p0 = _mm512_shuffle_f32x4(ab_lo, ce_lo, 0x88);  // quads Q … Q + 3, piece 0
    const __m512 p1 = _mm512_shuffle_f32x4(ab_lo, ce_lo, 0xDD);
    const __m512 p2 = _mm512_shuffle_f32x4(ab_hi, ce_hi, 0x88);
    const __m512 p3 = _mm512_shuffle_f32x4(ab_hi, ce_hi, 0xDD);
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(p3, p2), p1), p0);
    _mm512_storeu_ps(z + 4 * Q, _mm512_mul_ps(sum, vs));
  }
}
#pragma GCC diagnostic pop
#endif

/// The pre-activations z (row order, kSuperRows values) of the super-block at row q0 of `codes`
/// for one unit: its forward products with the unit's weight tiles, times `scale` (the weight
/// scale times the code scale). Needs amx_int8_usable().
template <class T>
void tile_forward([[maybe_unused]] const QuadCodes& codes, [[maybe_unused]] index_t q0,
                  [[maybe_unused]] const std::int8_t* wtiles, [[maybe_unused]] double scale,
                  [[maybe_unused]] T* z) {
#if ORCHARD_GBNN_AMX
  alignas(64) std::int32_t C[4 * 16 * 16];
  amx_forward(codes.rows_at(q0), codes.column_tiles(), wtiles, C);
  if constexpr (std::is_same_v<T, float>) {
    combine_pieces(C, static_cast<float>(scale), z);
  } else {  // not used: the tile path is for float models (NetObjective::tiles_apply)
    alignas(64) float zf[kSuperRows];
    combine_pieces(C, static_cast<float>(scale), zf);
    std::copy(zf, zf + kSuperRows, z);
  }
#else
  std::fill(z, z + kSuperRows, T(0));  // never called without AMX (amx_int8_usable() is false)
#endif
}

/// weight_tiles, through weight_tiles_avx512 for float where AMX is compiled in: the tile path
/// runs only where amx_int8_usable(), so on a CPU with AVX-512.
template <class T>
double tile_weights(const T* w, index_t d, std::int8_t* tiles) {
#if ORCHARD_GBNN_AMX
  if constexpr (std::is_same_v<T, float>) return weight_tiles_avx512(w, d, tiles);
#endif
  return weight_tiles(w, d, tiles);
}

/// A thread's copy of one evaluation's weight tiles (all units), built by the first of its
/// blocks: each thread builds its own, so the tiles it reads stay in its own core's cache. (One
/// copy, built by one thread and read by the others, moved every line between the cores twice
/// per evaluation; its stores stalled on that.) On its own cache lines.
struct alignas(64) ThreadWeightTiles {
  std::uint64_t eval = 0;  // the evaluation built for (0: none)
  index_t d = 0, J = 0;
  std::vector<std::int8_t> bytes;  // unit j's tiles at j · column_tiles · 1 KB
  std::vector<double> scale;       // unit j's S
  /// The tiles of the J units whose weights are w1t (unit by unit, d each), unless this thread
  /// built them for evaluation `id` already.
  template <class T>
  void build(std::uint64_t id, const T* w1t, index_t features, index_t units) {
    if (eval == id) return;
    const index_t tile_bytes = (features + kTileCols - 1) / kTileCols * 1024;
    if (d != features || J != units) {  // rows past d in the last tile must be zero
      bytes.assign(static_cast<std::size_t>(units * tile_bytes), 0);
      scale.resize(static_cast<std::size_t>(units));
      d = features;
      J = units;
    }
    for (index_t j = 0; j < J; ++j)
      scale[static_cast<std::size_t>(j)] = tile_weights(w1t + j * d, d, bytes.data() + j * tile_bytes);
    eval = id;
  }
};

}  // namespace orchard::gbnn::detail
