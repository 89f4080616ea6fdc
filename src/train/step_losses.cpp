// step_losses.cpp — see step_losses.h.
#include "train/step_losses.h"

namespace cb::step {

namespace F = torch::nn::functional;

at::Tensor info_nce(const at::Tensor& a, const at::Tensor& b, double tau) {
  auto an = F::normalize(a, F::NormalizeFuncOptions().dim(-1).eps(1e-8));
  auto bn = F::normalize(b, F::NormalizeFuncOptions().dim(-1).eps(1e-8));
  auto S = an.matmul(bn.t()) / tau;  // (B, B)
  auto diag_row = torch::log_softmax(S, 1).diagonal();
  auto diag_col = torch::log_softmax(S, 0).diagonal();
  return -(diag_row + diag_col).mean();
}

at::Tensor orthogonality(const at::Tensor& zc, const at::Tensor& zs) {
  auto G = zc.matmul(zs.transpose(1, 2));  // (B, L, L)
  return G.pow(2).sum({1, 2}).add(1e-12).sqrt().mean();
}

at::Tensor uniformity(const at::Tensor& s) {
  const int64_t B = s.size(0);
  auto d2 = torch::cdist(s, s).pow(2);  // (B, B)
  auto iu = torch::triu_indices(B, B, 1);
  auto v = d2.index({iu[0], iu[1]});
  return torch::log(torch::exp(-v).mean());
}

at::Tensor code_matching(const at::Tensor& sim_a, const at::Tensor& sim_b) {
  auto pa = torch::softmax(sim_a, -1), pb = torch::softmax(sim_b, -1);  // (B, m, K)
  auto la = torch::log(pa + 1e-10), lb = torch::log(pb + 1e-10);
  // G[j, m, n] = Σ_k pa[m,j,k] lb[n,j,k] + la[m,j,k] pb[n,j,k]
  auto G = torch::einsum("mjk,njk->jmn", {pa, lb}) + torch::einsum("mjk,njk->jmn", {la, pb});
  const int64_t m = G.size(0), B = G.size(1);
  auto target = torch::arange(B, torch::kLong).repeat({m});
  return F::cross_entropy(G.reshape({m * B, B}), target);
}

at::Tensor chunk_similarity(const at::Tensor& unit_chunks, const at::Tensor& codebook) {
  auto C = F::normalize(codebook.detach(), F::NormalizeFuncOptions().dim(-1));
  return torch::matmul(unit_chunks, C.t());
}

}  // namespace cb::step
