// search_kernels.h — the hot loop of the code index search: summing table lookups for a
// block of items, vectorised across L queries (one SIMD register of L floats per item).
// Internal to index/search*.cpp. One generic body (GCC vector extensions) is compiled three
// times with different target attributes in search_kernels.cpp; `best_kernel()` picks one at
// run time with __builtin_cpu_supports.
#pragma once
#include <cstddef>
#include <cstdint>

namespace cb::index::detail {

struct ScanArgs {
  const uint8_t* codes = nullptr;  // (N, row_bytes) packed shared codes
  size_t row_bytes = 0;
  uint32_t bits = 0, chunks = 0, K = 0;
  const uint8_t* spec = nullptr;   // (N, spec_row_bytes) packed specific codes, or null
  size_t spec_row_bytes = 0;
  uint32_t spec_bits = 0, Ks = 0;
  const float* T = nullptr;        // (chunks, K, L) then, when spec, (chunks, Ks, L)
};

// acc (nb, L), 64-byte aligned: acc[i][l] = Σ_j T[j][code_j(row r0+i)][l] (+ specific part).
void scan_scalar(const ScanArgs& a, int64_t r0, int64_t nb, float* acc);  // L = 8
void scan_avx2(const ScanArgs& a, int64_t r0, int64_t nb, float* acc);    // L = 8
void scan_avx512(const ScanArgs& a, int64_t r0, int64_t nb, float* acc);  // L = 16

}  // namespace cb::index::detail
