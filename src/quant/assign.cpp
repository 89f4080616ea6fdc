// assign.cpp — see assign.h. Run-time kernel choice, the codebook layouts the kernels
// read, the row-parallel split, the scalar routine every kernel falls back to, and the
// blocked libtorch reference. The SIMD kernels live in assign_avx2.cpp / assign_avx512.cpp.
#include "quant/assign.h"

#include <ATen/Parallel.h>

#include <cfloat>
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
  const Kernel kern = pick_kernel();
  const bool fused = c == 8 && K > 0 && rows_in.device().is_cpu() && codes_in.device().is_cpu() &&
                     rows_in.scalar_type() == at::kFloat && codes_in.scalar_type() == at::kFloat &&
                     (kern == Kernel::Avx2 || (kern == Kernel::Avx512 && K % 16 == 0));
  if (!fused) return argmax_cosine_reference(rows_in, codes_in);
  at::Tensor rows = rows_in.contiguous();
  // Pad to a multiple of 16 codes by repeating the last code (its copies never win: ties →
  // lowest index). codes (Kp, 8) for the AVX2 pass, codes_t (8, Kp) for everything else.
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
    if (kern == Kernel::Avx512)
      detail::argmax8_avx512(rp + b * 8, e - b, ctp, Kp, op + b);
    else
      detail::argmax8_avx2(rp + b * 8, e - b, cp, ctp, Kp, op + b);
  });
  return out;
}

}  // namespace cb
