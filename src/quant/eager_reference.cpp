// eager_reference.cpp — see eager_reference.h. Deliberately unfused: every step is the
// libtorch counterpart of one line of the reference module.
#include "quant/eager_reference.h"

#include <torch/torch.h>

namespace cb::eager {

namespace F = torch::nn::functional;

namespace {
at::Tensor normalize(const at::Tensor& x) { return F::normalize(x, F::NormalizeFuncOptions().dim(-1)); }
}  // namespace

HalfOutput codebook_step(CodebookState& s, const at::Tensor& chunks, bool training, const Settings& opt) {
  const int64_t n0 = chunks.size(0), m = chunks.size(1), c = chunks.size(2), K = s.weight.size(0);
  at::Tensor u = normalize(chunks);                            // (N0, m, c), with gradient
  at::Tensor flat = u.detach().reshape({n0 * m, c});           // (N, c)
  at::Tensor sim = at::matmul(flat, normalize(s.weight).t());  // (N, K), materialised
  at::Tensor idx = sim.argmax(1);                              // (N)
  at::Tensor q = at::embedding(s.weight, idx).view({n0, m, c});  // rows before the update
  if (training) {
    torch::NoGradGuard ng;
    at::Tensor onehot = F::one_hot(idx, K).to(at::kFloat);  // (N, K), materialised
    at::Tensor counts = onehot.sum(0);                       // (K)
    at::Tensor sums = at::matmul(onehot.t(), flat);          // (K, c), float32 as the reference
    s.cluster_size.mul_(opt.decay).add_(counts, 1 - opt.decay);
    s.embed_avg.mul_(opt.decay).add_(sums, 1 - opt.decay);
    at::Tensor n = s.cluster_size.sum();
    at::Tensor smoothed = (s.cluster_size + opt.eps) / (n + K * opt.eps) * n;
    s.weight = s.embed_avg / smoothed.unsqueeze(1);
    s.embed_prob.mul_(opt.decay).add_(counts / counts.sum(), 1 - opt.decay);
  }
  HalfOutput out;
  out.commit = opt.beta * F::mse_loss(u, q.detach());
  out.q = u + (q - u).detach();
  out.indices = idx.view({n0, m});
  return out;
}

StepOutput quantiser_step(CodebookState& shared, CodebookState& specific, const at::Tensor& x, int64_t shared_width,
                          bool training, const Settings& opt) {
  const int64_t n0 = x.size(0), ds = x.size(1) - shared_width;
  const int64_t cc = shared.weight.size(1), cs = specific.weight.size(1);
  auto halves = x.split_with_sizes({shared_width, ds}, 1);
  HalfOutput a = codebook_step(shared, halves[0].reshape({n0, shared_width / cc, cc}), training, opt);
  HalfOutput b = codebook_step(specific, halves[1].reshape({n0, ds / cs, cs}), training, opt);
  StepOutput out;
  out.z = normalize(at::cat({a.q.reshape({n0, shared_width}), b.q.reshape({n0, ds})}, 1));
  out.commit = a.commit + b.commit;
  out.shared_indices = a.indices;
  out.specific_indices = b.indices;
  return out;
}

}  // namespace cb::eager
