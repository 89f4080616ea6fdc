// pretrain.h — `codebind pretrain`: trains a small ImageBind-architecture bridge from scratch
// on a manifest dataset with ImageBind's own recipe; the result is both the bridge CodeBind
// trains on and the hard-alignment BASELINE it is compared with.
//
//   phase 0  (optional, `vision_warmup`) the vision tower alone, cross-entropy of a linear
//            class classifier on its head output (the classifier is discarded). Measured on
//            sensor-suite: contrastive training of a from-scratch ViT collapses every image to
//            one embedding (cos 0.9997, loss = ln B) for hundreds of steps, because random
//            features score worse than uniform logits; a supervised warm-up gives the text
//            tower class-separated images to bind to. ImageBind itself starts from pretrained
//            CLIP towers, which this stands in for. The warm-up has its own plateau (loss at
//            ln C for ≈ 450 steps at lr 3e-4 on sensor-suite); too short a warm-up leaves a
//            chance-level anchor, which ended_at_chance() below reports.
//   phase 1  vision + text contrastively (class prompts from the dataset's templates)
//   phase 2  each other modality (audio, imu, depth, …) aligned to the FROZEN vision encoder
//
// Loss: symmetric InfoNCE (directions averaged) with fixed temperature; because pairs are
// drawn by class, several items of a batch can share a class, so the targets put equal mass
// on every same-class column (a batch with distinct classes reduces to plain InfoNCE).
// Output: RUN/bridge.safetensors (ImageBind state-dict key names; metadata "imagebind_config"
// and "pretrain_config"), RUN/metrics.jsonl, RUN/pretrain_config.json.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "encoders/imagebind/small_bridge.h"
#include "core/modality.h"

namespace cb {

struct PretrainPhase {
  int epochs = 4;
  int steps_per_epoch = 0;  // 0 = the dataset's size / batch
  int batch_size = 40;
  double lr = 1e-3;
};

struct PretrainConfig {
  BridgeSizes bridge;
  PretrainPhase vision_warmup{0, 0, 40, 5e-4};  // epochs 0 = no warm-up
  PretrainPhase vision_text{6, 0, 40, 1e-3};
  PretrainPhase align{6, 0, 40, 1e-3};
  std::vector<Modality> modalities{Modality::Audio, Modality::Imu, Modality::Depth};  // phase 2
  double tau = 0.07;
  uint64_t seed = 43;
  int threads = 0;

  nlohmann::json to_json() const;
  static PretrainConfig from_json(const nlohmann::json& j, const std::string& where);
  static PretrainConfig load(const std::string& path);
};

// Label-aware symmetric InfoNCE between (B, d) embeddings a and b whose rows carry `labels`
// (B,): targets are uniform over same-label columns. Directions averaged.
at::Tensor class_info_nce(const at::Tensor& a, const at::Tensor& b, const at::Tensor& labels, double tau);

// Whether a phase did not learn: the mean of its last min(50, n) losses is above 0.95 ×
// `chance`, the loss of uniform logits (ln C for the warm-up classifier over C classes, ln B
// for class_info_nce on a batch of B). run_pretrain warns on stderr when a phase ends so.
bool ended_at_chance(const std::vector<double>& losses, double chance);

// Runs both phases and writes RUN (see above). Returns the path of bridge.safetensors. RUN
// must be absent or empty unless replace (--force) is set (io/run_dir.h). Under the torchrun
// environment (train/distributed.h) it is one rank of a data-parallel job whose ranks wait
// at most dist_timeout_s for each other.
std::string run_pretrain(const PretrainConfig& cfg, const std::string& data_dir, const std::string& out_dir,
                         bool quiet = false, bool replace = false, double dist_timeout_s = 300);

}  // namespace cb
