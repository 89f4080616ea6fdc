// assign.h — the hot loop of quantisation: for N unit rows of dimension c and K unit
// codevectors, the index of the largest dot product per row (ties → lowest index).
// A fused AVX-512 / AVX2 kernel for c = 8 (never materialises the N × K similarities) and a
// blocked libtorch fallback for any c; the kernel is chosen at run time.
#pragma once
#include <ATen/ATen.h>

namespace cb {

// rows (N, c) float32, codes (K, c) float32 (both already normalised) → (N) int64.
at::Tensor argmax_cosine(const at::Tensor& rows, const at::Tensor& codes);

// The libtorch reference path (blocked mm + argmax), used for any c and in tests.
at::Tensor argmax_cosine_reference(const at::Tensor& rows, const at::Tensor& codes);

// Which kernel argmax_cosine uses on this machine for c = 8: "avx512", "avx2" or "torch".
const char* argmax_kernel_name();

}  // namespace cb
