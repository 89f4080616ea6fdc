// imagebind_config.h — structural hyper-parameters of an ImageBind-architecture model
// (docs/imagebind.md §1–§6). One ModalityConfig per tower; the Huge preset is built in,
// any other size (the fixtures' small models, the sensor-suite's tiny ones) comes from a JSON
// file with the schema of fixtures/imagebind/config.json ("imagebind-small-config/1",
// docs/imagebind.md §6.3). Everything that differs between sizes — widths, heads, patch kernels
// and strides, image size, token grids, eps values, state-dict key names — is a field here,
// never a constant in the model code.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/modality.h"
#include "encoders/input_spec.h"
#include "io/weights.h"

namespace cb {

// How raw input becomes patch tokens (the "stem").
enum class StemKind {
  Conv3d,          // vision: (N,3,T,H,W) → Conv3d(k=s=kernel) → tokens; images padded to T=video_frames
  Conv2d,          // audio/depth/thermal/tactile: (N,C,H,W) → Conv2d → tokens (+ stem LN)
  Conv1d,          // EEG-style: (N,C,T) → Conv1d → tokens (+ stem LN)
  TokenEmbedding,  // text: (N,77) ids → embedding lookup
  Linear,          // IMU: (N,C,T) → unfold(kernel, stride) → (N,P,C·kernel) → Linear (+ stem LN)
};
const char* stem_kind_name(StemKind k);

// Which token the head pools, and in which order it normalises.
enum class HeadOrder {
  LayerNormAllThenSelect,  // non-text: LN over all tokens, take token `select_token`, project
  SelectThenLayerNorm,     // text: take the EOT token (argmax of ids), LN, project
};

struct ModalityConfig {
  Modality modality = Modality::Vision;

  // ---- trunk ------------------------------------------------------------------------------
  int64_t embed_dim = 0;   // D
  int64_t num_blocks = 0;
  int64_t num_heads = 0;   // head_dim = D / num_heads
  int64_t mlp_hidden = 0;  // usually 4·D
  double block_ln_eps = 1e-6;
  std::optional<double> pre_ln_eps;  // vision: 1e-6 (CLIP ln_pre); else none
  bool add_bias_kv = false;          // audio/depth/thermal/imu
  bool causal = false;               // text: additive −inf mask above the diagonal
  double drop_path = 0.0;            // train only; per-block rate linspace(0, drop_path, blocks)

  // ---- stem -------------------------------------------------------------------------------
  StemKind stem_kind = StemKind::Conv2d;
  // State-dict prefix as in the JSON schema: Conv3d: the conv itself ("…rgbt_stem.proj.1");
  // Conv1d/Conv2d/Linear: the stem module ("…rgbt_stem": weight at .proj.weight, LN at
  // .norm_layer); TokenEmbedding: the embedding weight key itself.
  std::string stem_prefix;
  int64_t in_channels = 0;             // vision 3, audio/depth/thermal 1, imu 6
  std::vector<int64_t> kernel;         // Conv3d: (t,h,w); Conv2d: (h,w); Conv1d/Linear: (k)
  std::vector<int64_t> stride;         // same rank as kernel
  bool stem_bias = false;
  std::optional<double> stem_ln_eps;   // 1e-5 for audio/depth/thermal/imu; none for vision/text
  int64_t video_frames = 0;            // vision: a 4-D image is repeated to T = video_frames (2)
  int64_t vocab_size = 0;              // text
  int64_t context_length = 0;          // text: 77

  // ---- token layout -----------------------------------------------------------------------
  std::vector<int64_t> input_shape;    // per-sample input, e.g. (3,224,224), (1,128,204), (6,2000), (77)
  std::vector<int64_t> patch_grid;     // vision (1,16,16); audio (12,19); depth (14,14); imu (250)
  int64_t num_patches = 0;             // product of patch_grid (text: 77)
  int64_t num_cls_tokens = 1;          // 0 for text
  int64_t num_tokens = 0;              // num_cls_tokens + num_patches
  std::string pos_embed_key;           // (1, num_tokens, D)
  std::string mask_key;                // text: (L, L) causal mask buffer

  // ---- head -------------------------------------------------------------------------------
  HeadOrder head_order = HeadOrder::LayerNormAllThenSelect;
  double head_ln_eps = 1e-6;
  int64_t select_token = 0;
  double head_dropout = 0.0;           // imu 0.5, train only (hence proj index 3)
  std::string head_proj_key;           // e.g. "modality_heads.vision.2.weight" (no bias)

