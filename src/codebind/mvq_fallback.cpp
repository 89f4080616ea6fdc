// mvq_fallback.cpp — see mvq_fallback.h (spec §7.3–§7.6).
#include "codebind/mvq_fallback.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"

namespace cb {

namespace F = torch::nn::functional;

static at::Tensor unit(const at::Tensor& x) { return F::normalize(x, F::NormalizeFuncOptions().dim(-1)); }

EmaCodebook::EmaCodebook(int64_t K_, int64_t c_, torch::Generator& g) : K(K_), c(c_) {
  weight = unit(torch::randn({K, c}, g, torch::kFloat));
  cluster_size = torch::zeros({K});
  embed_avg = weight.clone();
  embed_prob = torch::zeros({K});
  initted = torch::zeros({1});
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> EmaCodebook::forward(const at::Tensor& u, const at::Tensor& cls_rows,
                                                                    bool training, double decay, double eps, double beta,
                                                                    int kmeans_iters, torch::Generator& g) {
  const int64_t N0 = u.size(0), m = u.size(1);
  auto uf = u.reshape({N0 * m, c});  // (N, c) unit chunks
  const int64_t N = uf.size(0);
  {
    torch::NoGradGuard ng;
    if (initted.item<float>() == 0) {  // k-means on the CLS chunks (§7.5)
      auto s = u.detach().index_select(0, cls_rows).reshape({-1, c});
      const int64_t S = s.size(0);
      auto pick = S >= K ? torch::randperm(S, g, torch::kLong).slice(0, 0, K) : torch::randint(S, {K}, g, torch::kLong);
      auto means = s.index_select(0, pick).clone();
      at::Tensor counts;
      for (int it = 0; it < kmeans_iters; ++it) {
        auto assign = s.matmul(means.t()).argmax(1);
        counts = torch::bincount(assign, {}, K).to(torch::kFloat);
        auto sums = torch::zeros({K, c}).index_add_(0, assign, s);
        auto fresh = unit(sums / counts.clamp_min(1).unsqueeze(1));
        means = torch::where(counts.unsqueeze(1) > 0, fresh, means);
      }
      weight.copy_(means);
      cluster_size.copy_(counts);
      embed_avg.copy_(means * counts.unsqueeze(1));
      initted.fill_(1);
    }
  }
  at::Tensor idx, q;
  {
    torch::NoGradGuard ng;
    auto sim = uf.detach().matmul(unit(weight).t());  // (N, K)
    idx = sim.argmax(1);
    q = weight.index_select(0, idx).clone();  // raw row, gathered before the update
    if (training) {                            // EMA (§7.4) and re-seeding (§7.6)
      auto counts = torch::bincount(idx, {}, K).to(torch::kFloat);
      auto sums = torch::zeros({K, c}).index_add_(0, idx, uf.detach());
      cluster_size.mul_(decay).add_(counts, 1 - decay);
      embed_avg.mul_(decay).add_(sums, 1 - decay);
      auto n = cluster_size.sum();
      auto chat = (cluster_size + eps) / (n + K * eps) * n;
      weight.copy_(embed_avg / chat.unsqueeze(1));
      embed_prob.mul_(decay).add_(counts / counts.sum(), 1 - decay);
      auto alpha = torch::exp(-(embed_prob * K * 10) / (1 - decay) - 1e-3).unsqueeze(1);
      at::Tensor r;
      if (N > K) {
        r = uf.detach().index_select(0, torch::randint(N, {K}, g, torch::kLong));
      } else {
        auto noise = torch::rand({K - N, c}, g, torch::kFloat) * (2.0 / K) - 1.0 / K;
        r = torch::cat({uf.detach(), noise});
      }
      weight.copy_((1 - alpha) * weight + alpha * r);
    }
  }
  auto commit = beta * (q - uf).pow(2).mean();  // sg(q) is q (no grad)
  auto qs = uf + (q - uf).detach();             // straight-through estimator
  return {qs.view({N0, m, c}), idx.view({N0, m}), commit};
}

FallbackQuantiser::FallbackQuantiser(const TrainConfig& cfg, uint64_t seed) : cfg_(cfg) {
  gen_ = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto& q = cfg_.quantiser;
  cs_ = q.standard_vq ? cfg_.shared_dim : q.codevector_dim;
  ss_ = q.standard_vq ? std::max(1, cfg_.specific_dim) : q.codevector_dim;
  books_.emplace("shared", EmaCodebook(q.shared_codebook_size, cs_, gen_));
  for (Modality m : cfg_.non_text()) {
    if (cfg_.specific_dim > 0)
      books_.emplace(std::string("specific_") + modality_name(m), EmaCodebook(q.specific_codebook_size, ss_, gen_));
    if (q.separate_codebooks)
      books_.emplace(std::string("shared_") + modality_name(m), EmaCodebook(q.shared_codebook_size, cs_, gen_));
  }
  gen_state_ = gen_.get_state();
}

MvqOutput FallbackQuantiser::forward(const at::Tensor& x, Modality m, bool training, int64_t tokens) {
  const bool text = x.dim() == 2;
  const int64_t B = x.size(0), L = text ? 1 : x.size(1), dc = cfg_.shared_dim;
  auto xs = text ? x.view({B, 1, x.size(1)}) : x;
  auto xc = xs.slice(-1, 0, dc);
  const bool has_spec = !text && xs.size(-1) > dc;
  auto xsp = has_spec ? xs.slice(-1, dc) : at::Tensor();
  MvqOutput o;
  const auto& q = cfg_.quantiser;
  auto squeeze = [&](const at::Tensor& t) { return text ? t.select(1, 0) : t; };
  if (!q.use_vq) {
    o.z_c = squeeze(unit(xc));
    if (has_spec) o.z_s = unit(xsp), o.z = unit(xs);
    else o.z = o.z_c;
    o.commit = torch::zeros({});
    return o;
  }
  auto cls_rows = torch::arange(0, B * L, L, torch::kLong);
  auto uc = unit(xc.reshape({B * L, dc / cs_, cs_}));
  auto& bc = (q.separate_codebooks && !text) ? books_.at(std::string("shared_") + modality_name(m)) : books_.at("shared");
  auto [qc, ic, lc] = bc.forward(uc, cls_rows, training, q.decay, q.eps, q.beta, q.kmeans_iters, gen_);
  auto qcf = qc.reshape({B, L, dc});
  o.z_c = squeeze(unit(qcf));
  o.shared_indices = squeeze(ic.view({B, L, -1}));
  o.commit = lc;
  if (has_spec) {
    const int64_t ds = xsp.size(-1);
    auto us = unit(xsp.reshape({B * L, ds / ss_, ss_}));
    auto& bs = books_.at(std::string("specific_") + modality_name(m));
    auto [qs, is, ls] = bs.forward(us, cls_rows, training, q.decay, q.eps, q.beta, q.kmeans_iters, gen_);
    auto qsf = qs.reshape({B, L, ds});
    o.z_s = unit(qsf);
    o.specific_indices = is.view({B, L, -1});
    o.z = unit(torch::cat({qcf, qsf}, -1));
    o.commit = o.commit + ls;
  } else {
    o.z = o.z_c;
  }
  (void)tokens;
  return o;
}

NamedTensors FallbackQuantiser::named_state() const {
  NamedTensors out;
  for (const auto& [n, b] : books_) {
    out.emplace_back(n + ".weight", b.weight);
    out.emplace_back(n + ".cluster_size", b.cluster_size);
    out.emplace_back(n + ".embed_avg", b.embed_avg);
    out.emplace_back(n + ".embed_prob", b.embed_prob);
    out.emplace_back(n + ".initted", b.initted);
  }
  const_cast<at::Tensor&>(gen_state_).copy_(const_cast<torch::Generator&>(gen_).get_state());
  out.emplace_back("rng", gen_state_);
  return out;
}

void FallbackQuantiser::after_load() { gen_.set_state(gen_state_); }

}  // namespace cb
