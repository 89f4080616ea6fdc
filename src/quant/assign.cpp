// assign.cpp — see assign.h. Run-time kernel choice, the codebook layouts the kernels
// read, the row-parallel split, the scalar routine every kernel falls back to, and the
// blocked libtorch reference. The SIMD kernels live in assign_avx2.cpp / assign_avx512.cpp.
#include "quant/assign.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "quant/assign_kernels.h"

namespace cb {
namespace detail {

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

}  // namespace detail

namespace {

bool cpu_runs(AssignKernel k) {
  __builtin_cpu_init();
  switch (k) {
    case AssignKernel::Avx512: return __builtin_cpu_supports("avx512f");
    case AssignKernel::Avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return true;
  }
}

}  // namespace

std::vector<AssignKernel> available_assign_kernels() {
  std::vector<AssignKernel> ks = {AssignKernel::Scalar};
  for (AssignKernel k : {AssignKernel::Avx2, AssignKernel::Avx512})
    if (cpu_runs(k)) ks.push_back(k);
  return ks;
}

namespace {

// Which SIMD kernel is faster is a property of the core, not of the ISA: on an Intel Xeon
// with AVX-512 the AVX2 kernel measured 7% faster than the AVX-512 one (docs/bench/quant.md).
// All kernels return identical indices, so the choice is made by timing them once on a small
// fixed problem (~1 ms each): it changes speed only, never a result.
AssignKernel fastest_simd_kernel() {
  std::vector<AssignKernel> simd;
  for (AssignKernel k : available_assign_kernels())
    if (k != AssignKernel::Scalar) simd.push_back(k);
  if (simd.empty()) return AssignKernel::Scalar;
  if (simd.size() == 1) return simd.front();
  const int64_t n = 2048, K = 1024;
  // Fixed pseudo-random values without the global generator (drawing from it here would
  // shift every later random number of a run depending on when the kernel was first used).
  at::Tensor rows = at::arange(n * 8, at::kFloat).mul(0.6180339f).sin().view({n, 8});
  at::Tensor codes = at::arange(K * 8, at::kFloat).mul(0.7548776f).cos().view({K, 8});
  AssignKernel best = simd.front();
  double best_t = 1e30;
  for (AssignKernel k : simd) {
    double t_min = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      argmax_cosine(rows, codes, k);
      t_min = std::min(t_min, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    if (t_min < best_t) {
      best_t = t_min;
      best = k;
    }
  }
  return best;
}

}  // namespace

AssignKernel best_assign_kernel() {
  static const AssignKernel k = [] {
    if (const char* e = std::getenv("CODEBIND_ASSIGN_KERNEL")) {
      const std::string s = e;
      for (AssignKernel c : {AssignKernel::Torch, AssignKernel::Scalar, AssignKernel::Avx2, AssignKernel::Avx512})
        if (s == assign_kernel_name(c) && cpu_runs(c)) return c;
    }
    return fastest_simd_kernel();
  }();
  return k;
}

const char* assign_kernel_name(AssignKernel k) {
  switch (k) {
    case AssignKernel::Auto: return assign_kernel_name(best_assign_kernel());
    case AssignKernel::Avx512: return "avx512";
    case AssignKernel::Avx2: return "avx2";
    case AssignKernel::Scalar: return "scalar";
    case AssignKernel::Torch: return "torch";
  }
  return "?";
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

at::Tensor argmax_cosine(const at::Tensor& rows_in, const at::Tensor& codes_in, AssignKernel kernel) {
  CB_CHECK(rows_in.dim() == 2 && codes_in.dim() == 2 && rows_in.size(1) == codes_in.size(1),
           "argmax_cosine: rows {} vs codes {}", c10::str(rows_in.sizes()), c10::str(codes_in.sizes()));
  const int64_t K = codes_in.size(0), c = codes_in.size(1);
  const AssignKernel kern = kernel == AssignKernel::Auto ? best_assign_kernel() : kernel;
  CB_CHECK(cpu_runs(kern), "argmax_cosine: this CPU cannot run the {} kernel", assign_kernel_name(kern));
  const bool fused = kern != AssignKernel::Torch && c == 8 && K > 0 && rows_in.device().is_cpu() &&
                     codes_in.device().is_cpu() && rows_in.scalar_type() == at::kFloat &&
                     codes_in.scalar_type() == at::kFloat;
  if (!fused) return argmax_cosine_reference(rows_in, codes_in);
  at::Tensor rows = rows_in.contiguous();
  // Pad to a multiple of 16 codes by repeating the last code (its copies never win: ties →
  // lowest index). codes (Kp, 8) for the SIMD passes; codes_t (8, Kp) for their per-block
  // recomputation and for the scalar routine.
  const int64_t Kp = (K + 15) / 16 * 16;
  at::Tensor codes = codes_in.contiguous();
  if (Kp != K) codes = at::cat({codes, codes.narrow(0, K - 1, 1).expand({Kp - K, 8})}, 0);
  at::Tensor codes_t = codes.t().contiguous();
  const int64_t n = rows.size(0);
  at::Tensor out = at::empty({n}, at::kLong);
  const float* rp = rows.data_ptr<float>();
  const float* cp = codes.data_ptr<float>();
  const float* ctp = codes_t.data_ptr<float>();
  int64_t* op = out.data_ptr<int64_t>();
  at::parallel_for(0, n, 2048, [&](int64_t b, int64_t e) {
    switch (kern) {
      case AssignKernel::Avx512: detail::argmax8_avx512(rp + b * 8, e - b, cp, ctp, Kp, op + b); break;
      case AssignKernel::Avx2: detail::argmax8_avx2(rp + b * 8, e - b, cp, ctp, Kp, op + b); break;
      default:
        for (int64_t r = b; r < e; ++r) op[r] = detail::argmax8_scalar(rp + r * 8, ctp, Kp);
    }
  });
  return out;
}

}  // namespace cb
