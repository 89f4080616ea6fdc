// assign_avx512.cpp — the AVX-512 arg-max kernel (see assign_kernels.h): per SIMD lane the
// running best dot product and its code index, streaming 16 codes at a time against 8 rows.
#include <immintrin.h>

#include <cfloat>

#include "quant/assign_kernels.h"

namespace cb::detail {
namespace {

constexpr int64_t kRowBlock = 8;  // rows sharing one pass over the codebook

// Final cross-lane reduction: largest value, lowest index among equal values.
inline int64_t reduce_lanes(const float* best, const int32_t* idx, int lanes) {
  float bv = best[0];
  int32_t bi = idx[0];
  for (int l = 1; l < lanes; ++l) {
    if (best[l] > bv || (best[l] == bv && idx[l] < bi)) {
      bv = best[l];
      bi = idx[l];
    }
  }
  return bi;
}

}  // namespace

__attribute__((target("avx512f"))) void argmax8_avx512(const float* rows, int64_t n, const float* codes_t,
                                                        int64_t K, int64_t* out) {
  alignas(64) float bestv[16];
  alignas(64) int32_t besti[16];
  const __m512i step = _mm512_set1_epi32(16);
  int64_t r = 0;
  for (; r + kRowBlock <= n; r += kRowBlock) {
    __m512 best[kRowBlock];
    __m512i bidx[kRowBlock];
    for (int i = 0; i < kRowBlock; ++i) {
      best[i] = _mm512_set1_ps(-FLT_MAX);
      bidx[i] = _mm512_setzero_si512();
    }
    __m512i cur = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const float* x = rows + r * 8;
    for (int64_t k = 0; k < K; k += 16) {
      __m512 c0 = _mm512_loadu_ps(codes_t + 0 * K + k), c1 = _mm512_loadu_ps(codes_t + 1 * K + k);
      __m512 c2 = _mm512_loadu_ps(codes_t + 2 * K + k), c3 = _mm512_loadu_ps(codes_t + 3 * K + k);
      __m512 c4 = _mm512_loadu_ps(codes_t + 4 * K + k), c5 = _mm512_loadu_ps(codes_t + 5 * K + k);
      __m512 c6 = _mm512_loadu_ps(codes_t + 6 * K + k), c7 = _mm512_loadu_ps(codes_t + 7 * K + k);
      for (int i = 0; i < kRowBlock; ++i) {
        const float* xi = x + i * 8;
        __m512 acc = _mm512_mul_ps(_mm512_set1_ps(xi[0]), c0);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(xi[1]), c1, acc);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(xi[2]), c2, acc);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(xi[3]), c3, acc);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(xi[4]), c4, acc);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(xi[5]), c5, acc);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(xi[6]), c6, acc);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(xi[7]), c7, acc);
        __mmask16 gt = _mm512_cmp_ps_mask(acc, best[i], _CMP_GT_OQ);
        best[i] = _mm512_mask_mov_ps(best[i], gt, acc);
        bidx[i] = _mm512_mask_mov_epi32(bidx[i], gt, cur);
      }
      cur = _mm512_add_epi32(cur, step);
    }
    for (int i = 0; i < kRowBlock; ++i) {
      _mm512_store_ps(bestv, best[i]);
      _mm512_store_si512(reinterpret_cast<__m512i*>(besti), bidx[i]);
      out[r + i] = reduce_lanes(bestv, besti, 16);
    }
  }
  for (; r < n; ++r) out[r] = argmax8_scalar(rows + r * 8, codes_t, K);  // tail rows
}

}  // namespace cb::detail
