// codebind_quantiser.h — the CodeBind model's view of the compositional quantiser: builds a
// quant/MultimodalQuantiser from the training config (sizes, standard-VQ / separate-codebook
// / codebook-only ablations, per-rank switch) and adds what a training run needs around it:
// the "no VQ" ablation (identity), and checkpointable state (codebooks, k-means flags and the
// codebooks' random generators, so that a resumed run matches an uninterrupted one).
#pragma once
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>

#include "core/modality.h"
#include "io/safetensors.h"
#include "quant/multimodal_quantiser.h"
#include "train/train_config.h"

namespace cb {

struct MvqOutput {
  at::Tensor z_c;               // (B, L, d_c) or (B, d_c) for text: n(quantised shared half)
  at::Tensor z_s;               // (B, L, d_s) or undefined (text / no specific part)
  at::Tensor z;                 // (B, L, d_c + d_s): n([q_c ; q_s]); text: = z_c
  at::Tensor commit;            // scalar: shared + specific commitment
  at::Tensor shared_indices;    // (B, L, m_c) int64 (undefined without VQ)
  at::Tensor specific_indices;  // (B, L, m_s) int64
  at::Tensor shared_unit;       // (B, L, m_c, c) normalised shared chunks with gradient
};

class CodeBindQuantiser {
 public:
  CodeBindQuantiser(const TrainConfig& cfg, uint64_t seed);
  // x: (B, L, d_c + d_s) non-text or (B, d_c) text; tokens = L (1 for text / CLS only).
  MvqOutput forward(const at::Tensor& x, Modality m, bool training, int64_t tokens);
  // "<codebook>.{weight,cluster_size,embed_avg,embed_prob,initted,rng}"; tensors alias the live
  // state, so copying into them and calling after_load() restores a checkpoint.
  NamedTensors named_state() const;
  void after_load();
  at::Tensor shared_codebook() const { return mvq_->shared_codebook().weight; }
  MultimodalQuantiser& mvq() { return *mvq_; }
  void set_communicator(std::shared_ptr<Communicator> comm) { mvq_->set_communicator(std::move(comm)); }

 private:
  std::vector<std::pair<std::string, Codebook*>> books() const;
  TrainConfig cfg_;
  std::unique_ptr<MultimodalQuantiser> mvq_;
  mutable std::map<std::string, at::Tensor> initted_, rng_;  // checkpoint mirrors
};

}  // namespace cb
