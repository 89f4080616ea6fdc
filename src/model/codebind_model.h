// codebind_model.h — the CodeBind model (docs/model.md §2–§6): a pretrained backbone (the
// bridge: any encoders/bridge.h implementation, ImageBind for CodeBind-IB), per non-text
// modality the bridge's (shared) head plus a new specific head on every token → (B, L, d_c + d_s)
// L2-normalised per token (clip-averaged), text (B, d_c) shared only; the multimodal
// quantiser; LoRA on the target trunks; one reconstruction decoder per modality of `recon`.
// Trainable sets follow docs/model.md §6.2 with the train modes lora / headtune / fulltune and
// a switch that truly freezes the bridge heads.
//
// Saved as RUN/model.safetensors: bridge tensors under the bridge's own names, LoRA tensors
// under "lora.<LoRA name>", "specific.<m>.*", "decoder.<m>.*", "quant.*"; metadata: the model
// config ("model_config"), its seed ("model_seed"), the bridge kind ("bridge") and its config
// (under the kind's key, "imagebind_config" for ImageBind) and whatever the caller adds (the
// trainer adds its config as "config").
#pragma once
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>

#include "model/decoder.h"
#include "model/specific_head.h"
#include "encoders/bridge.h"
#include "encoders/lora.h"
#include "io/safetensors.h"
#include "model/model_config.h"
#include "quant/multimodal_quantiser.h"

namespace cb {

// One modality's encoder outputs, before quantisation.
struct Encoded {
  at::Tensor e;          // non-text: (B, L, d_c+d_s) (or (B, 1, …) CLS only); text: (B, d_c)
  at::Tensor trunk;      // non-text: (B·S, L, D_M) trunk output (for the decoder)
  at::Tensor pos_embed;  // non-text: (1, L, D_M)
  int64_t batch = 0;
};

class CodeBindModel {
 public:
  // Builds CodeBind on top of a bridge weight file (e.g. RUN_PRETRAIN/bridge.safetensors or a
  // converted ImageBind checkpoint; encoders/bridge.h open_bridge). `seed` initialises the new
  // modules (specific heads, decoders, LoRA, codebooks).
  CodeBindModel(const ModelConfig& cfg, const WeightFile& bridge, uint64_t seed);
  // Loads a saved model (model.safetensors; also the files of older runs, whose metadata held
  // the whole training config under "config").
  static std::unique_ptr<CodeBindModel> load(const std::string& path);
  // `metadata` is stored next to the model's own keys.
  void save(const std::string& path, const std::map<std::string, std::string>& metadata = {}) const;

  const ModelConfig& config() const { return cfg_; }
  Bridge& bridge() { return *bridge_; }
  const Bridge& bridge() const { return *bridge_; }
  MultimodalQuantiser& quantiser() { return *quant_; }
  bool has_decoder(Modality m) const { return decoders_.count(m) > 0; }
  ReconDecoder& decoder(Modality m) { return decoders_.at(m); }
  int64_t specific_dim() const { return cfg_.specific_dim; }

  // Encoder stage (docs/model.md §2). `cls_only` keeps just token 0 (inference).
  Encoded encode(Modality m, const at::Tensor& input, bool cls_only = false);
  // The same two encoder stages from a frozen tower's cached output (train/bridge_cache.h):
  // text from its pooled head embedding (B, d_c) before normalisation; a non-text tower from
  // its trunk output z (B·S, L, D_M) (shared head, specific head, normalise, clip average).
  Encoded encode_pooled_text(const at::Tensor& pooled);
  Encoded encode_trunk_output(Modality m, const at::Tensor& z, int64_t batch, int64_t clips, bool cls_only = false);
  // Quantiser on an encoding; training = EMA/k-means/re-seed side effects.
  QuantiserOutput quantise(Modality m, const Encoded& enc, bool training);

  // Parameter groups for AdamW (docs/model.md §6.2): "pretrained" (lr) and "new" (lr_new). Sets
  // requires_grad on exactly these tensors and clears it everywhere else. With
  // `freeze_bridge_heads` the vision and text towers contribute nothing.
  std::vector<std::pair<std::string, NamedTensors>> trainable_groups(bool freeze_bridge_heads);
  // Every tensor of the model state (for checkpoints), with stable names.
  NamedTensors state_tensors() const;
  void train(bool on);
  // The floating type of inference forwards (embed_batch_codebind: the encoder stage under
  // PrecisionScope, core/precision.h); fp32 unless an application chose otherwise. Training
  // forwards ignore it.
  void set_inference_dtype(at::ScalarType t) { inference_dtype_ = t; }
  at::ScalarType inference_dtype() const { return inference_dtype_; }
  // The shared codebook's raw codevectors (K_c, c) (no gradient).
  at::Tensor shared_codebook() const;
  // Re-derives quantiser caches after its state tensors were overwritten (checkpoint restore).
  void after_restore();

 private:
  CodeBindModel(const ModelConfig& cfg, std::unique_ptr<Bridge> bridge, uint64_t seed);
  void build_new_modules();

  ModelConfig cfg_;
  uint64_t seed_;
  at::ScalarType inference_dtype_ = at::kFloat;
  std::unique_ptr<Bridge> bridge_;
  std::map<Modality, LoraAdapters> lora_;
  std::map<Modality, SpecificHead> specific_;
  std::map<Modality, ReconDecoder> decoders_;
  std::unique_ptr<MultimodalQuantiser> quant_;
};

// Decoder geometry of a tower's token grid (docs/model.md §4.2, the reference's table scaled
// to the grid: kernel = stride = patch stride / 2 → half-resolution output; 3-D grids keep
// their frames).
DecoderGeometry decoder_geometry(const TokenGrid& tg);

}  // namespace cb
