// search_kernels.h — the hot loops of the code index search (internal to index/search*.cpp).
//
// First pass of search (search.h): per batch of kLanes = 16 queries a table of uint16
// quantised lookup values Tq (chunks4, K, 16); an item's approximate score for the 16 queries
// is the uint16 sum of one table row per chunk (one 32-byte load + add per chunk, 16 queries
// at once). The database is scanned in blocks of items whose codes are first transposed to
// chunk-group-major words (BlockCodes) so that, for a group of 4 chunks, the 4 table slices
// (4 × 32 KB) stay in L2 while the whole block's codes and the acc (nb, 16) stream past. One generic body (GCC vector extensions) is compiled with different target
// attributes in search_kernels.cpp; search.cpp picks one at run time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cb::index::detail {

constexpr int kLanes = 16;

// Codes of items [r0, r0+nb), chunk-group-major: w[g·nb + i] holds the codes of chunks
// 4g..4g+3 of item r0+i as 4 fields of `field_bits` bits (10 or 8: the packed bytes copied
// as they are; 16: unpacked, for other code widths or chunk counts). Chunks past `chunks`
// (padding of the last group) read as code 0.
struct BlockCodes {
  std::vector<uint64_t> w;
  int64_t nb = 0;
  uint32_t groups = 0, field_bits = 0;
};

// codes (total_rows, row_bytes) packed rows of `chunks` codes of `bits` bits.
void load_block(const uint8_t* codes, size_t row_bytes, uint32_t bits, uint32_t chunks, int64_t total_rows,
                int64_t r0, int64_t nb, BlockCodes& out);

// acc (nb, 16) uint16 (64-byte aligned) += Σ_j Tq[j][code_j(i)][:] (wrapping adds; callers
// keep sums below 65536). Tq (groups·4, K, 16) int16 values ≥ 0.
void scan_scalar(const BlockCodes& b, const int16_t* Tq, uint32_t K, uint16_t* acc);
void scan_avx2(const BlockCodes& b, const int16_t* Tq, uint32_t K, uint16_t* acc);
void scan_avx512(const BlockCodes& b, const int16_t* Tq, uint32_t K, uint16_t* acc);

// Upper-bound test for the items of a block: mask[i] bit l = ((hi[l] + scale[l]·acc[i][l])·w[i]
// ≥ th[l]). hi, scale, th: 16 floats each; w (nb) the items' 1/‖decoded‖.
void bounds_scalar(const uint16_t* acc, int64_t nb, const float* w, const float* hi, const float* scale,
                   const float* th, uint16_t* mask);
void bounds_avx2(const uint16_t* acc, int64_t nb, const float* w, const float* hi, const float* scale,
                 const float* th, uint16_t* mask);
void bounds_avx512(const uint16_t* acc, int64_t nb, const float* w, const float* hi, const float* scale,
                   const float* th, uint16_t* mask);

}  // namespace cb::index::detail
