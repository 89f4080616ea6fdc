// codebind_release.h — imports a checkpoint folder as the official CodeBind release writes it
// (per-module torch.save state dicts, the quantiser, LoRA safetensors) into a CodeBind run of
// ours: RUN/model.safetensors in our model format and RUN/config.json, which `codebind eval`,
// `embed` and `index` use directly (`codebind convert --codebind-release DIR`, docs/cli/convert.md
// has the layout and the full key mapping).
//
// Release layout (postfix P = "_best" or "_last", <m> a modality):
//   imagebind-<module>-<m>P.pth          module ∈ preprocessors, heads, postprocessors,
//                                        postprocessors_new, heads_mvq, mvq_adapter, trunks,
//                                        decoder_trunk, decoder_head
//   imagebind-vector_quantise-P.pth      the multimodal quantiser (note the '-' before P)
//   imagebind-lora-<m>P.safetensors      LoRA "down" (r, in) / "up" (out, r) per adapted matrix
//
// Where the tensors go (our names, CodeBindModel::state_tensors()):
//   preprocessors/heads/postprocessors/trunks-<m> KEY → "modality_<module>.<m>.KEY" (bridge keys,
//       replacing the --bridge file's values)
//   heads_mvq-<m> 0.weight (D_M) 0.bias (D_M) 1.weight (d_s, D_M) (imu: 2.weight, after its
//       Dropout)                    → "specific.<m>.0.weight" / ".0.bias" / ".1.weight"
//   lora-<m> blocks.<i>.attn.in_proj_lora_down (r, D) …  → "lora.modality_trunks.<m>.blocks.<i>.
//       attn.in_proj_weight_lora_down" (out_proj → out_proj.weight, mlp.fc1/fc2 → .weight)
//   vector_quantise mvq_dict.<book>.embedding.{weight (K, c), cluster_size (K), embed_avg (K, c)},
//       .embed_prob (K), .initted (1) → "quant.<shared|specific_<m>>.<field>"
//   decoder_trunk-<m> / decoder_head-<m> → "decoder.<m>.*" (the release's shared-position-embedding
//       decoder with input projection; head deconv → decoder_pred)
// Ignored, by design: postprocessors_new (the outer logit scale of the release's training loss),
// mvq_adapter (never built by the released model), the decoder head's hid_conv/out_conv (never
// called by its forward), an empty text specific head (width 0). Every other key is an error.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "model/codebind_model.h"
#include "model/model_config.h"

namespace cb {

struct ReleaseImport {
  std::unique_ptr<CodeBindModel> model;  // every imported tensor copied in; bridge from --bridge
  std::vector<std::string> files;        // the release files read
  std::vector<std::string> notes;        // one line per thing ignored or kept from initialisation
  int64_t imported = 0;                  // tensors copied from the release
};

// Reads and checks the release folder `dir` (files with `postfix`, "_best" or "_last") on top of
// the bridge weights `bridge` (imagebind_huge.pth or a converted .safetensors), infers the model
// config from the tensor shapes and copies every tensor into a new model. Nothing is written.
// InputError (one line, naming the file) for a missing module file, a wrong shape (key, expected,
// found), an unknown key or file, or a release that does not fit the bridge.
ReleaseImport read_codebind_release(const std::string& dir, const std::string& bridge, const std::string& postfix);

// read_codebind_release, then RUN = `out` (absent or empty; with `force` a previous run is
// replaced): RUN/model.safetensors (CodeBindModel::save with the training config under "config",
// as a trained run) and RUN/config.json. Nothing is written when reading fails.
ReleaseImport import_codebind_release(const std::string& dir, const std::string& bridge, const std::string& postfix,
                                      const std::string& out, bool force);

}  // namespace cb
