// codebind_quantiser.cpp — see codebind_quantiser.h.
#include "codebind/codebind_quantiser.h"

namespace cb {
namespace {
namespace F = torch::nn::functional;
at::Tensor unit(const at::Tensor& x) { return F::normalize(x, F::NormalizeFuncOptions().dim(-1)); }

QuantiserConfig to_quantiser_config(const TrainConfig& cfg, uint64_t seed) {
  const auto& s = cfg.quantiser;
  QuantiserConfig q;
  q.shared_codes = s.shared_codebook_size;
  q.specific_codes = s.specific_codebook_size;
  q.shared_width = cfg.shared_dim;
  q.specific_width = cfg.specific_dim;
  q.shared_chunk_dim = s.standard_vq ? cfg.shared_dim : s.codevector_dim;
  q.specific_chunk_dim = s.standard_vq ? std::max(1, cfg.specific_dim) : s.codevector_dim;
  for (Modality m : cfg.modality_pair)
    if (m != Modality::Text) q.specific_modalities.push_back(m);
  q.separate_codebooks = s.separate_codebooks;
  q.per_rank_codebooks = s.per_rank_codebooks;
  q.reseed = s.reseed;
  q.kmeans_iters = s.kmeans_iters;
  q.decay = s.decay;
  q.eps = s.eps;
  q.beta = s.beta;
  q.seed = seed;
  return q;
}
}  // namespace

CodeBindQuantiser::CodeBindQuantiser(const TrainConfig& cfg, uint64_t seed)
    : cfg_(cfg), mvq_(std::make_unique<MultimodalQuantiser>(to_quantiser_config(cfg, seed))) {}

MvqOutput CodeBindQuantiser::forward(const at::Tensor& x, Modality m, bool training, int64_t tokens) {
  MvqOutput o;
  const int64_t dc = cfg_.shared_dim;
  const bool text = m == Modality::Text;
  if (!cfg_.quantiser.use_vq) {  // "decoupling + reconstruction" ablation: no codebook
    o.z_c = unit(x.narrow(-1, 0, dc));
    if (!text && x.size(-1) > dc) {
      o.z_s = unit(x.narrow(-1, dc, x.size(-1) - dc));
      o.z = unit(x);
    } else {
      o.z = o.z_c;
    }
    o.commit = torch::zeros({}, x.options());
    return o;
  }
  QuantiserOutput q = mvq_->forward(x, m, training, tokens);
  o.z_c = q.z_c;
  o.z_s = q.z_s;
  o.z = q.z;
  o.commit = q.commit;
  o.shared_indices = q.shared_indices;
  o.specific_indices = q.specific_indices;
  o.shared_unit = q.shared_unit;
  return o;
}

std::vector<std::pair<std::string, Codebook*>> CodeBindQuantiser::books() const {
  std::vector<std::pair<std::string, Codebook*>> out;
  auto& q = *mvq_;
  out.emplace_back("shared", &q.shared_codebook());
  for (Modality m : q.config().specific_modalities) {
    if (q.config().separate_codebooks)
      out.emplace_back(std::string("shared_") + modality_name(m), &q.shared_codebook(m));
    else if (q.has_specific(m))
      out.emplace_back(std::string("specific_") + modality_name(m), &q.specific_codebook(m));
  }
  return out;
}

NamedTensors CodeBindQuantiser::named_state() const {
  NamedTensors out;
  for (auto& [n, cb] : books()) {
    out.emplace_back(n + ".weight", cb->weight);
    out.emplace_back(n + ".cluster_size", cb->cluster_size);
    out.emplace_back(n + ".embed_avg", cb->embed_avg);
    out.emplace_back(n + ".embed_prob", cb->embed_prob);
    auto& ini = initted_[n];
    ini = torch::full({1}, cb->initted ? 1.0f : 0.0f);
    out.emplace_back(n + ".initted", ini);
    auto& rng = rng_[n];
    rng = cb->generator().get_state();
    out.emplace_back(n + ".rng", rng);
  }
  return out;
}

void CodeBindQuantiser::after_load() {
  for (auto& [n, cb] : books()) {
    if (auto it = initted_.find(n); it != initted_.end()) cb->initted = it->second.item<float>() != 0;
    if (auto it = rng_.find(n); it != rng_.end()) cb->generator().set_state(it->second);
  }
}

}  // namespace cb
