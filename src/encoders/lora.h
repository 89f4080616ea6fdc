// lora.h — LoRA adapters on the transformer blocks of one bridge trunk (docs/model.md §6.3).
// Which matrices exist is the bridge's business (Bridge::lora_targets); this file only creates,
// applies, saves and loads adapters for a given target list.
//
// For a frozen weight W (out×in) of a chosen block, the adapted layer computes the exact form
//   y = W x + b + U (A x)
// with A (r×in) the "down" matrix initialised to zeros and U (out×r) the "up" matrix
// initialised Kaiming-uniform(a = √5), rank r, no alpha/scaling. The product U·A is zero at
// start, so an adapted model equals the base model until A is trained. Targets: the packed
// QKV in-projection (3D×D), the attention out-projection (D×D), MLP fc1 (4D×D), fc2 (D×4D).
// Tensor names are "<weight name>_lora_down" / "<weight name>_lora_up", e.g.
// "modality_trunks.audio.blocks.6.attn.in_proj_weight_lora_down" (ImageBind names).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <functional>

#include "core/modality.h"
#include "io/safetensors.h"

namespace cb {

// Which matrices of a block get adapters (docs/model.md §6.3; the reference's "lora_module_mode").
enum class LoraMode {
  All,      // in_proj, out_proj, fc1, fc2 (every released config)
  Attn,     // in_proj, out_proj
  AttnOut,  // out_proj only
};
LoraMode parse_lora_mode(const std::string& s);  // "all" | "attn" | "attn_out"
const char* lora_mode_name(LoraMode m);

// One adapted matrix: its weight name in the bridge and its shape (out × in).
struct LoraTarget {
  std::string weight;
  int64_t out = 0, in = 0;
};
// A bridge's target list for chosen blocks and mode (InputError for a block out of range).
using LoraTargetFn = std::function<std::vector<LoraTarget>(const std::vector<int64_t>& blocks, LoraMode mode)>;

struct LoraAdapters {
  Modality modality = Modality::Vision;
  int64_t rank = 4;
  LoraMode mode = LoraMode::All;
  std::vector<int64_t> blocks;              // adapted block indices
  std::map<std::string, at::Tensor> params; // "<weight>_lora_down" (r×in), "<weight>_lora_up" (out×r)

  // Creates zero-"down" / Kaiming-"up" adapters for `blocks` of `m`'s trunk (seeded, fp32, CPU);
  // `targets` lists the matrices (the bridge's lora_targets).
  static LoraAdapters create(Modality m, int64_t rank, std::vector<int64_t> blocks, LoraMode mode,
                             const LoraTargetFn& targets, uint64_t seed);

  // Weight names of the adapted matrices (e.g. "...blocks.6.mlp.fc1.weight").
  std::vector<std::string> targets() const;
  bool adapts(const std::string& weight_name) const { return params.count(weight_name + "_lora_down") > 0; }

  // y + U (A x) when `weight_name` is adapted, else y. x (..., in), y (..., out).
  at::Tensor apply(const std::string& weight_name, const at::Tensor& x, const at::Tensor& y) const;

  // Names and tensors in a stable order (sorted by name); the trainer sets requires_grad.
  NamedTensors named_params() const;
  void to(at::Device device, at::ScalarType dtype);

  // Safetensors with metadata {modality, rank, mode, blocks}; load checks the modality and every
  // expected key and shape (from `targets`) and reports all problems in one InputError.
  void save(const std::string& path) const;
  static LoraAdapters load(const std::string& path, Modality m, const LoraTargetFn& targets);
};

}  // namespace cb
