// losses.cpp — see losses.h.
#include "train/losses.h"

#include <torch/torch.h>

#include "core/error.h"

namespace cb {
namespace F = torch::nn::functional;
namespace {

// Cosine similarity matrix (B, B) with the reference's eps: each row divided by max(‖x‖, eps).
at::Tensor cosine_matrix(const at::Tensor& a, const at::Tensor& b, double eps) {
  at::Tensor an = a / a.norm(2, -1, true).clamp_min(eps);
  at::Tensor bn = b / b.norm(2, -1, true).clamp_min(eps);
  return at::mm(an, bn.t());
}

}  // namespace

at::Tensor code_matching_loss(const at::Tensor& sim_a, const at::Tensor& sim_b) {
  CB_CHECK_INPUT(sim_a.sizes() == sim_b.sizes() && sim_a.dim() == 3, "code matching: shapes {} vs {}",
                 c10::str(sim_a.sizes()), c10::str(sim_b.sizes()));
  const int64_t B = sim_a.size(0);
  at::Tensor pa = at::softmax(sim_a, -1).transpose(0, 1);  // (m, B, K)
  at::Tensor pb = at::softmax(sim_b, -1).transpose(0, 1);
  at::Tensor g = at::bmm(pa, (pb + 1e-10).log().transpose(1, 2)) + at::bmm((pa + 1e-10).log(), pb.transpose(1, 2));
  // g: (m, B, B); cross-entropy over the second sample axis with target = the first.
  at::Tensor logp = at::log_softmax(g, -1);
  at::Tensor diag = logp.diagonal(0, 1, 2);  // (m, B)
  (void)B;
  return -diag.mean();
}

at::Tensor info_nce(const at::Tensor& a, const at::Tensor& b, double tau) {
  CB_CHECK_INPUT(a.dim() == 2 && a.sizes() == b.sizes(), "info_nce: shapes {} vs {}", c10::str(a.sizes()),
                 c10::str(b.sizes()));
  at::Tensor s = cosine_matrix(a, b, 1e-8) / tau;  // (B, B)
  at::Tensor col = at::log_softmax(s, 0).diagonal();
  at::Tensor row = at::log_softmax(s, 1).diagonal();
  return -(col + row).mean();
}

at::Tensor orthogonality_loss(const at::Tensor& zc, const at::Tensor& zs) {
  CB_CHECK_INPUT(zc.dim() == 3 && zc.sizes() == zs.sizes(), "orthogonality: shapes {} vs {}",
                 c10::str(zc.sizes()), c10::str(zs.sizes()));
  at::Tensor g = at::bmm(zc, zs.transpose(1, 2));  // (B, L, L)
  return g.pow(2).sum({1, 2}).sqrt().mean();
}

at::Tensor uniformity_loss(const at::Tensor& s) {
  CB_CHECK_INPUT(s.dim() == 2 && s.size(0) >= 2, "uniformity: expected (B >= 2, D), got {}", c10::str(s.sizes()));
  return at::pdist(s, 2).pow(2).neg().exp().mean().log();
}

at::Tensor specific_cls_unit(const at::Tensor& e_cls, int64_t shared_dim, int64_t chunk) {
  auto s = e_cls.slice(-1, shared_dim);  // (B, d_s)
  return F::normalize(s.reshape({s.size(0), -1, chunk}), F::NormalizeFuncOptions().dim(-1)).reshape({s.size(0), -1});
}

at::Tensor chunk_similarity(const at::Tensor& unit_chunks, const at::Tensor& codebook) {
  auto C = F::normalize(codebook.detach(), F::NormalizeFuncOptions().dim(-1));
  return at::matmul(unit_chunks, C.t());
}

at::Tensor codevector_contrastive(const at::Tensor& sim) {
  CB_CHECK_INPUT(sim.dim() == 2, "codevector_contrastive: expected (N, K), got {}", c10::str(sim.sizes()));
  const int64_t K = sim.size(1);
  const int64_t npos = std::max<int64_t>(1, K / 10), nneg = K / 2;
  at::Tensor sorted = std::get<0>(sim.sort(-1));  // ascending
  at::Tensor pos = sorted.narrow(1, K - npos, npos).mean(1, true);
  at::Tensor neg = sorted.narrow(1, 0, nneg);
  at::Tensor p = at::softmax(at::cat({pos, neg}, 1), 1);
  return -at::log_softmax(p, 1).select(1, 0).mean();
}

at::Tensor codevector_uniformity(const at::Tensor& codebook) {
  at::Tensor c = F::normalize(codebook, F::NormalizeFuncOptions().p(2).dim(-1).eps(1e-12));
  return at::pdist(c, 2).pow(2).neg().exp().mean().log();
}

}  // namespace cb
