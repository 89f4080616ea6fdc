// codebook_stats.h — codebook diagnostics from code-index tensors: usage histogram,
// perplexity exp(H(p)), dead codes, and codes shared across modalities per class.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>

namespace cb::eval {

struct CodebookUsage {
  at::Tensor counts;        // (K) int64: how often each code id occurs in `indices`
  int64_t total = 0;        // number of indices counted
  int64_t used = 0;         // codes with count > 0
  int64_t dead = 0;         // codes with count == 0 (K − used)
  double perplexity = 0.0;  // exp(−Σ p log p), p = counts / total; = K for uniform usage, 1 for one code
};

// indices: any shape, int64 in [0, K). Throws InputError on out-of-range ids or K ≤ 0.
CodebookUsage codebook_usage(const at::Tensor& indices, int64_t K);

// Codes shared across two modalities per class. idx_a (Na, m), idx_b (Nb, m) shared-codebook
// ids per chunk position; labels (N) int64. For every class c present in both and every chunk
// position j: S_a = {ids used at j by A-items of class c}, S_b likewise;
// overlap = |S_a ∩ S_b| / |S_a ∪ S_b| (Jaccard). Returns the mean over (c, j); NaN when no class
// is present in both.
double shared_code_overlap(const at::Tensor& idx_a, const at::Tensor& labels_a,
                           const at::Tensor& idx_b, const at::Tensor& labels_b, int64_t K);

}  // namespace cb::eval
