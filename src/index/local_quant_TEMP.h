// local_quant_TEMP.h — TEMPORARY stand-ins for quant/code_pack.h (pack_codes/unpack_codes)
// and the quantiser's encode (nearest codevector per chunk), used by the index until the
// `quant` branch lands. Same bit layout as quant/code_pack.h: code j at bit j·bits of the
// row, LSB first. Delete this file and include quant/ once merged.
#pragma once
#include <ATen/ATen.h>

#include "core/error.h"

namespace cb::index::temp {

// idx (N, m) int64 → (N, ceil(m·bits/8)) uint8.
inline at::Tensor pack_codes(const at::Tensor& idx, int bits) {
  CB_CHECK(idx.dim() == 2, "pack_codes: expected (N, m)");
  at::Tensor v = idx.to(at::kLong).contiguous();
  const int64_t N = v.size(0), m = v.size(1), rb = (m * bits + 7) / 8;
  at::Tensor out = at::zeros({N, rb}, at::kByte);
  const int64_t* s = v.data_ptr<int64_t>();
  uint8_t* d = out.data_ptr<uint8_t>();
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = 0; j < m; ++j) {
      uint64_t code = uint64_t(s[i * m + j]), bit = uint64_t(j) * bits;
      for (int b = 0; b < bits; ++b, ++bit)
        if ((code >> b) & 1) d[i * rb + (bit >> 3)] |= uint8_t(1u << (bit & 7));
    }
  return out;
}

// Quantiser encode (spec/codebind.md §7.3 steps 1–6): x (N, m·c) → (N, m) int64 indices of
// the codevector with the highest cosine to each normalised chunk (ties → lowest index).
inline at::Tensor encode_chunks(const at::Tensor& x, const at::Tensor& weight /*(K, c)*/) {
  const int64_t c = weight.size(1), N = x.size(0), m = x.size(1) / c;
  at::Tensor u = x.reshape({N * m, c});
  u = u / u.norm(2, 1, true).clamp_min(1e-12);
  at::Tensor w = weight / weight.norm(2, 1, true).clamp_min(1e-12);
  return at::matmul(u, w.t()).argmax(1).view({N, m});
}

}  // namespace cb::index::temp
