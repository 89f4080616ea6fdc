// step_losses.h — the loss terms of one CodeBind training step (spec §8), on the outputs of
// the quantiser. Shapes: z_c, z_s (B, L, d) per token; CLS = token 0.
#pragma once
#include <torch/torch.h>

namespace cb::step {

// §8.1: symmetric InfoNCE, directions SUMMED: (1/B) Σ_i [−log Pcol_ii − log Prow_ii].
at::Tensor info_nce(const at::Tensor& a, const at::Tensor& b, double tau);
// §8.3: (1/B) Σ_b ‖Zc_b Zs_bᵀ‖_F over all L×L token pairs (not squared).
at::Tensor orthogonality(const at::Tensor& zc, const at::Tensor& zs);
// §8.4: log mean_{i<j} exp(−‖s_i − s_j‖²) over (B, d) specific CLS embeddings.
at::Tensor uniformity(const at::Tensor& s);
// The un-quantised specific CLS as L_uni's input when `uniformity_on: raw`: the last d_s
// features of e_cls (B, d_c + d_s), normalised per c-dim chunk as the quantiser sees them →
// (B, d_s). Unlike the quantised CLS it keeps a gradient when every item picks the same codes.
at::Tensor specific_cls_unit(const at::Tensor& e_cls, int64_t shared_dim, int64_t chunk);
// §8.6 / §13.1: cross-modal code matching on shared-codebook similarities of the CLS chunks,
// sim_a, sim_b (B, m, K): per chunk p = softmax_k(sim), G[m,n] = Σ_k p_a log p_b + log p_a p_b,
// cross-entropy over n with target m, mean over chunks and batch. Gradient flows iff the
// similarities carry one (paper mode: from the non-detached unit chunks).
at::Tensor code_matching(const at::Tensor& sim_a, const at::Tensor& sim_b);
// The chunk–codeword cosine similarities (B, m, K) of unit chunks (B, m, c) and a codebook
// (K, c) (normalised here, never differentiated).
at::Tensor chunk_similarity(const at::Tensor& unit_chunks, const at::Tensor& codebook);

}  // namespace cb::step