  // ---- postprocessor ----------------------------------------------------------------------
  std::string logit_scale_key;         // empty: no scale (vision)
  bool logit_scale_learnable = false;  // text: parameter; others: buffer
  double logit_scale_init = 0.0;       // log value used by random init (text log(1/0.07))
  double logit_scale_max = 100.0;
  double normalize_eps = 1e-12;

  // ---- derived state-dict names ------------------------------------------------------------
  std::string name() const { return modality_name(modality); }
  int64_t head_dim() const { return num_heads > 0 ? embed_dim / num_heads : 0; }
  std::string pre_key() const { return "modality_preprocessors." + name() + "."; }
  std::string trunk_key() const { return "modality_trunks." + name() + "."; }
  std::string block_key(int64_t i) const { return trunk_key() + "blocks." + std::to_string(i) + "."; }
  std::string cls_key() const { return pre_key() + "cls_token"; }
  std::string stem_weight_key() const;   // conv/linear weight or embedding table
  std::string stem_bias_key() const;     // "" when stem_bias is false
  std::string stem_norm_prefix() const;  // "" when there is no stem LN; else "<…>.norm_layer"
  std::string pre_ln_prefix() const { return trunk_key() + "pre_transformer_layer.0"; }
  std::string head_ln_prefix() const;    // "modality_heads.<m>.0" / "modality_heads.text.proj.0"
};

// One expected tensor of the state dict.
struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  bool buffer = false;  // text mask and the four fixed logit scales
};

struct ImageBindConfig {
  int64_t out_dim = 1024;  // every head's output size
  // How manifest items are scaled into inputs (JSON "inputs": "imagebind" | "standardised");
  // the reference transforms unless the bridge was trained by `codebind pretrain`.
  InputScaling inputs = InputScaling::ImageBind;
  std::map<Modality, ModalityConfig> modalities;

  // imagebind_huge(): the six pretrained towers (docs/imagebind.md §1.2 table, §6.1 key list).
  static ImageBindConfig huge();
  // A tiny, structurally identical model for tests and quick experiments: width 16, 2 blocks,
  // 2 heads, out 16; vision 32×32 with (2,8,8) patches; text vocab 49408, context 77; audio
  // 1×128×204 (kernel 16, stride 10); depth/thermal 1×32×32 with 8×8 patches; IMU 6×200.
  static ImageBindConfig tiny();
  // Parses the "imagebind-small-config/1" schema (docs/imagebind.md §6.3); `where` names the file
  // in errors. Unknown modality names are rejected; missing required fields name the field.
  static ImageBindConfig from_json(const nlohmann::json& j, const std::string& where);
  static ImageBindConfig from_file(const std::string& path);
  // The config a weight file carries in its metadata under `key` (a bridge's
  // "imagebind_config"): InputError naming the file and key when it is absent, not JSON, or
  // not a valid config.
  static ImageBindConfig from_metadata(const std::string& text, const std::string& file,
                                       const std::string& key = "imagebind_config");
  // The architecture of a weight file: its metadata "imagebind_config" (bridges and CodeBind
  // models; files from before "inputs" was recorded get the scaling they were trained with,
  // standardised), else "config" (`codebind convert --config`), else the built-in preset
  // (huge, tiny) whose every tensor of the towers present in the file is there with its shape
  // (a published imagebind_huge.pth). InputError naming the file otherwise.
  static ImageBindConfig of_file(const WeightFile& f);
  // The built-in presets by name: "huge", "tiny".
  static std::vector<std::pair<std::string, ImageBindConfig>> presets();
  // "huge" / "tiny" → the preset; anything else is a path to a JSON config.
  static ImageBindConfig from_arg(const std::string& huge_or_path);
  // Writes the same schema back (round-trips through from_json).
  nlohmann::json to_json() const;

  const ModalityConfig& at(Modality m) const;  // throws InputError when absent
  bool has(Modality m) const { return modalities.count(m) > 0; }
};

// Every state-dict tensor of one modality, in reference state_dict order (docs/imagebind.md §6.1). Shape
// listing only; nothing is allocated.
std::vector<ParamSpec> param_specs(const ImageBindConfig& cfg, Modality m);

// Rough bytes one tower needs: fp32 parameters (×4 for FullTune: weights, gradients, two
// Adam moments) plus activations — every block's when a backward runs through the tower
// (attention scores B·H·T² and about 16·B·T·D per block; T from the positional embedding),
// one block's for Inference. Nothing is allocated; the sum saturates instead of overflowing.
// For core/memory_budget.h.
double estimate_tower_bytes(const ImageBindConfig& cfg, Modality m, int64_t batch, TowerUse use);

}  // namespace cb
