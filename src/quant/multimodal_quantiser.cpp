// multimodal_quantiser.cpp — see multimodal_quantiser.h.
#include "quant/multimodal_quantiser.h"

#include <torch/torch.h>

#include <set>

#include "core/error.h"
#include "core/json_read.h"
#include "quant/normalize.h"

namespace cb {
namespace {

CodebookConfig make_cb(const QuantiserConfig& q, int64_t K, int64_t c, uint64_t salt) {
  CodebookConfig cc;
  cc.num_codes = K;
  cc.code_dim = c;
  cc.decay = q.decay;
  cc.eps = q.eps;
  cc.beta = q.beta;
  cc.reseed = q.reseed;
  cc.kmeans_iters = q.kmeans_iters;
  cc.seed = q.seed * 1000003ull + salt;
  return cc;
}

}  // namespace

nlohmann::json QuantiserConfig::to_json() const {
  std::vector<std::string> mods;
  for (Modality m : specific_modalities) mods.push_back(modality_name(m));
  return {{"shared_codes", shared_codes},       {"specific_codes", specific_codes},
          {"shared_chunk_dim", shared_chunk_dim}, {"specific_chunk_dim", specific_chunk_dim},
          {"shared_width", shared_width},       {"specific_width", specific_width},
          {"specific_modalities", mods},        {"separate_codebooks", separate_codebooks},
          {"per_rank_codebooks", per_rank_codebooks}, {"reseed", reseed}, {"kmeans_iters", kmeans_iters},
          {"decay", decay},                     {"eps", eps},
          {"beta", beta},                       {"seed", seed}};
}

QuantiserConfig QuantiserConfig::from_json(const nlohmann::json& j, const std::string& where) {
  CB_CHECK_INPUT(j.is_object(), "{}: quantiser config must be a JSON object", where);
  QuantiserConfig q;
  static const std::set<std::string> known = {
      "shared_codes", "specific_codes", "shared_chunk_dim", "specific_chunk_dim", "shared_width",
      "specific_width", "specific_modalities", "separate_codebooks", "per_rank_codebooks", "reseed", "kmeans_iters",
      "decay", "eps", "beta", "seed"};
  for (auto it = j.begin(); it != j.end(); ++it)
    CB_CHECK_INPUT(known.count(it.key()), "{}: unknown quantiser key '{}'", where, it.key());
  try {
    q.shared_codes = j.value("shared_codes", q.shared_codes);
    q.specific_codes = j.value("specific_codes", q.specific_codes);
    q.shared_chunk_dim = j.value("shared_chunk_dim", q.shared_chunk_dim);
    q.specific_chunk_dim = j.value("specific_chunk_dim", q.specific_chunk_dim);
    q.shared_width = j.value("shared_width", q.shared_width);
    q.specific_width = j.value("specific_width", q.specific_width);
    q.separate_codebooks = j.value("separate_codebooks", q.separate_codebooks);
    q.per_rank_codebooks = j.value("per_rank_codebooks", q.per_rank_codebooks);
    q.reseed = j.value("reseed", q.reseed);
    if (j.contains("kmeans_iters")) q.kmeans_iters = int(json_integer(j.at("kmeans_iters"), where, "kmeans_iters", 0, 10000));
    q.decay = j.value("decay", q.decay);
    q.eps = j.value("eps", q.eps);
    q.beta = j.value("beta", q.beta);
    q.seed = j.value("seed", q.seed);
    if (j.contains("specific_modalities"))
      for (const auto& s : j.at("specific_modalities"))
        q.specific_modalities.push_back(parse_modality(s.get<std::string>(), where + ": specific_modalities"));
  } catch (const nlohmann::json::exception& e) {
    fail_input("{}: quantiser config: {}", where, e.what());
  }
  q.validate(where);
  return q;
}

void QuantiserConfig::validate(const std::string& where) const {
  CB_CHECK_INPUT(shared_codes > 0 && specific_codes > 0, "{}: codebook sizes must be positive", where);
  CB_CHECK_INPUT(shared_chunk_dim > 0 && shared_width > 0 && shared_width % shared_chunk_dim == 0,
                 "{}: shared_width {} is not a multiple of shared_chunk_dim {}", where, shared_width, shared_chunk_dim);
  CB_CHECK_INPUT(specific_width >= 0 && (specific_width == 0 || (specific_chunk_dim > 0 &&
                                                                  specific_width % specific_chunk_dim == 0)),
                 "{}: specific_width {} is not a multiple of specific_chunk_dim {}", where, specific_width,
                 specific_chunk_dim);
  CB_CHECK_INPUT(!separate_codebooks || specific_width == 0 || specific_chunk_dim == shared_chunk_dim,
                 "{}: separate_codebooks needs equal shared and specific chunk dims", where);
  CB_CHECK_INPUT(decay > 0 && decay < 1, "{}: decay {} outside (0, 1)", where, decay);
  for (Modality m : specific_modalities)
    CB_CHECK_INPUT(m != Modality::Text, "{}: text has no specific codebook", where);
}

MultimodalQuantiser::MultimodalQuantiser(QuantiserConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate("quantiser");
  shared_ = std::make_unique<Codebook>(make_cb(cfg_, cfg_.shared_codes, cfg_.shared_chunk_dim, 0));
  uint64_t salt = 1;
  for (Modality m : cfg_.specific_modalities) {
    if (cfg_.separate_codebooks) {
      separate_shared_[m] = std::make_unique<Codebook>(make_cb(cfg_, cfg_.shared_codes, cfg_.shared_chunk_dim, 100 + salt));
    } else if (cfg_.specific_width > 0) {
      specific_[m] = std::make_unique<Codebook>(make_cb(cfg_, cfg_.specific_codes, cfg_.specific_chunk_dim, salt));
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
  const int64_t mc = cfg_.shared_chunks(), cc = cfg_.shared_chunk_dim;
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
    const int64_t ms = cfg_.specific_chunks(), cs = cfg_.specific_chunk_dim;
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
  at::Tensor shared = shared_codebook(m).encode(flat.narrow(1, 0, dc).reshape({n0, cfg_.shared_chunks(), cfg_.shared_chunk_dim})).view(s);
  at::Tensor specific;
  if (with_specific) {
    auto s2 = lead;
    s2.push_back(cfg_.specific_chunks());
    specific = specific_codebook(m)
                   .encode(flat.narrow(1, dc, ds).reshape({n0, cfg_.specific_chunks(), cfg_.specific_chunk_dim}))
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

void MultimodalQuantiser::save(NamedTensors& out, const std::string& prefix) const {
  shared_->save(out, prefix + "common.");
  for (const auto& [m, cb] : separate_shared_) cb->save(out, prefix + "common." + modality_name(m) + ".");
  for (const auto& [m, cb] : specific_) cb->save(out, prefix + "specific." + modality_name(m) + ".");
}

void MultimodalQuantiser::load(const SafetensorsFile& f, const std::string& prefix) {
  shared_->load(f, prefix + "common.");
  for (auto& [m, cb] : separate_shared_) cb->load(f, prefix + "common." + modality_name(m) + ".");
  for (auto& [m, cb] : specific_) cb->load(f, prefix + "specific." + modality_name(m) + ".");
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
  uint64_t h = 1469598103934665603ull;
  for (int64_t i = 0; i < w.numel() * int64_t(w.element_size()); ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace cb
