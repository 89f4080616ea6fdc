// imagebind_model.h — the ImageBind architecture as a plain struct of named tensors plus a
// config (docs/imagebind.md §1.1, ggml style). Parameter names are exactly the reference checkpoint's
// state-dict names, so loading is a name lookup. Only the towers of the requested modalities
// exist; the others are never read (lazy mmap: audio users do not pay for the vision tower).
//
// The forward pass is split into the stages the trainer and the parity checks need:
//   input ─► tokens() ─► trunk() ─► head() / head_all_tokens() ─► postprocess()   (embed() = all)
// Every op is a differentiable ATen op, so autograd works through stems, trunks (with LoRA)
// and heads when the trainer sets requires_grad on `params` entries.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "encoders/bridge.h"
#include "encoders/imagebind/imagebind_config.h"
#include "encoders/lora.h"
#include "io/safetensors.h"

namespace cb {

// Optional per-stage capture of the trunk (parity checks, debugging).
struct TrunkTrace {
  at::Tensor pre_ln;               // (N, L, D) vision only
  std::vector<at::Tensor> blocks;  // each (N, L, D)
};

// Causal text: nothing after the batch's last end-of-text token reaches any end-of-text
// output, so embedding paths cut the trunk input there: tokens (N, 77, D) and ids (N, 77) →
// (N, keep, D), keep = 1 + last end-of-text position (typically ~10). The pooled embedding is
// unchanged up to float rounding; the trunk is ~8x cheaper.
at::Tensor cut_causal_text(const at::Tensor& tokens, const at::Tensor& ids);

// ImageBind's towers as a Bridge (encoders/bridge.h): registered as "imagebind", config in
// the metadata key "imagebind_config".
class ImageBindModel : public Bridge {
 public:
  ImageBindModel() = default;
  // Builds the towers of `which` (all of cfg's modalities when empty) with random weights
  // initialised like the reference constructors (seeded, fp32, CPU).
  ImageBindModel(const ImageBindConfig& cfg, std::vector<Modality> which, uint64_t seed);
  // Same towers with NO tensors allocated: for load() (no wasted random Huge init).
  ImageBindModel(const ImageBindConfig& cfg, std::vector<Modality> which);

  std::map<std::string, at::Tensor> params;  // state-dict name → tensor

  const ImageBindConfig& config() const { return cfg_; }

  // ---- Bridge ---------------------------------------------------------------------------------
  std::string kind() const override { return "imagebind"; }
  nlohmann::json config_json() const override { return cfg_.to_json(); }
  const std::vector<Modality>& modalities() const override { return which_; }
  int64_t out_dim() const override { return cfg_.out_dim; }
  int64_t width(Modality m) const override { return cfg_.at(m).embed_dim; }
  int64_t num_blocks(Modality m) const override { return cfg_.at(m).num_blocks; }
  InputSpec input_spec(Modality m) const override;
  TokenGrid token_grid(Modality m) const override;
  double estimate_bytes(Modality m, int64_t batch, TowerUse use) const override;
  NamedTensors head_params(Modality m) override;
  std::vector<LoraTarget> lora_targets(Modality m, const std::vector<int64_t>& blocks, LoraMode mode) const override;
  void load(const WeightFile& f) override;

  // ---- loading ------------------------------------------------------------------------------
  // Loads every tensor of the requested towers by name from any source with
  // `std::vector<std::string> keys() const` and `at::Tensor get(const std::string&) const`
  // (cb::SafetensorsFile, the .pth WeightFile). Keys of other modalities are ignored and never
  // read. Every missing, unexpected (a key of a requested tower that the config does not
  // know) or mis-shaped key is reported by name in ONE InputError. fp16/bf16 are up-cast to
  // fp32. Tensors stay zero-copy views of the mapping where possible.
  template <class Source>
  void load(const Source& src, const std::string& where) {
    load_impl(src.keys(), [&src](const std::string& k) { return src.get(k); }, where);
  }
  void load_impl(const std::vector<std::string>& keys,
                 const std::function<at::Tensor(const std::string&)>& get, const std::string& where);
  // Overrides one tensor (e.g. a replacement logit scale) with a shape check.
  void set_param(const std::string& name, const at::Tensor& t, const std::string& where);

