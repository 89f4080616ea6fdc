// model_config.h — what a CodeBind model is made of, and nothing about how it is trained:
// the modalities it binds, the width of the specific half, LoRA on the target trunks, the
// reconstruction decoders and the quantiser (docs/model.md §2–§4, §6). A training config holds
// one (train/train_config.h); a saved model carries it in its metadata ("model_config"), so
// loading a model never needs the training-config parser.
//
// JSON: the keys below at the top level of a training config (flat, as in configs/*.json);
// the quantiser's settings under "quantiser".
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/json_read.h"
#include "core/modality.h"
#include "quant/multimodal_quantiser.h"

namespace cb {

// Which bridge weights train (docs/model.md §6.2): LoRA adapters on the target trunk plus the
// heads, the heads only, or the whole target tower.
enum class TrainMode { Lora, HeadTune, FullTune };
const char* train_mode_name(TrainMode m);

struct ModelConfig {
  // [targets..., vision, text]; every non-bridge member is a target X aligned to the anchors
  // (one target per run in the paper; several targets share one codebook here).
  std::vector<Modality> modality_pair{Modality::Imu, Modality::Vision, Modality::Text};
  TrainMode train_mode = TrainMode::Lora;  // decides whether LoRA adapters exist
  int lora_rank = 4;
  std::vector<int> lora_blocks{2, 3};  // blocks of the target trunk that get adapters
  std::vector<Modality> recon{Modality::Vision, Modality::Imu};
  bool use_decoder = true;
  int decoder_depth = 8, decoder_width = 512, decoder_heads = 8;
  int shared_dim = 1024;    // d_c: the bridge's head output width (fixed by the bridge)
  int specific_dim = 1024;  // d_s: 0 = "codebook only" ablation (no specific head)
  QuantiserConfig quantiser;  // settings; the layout is filled in by quantiser_config()

  // Modalities of the pair other than text, in config order (vision and the targets).
  std::vector<Modality> non_text() const;
  // The non-bridge members of modality_pair (the targets X); text for a vision–text model.
  std::vector<Modality> targets() const;
  bool has(Modality m) const;
  bool reconstructs(Modality m) const;
  // The quantiser's full configuration: settings plus widths, specific modalities and seed.
  QuantiserConfig quantiser_config(uint64_t seed) const;

  // The model keys (flat) and "quantiser".
  nlohmann::json to_json() const;
  // Reads the model keys of a training config through `r` (which keeps rejecting the rest).
  static ModelConfig read(JsonReader& r);
  // A stand-alone model config (a saved model's metadata): unknown keys rejected.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& where);
  void validate(const std::string& where) const;
};

}  // namespace cb
