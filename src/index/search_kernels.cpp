// search_kernels.cpp — see search_kernels.h. The body is written once with GCC vector
// extensions (V = L floats); the AVX2 / AVX-512 copies differ only in target attributes, so
// GCC emits ymm / zmm loads and adds. Codes are read straight from the packed rows: for
// 10-bit codes, code j is the 16-bit word at byte 10j/8 shifted by 10j mod 8 (never past the
// row's 160 bytes), so no unpacking pass is needed.
#include "index/search_kernels.h"

#include <cstring>

#include "index/index_format.h"

#pragma GCC diagnostic ignored "-Wpsabi"

namespace cb::index::detail {
namespace {

#define CB_INLINE inline __attribute__((always_inline))

typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));

struct Read10 {
  static CB_INLINE uint32_t get(const uint8_t* row, uint32_t j, uint32_t) {
    uint32_t bit = j * 10;
    uint16_t w;
    std::memcpy(&w, row + (bit >> 3), 2);
    return (w >> (bit & 7)) & 1023u;
  }
};
struct Read8 {
  static CB_INLINE uint32_t get(const uint8_t* row, uint32_t j, uint32_t) { return row[j]; }
};
struct ReadAny {
  static CB_INLINE uint32_t get(const uint8_t* row, uint32_t j, uint32_t bits) { return read_code(row, j, bits); }
};

template <typename V>
CB_INLINE void add_from(V* a, const float* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  *a += v;
}

// Chunk groups of 4: the 4 tables (4 × K × L floats) stay in L1/L2 while a block of items
// streams through; the per-item accumulator is loaded and stored once per group.
template <int L, typename V, typename R>
CB_INLINE void scan_codes(const uint8_t* codes, size_t rb, uint32_t bits, uint32_t chunks, uint32_t K,
                          const float* T, int64_t r0, int64_t nb, V* A) {
  const uint8_t* base = codes + r0 * rb;
  const size_t stride = size_t(K) * L;
  uint32_t j = 0;
  for (; j + 4 <= chunks; j += 4) {
    const float* T0 = T + j * stride;
    const float* T1 = T0 + stride;
    const float* T2 = T1 + stride;
    const float* T3 = T2 + stride;
    for (int64_t i = 0; i < nb; ++i) {
      const uint8_t* row = base + i * rb;
      V a = A[i];
      add_from(&a, T0 + size_t(R::get(row, j, bits)) * L);
      add_from(&a, T1 + size_t(R::get(row, j + 1, bits)) * L);
      add_from(&a, T2 + size_t(R::get(row, j + 2, bits)) * L);
      add_from(&a, T3 + size_t(R::get(row, j + 3, bits)) * L);
      A[i] = a;
    }
  }
  for (; j < chunks; ++j) {
    const float* Tj = T + j * stride;
    for (int64_t i = 0; i < nb; ++i) add_from(&A[i], Tj + size_t(R::get(base + i * rb, j, bits)) * L);
  }
}

template <int L, typename V>
CB_INLINE void scan_half(const uint8_t* codes, size_t rb, uint32_t bits, uint32_t chunks, uint32_t K,
                         const float* T, int64_t r0, int64_t nb, V* A) {
  if (bits == 10)
    scan_codes<L, V, Read10>(codes, rb, bits, chunks, K, T, r0, nb, A);
  else if (bits == 8)
    scan_codes<L, V, Read8>(codes, rb, bits, chunks, K, T, r0, nb, A);
  else
    scan_codes<L, V, ReadAny>(codes, rb, bits, chunks, K, T, r0, nb, A);
}

template <int L, typename V>
CB_INLINE void scan_block(const ScanArgs& a, int64_t r0, int64_t nb, float* acc) {
  V* A = reinterpret_cast<V*>(acc);
  for (int64_t i = 0; i < nb; ++i) A[i] = V{};
  scan_half<L, V>(a.codes, a.row_bytes, a.bits, a.chunks, a.K, a.T, r0, nb, A);
  if (a.spec)
    scan_half<L, V>(a.spec, a.spec_row_bytes, a.spec_bits, a.chunks, a.Ks, a.T + size_t(a.chunks) * a.K * L, r0, nb,
                    A);
}

}  // namespace

void scan_scalar(const ScanArgs& a, int64_t r0, int64_t nb, float* acc) { scan_block<8, v8f>(a, r0, nb, acc); }

__attribute__((target("avx2,fma"))) void scan_avx2(const ScanArgs& a, int64_t r0, int64_t nb, float* acc) {
  scan_block<8, v8f>(a, r0, nb, acc);
}

__attribute__((target("avx512f"))) void scan_avx512(const ScanArgs& a, int64_t r0, int64_t nb, float* acc) {
  scan_block<16, v16f>(a, r0, nb, acc);
}

}  // namespace cb::index::detail
