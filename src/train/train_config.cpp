// train_config.cpp — JSON ⇄ TrainConfig with key-naming validation (spec §11).
#include "train/train_config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/json_read.h"

namespace cb {

using json = nlohmann::json;

const char* train_mode_name(TrainMode m) {
  switch (m) {
    case TrainMode::Lora: return "lora";
    case TrainMode::HeadTune: return "headtune";
    case TrainMode::FullTune: return "fulltune";
  }
  return "?";
}
const char* code_matching_name(CodeMatchingMode m) {
  return m == CodeMatchingMode::Paper ? "paper" : "reference";
}

std::vector<Modality> TrainConfig::non_text() const {
  std::vector<Modality> r;
  for (Modality m : modality_pair)
    if (m != Modality::Text) r.push_back(m);
  return r;
}
std::vector<Modality> TrainConfig::targets() const {
  std::vector<Modality> r;
  for (Modality m : modality_pair)
    if (!is_bridge(m)) r.push_back(m);
  if (r.empty() && has(Modality::Text)) r.push_back(Modality::Text);  // vision–text runs
  return r;
}
bool TrainConfig::has(Modality m) const {
  return std::find(modality_pair.begin(), modality_pair.end(), m) != modality_pair.end();
}
bool TrainConfig::reconstructs(Modality m) const {
  return use_decoder && has(m) && std::find(recon.begin(), recon.end(), m) != recon.end();
}

namespace {

json modalities_json(const std::vector<Modality>& ms) {
  json a = json::array();
  for (Modality m : ms) a.push_back(modality_name(m));
  return a;
}

// Typed reader that names the file and key on every error and tracks which keys were used.
struct Reader {
  const json& j;
  std::string where, prefix;
  std::set<std::string> seen;

