// train_config.h — every hyper-parameter of a CodeBind run (docs/model.md §6.7), read from JSON.
//
// A training config is three parts: the model it builds (model/model_config.h), how it is
// optimised (objective weights, schedule, batches) and how the run is kept (name, seed,
// checkpoints, threads). The JSON stays flat, one object with every key (configs/*.json);
// unknown keys and ill-typed values are rejected with an InputError naming the file and the
// key. The config is stored in every checkpoint's metadata (to_json) so a run directory is
// self-describing.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/modality.h"
#include "model/model_config.h"

namespace cb {

enum class CodeMatchingMode { Paper, Reference };  // docs/model.md §5.6: paper = with gradient
const char* code_matching_name(CodeMatchingMode m);

// The objective and the optimiser (docs/model.md §5, §6.4, §6.5).
struct OptimConfig {
  double lr = 5e-4, lr_new = 5e-4;  // AdamW: pretrained bridge weights / new modules
  double tau = 0.07;                // InfoNCE temperature
  double w_vq = 1000, w_reg = 0.01, w_cm = 0.1, w_orth = 0.1, w_uni = 1.0, w_recon = 1.0;
  int batch_size = 8;
  int epochs = 40;
  int scale_factor = 1;         // repeats of the training list per epoch
  int max_steps_per_epoch = 0;  // 0 = the whole (scaled) list
  bool adaptive_balancing = false;
  CodeMatchingMode code_matching = CodeMatchingMode::Paper;
  bool freeze_bridge_heads = false;  // the vision/text heads stay fixed (the bridge is truly frozen)
  // L_uni's input (docs/model.md §5.4): the quantised specific CLS (the reference; its gradient
  // is exactly zero once every item picks the same codes, so a collapsed specific half stays
  // collapsed) or the un-quantised, chunk-normalised specific CLS ("raw").
  bool uniformity_on_raw = false;
  // How batch rows are bound across modalities (train/batch_plan.h): "class" (ImageBind-style:
  // one item of the same class per modality), "group" (instance pairs: the manifest's
  // `group`), or "auto" (group when the run's training items carry groups, else class).
  std::string pairing = "auto";
};

// How the run is kept.
struct RunConfig {
  std::string name = "codebind";
  uint64_t seed = 43;        // model initialisation and data order
  int checkpoint_every = 0;  // steps; 0 = only at epoch ends
  int threads = 0;
};

struct TrainConfig {
  ModelConfig model;
  OptimConfig optim;
  RunConfig run;

  nlohmann::json to_json() const;
  // `where` names the source (file path) in error messages.
  static TrainConfig from_json(const nlohmann::json& j, const std::string& where);
  static TrainConfig load(const std::string& path);
  void validate(const std::string& where) const;
};

}  // namespace cb
