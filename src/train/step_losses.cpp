// step_losses.cpp — see step_losses.h. Thin names over the loss functions of train/losses.h,
// which carry the golden-fixture tests.
#include "train/step_losses.h"

#include "train/losses.h"

namespace cb::step {

namespace F = torch::nn::functional;

at::Tensor info_nce(const at::Tensor& a, const at::Tensor& b, double tau) { return cb::info_nce(a, b, tau); }

at::Tensor orthogonality(const at::Tensor& zc, const at::Tensor& zs) { return cb::orthogonality_loss(zc, zs); }

at::Tensor uniformity(const at::Tensor& s) { return cb::uniformity_loss(s); }

at::Tensor specific_cls_unit(const at::Tensor& e_cls, int64_t shared_dim, int64_t chunk) {
  auto s = e_cls.slice(-1, shared_dim);  // (B, d_s)
  return F::normalize(s.reshape({s.size(0), -1, chunk}), F::NormalizeFuncOptions().dim(-1)).reshape({s.size(0), -1});
}

at::Tensor code_matching(const at::Tensor& sim_a, const at::Tensor& sim_b) {
  return cb::code_matching_from_similarities(sim_a, sim_b);
}

at::Tensor chunk_similarity(const at::Tensor& unit_chunks, const at::Tensor& codebook) {
  auto C = F::normalize(codebook.detach(), F::NormalizeFuncOptions().dim(-1));
  return torch::matmul(unit_chunks, C.t());
}

}  // namespace cb::step
