// train_config.cpp — JSON ⇄ TrainConfig with key-naming validation (docs/model.md §6.7).
#include "train/train_config.h"

#include <cmath>

#include "core/error.h"
#include "core/json_read.h"

namespace cb {

using json = nlohmann::json;

const char* code_matching_name(CodeMatchingMode m) {
  return m == CodeMatchingMode::Paper ? "paper" : "reference";
}

json TrainConfig::to_json() const {
  json j = model.to_json();
  const OptimConfig& o = optim;
  j.update(json{{"lr", o.lr},
                {"lr_new", o.lr_new},
                {"tau", o.tau},
                {"w_vq", o.w_vq},
                {"w_reg", o.w_reg},
                {"w_cm", o.w_cm},
                {"w_orth", o.w_orth},
                {"w_uni", o.w_uni},
                {"w_recon", o.w_recon},
                {"batch_size", o.batch_size},
                {"epochs", o.epochs},
                {"scale_factor", o.scale_factor},
                {"max_steps_per_epoch", o.max_steps_per_epoch},
                {"adaptive_balancing", o.adaptive_balancing},
                {"code_matching", code_matching_name(o.code_matching)},
                {"freeze_bridge_heads", o.freeze_bridge_heads},
                {"uniformity_on", o.uniformity_on_raw ? "raw" : "quantised"},
                {"pairing", o.pairing},
                {"name", run.name},
                {"seed", run.seed},
                {"checkpoint_every", run.checkpoint_every},
                {"threads", run.threads}});
  return j;
}

TrainConfig TrainConfig::from_json(const json& j, const std::string& where) {
  JsonReader r(j, where);
  TrainConfig c;
  c.model = ModelConfig::read(r);
  std::string target;
  r.get("target", target);  // optional, must be a member of modality_pair
  OptimConfig& o = c.optim;
  r.get("lr", o.lr);
  r.get("lr_new", o.lr_new);
  r.get("tau", o.tau);
  r.get("w_vq", o.w_vq);
  r.get("w_reg", o.w_reg);
  r.get("w_cm", o.w_cm);
  r.get("w_orth", o.w_orth);
  r.get("w_uni", o.w_uni);
  r.get("w_recon", o.w_recon);
  r.integer("batch_size", o.batch_size, 2, 1 << 20);
  r.integer("epochs", o.epochs, 1, 1000000);
  r.integer("scale_factor", o.scale_factor, 1, 1000000);
  r.integer("max_steps_per_epoch", o.max_steps_per_epoch, 0, 1000000000);
  r.get("adaptive_balancing", o.adaptive_balancing);
  std::string cm = code_matching_name(o.code_matching);
  r.choice("code_matching", cm, {"paper", "reference"});
  o.code_matching = cm == "paper" ? CodeMatchingMode::Paper : CodeMatchingMode::Reference;
  r.get("freeze_bridge_heads", o.freeze_bridge_heads);
  std::string uni = o.uniformity_on_raw ? "raw" : "quantised";
  r.choice("uniformity_on", uni, {"quantised", "raw"});
  o.uniformity_on_raw = uni == "raw";
  r.choice("pairing", o.pairing, {"auto", "class", "group"});
  r.get("name", c.run.name);
  r.seed("seed", c.run.seed);
  r.integer("checkpoint_every", c.run.checkpoint_every, 0, 1000000000);
  r.integer("threads", c.run.threads, 0, 1024);
  r.reject_unknown();
  if (!target.empty()) {
    Modality t = parse_modality(target, where + ": key 'target'");
    CB_CHECK_INPUT(c.model.has(t), "{}: key 'target': '{}' is not in modality_pair", where, target);
  }
  c.validate(where);
  return c;
}

void TrainConfig::validate(const std::string& where) const {
  model.validate(where);
  const OptimConfig& o = optim;
  CB_CHECK_INPUT(o.lr > 0 && o.lr < 1, "{}: key 'lr': expected 0 < lr < 1, found {}", where, o.lr);
  CB_CHECK_INPUT(o.lr_new > 0 && o.lr_new < 1, "{}: key 'lr_new': expected 0 < lr_new < 1, found {}", where, o.lr_new);
  CB_CHECK_INPUT(o.tau > 0 && o.tau <= 10, "{}: key 'tau': expected 0 < tau <= 10, found {}", where, o.tau);
  for (auto [k, v] : {std::pair<const char*, double>{"w_vq", o.w_vq}, {"w_reg", o.w_reg}, {"w_cm", o.w_cm},
                      {"w_orth", o.w_orth}, {"w_uni", o.w_uni}, {"w_recon", o.w_recon}})
    CB_CHECK_INPUT(v >= 0 && std::isfinite(v), "{}: key '{}': expected a finite weight >= 0, found {}", where, k, v);
  CB_CHECK_INPUT(o.batch_size >= 2, "{}: key 'batch_size': expected >= 2 (InfoNCE needs negatives), found {}", where,
                 o.batch_size);
  CB_CHECK_INPUT(o.epochs >= 1, "{}: key 'epochs': expected >= 1, found {}", where, o.epochs);
  CB_CHECK_INPUT(o.scale_factor >= 1, "{}: key 'scale_factor': expected >= 1, found {}", where, o.scale_factor);
  CB_CHECK_INPUT(o.max_steps_per_epoch >= 0, "{}: key 'max_steps_per_epoch': expected >= 0", where);
  CB_CHECK_INPUT(run.checkpoint_every >= 0, "{}: key 'checkpoint_every': expected >= 0", where);
  CB_CHECK_INPUT(run.threads >= 0, "{}: key 'threads': expected >= 0", where);
}

TrainConfig TrainConfig::load(const std::string& path) { return from_json(load_json_file(path), path); }

}  // namespace cb
