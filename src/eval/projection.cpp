// projection.cpp — 2-D PCA for the embedding scatter plots (projection.h).
#include "eval/projection.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"
#include "core/shape_str.h"

namespace cb::eval {

at::Tensor pca_2d(const at::Tensor& x, uint64_t seed) {
  CB_CHECK_INPUT(x.defined() && x.dim() == 2 && x.size(0) >= 1 && x.size(1) >= 1,
                 "pca: expected (N, D) embeddings, got {}", shape_str(x));
  at::NoGradGuard no_grad;
  at::Tensor xc = x.to(at::kCPU).to(at::kDouble);
  xc = xc - xc.mean(0, true);                                   // (N, D)
  const int64_t N = xc.size(0), D = xc.size(1), r = std::min<int64_t>(2, std::min(N, D));
  at::Tensor V;                                                 // (D, r) principal directions
  if (std::min(N, D) <= 512) {
    V = std::get<2>(at::linalg_svd(xc, /*full_matrices=*/false)).slice(0, 0, r).t();  // Vh (k, D) → (D, r)
  } else {
    // Randomised subspace iteration: range of Xᵀ X from a seeded Gaussian start.
    at::Generator gen = at::detail::createCPUGenerator(seed);
    const int64_t q = std::min<int64_t>(r + 10, D);
    at::Tensor Q = std::get<0>(at::linalg_qr(at::matmul(xc.t(), at::matmul(xc, at::randn({D, q}, gen, at::kDouble)))));
    for (int it = 0; it < 6; ++it) Q = std::get<0>(at::linalg_qr(at::matmul(xc.t(), at::matmul(xc, Q))));
    at::Tensor B = at::matmul(xc, Q);                           // (N, q)
    at::Tensor Vh = std::get<2>(at::linalg_svd(B, false));      // (q, q)
    V = at::matmul(Q, Vh.slice(0, 0, r).t());                   // (D, r)
  }
  // Deterministic signs: the largest-magnitude loading of each component is positive.
  at::Tensor idx = V.abs().argmax(0);                           // (r)
  at::Tensor sign = V.gather(0, idx.unsqueeze(0)).sign();       // (1, r)
  sign = at::where(sign == 0, at::ones_like(sign), sign);
  at::Tensor proj = at::matmul(xc, V * sign);                   // (N, r)
  if (r < 2) proj = at::cat({proj, at::zeros({N, 2 - r}, proj.options())}, 1);
  return proj.to(at::kFloat);                                   // (N, 2)
}

}  // namespace cb::eval
