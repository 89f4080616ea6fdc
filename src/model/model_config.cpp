// model_config.cpp — see model_config.h.
#include "model/model_config.h"

#include <algorithm>

#include "core/error.h"

namespace cb {

const char* train_mode_name(TrainMode m) {
  switch (m) {
    case TrainMode::Lora: return "lora";
    case TrainMode::HeadTune: return "headtune";
    case TrainMode::FullTune: return "fulltune";
  }
  return "?";
}

std::vector<Modality> ModelConfig::non_text() const {
  std::vector<Modality> r;
  for (Modality m : modality_pair)
    if (m != Modality::Text) r.push_back(m);
  return r;
}

std::vector<Modality> ModelConfig::targets() const {
  std::vector<Modality> r;
  for (Modality m : modality_pair)
    if (!is_bridge(m)) r.push_back(m);
  if (r.empty() && has(Modality::Text)) r.push_back(Modality::Text);  // vision–text runs
  return r;
}

bool ModelConfig::has(Modality m) const {
  return std::find(modality_pair.begin(), modality_pair.end(), m) != modality_pair.end();
}

bool ModelConfig::reconstructs(Modality m) const {
  return use_decoder && has(m) && std::find(recon.begin(), recon.end(), m) != recon.end();
}

QuantiserConfig ModelConfig::quantiser_config(uint64_t seed) const {
  QuantiserConfig q = quantiser;
  q.shared_width = shared_dim;
  q.specific_width = specific_dim;
  q.specific_modalities = non_text();
  q.seed = seed;
  return q;
}

namespace {
nlohmann::json modalities_json(const std::vector<Modality>& ms) {
  nlohmann::json a = nlohmann::json::array();
  for (Modality m : ms) a.push_back(modality_name(m));
  return a;
}
}  // namespace

nlohmann::json ModelConfig::to_json() const {
  return {{"modality_pair", modalities_json(modality_pair)},
          {"train_mode", train_mode_name(train_mode)},
          {"lora_rank", lora_rank},
          {"lora_blocks", lora_blocks},
          {"recon", modalities_json(recon)},
          {"use_decoder", use_decoder},
          {"decoder_depth", decoder_depth},
          {"decoder_width", decoder_width},
          {"decoder_heads", decoder_heads},
          {"shared_dim", shared_dim},
          {"specific_dim", specific_dim},
          {"quantiser", quantiser.to_json()}};
}

ModelConfig ModelConfig::read(JsonReader& r) {
  ModelConfig c;
  r.modalities("modality_pair", c.modality_pair);
  std::string mode = train_mode_name(c.train_mode);
  r.choice("train_mode", mode, {"lora", "headtune", "fulltune"});
  c.train_mode = mode == "lora" ? TrainMode::Lora : mode == "headtune" ? TrainMode::HeadTune : TrainMode::FullTune;
  r.integer("lora_rank", c.lora_rank, 1, 256);
  r.integers("lora_blocks", c.lora_blocks, 0, 4095);
  r.modalities("recon", c.recon);
  r.get("use_decoder", c.use_decoder);
  r.integer("decoder_depth", c.decoder_depth, 1, 64);
  r.integer("decoder_width", c.decoder_width, 8, 65536);
  r.integer("decoder_heads", c.decoder_heads, 1, 1024);
  r.integer("shared_dim", c.shared_dim, 1, 65536);
  r.integer("specific_dim", c.specific_dim, 0, 65536);
  if (const nlohmann::json* q = r.object("quantiser")) c.quantiser = QuantiserConfig::from_json(*q, r.where());
  return c;
}

ModelConfig ModelConfig::from_json(const nlohmann::json& j, const std::string& where) {
  JsonReader r(j, where);
  ModelConfig c = read(r);
  r.reject_unknown();
  c.validate(where);
  return c;
}

void ModelConfig::validate(const std::string& where) const {
  CB_CHECK_INPUT(!modality_pair.empty(), "{}: key 'modality_pair': must not be empty", where);
  CB_CHECK_INPUT(has(Modality::Vision), "{}: key 'modality_pair': must contain the bridge modality vision", where);
  for (size_t i = 0; i < modality_pair.size(); ++i)
    for (size_t k = i + 1; k < modality_pair.size(); ++k)
      CB_CHECK_INPUT(modality_pair[i] != modality_pair[k], "{}: key 'modality_pair': '{}' listed twice", where,
                     modality_name(modality_pair[i]));
  for (Modality m : recon)
    CB_CHECK_INPUT(has(m) && m != Modality::Text, "{}: key 'recon': '{}' must be a non-text member of modality_pair",
                   where, modality_name(m));
  CB_CHECK_INPUT(lora_rank >= 1 && lora_rank <= 256, "{}: key 'lora_rank': expected 1..256, found {}", where, lora_rank);
  for (int b : lora_blocks) CB_CHECK_INPUT(b >= 0, "{}: key 'lora_blocks': negative block {}", where, b);
  CB_CHECK_INPUT(decoder_depth >= 1 && decoder_depth <= 64, "{}: key 'decoder_depth': expected 1..64, found {}",
                 where, decoder_depth);
  CB_CHECK_INPUT(decoder_width >= 8, "{}: key 'decoder_width': expected >= 8, found {}", where, decoder_width);
  CB_CHECK_INPUT(decoder_heads >= 1 && decoder_width % decoder_heads == 0,
                 "{}: key 'decoder_heads': {} does not divide decoder_width {}", where, decoder_heads, decoder_width);
  quantiser_config(0).validate(where);
}

}  // namespace cb
