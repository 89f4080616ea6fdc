// losses.h — CodeBind's loss terms as plain functions (spec/codebind.md §8), each with the
// reference's exact form. Inputs carry gradients; the functions do not detach anything
// unless stated.
#pragma once
#include <ATen/ATen.h>

namespace cb {

// Symmetric InfoNCE: S_ij = cos(a_i, b_j)/τ (cosine eps 1e-8); mean_i[−log softmax_col(S)_ii
// − log softmax_row(S)_ii] — the two directions SUMMED. a, b: (B, D).
at::Tensor info_nce(const at::Tensor& a, const at::Tensor& b, double tau);

// Orthogonality: mean over samples of ‖Zc_b · Zs_bᵀ‖_F (not squared). zc, zs: (B, L, D).
at::Tensor orthogonality_loss(const at::Tensor& zc, const at::Tensor& zs);

// Uniformity: log mean_{i<j} exp(−‖s_i − s_j‖²). s: (B, D) (specific CLS embeddings).
at::Tensor uniformity_loss(const at::Tensor& s);

// Cross-modal code matching, reference form (§8.6): sim_a, sim_b (B, m, K) similarities of
// the CLS chunks to the shared codebook; p = softmax_K; logits G_j[x,y] = Σ_k p_a log p_b +
// log p_a p_b (log with +1e-10); CE over y with target x, mean over chunks and batch.
at::Tensor code_matching_loss(const at::Tensor& sim_a, const at::Tensor& sim_b);

// The same loss on similarities as given (no detaching): gradients flow iff they carry one.
at::Tensor code_matching_from_similarities(const at::Tensor& sim_a, const at::Tensor& sim_b);

// Paper-intent code matching (§13 item 1): the same loss on similarities computed from the
// NON-detached normalised CLS chunks unit_a, unit_b (B, m, c) and the normalised codebook
// (K, c), so gradients reach the encoders/heads.
at::Tensor code_matching_loss_with_grad(const at::Tensor& unit_a, const at::Tensor& unit_b,
                                        const at::Tensor& codebook_normalized);

// Codevector contrastive term on one codebook's similarities (N, K): per row positive = mean
// of the top ⌊K/10⌋, negatives = lowest ⌊K/2⌋; softmax then CE with target 0 (the
// reference's double softmax). Logged only.
at::Tensor codevector_contrastive(const at::Tensor& sim);

// Codevector uniformity: log mean_{k<l} exp(−‖Ĉ_k − Ĉ_l‖²) on the row-normalised codebook.
at::Tensor codevector_uniformity(const at::Tensor& codebook);

}  // namespace cb
