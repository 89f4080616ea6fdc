// assign_avx512.cpp — the AVX-512 arg-max kernel (see assign_kernels.h). Sixteen rows are
// held transposed in eight zmm registers (lane = row, register = dim) for the whole codebook
// pass; each code's eight values are broadcast from the (K, 8) codebook, so one code costs
// 8 FMA-class ops and one vmaxps for 16 rows. Two-level arg-max as in the AVX2 kernel: the
// pass keeps only, per row, the best value and the first 16-code block that reached it
// (strict >); the winning block's 16 dots are then recomputed with the identical operation
// sequence (bitwise equal values, one zmm) and the first code equal to the best is the answer.
//
// (The previous kernel kept a running index per lane — two mask moves per 16 codes per row —
// and reduced 16 lanes per row at the end; for the 256-code specific books that reduction
// and the index bookkeeping cost a quarter of the time. docs/bench/quant.md has both.)
#include <immintrin.h>

#include <cfloat>

#include "quant/assign_kernels.h"

namespace cb::detail {
namespace {

constexpr int64_t kAvx512Block = 16;  // codes per tracked block
constexpr int64_t kAvx512Rows = 16;   // rows per pass (one zmm lane each)

// x (16 rows, 8) row-major → t[d] = dim d of the 16 rows.
__attribute__((target("avx512f"), always_inline)) inline void transpose16x8(const float* x, __m512* t) {
  const __m512i idx = _mm512_setr_epi32(0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120);
  for (int d = 0; d < 8; ++d) t[d] = _mm512_i32gather_ps(idx, x + d, 4);
}

// One FMA step d of eight codes (8 floats apart from c) against the rows' dim d.
#define CB_FMA8(d, xd)                                             \
  a0 = _mm512_fmadd_ps(xd, _mm512_set1_ps(c[(d)]), a0);            \
  a1 = _mm512_fmadd_ps(xd, _mm512_set1_ps(c[8 + (d)]), a1);        \
  a2 = _mm512_fmadd_ps(xd, _mm512_set1_ps(c[16 + (d)]), a2);       \
  a3 = _mm512_fmadd_ps(xd, _mm512_set1_ps(c[24 + (d)]), a3);       \
  a4 = _mm512_fmadd_ps(xd, _mm512_set1_ps(c[32 + (d)]), a4);       \
  a5 = _mm512_fmadd_ps(xd, _mm512_set1_ps(c[40 + (d)]), a5);       \
  a6 = _mm512_fmadd_ps(xd, _mm512_set1_ps(c[48 + (d)]), a6);       \
  a7 = _mm512_fmadd_ps(xd, _mm512_set1_ps(c[56 + (d)]), a7);

// 16 rows (16, 8) → out (16). Pass 1 over the codebook, then the per-row recomputation.
__attribute__((target("avx512f"))) void argmax16x8(const float* rows, const float* codes, const float* codes_t,
                                                    int64_t Kp, int64_t* out) {
  __m512 t[8];
  transpose16x8(rows, t);
  const __m512 x0 = t[0], x1 = t[1], x2 = t[2], x3 = t[3], x4 = t[4], x5 = t[5], x6 = t[6], x7 = t[7];
  __m512 best = _mm512_set1_ps(-FLT_MAX);
  __m512i block = _mm512_setzero_si512();
  for (int64_t b = 0; b < Kp / kAvx512Block; ++b) {
    const float* cb = codes + b * kAvx512Block * 8;
    __m512 bm = _mm512_set1_ps(-FLT_MAX);
    for (int j = 0; j < kAvx512Block; j += 8) {
      // Eight independent dot chains (codes j … j+7): enough in flight for two FMA pipes.
      // Named registers, not an array: GCC keeps an array of __m512 on the stack.
      const float* c = cb + j * 8;
      __m512 a0 = _mm512_mul_ps(x0, _mm512_set1_ps(c[0])), a1 = _mm512_mul_ps(x0, _mm512_set1_ps(c[8]));
      __m512 a2 = _mm512_mul_ps(x0, _mm512_set1_ps(c[16])), a3 = _mm512_mul_ps(x0, _mm512_set1_ps(c[24]));
      __m512 a4 = _mm512_mul_ps(x0, _mm512_set1_ps(c[32])), a5 = _mm512_mul_ps(x0, _mm512_set1_ps(c[40]));
      __m512 a6 = _mm512_mul_ps(x0, _mm512_set1_ps(c[48])), a7 = _mm512_mul_ps(x0, _mm512_set1_ps(c[56]));
      CB_FMA8(1, x1) CB_FMA8(2, x2) CB_FMA8(3, x3) CB_FMA8(4, x4) CB_FMA8(5, x5) CB_FMA8(6, x6) CB_FMA8(7, x7)
      const __m512 m = _mm512_max_ps(_mm512_max_ps(_mm512_max_ps(a0, a1), _mm512_max_ps(a2, a3)),
                                     _mm512_max_ps(_mm512_max_ps(a4, a5), _mm512_max_ps(a6, a7)));
      bm = _mm512_max_ps(bm, m);
    }
    const __mmask16 gt = _mm512_cmp_ps_mask(bm, best, _CMP_GT_OQ);  // strict: the first block keeps a tie
    best = _mm512_mask_mov_ps(best, gt, bm);
    block = _mm512_mask_mov_epi32(block, gt, _mm512_set1_epi32(int32_t(b)));
  }
  alignas(64) float bv[kAvx512Rows];
  alignas(64) int32_t bb[kAvx512Rows];
  _mm512_store_ps(bv, best);
  _mm512_store_si512(reinterpret_cast<__m512i*>(bb), block);
  for (int i = 0; i < kAvx512Rows; ++i) {
    const float* xi = rows + 8 * i;
    const float* ct = codes_t + int64_t(bb[i]) * kAvx512Block;
    __m512 acc = _mm512_mul_ps(_mm512_set1_ps(xi[0]), _mm512_loadu_ps(ct));
    for (int d = 1; d < 8; ++d) acc = _mm512_fmadd_ps(_mm512_set1_ps(xi[d]), _mm512_loadu_ps(ct + d * Kp), acc);
    const unsigned eq = _mm512_cmp_ps_mask(acc, _mm512_set1_ps(bv[i]), _CMP_EQ_OQ);
    // No match only when no dot beat −FLT_MAX (NaN inputs): the scalar routine decides.
    out[i] = eq ? int64_t(bb[i]) * kAvx512Block + __builtin_ctz(eq) : argmax8_scalar(xi, codes_t, Kp);
  }
}

#undef CB_FMA8

}  // namespace

void argmax8_avx512(const float* rows, int64_t n, const float* codes, const float* codes_t, int64_t Kp,
                    int64_t* out) {
  int64_t r = 0;
  for (; r + kAvx512Rows <= n; r += kAvx512Rows) argmax16x8(rows + r * 8, codes, codes_t, Kp, out + r);
  if (r < n) {  // tail: pad to 16 rows with zeros, keep the valid answers
    float buf[kAvx512Rows * 8] = {};
    int64_t tmp[kAvx512Rows];
    for (int64_t i = 0; i < (n - r) * 8; ++i) buf[i] = rows[r * 8 + i];
    argmax16x8(buf, codes, codes_t, Kp, tmp);
    for (int64_t i = 0; i < n - r; ++i) out[r + i] = tmp[i];
  }
}

}  // namespace cb::detail
