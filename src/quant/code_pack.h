// code_pack.h — packing code indices into little-endian bit streams and back.
// Layout: row r holds m codes of `bits` bits; code j starts at bit j*bits of the row,
// least significant bit first; rows are padded to whole bytes. 10 bits for the 1024-code
// shared codebook (160 bytes / 128 codes), 8 bits for a 256-code specific codebook.
#pragma once
#include <ATen/ATen.h>

namespace cb {

// Bits needed for K codes: ceil(log2 K), at least 1.
int bits_for_codes(int64_t num_codes);

// Bytes per packed row of m codes.
inline int64_t packed_row_bytes(int64_t m, int bits) { return (m * bits + 7) / 8; }

// idx (N, m) int64 in [0, 2^bits) → (N, packed_row_bytes(m, bits)) uint8.
at::Tensor pack_codes(const at::Tensor& idx, int bits);

// packed (N, packed_row_bytes(m, bits)) uint8 → (N, m) int64.
at::Tensor unpack_codes(const at::Tensor& packed, int64_t m, int bits);

}  // namespace cb
