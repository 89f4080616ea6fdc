// checkpoint.h — training checkpoints: one safetensors file holding the model tensors
// ("model.<name>": trainable parameters, LoRA, quantiser state, decoders), the AdamW moments
// ("adam.*"), the RNG state ("rng.state") and, in the metadata, the run config JSON
// ("config") and the trainer state JSON ("state": epoch, step in epoch, global step, balancer).
// Writes are atomic (temp file + rename), so a kill -9 leaves the previous checkpoint intact.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>

#include "io/safetensors.h"

namespace cb {

struct TrainState {
  int epoch = 0;                // epoch in progress (0-based)
  int64_t step_in_epoch = 0;    // batches of `epoch` already done
  int64_t global_step = 0;      // batches done in total
  nlohmann::json balancer;      // LossBalancer::state() (null when off)
  nlohmann::json to_json() const;
  static TrainState from_json(const nlohmann::json& j);
};

// `model` tensors are stored under "model.<name>"; `extra` as given (optimiser moments).
void save_checkpoint(const std::string& path, const NamedTensors& model, const NamedTensors& extra,
                     const torch::Tensor& rng_state, const TrainState& state, const nlohmann::json& config);

struct LoadedCheckpoint {
  std::unique_ptr<SafetensorsFile> file;
  TrainState state;
  nlohmann::json config;
  torch::Tensor rng_state;
  // Copies "model.<name>" into each tensor (shape-checked, error names the key).
  void restore_model(const NamedTensors& model) const;
};
LoadedCheckpoint load_checkpoint(const std::string& path);

}  // namespace cb
