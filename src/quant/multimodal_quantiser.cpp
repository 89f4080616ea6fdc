// multimodal_quantiser.cpp — see multimodal_quantiser.h.
#include "quant/multimodal_quantiser.h"

#include "core/hash.h"

#include <torch/torch.h>

#include <set>

#include "core/error.h"
#include "core/json_read.h"
#include "quant/normalize.h"

namespace cb {
CodebookConfig QuantiserConfig::codebook(int64_t num_codes, int64_t code_dim, uint64_t salt) const {
  CodebookConfig cc;
  cc.num_codes = num_codes;
  cc.code_dim = code_dim;
  cc.decay = decay;
  cc.eps = eps;
  cc.beta = beta;
  cc.reseed = reseed;
  cc.kmeans_iters = kmeans_iters;
  cc.seed = seed * 1000003ull + salt;
  return cc;
}

nlohmann::json QuantiserConfig::to_json() const {
  return {{"shared_codebook_size", shared_codebook_size},
          {"specific_codebook_size", specific_codebook_size},
          {"codevector_dim", codevector_dim},
          {"use_vq", use_vq},
          {"standard_vq", standard_vq},
          {"separate_codebooks", separate_codebooks},
          {"per_rank_codebooks", per_rank_codebooks},
          {"decay", decay},
          {"eps", eps},
          {"beta", beta},
          {"kmeans_iters", kmeans_iters},
          {"reseed", reseed}};
}

QuantiserConfig QuantiserConfig::from_json(const nlohmann::json& j, const std::string& where) {
  QuantiserConfig q;
  JsonReader r(j, where, "quantiser.");
  r.integer("shared_codebook_size", q.shared_codebook_size, 2, 1 << 20);
  r.integer("specific_codebook_size", q.specific_codebook_size, 2, 1 << 20);
  r.integer("codevector_dim", q.codevector_dim, 1, 65536);
  r.get("use_vq", q.use_vq);
  r.get("standard_vq", q.standard_vq);
  r.get("separate_codebooks", q.separate_codebooks);
  r.get("per_rank_codebooks", q.per_rank_codebooks);
  r.get("decay", q.decay);
  r.get("eps", q.eps);
  r.get("beta", q.beta);
  r.integer("kmeans_iters", q.kmeans_iters, 0, 10000);
  r.get("reseed", q.reseed);
  r.reject_unknown();
  CB_CHECK_INPUT(q.decay > 0 && q.decay < 1, "{}: key 'quantiser.decay': expected 0 < decay < 1, found {}", where,
                 q.decay);
  CB_CHECK_INPUT(q.eps > 0 && q.beta >= 0, "{}: key 'quantiser.eps' must be > 0 and 'quantiser.beta' >= 0", where);
  return q;
}

void QuantiserConfig::validate(const std::string& where) const {
  CB_CHECK_INPUT(shared_codebook_size >= 2 && specific_codebook_size >= 2,
                 "{}: key 'quantiser.shared_codebook_size'/'specific_codebook_size': expected >= 2", where);
  CB_CHECK_INPUT(codevector_dim >= 1, "{}: key 'quantiser.codevector_dim': expected >= 1, found {}", where,
                 codevector_dim);
  CB_CHECK_INPUT(shared_width >= 1 && shared_width % shared_chunk_dim() == 0,
                 "{}: key 'shared_dim': {} is not a positive multiple of quantiser.codevector_dim {}", where,
                 shared_width, shared_chunk_dim());
  CB_CHECK_INPUT(specific_width >= 0 && specific_width % specific_chunk_dim() == 0,
                 "{}: key 'specific_dim': {} is not a multiple of quantiser.codevector_dim {}", where,
                 specific_width, specific_chunk_dim());
  CB_CHECK_INPUT(!separate_codebooks || specific_width == 0 || specific_chunk_dim() == shared_chunk_dim(),
                 "{}: separate_codebooks needs equal shared and specific chunk dims", where);
  CB_CHECK_INPUT(decay > 0 && decay < 1, "{}: key 'quantiser.decay': expected 0 < decay < 1, found {}", where, decay);
  for (Modality m : specific_modalities)
    CB_CHECK_INPUT(m != Modality::Text, "{}: text has no specific codebook", where);
}

MultimodalQuantiser::MultimodalQuantiser(QuantiserConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate("quantiser");
  shared_ = std::make_unique<Codebook>(cfg_.codebook(cfg_.shared_codebook_size, cfg_.shared_chunk_dim(), 0));
  uint64_t salt = 1;
  for (Modality m : cfg_.specific_modalities) {
    if (cfg_.separate_codebooks) {
      separate_shared_[m] = std::make_unique<Codebook>(cfg_.codebook(cfg_.shared_codebook_size, cfg_.shared_chunk_dim(), 100 + salt));
    } else if (cfg_.specific_width > 0) {
      specific_[m] = std::make_unique<Codebook>(cfg_.codebook(cfg_.specific_codebook_size, cfg_.specific_chunk_dim(), salt));
    }
    ++salt;
  }
}

Codebook& MultimodalQuantiser::shared_codebook(Modality m) {
  auto it = separate_shared_.find(m);
  return it != separate_shared_.end() ? *it->second : *shared_;
}
const Codebook& MultimodalQuantiser::shared_codebook(Modality m) const {
  auto it = separate_shared_.find(m);
  return it != separate_shared_.end() ? *it->second : *shared_;
}

Codebook& MultimodalQuantiser::specific_codebook(Modality m) {
  if (cfg_.separate_codebooks && separate_shared_.count(m)) return *separate_shared_.at(m);
  auto it = specific_.find(m);
  if (it == specific_.end()) fail_input("quantiser: modality '{}' has no specific codebook", modality_name(m));
  return *it->second;
}
const Codebook& MultimodalQuantiser::specific_codebook(Modality m) const {
  return const_cast<MultimodalQuantiser*>(this)->specific_codebook(m);
}

QuantiserOutput MultimodalQuantiser::forward(const at::Tensor& x, Modality m, bool training,
                                             int64_t tokens_per_sample) {
  const bool text = m == Modality::Text;
  const bool with_specific = !text && cfg_.specific_width > 0;
  const int64_t dc = cfg_.shared_width, ds = with_specific ? cfg_.specific_width : 0;
  CB_CHECK_INPUT(x.size(-1) == dc + ds, "quantiser: {} input has width {}, expected {}", modality_name(m),
                 x.size(-1), dc + ds);
  if (!cfg_.use_vq) {  // "decoupling + reconstruction" ablation: normalised halves, no codes
    QuantiserOutput o;
    o.z_c = l2_normalize(x.narrow(-1, 0, dc));
    if (with_specific) {
      o.z_s = l2_normalize(x.narrow(-1, dc, ds));
      o.z = l2_normalize(x);
    } else {
      o.z = o.z_c;
    }
    o.commit = at::zeros({}, x.options());
    return o;
  }
  CB_CHECK_INPUT(text || !with_specific || has_specific(m) || cfg_.separate_codebooks,
                 "quantiser: modality '{}' has no specific codebook (configure specific_modalities)",
                 modality_name(m));
  auto lead = x.sizes().vec();
  lead.pop_back();
  const int64_t n0 = x.numel() / (dc + ds);
  at::Tensor flat = x.reshape({n0, dc + ds});
  // The two halves as views; split (not two narrows) so the backward is one concatenation
  // rather than two zero-filled full-width gradients summed.
  std::vector<at::Tensor> halves = with_specific ? flat.split_with_sizes({dc, ds}, 1) : std::vector<at::Tensor>{flat};

  QuantiserOutput out;
  const int64_t mc = cfg_.shared_chunks(), cc = cfg_.shared_chunk_dim();
  CodebookOutput sh = shared_codebook(m).forward(halves[0].reshape({n0, mc, cc}), training,
                                                 tokens_per_sample);
  at::Tensor qc = sh.q.reshape({n0, dc});
  auto with = [&](int64_t w) {
    auto s = lead;
    s.push_back(w);
    return s;
  };
  auto with2 = [&](int64_t a, int64_t b) {
    auto s = lead;
    s.push_back(a);
    s.push_back(b);
    return s;
  };
  out.z_c = l2_normalize(qc).view(with(dc));
  out.commit = sh.commit;
  out.shared_indices = sh.indices.view(with(mc));
  out.shared_unit = sh.unit.view(with2(mc, cc));
  if (with_specific) {
    const int64_t ms = cfg_.specific_chunks(), cs = cfg_.specific_chunk_dim();
    CodebookOutput sp = specific_codebook(m).forward(halves[1].reshape({n0, ms, cs}), training,
                                                     tokens_per_sample);
    at::Tensor qs = sp.q.reshape({n0, ds});
    out.z_s = l2_normalize(qs).view(with(ds));
    out.z = l2_normalize(at::cat({qc, qs}, 1)).view(with(dc + ds));
    out.commit = out.commit + sp.commit;
    out.specific_indices = sp.indices.view(with(ms));
  } else {
    out.z = out.z_c;
  }
  return out;
}

std::pair<at::Tensor, at::Tensor> MultimodalQuantiser::encode(const at::Tensor& x, Modality m) const {
  const bool text = m == Modality::Text;
  const bool with_specific = !text && cfg_.specific_width > 0;
  const int64_t dc = cfg_.shared_width, ds = with_specific ? cfg_.specific_width : 0;
  CB_CHECK_INPUT(x.size(-1) == dc + ds, "quantiser encode: {} input has width {}, expected {}", modality_name(m),
                 x.size(-1), dc + ds);
  auto lead = x.sizes().vec();
  lead.pop_back();
  const int64_t n0 = x.numel() / (dc + ds);
  at::Tensor flat = x.reshape({n0, dc + ds});
  auto s = lead;
  s.push_back(cfg_.shared_chunks());
  at::Tensor shared = shared_codebook(m).encode(flat.narrow(1, 0, dc).reshape({n0, cfg_.shared_chunks(), cfg_.shared_chunk_dim()})).view(s);
  at::Tensor specific;
  if (with_specific) {
    auto s2 = lead;
    s2.push_back(cfg_.specific_chunks());
    specific = specific_codebook(m)
                   .encode(flat.narrow(1, dc, ds).reshape({n0, cfg_.specific_chunks(), cfg_.specific_chunk_dim()}))
                   .view(s2);
  }
  return {shared, specific};
}

at::Tensor MultimodalQuantiser::decode_shared(const at::Tensor& idx, Modality m) const {
  at::Tensor rows = shared_codebook(m).decode(idx);  // (…, m_c, c)
  auto s = idx.sizes().vec();
  s.back() = cfg_.shared_width;
  return l2_normalize(rows.reshape(s));
}

at::Tensor MultimodalQuantiser::decode_specific(const at::Tensor& idx, Modality m) const {
  at::Tensor rows = specific_codebook(m).decode(idx);
  auto s = idx.sizes().vec();
  s.back() = cfg_.specific_width;
  return l2_normalize(rows.reshape(s));
}

std::vector<std::pair<std::string, Codebook*>> MultimodalQuantiser::books() const {
  std::vector<std::pair<std::string, Codebook*>> out;
  out.emplace_back("shared", shared_.get());
  for (Modality m : cfg_.specific_modalities) {
    if (auto it = separate_shared_.find(m); it != separate_shared_.end())
      out.emplace_back(std::string("shared_") + modality_name(m), it->second.get());
    else if (auto sp = specific_.find(m); sp != specific_.end())
      out.emplace_back(std::string("specific_") + modality_name(m), sp->second.get());
  }
  return out;
}

NamedTensors MultimodalQuantiser::named_state() const {
  NamedTensors out;
  for (auto& [n, cb] : books()) {
    out.emplace_back(n + ".weight", cb->weight);
    out.emplace_back(n + ".cluster_size", cb->cluster_size);
    out.emplace_back(n + ".embed_avg", cb->embed_avg);
    out.emplace_back(n + ".embed_prob", cb->embed_prob);
    auto& ini = initted_[n];
    ini = at::full({1}, cb->initted ? 1.0f : 0.0f);
    out.emplace_back(n + ".initted", ini);
    auto& rng = rng_[n];
    rng = cb->generator().get_state();
    out.emplace_back(n + ".rng", rng);
  }
  return out;
}

void MultimodalQuantiser::after_load() {
  for (auto& [n, cb] : books()) {
    if (auto it = initted_.find(n); it != initted_.end()) cb->initted = it->second.item<float>() != 0;
    if (auto it = rng_.find(n); it != rng_.end()) cb->generator().set_state(it->second);
  }
}

void MultimodalQuantiser::save(NamedTensors& out, const std::string& prefix) const {
  for (auto& [n, t] : named_state()) out.emplace_back(prefix + n, t.detach());
}

void MultimodalQuantiser::load(const SafetensorsFile& f, const std::string& prefix) {
  at::NoGradGuard ng;
  for (auto& [n, t] : named_state()) const_cast<at::Tensor&>(t).copy_(f.get(prefix + n, t.sizes()));
  after_load();
}

void MultimodalQuantiser::to(const at::Device& device) {
  shared_->to(device);
  for (auto& [m, cb] : separate_shared_) cb->to(device);
  for (auto& [m, cb] : specific_) cb->to(device);
}

void MultimodalQuantiser::set_communicator(std::shared_ptr<Communicator> comm) {
  if (cfg_.per_rank_codebooks) comm = nullptr;  // the reference behaviour: codebooks diverge per rank
  shared_->set_communicator(comm);
  for (auto& [m, cb] : separate_shared_) cb->set_communicator(comm);
  for (auto& [m, cb] : specific_) cb->set_communicator(comm);
}

uint64_t MultimodalQuantiser::shared_fingerprint() const {
  at::Tensor w = shared_->weight.detach().to(at::kCPU).contiguous();
  const auto* p = static_cast<const uint8_t*>(w.data_ptr());
  return fnv1a64(p, size_t(w.numel()) * w.element_size());
}

}  // namespace cb