  // Booleans, floating-point numbers and strings (integers go through integer()).
  template <typename T>
  void get(const char* key, T& out) {
    static_assert(!std::is_integral_v<T> || std::is_same_v<T, bool>, "integers need a range: use integer()");
    seen.insert(key);
    auto it = j.find(key);
    if (it == j.end()) return;
    try {
      if constexpr (std::is_same_v<T, bool>) {
        if (!it->is_boolean()) throw std::runtime_error("expected true/false");
      } else if constexpr (std::is_arithmetic_v<T>) {
        if (!it->is_number()) throw std::runtime_error("expected a number");
      } else if constexpr (std::is_same_v<T, std::string>) {
        if (!it->is_string()) throw std::runtime_error("expected a string");
      }
      out = it->get<T>();
    } catch (const std::exception& e) {
      fail_input("{}: key '{}{}': {} (found {})", where, prefix, key, e.what(), it->dump());
    }
  }
  // An integer in [lo, hi], checked at full width (no 32-bit wrap).
  template <typename T>
  void integer(const char* key, T& out, int64_t lo, int64_t hi) {
    seen.insert(key);
    if (auto it = j.find(key); it != j.end()) out = static_cast<T>(json_integer(*it, where, prefix + key, lo, hi));
  }
  void integers(const char* key, std::vector<int>& out, int64_t lo, int64_t hi) {
    seen.insert(key);
    auto it = j.find(key);
    if (it == j.end()) return;
    CB_CHECK_INPUT(it->is_array(), "{}: key '{}{}': expected an array of integers, found {}", where, prefix, key,
                   it->dump());
    out.clear();
    for (const auto& v : *it) out.push_back(static_cast<int>(json_integer(v, where, prefix + key, lo, hi)));
  }
  void seed(const char* key, uint64_t& out) {
    seen.insert(key);
    if (auto it = j.find(key); it != j.end()) out = json_unsigned(*it, where, prefix + key);
  }
  void modalities(const char* key, std::vector<Modality>& out) {
    seen.insert(key);
    auto it = j.find(key);
    if (it == j.end()) return;
    CB_CHECK_INPUT(it->is_array(), "{}: key '{}{}': expected an array of modality names", where, prefix, key);
    out.clear();
    for (const auto& v : *it) {
      CB_CHECK_INPUT(v.is_string(), "{}: key '{}{}': expected modality names, found {}", where, prefix, key,
                     v.dump());
      out.push_back(parse_modality(v.get<std::string>(), where + ": key '" + prefix + key + "'"));
    }
  }
  void reject_unknown() {
    for (auto it = j.begin(); it != j.end(); ++it)
      CB_CHECK_INPUT(seen.count(it.key()), "{}: unknown key '{}{}'", where, prefix, it.key());
  }
};

}  // namespace

json TrainConfig::to_json() const {
  json q = {{"shared_codebook_size", quantiser.shared_codebook_size},
            {"specific_codebook_size", quantiser.specific_codebook_size},
            {"codevector_dim", quantiser.codevector_dim},
            {"use_vq", quantiser.use_vq},
            {"standard_vq", quantiser.standard_vq},
            {"separate_codebooks", quantiser.separate_codebooks},
            {"per_rank_codebooks", quantiser.per_rank_codebooks},
            {"decay", quantiser.decay},
            {"eps", quantiser.eps},
            {"beta", quantiser.beta},
            {"kmeans_iters", quantiser.kmeans_iters},
            {"reseed", quantiser.reseed}};
  return json{{"name", name},
              {"modality_pair", modalities_json(modality_pair)},
              {"train_mode", train_mode_name(train_mode)},
              {"lora_rank", lora_rank},
              {"lora_blocks", lora_blocks},
              {"lr", lr},
              {"lr_new", lr_new},
              {"tau", tau},
              {"w_vq", w_vq},
              {"w_reg", w_reg},
              {"w_cm", w_cm},
              {"w_orth", w_orth},
              {"w_uni", w_uni},
              {"w_recon", w_recon},
              {"recon", modalities_json(recon)},
              {"use_decoder", use_decoder},
              {"decoder_depth", decoder_depth},
              {"decoder_width", decoder_width},
              {"decoder_heads", decoder_heads},
              {"shared_dim", shared_dim},
              {"specific_dim", specific_dim},
              {"batch_size", batch_size},
              {"epochs", epochs},
              {"scale_factor", scale_factor},
              {"max_steps_per_epoch", max_steps_per_epoch},
              {"seed", seed},
              {"adaptive_balancing", adaptive_balancing},
              {"code_matching", code_matching_name(code_matching)},
              {"freeze_bridge_heads", freeze_bridge_heads},
              {"uniformity_on", uniformity_on_raw ? "raw" : "quantised"},
              {"quantiser", q},
              {"checkpoint_every", checkpoint_every},
              {"threads", threads}};
}

TrainConfig TrainConfig::from_json(const json& j, const std::string& where) {
  CB_CHECK_INPUT(j.is_object(), "{}: expected a JSON object at the top level", where);
  TrainConfig c;
  Reader r{j, where, ""};
  r.get("name", c.name);
  r.modalities("modality_pair", c.modality_pair);
  std::string target;
  r.get("target", target);  // optional, must be a member of modality_pair
  std::string mode = train_mode_name(c.train_mode);
  r.get("train_mode", mode);
  if (mode == "lora") c.train_mode = TrainMode::Lora;
  else if (mode == "headtune") c.train_mode = TrainMode::HeadTune;
  else if (mode == "fulltune") c.train_mode = TrainMode::FullTune;
  else fail_input("{}: key 'train_mode': expected lora|headtune|fulltune, found '{}'", where, mode);
  r.integer("lora_rank", c.lora_rank, 1, 256);
  r.integers("lora_blocks", c.lora_blocks, 0, 4095);
  r.get("lr", c.lr);
  r.get("lr_new", c.lr_new);
  r.get("tau", c.tau);
  r.get("w_vq", c.w_vq);
  r.get("w_reg", c.w_reg);
  r.get("w_cm", c.w_cm);
  r.get("w_orth", c.w_orth);
  r.get("w_uni", c.w_uni);
  r.get("w_recon", c.w_recon);
  r.modalities("recon", c.recon);
  r.get("use_decoder", c.use_decoder);
  r.integer("decoder_depth", c.decoder_depth, 1, 64);
  r.integer("decoder_width", c.decoder_width, 8, 65536);
  r.integer("decoder_heads", c.decoder_heads, 1, 1024);
  r.integer("shared_dim", c.shared_dim, 1, 65536);
  r.integer("specific_dim", c.specific_dim, 0, 65536);
  r.integer("batch_size", c.batch_size, 2, 1 << 20);
  r.integer("epochs", c.epochs, 1, 1000000);
  r.integer("scale_factor", c.scale_factor, 1, 1000000);
  r.integer("max_steps_per_epoch", c.max_steps_per_epoch, 0, 1000000000);
  r.seed("seed", c.seed);
  r.get("adaptive_balancing", c.adaptive_balancing);
  std::string cm = code_matching_name(c.code_matching);
  r.get("code_matching", cm);
  if (cm == "paper") c.code_matching = CodeMatchingMode::Paper;
  else if (cm == "reference") c.code_matching = CodeMatchingMode::Reference;
  else fail_input("{}: key 'code_matching': expected paper|reference, found '{}'", where, cm);
  r.get("freeze_bridge_heads", c.freeze_bridge_heads);
  std::string uni = c.uniformity_on_raw ? "raw" : "quantised";
  r.get("uniformity_on", uni);
  CB_CHECK_INPUT(uni == "raw" || uni == "quantised", "{}: key 'uniformity_on': expected quantised|raw, found '{}'",
                 where, uni);
  c.uniformity_on_raw = uni == "raw";
  r.integer("checkpoint_every", c.checkpoint_every, 0, 1000000000);
  r.integer("threads", c.threads, 0, 1024);
  r.seen.insert("quantiser");
  if (auto it = j.find("quantiser"); it != j.end()) {
    CB_CHECK_INPUT(it->is_object(), "{}: key 'quantiser': expected an object", where);
    Reader q{*it, where, "quantiser."};
    auto& s = c.quantiser;
    q.integer("shared_codebook_size", s.shared_codebook_size, 2, 1 << 20);
    q.integer("specific_codebook_size", s.specific_codebook_size, 2, 1 << 20);
    q.integer("codevector_dim", s.codevector_dim, 1, 65536);
    q.get("use_vq", s.use_vq);
    q.get("standard_vq", s.standard_vq);
    q.get("separate_codebooks", s.separate_codebooks);
    q.get("per_rank_codebooks", s.per_rank_codebooks);
    q.get("decay", s.decay);
    q.get("eps", s.eps);
    q.get("beta", s.beta);
    q.integer("kmeans_iters", s.kmeans_iters, 0, 10000);
    q.get("reseed", s.reseed);
    q.reject_unknown();
  }
  r.reject_unknown();
  if (!target.empty()) {
    Modality t = parse_modality(target, where + ": key 'target'");
    CB_CHECK_INPUT(c.has(t), "{}: key 'target': '{}' is not in modality_pair", where, target);
  }
  c.validate(where);
  return c;
}

void TrainConfig::validate(const std::string& where) const {
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
  CB_CHECK_INPUT(lr > 0 && lr < 1, "{}: key 'lr': expected 0 < lr < 1, found {}", where, lr);
  CB_CHECK_INPUT(lr_new > 0 && lr_new < 1, "{}: key 'lr_new': expected 0 < lr_new < 1, found {}", where, lr_new);
  CB_CHECK_INPUT(tau > 0 && tau <= 10, "{}: key 'tau': expected 0 < tau <= 10, found {}", where, tau);
  for (auto [k, v] : {std::pair<const char*, double>{"w_vq", w_vq}, {"w_reg", w_reg}, {"w_cm", w_cm},
                      {"w_orth", w_orth}, {"w_uni", w_uni}, {"w_recon", w_recon}})
    CB_CHECK_INPUT(v >= 0 && std::isfinite(v), "{}: key '{}': expected a finite weight >= 0, found {}", where, k, v);
  CB_CHECK_INPUT(decoder_depth >= 1 && decoder_depth <= 64, "{}: key 'decoder_depth': expected 1..64, found {}",
                 where, decoder_depth);
  CB_CHECK_INPUT(decoder_width >= 8, "{}: key 'decoder_width': expected >= 8, found {}", where, decoder_width);
  CB_CHECK_INPUT(decoder_heads >= 1 && decoder_width % decoder_heads == 0,
                 "{}: key 'decoder_heads': {} does not divide decoder_width {}", where, decoder_heads, decoder_width);
  const int c = quantiser.codevector_dim;
  CB_CHECK_INPUT(c >= 1, "{}: key 'quantiser.codevector_dim': expected >= 1, found {}", where, c);
  CB_CHECK_INPUT(shared_dim >= 1 && shared_dim % c == 0,
                 "{}: key 'shared_dim': {} is not a positive multiple of quantiser.codevector_dim {}", where,
                 shared_dim, c);
  CB_CHECK_INPUT(specific_dim >= 0 && specific_dim % c == 0,
                 "{}: key 'specific_dim': {} is not a multiple of quantiser.codevector_dim {}", where, specific_dim, c);
  CB_CHECK_INPUT(quantiser.shared_codebook_size >= 2, "{}: key 'quantiser.shared_codebook_size': expected >= 2", where);
  CB_CHECK_INPUT(quantiser.specific_codebook_size >= 2, "{}: key 'quantiser.specific_codebook_size': expected >= 2",
                 where);
  CB_CHECK_INPUT(quantiser.decay > 0 && quantiser.decay < 1, "{}: key 'quantiser.decay': expected 0 < decay < 1",
                 where);
  CB_CHECK_INPUT(batch_size >= 2, "{}: key 'batch_size': expected >= 2 (InfoNCE needs negatives), found {}", where,
                 batch_size);
  CB_CHECK_INPUT(epochs >= 1, "{}: key 'epochs': expected >= 1, found {}", where, epochs);
  CB_CHECK_INPUT(scale_factor >= 1, "{}: key 'scale_factor': expected >= 1, found {}", where, scale_factor);
  CB_CHECK_INPUT(max_steps_per_epoch >= 0, "{}: key 'max_steps_per_epoch': expected >= 0", where);
  CB_CHECK_INPUT(checkpoint_every >= 0, "{}: key 'checkpoint_every': expected >= 0", where);
  CB_CHECK_INPUT(threads >= 0, "{}: key 'threads': expected >= 0", where);
}

TrainConfig TrainConfig::load(const std::string& path) {
  std::ifstream f(path);
  CB_CHECK_INPUT(f.good(), "{}: cannot open config file", path);
  std::stringstream ss;
  ss << f.rdbuf();
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const json::parse_error& e) {
    fail_input("{}: malformed JSON: {}", path, e.what());
  }
  return from_json(j, path);
}

}  // namespace cb
