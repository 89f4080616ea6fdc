// assign.cpp — see assign.h. The fused kernel keeps, per SIMD lane, the running best dot
// product and its code index while streaming 16 (AVX-512) or 8 (AVX2) codes at a time
// against R rows, so neither the N × K similarity matrix nor a one-hot is ever built.
#include "quant/assign.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <cfloat>
#include <cmath>

#include "core/error.h"

namespace cb {
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

// One row against the transposed codebook (8, K): the kernels' tail rows.
int64_t argmax8_scalar(const float* xi, const float* codes_t, int64_t K) {
  float bv = -FLT_MAX;
  int64_t bi = 0;
  for (int64_t k = 0; k < K; ++k) {
    float acc = xi[0] * codes_t[k];
    for (int d = 1; d < 8; ++d) acc = std::fma(xi[d], codes_t[d * K + k], acc);
    if (acc > bv) {
      bv = acc;
      bi = k;
    }
  }
  return bi;
}

// codes_t: (8, K) transposed codebook, K % 16 == 0.
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

__attribute__((target("avx2,fma"))) void argmax8_avx2(const float* rows, int64_t n, const float* codes_t, int64_t K,
                                                      int64_t* out) {
  alignas(32) float bestv[8];
  alignas(32) int32_t besti[8];
  constexpr int R = 4;
  const __m256i step = _mm256_set1_epi32(8);
  int64_t r = 0;
  for (; r + R <= n; r += R) {
    __m256 best[R];
    __m256i bidx[R];
    for (int i = 0; i < R; ++i) {
      best[i] = _mm256_set1_ps(-FLT_MAX);
      bidx[i] = _mm256_setzero_si256();
    }
    __m256i cur = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const float* x = rows + r * 8;
    for (int64_t k = 0; k < K; k += 8) {
      __m256 c[8];
      for (int d = 0; d < 8; ++d) c[d] = _mm256_loadu_ps(codes_t + d * K + k);
      for (int i = 0; i < R; ++i) {
        const float* xi = x + i * 8;
        __m256 acc = _mm256_mul_ps(_mm256_set1_ps(xi[0]), c[0]);
        for (int d = 1; d < 8; ++d) acc = _mm256_fmadd_ps(_mm256_set1_ps(xi[d]), c[d], acc);
        __m256 gt = _mm256_cmp_ps(acc, best[i], _CMP_GT_OQ);
        best[i] = _mm256_blendv_ps(best[i], acc, gt);
        bidx[i] = _mm256_castps_si256(
            _mm256_blendv_ps(_mm256_castsi256_ps(bidx[i]), _mm256_castsi256_ps(cur), gt));
      }
      cur = _mm256_add_epi32(cur, step);
    }
    for (int i = 0; i < R; ++i) {
      _mm256_store_ps(bestv, best[i]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(besti), bidx[i]);
      out[r + i] = reduce_lanes(bestv, besti, 8);
    }
  }
  for (; r < n; ++r) out[r] = argmax8_scalar(rows + r * 8, codes_t, K);  // tail rows
}

enum class Kernel { Avx512, Avx2, Torch };

Kernel pick_kernel() {
  static const Kernel k = [] {
    if (const char* e = std::getenv("CODEBIND_ASSIGN_KERNEL")) {
      std::string s = e;
      if (s == "torch") return Kernel::Torch;
      if (s == "avx2") return Kernel::Avx2;
    }
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return Kernel::Avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Kernel::Avx2;
    return Kernel::Torch;
  }();
  return k;
}

}  // namespace

const char* argmax_kernel_name() {
  switch (pick_kernel()) {
    case Kernel::Avx512: return "avx512";
    case Kernel::Avx2: return "avx2";
    default: return "torch";
  }
}

at::Tensor argmax_cosine_reference(const at::Tensor& rows, const at::Tensor& codes) {
  const int64_t n = rows.size(0);
  at::Tensor out = at::empty({n}, rows.options().dtype(at::kLong));
  const int64_t block = 16384;  // (block, K) similarities at a time: memory stays bounded
  at::Tensor ct = codes.t();
  for (int64_t b = 0; b < n; b += block) {
    int64_t e = std::min(n, b + block);
    out.narrow(0, b, e - b).copy_(at::mm(rows.narrow(0, b, e - b), ct).argmax(1));
  }
  return out;
}

at::Tensor argmax_cosine(const at::Tensor& rows_in, const at::Tensor& codes_in) {
  CB_CHECK(rows_in.dim() == 2 && codes_in.dim() == 2 && rows_in.size(1) == codes_in.size(1),
           "argmax_cosine: rows {} vs codes {}", c10::str(rows_in.sizes()), c10::str(codes_in.sizes()));
  const int64_t K = codes_in.size(0), c = codes_in.size(1);
  Kernel kern = pick_kernel();
  const bool fused = c == 8 && rows_in.device().is_cpu() && rows_in.scalar_type() == at::kFloat &&
                     kern != Kernel::Torch && K % 16 == 0 && K > 0;
  if (!fused) return argmax_cosine_reference(rows_in, codes_in);
  at::Tensor rows = rows_in.contiguous();
  at::Tensor codes_t = codes_in.t().contiguous();  // (8, K)
  const int64_t n = rows.size(0);
  at::Tensor out = at::empty({n}, at::kLong);
  const float* rp = rows.data_ptr<float>();
  const float* cp = codes_t.data_ptr<float>();
  int64_t* op = out.data_ptr<int64_t>();
  at::parallel_for(0, n, 2048, [&](int64_t b, int64_t e) {
    if (kern == Kernel::Avx512)
      argmax8_avx512(rp + b * 8, e - b, cp, K, op + b);
    else
      argmax8_avx2(rp + b * 8, e - b, cp, K, op + b);
  });
  return out;
}

}  // namespace cb
