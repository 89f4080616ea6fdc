// losses.h — CodeBind's objective, one function per term of the paper (docs/model.md §5),
// each in the reference's exact form. Shapes: z_c, z_s (B, L, d) per token; CLS = token 0.
// Inputs carry gradients; no function detaches anything unless stated. The commitment term
// L_vq is computed inside the quantiser (quant/codebook.h).
#pragma once
#include <ATen/ATen.h>

namespace cb {

// L_align, §5.1: symmetric InfoNCE. S_ij = cos(a_i, b_j)/τ (cosine eps 1e-8);
// (1/B) Σ_i [−log softmax_col(S)_ii − log softmax_row(S)_ii], the two directions SUMMED.
// a, b: (B, D).
at::Tensor info_nce(const at::Tensor& a, const at::Tensor& b, double tau);

// L_orth, §5.3: (1/B) Σ_b ‖Zc_b Zs_bᵀ‖_F over all L×L token pairs (not squared).
// zc, zs: (B, L, D).
at::Tensor orthogonality_loss(const at::Tensor& zc, const at::Tensor& zs);

// L_uni, §5.4: log mean_{i<j} exp(−‖s_i − s_j‖²). s: (B, D) specific CLS embeddings.
at::Tensor uniformity_loss(const at::Tensor& s);

// L_uni's input when `uniformity_on: raw`: the last d_s features of e_cls (B, d_c + d_s),
// normalised per c-dim chunk as the quantiser sees them → (B, d_s). Unlike the quantised CLS
// it keeps a gradient when every item picks the same codes.
at::Tensor specific_cls_unit(const at::Tensor& e_cls, int64_t shared_dim, int64_t chunk);

// The chunk–codeword cosine similarities (B, m, K) of unit chunks (B, m, c) and a codebook
// (K, c) (normalised here, never differentiated).
at::Tensor chunk_similarity(const at::Tensor& unit_chunks, const at::Tensor& codebook);

// L_cm, §5.6: cross-modal code matching on shared-codebook similarities of the CLS
// chunks, sim_a, sim_b (B, m, K): per chunk p = softmax_K(sim); logits G[x, y] =
// Σ_k p_a log p_b + log p_a p_b (log with +1e-10); cross-entropy over y with target x, mean
// over chunks and batch. The gradient flows iff the similarities carry one: the paper's
// form takes them from the non-detached unit chunks, the reference's from detached ones.
at::Tensor code_matching_loss(const at::Tensor& sim_a, const at::Tensor& sim_b);

// Codevector contrastive term on one codebook's similarities (N, K) (logged only): per row
// positive = mean of the top ⌊K/10⌋, negatives = the lowest ⌊K/2⌋; softmax, then CE with
// target 0 (the reference's double softmax).
at::Tensor codevector_contrastive(const at::Tensor& sim);

// L_reg: codevector uniformity, log mean_{k<l} exp(−‖Ĉ_k − Ĉ_l‖²) on the row-normalised codebook.
at::Tensor codevector_uniformity(const at::Tensor& codebook);

}  // namespace cb
