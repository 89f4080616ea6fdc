// mvq_fallback.h — a minimal compositional multimodal quantiser (spec §7) used by the CodeBind
// model until the quant area's MultimodalQuantiser lands on this branch. It implements the
// faithful core only: one shared codebook (K_c × c) for every modality, one specific codebook
// (K_s × c) per non-text modality, chunk normalisation, cosine argmax, straight-through
// estimator, EMA update (γ, Laplace ε), k-means initialisation from the CLS chunks of the
// first batch, random dead-code re-seeding, commitment β·mean((sg(q) − û)²). Ablations:
// use_vq = false (identity, no codebook), standard_vq (codevector = the whole half),
// separate_codebooks (a modality's own codebook for its shared half; text keeps the shared one).
// No cross-process synchronisation (single process).
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>

#include "core/modality.h"
#include "io/safetensors.h"
#include "train/train_config.h"

namespace cb {

struct MvqOutput {
  at::Tensor z_c;               // (B, L, d_c) or (B, d_c) for text: n(quantised shared half)
  at::Tensor z_s;               // (B, L, d_s) or undefined (text / no specific part)
  at::Tensor z;                 // (B, L, d_c + d_s): n([q_c ; q_s]); text: = z_c
  at::Tensor commit;            // scalar: shared + specific commitment
  at::Tensor shared_indices;    // (B, L, m_c) int64 (undefined without VQ)
  at::Tensor specific_indices;  // (B, L, m_s) int64
};

// One EMA codebook (K × c).
struct EmaCodebook {
  int64_t K = 0, c = 0;
  at::Tensor weight, cluster_size, embed_avg, embed_prob, initted;  // (K,c) (K) (K,c) (K) (1)
  EmaCodebook() = default;
  EmaCodebook(int64_t K, int64_t c, torch::Generator& g);
  // u: (N0, m, c) unit chunks (N0 = B·L); cls_rows: rows of u that are CLS tokens (k-means).
  // Returns q̃ (STE, (N0, m, c)), indices (N0, m), commitment (scalar).
  std::tuple<at::Tensor, at::Tensor, at::Tensor> forward(const at::Tensor& u, const at::Tensor& cls_rows, bool training,
                                                         double decay, double eps, double beta, int kmeans_iters,
                                                         torch::Generator& g);
};

class FallbackQuantiser {
 public:
  FallbackQuantiser(const TrainConfig& cfg, uint64_t seed);
  // x: (B, L, d_c + d_s) non-text or (B, d_c) text; tokens = L (1 for text / CLS only).
  MvqOutput forward(const at::Tensor& x, Modality m, bool training, int64_t tokens);
  NamedTensors named_state() const;  // "<codebook>.{weight,cluster_size,embed_avg,embed_prob,initted}", "rng"
  void after_load();
  const at::Tensor& shared_codebook() const { return books_.at("shared").weight; }

 private:
  TrainConfig cfg_;
  int64_t cs_, ss_;  // chunk sizes of the shared / specific halves
  std::map<std::string, EmaCodebook> books_;
  torch::Generator gen_;
  at::Tensor gen_state_;  // mirrors gen_ for checkpoints
};

}  // namespace cb
