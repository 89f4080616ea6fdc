// train_config.h — every hyper-parameter of a CodeBind run (spec §11), read from JSON.
//
// A run trains one target modality X on a frozen bridge (vision + text): modality_pair lists
// [X, vision, text] (or [vision, text]). Unknown keys and ill-typed values are rejected with
// an InputError naming the file and the key. The config is stored in every checkpoint's
// metadata (to_json) so a run directory is self-describing.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/modality.h"

namespace cb {

enum class TrainMode { Lora, HeadTune, FullTune };
enum class CodeMatchingMode { Paper, Reference };  // spec §13.1: paper = with gradient

const char* train_mode_name(TrainMode m);
const char* code_matching_name(CodeMatchingMode m);

// Quantiser settings (spec §7) and the ablation switches of §12.7.
struct QuantiserSettings {
  int shared_codebook_size = 1024;   // K_c
  int specific_codebook_size = 256;  // K_s
  int codevector_dim = 8;            // c (chunk length); standard_vq sets it to the half width
  bool use_vq = true;                // false: "decoupling + reconstruction" ablation (no codebook)
  bool standard_vq = false;          // one codevector per half instead of 8-d chunks
  bool separate_codebooks = false;   // per-modality codebooks instead of the shared one
  bool per_rank_codebooks = false;   // mimic the reference's unsynchronised DDP codebooks
  double decay = 0.99, eps = 1e-5, beta = 0.25;
  int kmeans_iters = 10;             // k-means iterations initialising each codebook on its first batch
  bool reseed = true;                // dead-code re-seeding from the batch's chunks (reference anchor 'random')
};

struct TrainConfig {
  // [targets..., vision, text]; every non-bridge member is a target X aligned to the anchors
  // (spec: one target per run; several targets share one codebook here as a generalisation).
  std::vector<Modality> modality_pair{Modality::Imu, Modality::Vision, Modality::Text};
  TrainMode train_mode = TrainMode::Lora;
  int lora_rank = 4;
  std::vector<int> lora_blocks{2, 3};  // blocks of the target trunk that get adapters
  double lr = 5e-4, lr_new = 5e-4;
  double tau = 0.07;
  double w_vq = 1000, w_reg = 0.01, w_cm = 0.1, w_orth = 0.1, w_uni = 1.0, w_recon = 1.0;
  std::vector<Modality> recon{Modality::Vision, Modality::Imu};
  bool use_decoder = true;
  int decoder_depth = 8, decoder_width = 512, decoder_heads = 8;
  int shared_dim = 1024;    // d_c: the bridge's head output width (fixed by the bridge)
  int specific_dim = 1024;  // d_s: 0 = "codebook only" ablation (no specific head)
  int batch_size = 8;
  int epochs = 40;
  int scale_factor = 1;     // repeats of the training list per epoch
  int max_steps_per_epoch = 0;  // 0 = the whole (scaled) list
  uint64_t seed = 43;
  bool adaptive_balancing = false;
  CodeMatchingMode code_matching = CodeMatchingMode::Paper;
  bool freeze_bridge_heads = false;
  // L_uni's input (spec §8.4): the quantised specific CLS (the reference; its gradient is
  // exactly zero once every item picks the same codes, so a collapsed specific half stays
  // collapsed) or the un-quantised, chunk-normalised specific CLS ("raw").
  bool uniformity_on_raw = false;
  QuantiserSettings quantiser;
  int checkpoint_every = 0;  // steps; 0 = only at epoch ends
  int threads = 0;
  std::string name = "codebind";

  // Modalities of the pair other than text, in config order (vision and the targets).
  std::vector<Modality> non_text() const;
  // The non-bridge members of modality_pair (the targets X).
  std::vector<Modality> targets() const;
  bool has(Modality m) const;
  bool reconstructs(Modality m) const;

  nlohmann::json to_json() const;
  // `where` names the source (file path) in error messages.
  static TrainConfig from_json(const nlohmann::json& j, const std::string& where);
  static TrainConfig load(const std::string& path);
  void validate(const std::string& where) const;
};

}  // namespace cb