  // ---- forward stages ---------------------------------------------------------------------
  // Folds a clip axis: ndim ≥ 5 for non-vision, ndim == 6 for vision (B,S,C,T,H,W). A 5-D
  // vision input is read as already-flat clips (N,C,T,H,W).
  FlatInput flatten_clips(Modality m, const at::Tensor& input) const override;
  // Stem output before cls/pos: (N, P, D); vision Conv3d tokens (no LN), text embedding
  // lookup (N, 77, D), others after the stem LN (eps 1e-5). IMU: unfold-linear.
  at::Tensor stem(Modality m, const at::Tensor& flat_input) const;
  // Preprocessor output = trunk input: (N, L, D) = stem + cls + pos (vision pos interpolated
  // for other square sizes). Accepts clip inputs (5-D/6-D) and folds them into N = B·S.
  at::Tensor tokens(Modality m, const at::Tensor& input) const override;
  // Trunk (vision pre-LN + blocks): (N, L, D) → (N, L, D). `lora` adapts chosen blocks.
  at::Tensor trunk(Modality m, const at::Tensor& tokens, const LoraAdapters* lora, TrunkTrace* trace) const;
  at::Tensor trunk(Modality m, const at::Tensor& tokens, const LoraAdapters* lora) const override {
    return trunk(m, tokens, lora, nullptr);
  }
  // Head on every token: LN then projection → (N, L, out). Not for text.
  at::Tensor head_all_tokens(Modality m, const at::Tensor& trunk_out) const override;
  // Head: (N, out). Non-text: LN all, token 0, project. Text: token at argmax(text_ids), LN, project.
  at::Tensor head(Modality m, const at::Tensor& trunk_out, const at::Tensor& text_ids = {}) const;
  // L2-normalise (eps 1e-12) then × min(exp(log_logit_scale), max) where the modality has one.
  at::Tensor postprocess(Modality m, const at::Tensor& head_out) const;
  // The applied scale min(exp(s), max) as a 0-dim tensor; 1 when the modality has none.
  at::Tensor logit_scale(Modality m) const;
  // tokens → trunk → head for a flat batch (no clip folding): (N, out), before the
  // postprocessor. Causal text is cut after the last end-of-text token (cut_causal_text).
  at::Tensor head_embedding(Modality m, const at::Tensor& input, const LoraAdapters* lora = nullptr) const override;
  // The reference forward: (B, out); for clip inputs the mean over S of postprocess (not
  // re-normalised).
  at::Tensor embed(Modality m, const at::Tensor& input, const LoraAdapters* lora = nullptr) const override;

  // Positional embedding (1, L, D) as stored.
  at::Tensor pos_embed(Modality m) const override;
  // Positional embedding for a vision patch count other than the stored one (docs/imagebind.md §3.3).
  at::Tensor pos_embed_for(Modality m, int64_t num_patches) const;

  // ---- parameters ---------------------------------------------------------------------------
  std::vector<std::string> param_names(Modality m) const;  // state-dict order
  NamedTensors named_params(Modality m) const override;
  // The tower's weights a full fine-tune trains (every floating tensor but the text mask and
  // the logit scale), switched to requires_grad; the tensors are shared, not copied.
  NamedTensors trainable_params(Modality m) override;
  const at::Tensor& param(const std::string& name) const;  // InternalError naming a missing key
  int64_t num_params(Modality m) const;
  // Moves/casts every floating tensor (the text mask stays fp32 → cast too; ids stay int).
  void to(at::Device device, at::ScalarType dtype = at::kFloat);
  at::Device device() const;
  at::ScalarType dtype() const;
  // Drop-path, IMU head dropout: active only in train mode (eval = identity, the default).
  void train(bool on = true) override { training_ = on; }
  bool stochastic_in_training(Modality m) const override {
    return cfg_.at(m).drop_path > 0 || cfg_.at(m).head_dropout > 0;
  }
  bool is_training() const { return training_; }
  void seed_dropout(uint64_t seed) override;

 private:
  at::Tensor attention(const ModalityConfig& mc, int64_t block, const at::Tensor& x,
                       const LoraAdapters* lora) const;
  at::Tensor block_forward(const ModalityConfig& mc, int64_t block, const at::Tensor& x,
                           const LoraAdapters* lora) const;
  at::Tensor drop_path(const at::Tensor& x, double p) const;
  at::Tensor linear(const std::string& w, const std::string& b, const at::Tensor& x,
                    const LoraAdapters* lora) const;

  ImageBindConfig cfg_;
  std::vector<Modality> which_;
  bool training_ = false;
  mutable at::Generator gen_;
};

// ImageBind's LoRA targets in `blocks` of one trunk (packed QKV, out-projection, fc1, fc2 by
// mode), e.g. "modality_trunks.audio.blocks.6.mlp.fc1.weight" (4D × D).
std::vector<LoraTarget> imagebind_lora_targets(const ModalityConfig& mc, const std::vector<int64_t>& blocks,
                                               LoraMode mode);

}  // namespace cb
