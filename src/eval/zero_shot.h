// zero_shot.h — zero-shot classification through text prompts (docs/model.md §7.2): the
// template-averaged text classifier, top-k accuracy with logits 100·cos, and the multi-label
// mean average precision (scikit-learn's average-precision definition, AudioSet protocol).
// Pure tensor-in, numbers-out: no model code. All tensors are CPU or CUDA; results are doubles.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>

namespace cb::eval {

// Text classifier from prompt embeddings.
//   prompt_emb: (C, T, D) one embedding per class per template (already quantised z_c and
//               L2-normalised by the caller, docs/model.md §7.2).
// Returns (D, C): per class the mean over templates, L2-normalised (unit columns).
// Throws InputError when the shape is not 3-D or C, T or D is 0.
at::Tensor build_text_classifier(const at::Tensor& prompt_emb);

// Logits 100·cos(emb, class column).
//   emb: (N, D) any norm (normalised here), classifier: (D, C) unit columns → (N, C) float.
at::Tensor zero_shot_logits(const at::Tensor& emb, const at::Tensor& classifier);

// Top-k accuracies as fractions in [0, 1]. k is pruned to the class count (top5 = top-min(5,C)).
struct TopK {
  double top1 = 0.0;
  double top5 = 0.0;
  int64_t k5 = 5;  // the k actually used for "top5" (min(5, C))
  int64_t n = 0;   // number of scored items (label ≥ 0)
};

// Fraction of rows of `logits` (N, C) whose label (N, int64) is among the k highest logits.
// Items with label < 0 are skipped. k is clamped to [1, C]. Ties are broken by the lower class
// index (stable descending sort), so the result is deterministic.
double topk_from_logits(const at::Tensor& logits, const at::Tensor& labels, int64_t k);

// Zero-shot top-1 / top-5 for embeddings `emb` (N, D), classifier (D, C), labels (N) int64.
TopK topk_accuracy(const at::Tensor& emb, const at::Tensor& classifier, const at::Tensor& labels);

// Average precision of one ranking, scikit-learn definition:
//   AP = Σ_n (R_n − R_{n−1}) · P_n  over the distinct score thresholds in decreasing order
// (tied scores form one threshold). scores (N) float, targets (N) bool/0-1.
// Returns NaN when there is no positive (scikit-learn warns and returns nan-like; callers skip).
double average_precision(const at::Tensor& scores, const at::Tensor& targets);

// Multi-label mAP: per class average_precision over all N items, mean over the classes with
// at least one positive. scores (N, C), targets (N, C) 0/1.
double multilabel_map(const at::Tensor& scores, const at::Tensor& targets);

// AudioSet protocol score (docs/model.md §7.2): (100·cos + 1)/2 per class — a monotone map of the
// logits, so AP is unchanged; provided for parity with the reference's numbers.
at::Tensor multilabel_scores(const at::Tensor& emb, const at::Tensor& classifier);

}  // namespace cb::eval
