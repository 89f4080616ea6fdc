// codebind_model.cpp — see codebind_model.h.
#include "model/codebind_model.h"

#include "core/error.h"
#include "core/json_read.h"
#include "io/finite_check.h"

#include <set>

namespace cb {

namespace F = torch::nn::functional;

DecoderGeometry decoder_geometry(const TokenGrid& tg) {
  DecoderGeometry g;
  g.out_channels = tg.channels;
  if (tg.grid.size() == 3) {  // (t, h, w): frames kept, space halved
    g.grid = tg.grid;
    g.kernel = {tg.stride[0], std::max<int64_t>(1, tg.stride[1] / 2), std::max<int64_t>(1, tg.stride[2] / 2)};
  } else if (tg.grid.size() == 2) {
    g.grid = tg.grid;
    g.kernel = {std::max<int64_t>(1, tg.stride[0] / 2), std::max<int64_t>(1, tg.stride[1] / 2)};
  } else {  // 1-D token grids (imu, eeg): a 1 × P grid
    g.grid = {1, tg.grid.at(0)};
    g.kernel = {1, std::max<int64_t>(1, tg.stride.at(0) / 2)};
  }
  g.stride = g.kernel;
  return g;
}

CodeBindModel::CodeBindModel(const ModelConfig& cfg, std::unique_ptr<Bridge> bridge, uint64_t seed)
    : cfg_(cfg), seed_(seed), bridge_(std::move(bridge)) {
  for (Modality m : cfg_.modality_pair)
    CB_CHECK_INPUT(bridge_->has(m), "bridge has no '{}' tower (config key 'modality_pair')", modality_name(m));
  CB_CHECK_INPUT(cfg_.shared_dim == bridge_->out_dim(),
                 "config key 'shared_dim' = {} but the bridge's heads output {} dims", cfg_.shared_dim,
                 bridge_->out_dim());
}

CodeBindModel::CodeBindModel(const ModelConfig& cfg, const WeightFile& bridge, uint64_t seed)
    : CodeBindModel(cfg, open_bridge(bridge, cfg.modality_pair), seed) {
  build_new_modules();
}

void CodeBindModel::build_new_modules() {
  torch::manual_seed(seed_);
  const int64_t d = cfg_.shared_dim + cfg_.specific_dim;
  for (Modality m : cfg_.non_text()) {
    if (cfg_.specific_dim > 0) specific_.emplace(m, SpecificHead(bridge_->width(m), cfg_.specific_dim));
    if (cfg_.reconstructs(m)) {
      DecoderConfig dc;
      dc.in_dim = d;
      dc.trunk_dim = bridge_->width(m);
      dc.width = cfg_.decoder_width;
      dc.depth = cfg_.decoder_depth;
      dc.heads = cfg_.decoder_heads;
      dc.geometry = decoder_geometry(bridge_->token_grid(m));
      decoders_.emplace(m, ReconDecoder(dc));
    }
  }
  if (cfg_.train_mode == TrainMode::Lora)
    for (Modality m : cfg_.targets()) {
      if (m == Modality::Text) continue;
      const int64_t depth = bridge_->num_blocks(m);
      std::vector<int64_t> blocks;
      for (int b : cfg_.lora_blocks)
        if (b < depth) blocks.push_back(b);
      CB_CHECK_INPUT(!blocks.empty(), "config key 'lora_blocks': no block of the {}-block '{}' trunk selected",
                     depth, modality_name(m));
      const Bridge& br = *bridge_;
      lora_.emplace(m, LoraAdapters::create(
                           m, cfg_.lora_rank, blocks, LoraMode::All,
                           [&br, m](const std::vector<int64_t>& b, LoraMode mode) { return br.lora_targets(m, b, mode); },
                           seed_ + 17));
    }
  quant_ = std::make_unique<MultimodalQuantiser>(cfg_.quantiser_config(seed_ + 29));
}

Encoded CodeBindModel::encode(Modality m, const at::Tensor& input, bool cls_only) {
  if (m == Modality::Text) return encode_pooled_text(bridge_->head_embedding(m, input));
  auto tok = bridge_->tokens(m, input);  // (N, L, D)
  auto lit = lora_.find(m);
  auto z = bridge_->trunk(m, tok, lit == lora_.end() ? nullptr : &lit->second);  // (N, L, D)
  const FlatInput fi = bridge_->flatten_clips(m, input);
  return encode_trunk_output(m, z, fi.batch, fi.clips, cls_only);
}

Encoded CodeBindModel::encode_pooled_text(const at::Tensor& pooled) {
  Encoded out;
  out.e = F::normalize(pooled, F::NormalizeFuncOptions().dim(-1));  // (B, d_c)
  out.batch = out.e.size(0);
  return out;
}

Encoded CodeBindModel::encode_trunk_output(Modality m, const at::Tensor& z, int64_t batch, int64_t clips,
                                           bool cls_only) {
  Encoded out;
  out.batch = batch;
  out.trunk = z;
  out.pos_embed = bridge_->pos_embed(m);
  auto zh = cls_only ? z.slice(1, 0, 1) : z;
  auto e = bridge_->head_all_tokens(m, zh);  // (N, L, d_c)
  if (auto s = specific_.find(m); s != specific_.end()) e = torch::cat({e, s->second->forward(zh)}, -1);
  e = F::normalize(e, F::NormalizeFuncOptions().dim(-1));  // per token over d_c + d_s
  if (clips > 1) e = e.view({batch, clips, e.size(1), e.size(2)}).mean(1);  // clip average
  out.e = e;
  return out;
}

QuantiserOutput CodeBindModel::quantise(Modality m, const Encoded& enc, bool training) {
  const int64_t tokens = enc.e.dim() == 3 ? enc.e.size(1) : 1;
  return quant_->forward(enc.e, m, training, tokens);
}

std::vector<std::pair<std::string, NamedTensors>> CodeBindModel::trainable_groups(bool freeze_bridge_heads) {
  for (Modality m : bridge_->modalities())
    for (const auto& [n, t] : bridge_->named_params(m)) t.requires_grad_(false);
  NamedTensors pre, fresh;
  auto add = [](NamedTensors& g, const std::string& n, at::Tensor& t) {
    if (!t.is_floating_point()) return;
    t.requires_grad_(true);
    g.emplace_back(n, t);
  };
  for (Modality m : cfg_.modality_pair) {
    const bool frozen_bridge = freeze_bridge_heads && is_bridge(m);
    if (frozen_bridge) continue;
    if (cfg_.train_mode == TrainMode::FullTune) {
      for (auto& nt : bridge_->trainable_params(m)) pre.push_back(std::move(nt));
      continue;
    }
    for (auto& [n, t] : bridge_->head_params(m)) add(pre, n, t);
  }
  for (auto& [m, l] : lora_)
    for (auto& [n, t] : l.params) add(pre, n, t);
  for (auto& [m, h] : specific_)
    for (auto& p : h->named_parameters()) add(fresh, std::string("specific.") + modality_name(m) + "." + p.key(), p.value());
  for (auto& [m, d] : decoders_)
    for (auto& p : d->named_parameters()) add(fresh, std::string("decoder.") + modality_name(m) + "." + p.key(), p.value());
  return {{"pretrained", pre}, {"new", fresh}};
}

NamedTensors CodeBindModel::state_tensors() const {
  NamedTensors out;
  for (Modality m : cfg_.modality_pair)
    for (auto& nt : bridge_->named_params(m)) out.push_back(std::move(nt));
  for (const auto& [m, l] : lora_)
    for (const auto& [n, t] : l.params) out.emplace_back("lora." + n, t);  // prefixed: not bridge keys
  for (const auto& [m, h] : specific_)
    for (const auto& p : h->named_parameters()) out.emplace_back(std::string("specific.") + modality_name(m) + "." + p.key(), p.value());
  for (const auto& [m, d] : decoders_)
    for (const auto& p : d->named_parameters()) out.emplace_back(std::string("decoder.") + modality_name(m) + "." + p.key(), p.value());
  for (const auto& [n, t] : quant_->named_state()) out.emplace_back("quant." + n, t);
  return out;
}

void CodeBindModel::train(bool on) {
  bridge_->train(on);
  for (auto& [m, d] : decoders_) d->train(on);
}

void CodeBindModel::save(const std::string& path, const std::map<std::string, std::string>& metadata) const {
  NamedTensors ts;
  for (const auto& [n, t] : state_tensors()) ts.emplace_back(n, t.detach());
  std::map<std::string, std::string> meta = metadata;
  meta["model_config"] = cfg_.to_json().dump();
  meta["model_seed"] = std::to_string(seed_);
  meta["bridge"] = bridge_->kind();
  meta[bridge_config_key(bridge_->kind())] = bridge_->config_json().dump();
  meta["format"] = "codebind-model-1";
  save_safetensors(path, ts, meta);
}

std::unique_ptr<CodeBindModel> CodeBindModel::load(const std::string& path) {
  WeightFile f(path);
  CB_CHECK_INPUT(f.meta("format") == "codebind-model-1", "{}: not a CodeBind model file", path);
  f.verify_checksum();
  ModelConfig cfg;
  uint64_t seed = 43;
  if (!f.meta("model_config").empty()) {
    cfg = ModelConfig::from_json(parse_json_text(f.meta("model_config"), path + " (metadata model_config)"),
                                 path + " (metadata model_config)");
    seed = json_unsigned(parse_json_text(f.meta("model_seed"), path + " (metadata model_seed)"), path, "model_seed");
  } else {  // older runs: the whole training config; its model keys and its seed
    const std::string where = path + " (metadata config)";
    const nlohmann::json j = parse_json_text(f.meta("config"), where);
    JsonReader r(j, where);
    cfg = ModelConfig::read(r);
    cfg.validate(where);
    r.seed("seed", seed);
  }
  std::unique_ptr<CodeBindModel> m(new CodeBindModel(cfg, open_bridge(f, cfg.modality_pair), seed));
  m->build_new_modules();
  std::set<std::string> bridge_names;
  for (Modality b : m->bridge_->modalities())
    for (const auto& [n, t] : m->bridge_->named_params(b)) bridge_names.insert(n);
  torch::NoGradGuard ng;
  for (auto& [n, t] : m->state_tensors()) {
    if (bridge_names.count(n)) continue;
    at::Tensor src = f.get(n, t.sizes());
    check_finite(src, path, n);
    const_cast<at::Tensor&>(t).copy_(src);
  }
  m->quant_->after_load();
  return m;
}

at::Tensor CodeBindModel::shared_codebook() const { return quant_->shared_codebook().weight; }

void CodeBindModel::after_restore() { quant_->after_load(); }

}  // namespace cb
