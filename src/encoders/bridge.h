// bridge.h — what CodeBind needs from a pretrained backbone (the "bridge"), whatever its
// architecture. CodeBind-IB's bridge is ImageBind (encoders/imagebind/); CodeBind-VL's would
// be ViT-Lens. docs/howto-add-backbone.md walks through adding one; docs/architecture.md shows
// where the bridge sits.
//
// Per modality a bridge offers the stages CodeBind's encoder is built from:
//   sample ─► tokens() ─► trunk(lora) ─► head_all_tokens() (shared embedding per token)
//                                    └─► (the same trunk output feeds CodeBind's specific head)
// plus the pooled head (head_embedding, for text and for the hard-alignment baseline), its
// parameter groups, LoRA targets, the input spec its preprocessing follows, and its weights as
// a map of named tensors (loading is a name lookup).
#pragma once
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/modality.h"
#include "encoders/input_spec.h"
#include "encoders/lora.h"
#include "io/safetensors.h"
#include "io/weights.h"

namespace cb {

// Input with the clip axis folded into the batch: a 5-D (audio) or 6-D (video) input
// (B, S, ...) becomes (B·S, ...), sample-major, clip-minor.
struct FlatInput {
  at::Tensor x;       // (N, ...) with N = B·S (or B)
  int64_t batch = 0;  // B
  int64_t clips = 1;  // S (1 when the input had no clip axis)
};

class Bridge {
 public:
  virtual ~Bridge() = default;

  // ---- identity --------------------------------------------------------------------------
  virtual std::string kind() const = 0;             // registry name, e.g. "imagebind"
  virtual nlohmann::json config_json() const = 0;   // the architecture; make_bridge(kind(), it) rebuilds it
  virtual const std::vector<Modality>& modalities() const = 0;  // the towers that exist
  bool has(Modality m) const;
  int64_t widest_tower() const;                     // max of width(m) over the towers (the bf16 rule's size)
  virtual int64_t out_dim() const = 0;              // every head's output = CodeBind's shared width d_c
  virtual int64_t width(Modality m) const = 0;      // trunk width D_M (the specific head's input)
  virtual int64_t num_blocks(Modality m) const = 0;
  virtual InputSpec input_spec(Modality m) const = 0;
  // The patch-token layout of a non-text tower (what a decoder inverts).
  virtual TokenGrid token_grid(Modality m) const = 0;
  // Rough bytes the tower needs for a batch used as `use` (parameters; activations kept for a
  // backward; gradients and Adam moments when fully tuned). Nothing is allocated.
  virtual double estimate_bytes(Modality m, int64_t batch, TowerUse use) const = 0;

  // ---- forward stages (every op differentiable) --------------------------------------------
  virtual FlatInput flatten_clips(Modality m, const at::Tensor& input) const = 0;
  // Trunk input (N, L, D_M) for a sample batch (clip axes folded into N).
  virtual at::Tensor tokens(Modality m, const at::Tensor& input) const = 0;
  // (N, L, D_M) → (N, L, D_M); `lora` adapts the targets it holds.
  virtual at::Tensor trunk(Modality m, const at::Tensor& tokens, const LoraAdapters* lora) const = 0;
  // The shared (pretrained) head on every token: (N, L, D_M) → (N, L, d_c). Not for text.
  virtual at::Tensor head_all_tokens(Modality m, const at::Tensor& trunk_out) const = 0;
  // Pooled head embedding before normalisation (N, d_c), no clip averaging.
  virtual at::Tensor head_embedding(Modality m, const at::Tensor& input, const LoraAdapters* lora = nullptr) const = 0;
  // The backbone's own embedding (the hard-alignment baseline): (B, d_c), clip-averaged.
  virtual at::Tensor embed(Modality m, const at::Tensor& input, const LoraAdapters* lora = nullptr) const = 0;
  // Positional embedding (1, L, D_M) of the trunk input (the decoder adds it back).
  virtual at::Tensor pos_embed(Modality m) const = 0;

  // ---- parameters --------------------------------------------------------------------------
  // Every tensor of the tower, in the bridge's own (checkpoint) names and order.
  virtual NamedTensors named_params(Modality m) const = 0;
  // What "fulltune" trains: every floating tensor of the tower except fixed buffers.
  virtual NamedTensors trainable_params(Modality m) = 0;
  // What "lora"/"headtune" train besides adapters: the pooling token(s) and the head.
  virtual NamedTensors head_params(Modality m) = 0;
  // The matrices LoRA adapts in `blocks` with `mode` (InputError for a block out of range).
  virtual std::vector<LoraTarget> lora_targets(Modality m, const std::vector<int64_t>& blocks, LoraMode mode) const = 0;
  // Loads every tensor of the built towers by name (one InputError listing every missing,
  // unexpected or mis-shaped key). The tensors may be views of the file's private
  // copy-on-write mapping (training writes them in place; the file never changes).
  virtual void load(const WeightFile& f) = 0;
  virtual void train(bool on) = 0;  // drop-path / dropout on or off
  // Whether the tower's forward is random in train mode (drop-path, dropout > 0): its outputs
  // then cannot be cached even when none of its weights train.
  virtual bool stochastic_in_training(Modality m) const = 0;
  virtual void seed_dropout(uint64_t seed) = 0;
};

// ---- registry (encoders/bridge_registry.cpp: one line per backbone) --------------------------
// Builds a bridge of `kind` with towers `which` from its config, without weights (load() next).
std::unique_ptr<Bridge> make_bridge(const std::string& kind, const nlohmann::json& config,
                                    const std::vector<Modality>& which, const std::string& where);
// The architecture of a weight file (.safetensors or .pth): metadata "bridge" names the kind
// (default "imagebind"); the kind reads its config from the file's metadata or recognises a
// built-in preset from the tensors. Sets *kind when given.
nlohmann::json bridge_config_of(const WeightFile& f, std::string* kind = nullptr);
// The bridge a weight file holds, with towers `which`, weights loaded (copy-on-write views).
std::unique_ptr<Bridge> open_bridge(const WeightFile& f, const std::vector<Modality>& which);
// The metadata key under which a bridge of `kind` stores config_json() ("imagebind_config").
std::string bridge_config_key(const std::string& kind);
// The registered kinds, for error messages and docs.
std::vector<std::string> bridge_kinds();

}  // namespace cb
