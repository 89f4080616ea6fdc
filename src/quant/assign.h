// assign.h — the hot loop of quantisation: for N unit rows of dimension c and K unit
// codevectors, the index of the largest dot product per row (ties → lowest index).
// For c = 8 three fused kernels compute every dot with the same operation sequence and so
// return identical indices: AVX-512, AVX2 (both never materialise the N × K similarities)
// and a portable scalar loop. The best one this CPU runs is chosen at run time; any other
// c goes through a blocked libtorch path (mm + argmax, whose ties follow GEMM rounding).
#pragma once
#include <ATen/ATen.h>

#include <vector>

namespace cb {

enum class AssignKernel { Auto, Avx512, Avx2, Scalar, Torch };

// rows (N, c) float32, codes (K, c) float32 (both already normalised) → (N) int64.
// kernel = Auto picks best_assign_kernel(); a kernel this CPU cannot run is an error.
at::Tensor argmax_cosine(const at::Tensor& rows, const at::Tensor& codes, AssignKernel kernel = AssignKernel::Auto);

// The libtorch reference path (blocked mm + argmax), used for any c and in tests.
at::Tensor argmax_cosine_reference(const at::Tensor& rows, const at::Tensor& codes);

// The c = 8 kernel Auto uses on this machine: the one named by $CODEBIND_ASSIGN_KERNEL
// (avx512 | avx2 | scalar | torch) when the CPU runs it, else the SIMD kernel measured fastest
// here on first use (a ~ms timing; all kernels give identical results), else scalar.
AssignKernel best_assign_kernel();

// Every c = 8 kernel this CPU can run, portable scalar first (tests loop over these).
std::vector<AssignKernel> available_assign_kernels();

// "avx512", "avx2", "scalar" or "torch" (Auto → the name of best_assign_kernel()).
const char* assign_kernel_name(AssignKernel k = AssignKernel::Auto);

}  // namespace cb
