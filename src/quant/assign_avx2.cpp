// assign_avx2.cpp — the AVX2 arg-max kernel (see assign_kernels.h). Eight rows are held
// transposed in eight ymm registers (lane = row, register = dim) for the whole codebook
// pass; each code's eight values are broadcast from the (K, 8) codebook, so one code costs
// 8 FMA-class ops and one vmaxps for 8 rows. Two-level arg-max: the pass keeps only, per
// row, the best value and the first 16-code block that reached it (strict >); the winning
// block's 16 dots are then recomputed with the identical operation sequence (bitwise equal
// values) and the first code equal to the best is the answer.
#include <immintrin.h>

#include <cfloat>

#include "quant/assign_kernels.h"

namespace cb::detail {
namespace {

constexpr int64_t kAvx2Block = 16;  // codes per tracked block

// x (8 rows, 8) row-major → t[d] = dim d of the 8 rows.
__attribute__((target("avx2,fma"), always_inline)) inline void transpose8x8(const float* x, __m256* t) {
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(x + 8 * i);
  __m256 u[8], s[8];
  for (int i = 0; i < 4; ++i) {
    u[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    u[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 0-3 (h = 0) and 4-7 (h = 1)
    __m256 a = u[4 * h], b = u[4 * h + 1], c = u[4 * h + 2], d = u[4 * h + 3];
    s[4 * h + 0] = _mm256_shuffle_ps(a, c, 0x44);
    s[4 * h + 1] = _mm256_shuffle_ps(a, c, 0xEE);
    s[4 * h + 2] = _mm256_shuffle_ps(b, d, 0x44);
    s[4 * h + 3] = _mm256_shuffle_ps(b, d, 0xEE);
  }
  for (int d = 0; d < 4; ++d) {
    t[d] = _mm256_permute2f128_ps(s[d], s[4 + d], 0x20);
    t[4 + d] = _mm256_permute2f128_ps(s[d], s[4 + d], 0x31);
  }
}

// One FMA step d of four codes (c, c+8, c+16, c+24 floats apart) against rows' dim d.
#define CB_FMA4(d, xd)                                              \
  a0 = _mm256_fmadd_ps(xd, _mm256_broadcast_ss(c + (d)), a0);       \
  a1 = _mm256_fmadd_ps(xd, _mm256_broadcast_ss(c + 8 + (d)), a1);   \
  a2 = _mm256_fmadd_ps(xd, _mm256_broadcast_ss(c + 16 + (d)), a2);  \
  a3 = _mm256_fmadd_ps(xd, _mm256_broadcast_ss(c + 24 + (d)), a3);

// Max over the 8 rows' dots with 4 consecutive codes starting at `cptr` (AoS, 8 floats each).
#define CB_MAX4(out, cptr)                                                                      \
  {                                                                                             \
    const float* c = (cptr);                                                                    \
    __m256 a0 = _mm256_mul_ps(x0, _mm256_broadcast_ss(c));                                      \
    __m256 a1 = _mm256_mul_ps(x0, _mm256_broadcast_ss(c + 8));                                  \
    __m256 a2 = _mm256_mul_ps(x0, _mm256_broadcast_ss(c + 16));                                 \
    __m256 a3 = _mm256_mul_ps(x0, _mm256_broadcast_ss(c + 24));                                 \
    CB_FMA4(1, x1) CB_FMA4(2, x2) CB_FMA4(3, x3) CB_FMA4(4, x4) CB_FMA4(5, x5) CB_FMA4(6, x6) \
    CB_FMA4(7, x7)                                                                              \
    out = _mm256_max_ps(_mm256_max_ps(a0, a1), _mm256_max_ps(a2, a3));                        \
  }

// 8 rows (8, 8) → out (8). Pass 1 over the codebook, then the per-row recomputation.
__attribute__((target("avx2,fma"))) void argmax8x8(const float* rows, const float* codes, const float* codes_t,
                                                    int64_t Kp, int64_t* out) {
  __m256 t[8];
  transpose8x8(rows, t);
  const __m256 x0 = t[0], x1 = t[1], x2 = t[2], x3 = t[3], x4 = t[4], x5 = t[5], x6 = t[6], x7 = t[7];
  __m256 best = _mm256_set1_ps(-FLT_MAX);
  __m256i block = _mm256_setzero_si256();
  for (int64_t b = 0; b < Kp / kAvx2Block; ++b) {
    const float* cb = codes + b * kAvx2Block * 8;
    __m256 bm;
    CB_MAX4(bm, cb)
#pragma GCC unroll 1
    for (int j = 4; j < kAvx2Block; j += 4) {
      __m256 m;
      CB_MAX4(m, cb + j * 8)
      bm = _mm256_max_ps(bm, m);
    }
    __m256 gt = _mm256_cmp_ps(bm, best, _CMP_GT_OQ);  // strict: the first block keeps a tie
    best = _mm256_blendv_ps(best, bm, gt);
    block = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(block),
                                                  _mm256_castsi256_ps(_mm256_set1_epi32(int32_t(b))), gt));
  }
  alignas(32) float bv[8];
  alignas(32) int32_t bb[8];
  _mm256_store_ps(bv, best);
  _mm256_store_si256(reinterpret_cast<__m256i*>(bb), block);
  for (int i = 0; i < 8; ++i) {
    const float* xi = rows + 8 * i;
    const float* ct = codes_t + int64_t(bb[i]) * kAvx2Block;
    __m256 s = _mm256_set1_ps(xi[0]);
    __m256 a0 = _mm256_mul_ps(s, _mm256_loadu_ps(ct)), a1 = _mm256_mul_ps(s, _mm256_loadu_ps(ct + 8));
    for (int d = 1; d < 8; ++d) {
      s = _mm256_set1_ps(xi[d]);
      a0 = _mm256_fmadd_ps(s, _mm256_loadu_ps(ct + d * Kp), a0);
      a1 = _mm256_fmadd_ps(s, _mm256_loadu_ps(ct + d * Kp + 8), a1);
    }
    const __m256 m = _mm256_set1_ps(bv[i]);
    const unsigned eq = unsigned(_mm256_movemask_ps(_mm256_cmp_ps(a0, m, _CMP_EQ_OQ))) |
                        unsigned(_mm256_movemask_ps(_mm256_cmp_ps(a1, m, _CMP_EQ_OQ))) << 8;
    // No match only when no dot beat −FLT_MAX (NaN inputs): the scalar routine decides.
    out[i] = eq ? int64_t(bb[i]) * kAvx2Block + __builtin_ctz(eq) : argmax8_scalar(xi, codes_t, Kp);
  }
}

#undef CB_MAX4
#undef CB_FMA4

}  // namespace

void argmax8_avx2(const float* rows, int64_t n, const float* codes, const float* codes_t, int64_t Kp,
                  int64_t* out) {
  int64_t r = 0;
  for (; r + 8 <= n; r += 8) argmax8x8(rows + r * 8, codes, codes_t, Kp, out + r);
  if (r < n) {  // tail: pad to 8 rows with zeros, keep the valid answers
    float buf[64] = {};
    int64_t tmp[8];
    for (int64_t i = 0; i < (n - r) * 8; ++i) buf[i] = rows[r * 8 + i];
    argmax8x8(buf, codes, codes_t, Kp, tmp);
    for (int64_t i = 0; i < n - r; ++i) out[r + i] = tmp[i];
  }
}

}  // namespace cb::detail
