// code_pack.cpp — see code_pack.h. Byte-at-a-time bit streaming; rows are independent and
// processed in parallel.
#include "quant/code_pack.h"

#include <ATen/Parallel.h>

#include "core/error.h"

namespace cb {

int bits_for_codes(int64_t num_codes) {
  int b = 1;
  while ((int64_t(1) << b) < num_codes) ++b;
  return b;
}

at::Tensor pack_codes(const at::Tensor& idx_in, int bits) {
  CB_CHECK_INPUT(idx_in.dim() == 2, "pack_codes: expected (N, m) indices, got {}", c10::str(idx_in.sizes()));
  CB_CHECK_INPUT(bits >= 1 && bits <= 16, "pack_codes: bits {} outside [1, 16]", bits);
  at::Tensor idx = idx_in.to(at::kLong).contiguous().cpu();
  const int64_t n = idx.size(0), m = idx.size(1), rb = packed_row_bytes(m, bits);
  if (n > 0 && m > 0) {
    int64_t lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
    CB_CHECK_INPUT(lo >= 0 && hi < (int64_t(1) << bits), "pack_codes: code {} does not fit in {} bits",
                   lo < 0 ? lo : hi, bits);
  }
  at::Tensor out = at::zeros({n, rb}, at::kByte);
  const int64_t* src = idx.data_ptr<int64_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  at::parallel_for(0, n, 1024, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t* s = src + r * m;
      uint8_t* d = dst + r * rb;
      uint64_t acc = 0;
      int nbits = 0;
      int64_t o = 0;
      for (int64_t j = 0; j < m; ++j) {
        acc |= uint64_t(s[j]) << nbits;
        nbits += bits;
        while (nbits >= 8) {
          d[o++] = uint8_t(acc & 0xff);
          acc >>= 8;
          nbits -= 8;
        }
      }
      if (nbits > 0) d[o++] = uint8_t(acc & 0xff);
    }
  });
  return out;
}

at::Tensor unpack_codes(const at::Tensor& packed_in, int64_t m, int bits) {
  CB_CHECK_INPUT(packed_in.dim() == 2 && packed_in.scalar_type() == at::kByte,
                 "unpack_codes: expected (N, bytes) uint8, got {} {}", c10::str(packed_in.sizes()),
                 c10::toString(packed_in.scalar_type()));
  CB_CHECK_INPUT(bits >= 1 && bits <= 16, "unpack_codes: bits {} outside [1, 16]", bits);
  const int64_t rb = packed_row_bytes(m, bits);
  CB_CHECK_INPUT(packed_in.size(1) == rb, "unpack_codes: rows of {} bytes, expected {} for {} codes of {} bits",
                 packed_in.size(1), rb, m, bits);
  at::Tensor packed = packed_in.contiguous().cpu();
  const int64_t n = packed.size(0);
  at::Tensor out = at::empty({n, m}, at::kLong);
  const uint8_t* src = packed.data_ptr<uint8_t>();
  int64_t* dst = out.data_ptr<int64_t>();
  const uint64_t mask = (uint64_t(1) << bits) - 1;
  at::parallel_for(0, n, 1024, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const uint8_t* s = src + r * rb;
      int64_t* d = dst + r * m;
      uint64_t acc = 0;
      int nbits = 0;
      int64_t i = 0;
      for (int64_t j = 0; j < m; ++j) {
        while (nbits < bits) {
          acc |= uint64_t(s[i++]) << nbits;
          nbits += 8;
        }
        d[j] = int64_t(acc & mask);
        acc >>= bits;
        nbits -= bits;
      }
    }
  });
  return out;
}

}  // namespace cb
