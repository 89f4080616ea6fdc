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

#include "encoders/imagebind_config.h"
#include "encoders/lora.h"
#include "io/safetensors.h"

namespace cb {

// Optional per-stage capture of the trunk (parity checks, debugging).
struct TrunkTrace {
  at::Tensor pre_ln;               // (N, L, D) vision only
  std::vector<at::Tensor> blocks;  // each (N, L, D)
};

// Input with the clip axis folded into the batch: a 5-D (audio) or 6-D (video) input
// (B, S, ...) becomes (B·S, ...), sample-major, clip-minor.
struct FlatInput {
  at::Tensor x;      // (N, ...) with N = B·S (or B)
  int64_t batch = 0; // B
  int64_t clips = 1; // S (1 when the input had no clip axis)
};

// Causal text: nothing after the batch's last end-of-text token reaches any end-of-text
// output, so embedding paths cut the trunk input there: tokens (N, 77, D) and ids (N, 77) →
// (N, keep, D), keep = 1 + last end-of-text position (typically ~10). The pooled embedding is
// unchanged up to float rounding; the trunk is ~8x cheaper.
at::Tensor cut_causal_text(const at::Tensor& tokens, const at::Tensor& ids);

class ImageBindModel {
 public:
  ImageBindModel() = default;
  // Builds the towers of `which` (all of cfg's modalities when empty) with random weights
  // initialised like the reference constructors (seeded, fp32, CPU).
  ImageBindModel(const ImageBindConfig& cfg, std::vector<Modality> which, uint64_t seed);
  // Same towers with NO tensors allocated: for load() (no wasted random Huge init).
  ImageBindModel(const ImageBindConfig& cfg, std::vector<Modality> which);

  std::map<std::string, at::Tensor> params;  // state-dict name → tensor

  const ImageBindConfig& config() const { return cfg_; }
  const std::vector<Modality>& modalities() const { return which_; }
  bool has(Modality m) const;

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
  FlatInput flatten_clips(Modality m, const at::Tensor& input) const;
  // Stem output before cls/pos: (N, P, D); vision Conv3d tokens (no LN), text embedding
  // lookup (N, 77, D), others after the stem LN (eps 1e-5). IMU: unfold-linear.
  at::Tensor stem(Modality m, const at::Tensor& flat_input) const;
  // Preprocessor output = trunk input: (N, L, D) = stem + cls + pos (vision pos interpolated
  // for other square sizes). Accepts clip inputs (5-D/6-D) and folds them into N = B·S.
  at::Tensor tokens(Modality m, const at::Tensor& input) const;
  // Trunk (vision pre-LN + blocks): (N, L, D) → (N, L, D). `lora` adapts chosen blocks.
  at::Tensor trunk(Modality m, const at::Tensor& tokens, const LoraAdapters* lora = nullptr,
                   TrunkTrace* trace = nullptr) const;
  // Head on every token: LN then projection → (N, L, out). Not for text.
  at::Tensor head_all_tokens(Modality m, const at::Tensor& trunk_out) const;
  // Head: (N, out). Non-text: LN all, token 0, project. Text: token at argmax(text_ids), LN, project.
  at::Tensor head(Modality m, const at::Tensor& trunk_out, const at::Tensor& text_ids = {}) const;
  // L2-normalise (eps 1e-12) then × min(exp(log_logit_scale), max) where the modality has one.
  at::Tensor postprocess(Modality m, const at::Tensor& head_out) const;
  // The applied scale min(exp(s), max) as a 0-dim tensor; 1 when the modality has none.
  at::Tensor logit_scale(Modality m) const;
  // tokens → trunk → head for a flat batch (no clip folding): (N, out), before the
  // postprocessor. Causal text is cut after the last end-of-text token (cut_causal_text).
  at::Tensor head_embedding(Modality m, const at::Tensor& input, const LoraAdapters* lora = nullptr) const;
  // The reference forward: (B, out); for clip inputs the mean over S of postprocess (not
  // re-normalised).
  at::Tensor embed(Modality m, const at::Tensor& input, const LoraAdapters* lora = nullptr) const;

  // Positional embedding (1, L, D) as stored.
  at::Tensor pos_embed(Modality m) const;
  // Positional embedding for a vision patch count other than the stored one (docs/imagebind.md §3.3).
  at::Tensor pos_embed_for(Modality m, int64_t num_patches) const;

  // ---- parameters ---------------------------------------------------------------------------
  std::vector<std::string> param_names(Modality m) const;  // state-dict order
  NamedTensors named_params(Modality m) const;
  // The tower's weights a full fine-tune trains (every floating tensor but the text mask and
  // the logit scale), switched to requires_grad; the tensors are shared, not copied.
  NamedTensors trainable_params(Modality m);
  const at::Tensor& param(const std::string& name) const;  // InternalError naming a missing key
  int64_t num_params(Modality m) const;
  // Moves/casts every floating tensor (the text mask stays fp32 → cast too; ids stay int).
  void to(at::Device device, at::ScalarType dtype = at::kFloat);
  at::Device device() const;
  at::ScalarType dtype() const;
  // Drop-path, IMU head dropout: active only in train mode (eval = identity, the default).
  void train(bool on = true) { training_ = on; }
  bool is_training() const { return training_; }
  void seed_dropout(uint64_t seed);

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

}  // namespace cb
