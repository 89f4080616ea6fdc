// zero_shot.cpp — text classifier, top-k accuracy, average precision (see zero_shot.h).
#include "eval/zero_shot.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "eval/ranking.h"
#include "core/shape_str.h"

namespace cb::eval {

namespace detail {

double average_precision(const std::vector<double>& scores, const std::vector<uint8_t>& targets) {
  const size_t n = scores.size();
  CB_CHECK_INPUT(targets.size() == n, "average_precision: {} scores but {} targets", n, targets.size());
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  double positives = 0;
  for (uint8_t t : targets) positives += t ? 1 : 0;
  if (positives == 0) return std::numeric_limits<double>::quiet_NaN();
  double tp = 0, fp = 0, prev_recall = 0, ap = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t j = order[i];
    if (targets[j]) tp += 1; else fp += 1;
    // Close a threshold only after the last item of a tie group.
    if (i + 1 < n && scores[order[i + 1]] == scores[j]) continue;
    const double recall = tp / positives;
    const double precision = tp / (tp + fp);
    ap += (recall - prev_recall) * precision;
    prev_recall = recall;
  }
  return ap;
}

}  // namespace detail

at::Tensor build_text_classifier(const at::Tensor& prompt_emb) {
  CB_CHECK_INPUT(prompt_emb.defined() && prompt_emb.dim() == 3,
                 "build_text_classifier: prompt embeddings must be (C, T, D), got {} dims",
                 prompt_emb.defined() ? prompt_emb.dim() : 0);
  CB_CHECK_INPUT(prompt_emb.size(0) > 0 && prompt_emb.size(1) > 0 && prompt_emb.size(2) > 0,
                 "build_text_classifier: empty prompt embeddings ({}, {}, {})", prompt_emb.size(0),
                 prompt_emb.size(1), prompt_emb.size(2));
  at::Tensor mean = prompt_emb.to(at::kFloat).mean(1);                           // (C, D)
  at::Tensor unit = mean / mean.norm(2, {1}, true).clamp_min(1e-12);              // (C, D)
  return unit.t().contiguous();                                                   // (D, C)
}

at::Tensor zero_shot_logits(const at::Tensor& emb, const at::Tensor& classifier) {
  CB_CHECK_INPUT(emb.dim() == 2 && classifier.dim() == 2 && emb.size(1) == classifier.size(0),
                 "zero-shot: embeddings {} do not match classifier {} (expected (N, D) and (D, C))",
                 shape_str(emb), shape_str(classifier));
  at::Tensor e = emb.to(at::kFloat);
  e = e / e.norm(2, {1}, true).clamp_min(1e-12);
  return 100.0 * at::matmul(e, classifier.to(e.device()).to(at::kFloat));  // (N, C)
}

double topk_from_logits(const at::Tensor& logits, const at::Tensor& labels, int64_t k) {
  CB_CHECK_INPUT(logits.dim() == 2 && labels.dim() == 1 && labels.size(0) == logits.size(0),
                 "top-k: logits {} and labels {} do not match (expected (N, C) and (N))", shape_str(logits),
                 shape_str(labels));
  const int64_t C = logits.size(1);
  CB_CHECK_INPUT(C > 0, "top-k: no classes");
  k = std::clamp<int64_t>(k, 1, C);
  at::Tensor lg = logits.to(at::kCPU).to(at::kDouble).contiguous();
  at::Tensor lb = labels.to(at::kCPU).to(at::kLong).contiguous();
  auto L = lg.accessor<double, 2>();
  auto y = lb.accessor<int64_t, 1>();
  int64_t hits = 0, n = 0;
  for (int64_t i = 0; i < lg.size(0); ++i) {
    const int64_t t = y[i];
    if (t < 0) continue;
    CB_CHECK_INPUT(t < C, "top-k: label {} of item {} is out of range for {} classes", t, i, C);
    ++n;
    // Rank of the true class: classes strictly better, or equal with a lower index.
    int64_t rank = 0;
    for (int64_t c = 0; c < C; ++c)
      if (L[i][c] > L[i][t] || (L[i][c] == L[i][t] && c < t)) ++rank;
    if (rank < k) ++hits;
  }
  return n == 0 ? std::numeric_limits<double>::quiet_NaN() : double(hits) / double(n);
}

TopK topk_accuracy(const at::Tensor& emb, const at::Tensor& classifier, const at::Tensor& labels) {
  at::Tensor logits = zero_shot_logits(emb, classifier);
  TopK r;
  r.k5 = std::min<int64_t>(5, logits.size(1));
  r.top1 = topk_from_logits(logits, labels, 1);
  r.top5 = topk_from_logits(logits, labels, r.k5);
  r.n = (labels.to(at::kCPU) >= 0).sum().item<int64_t>();
  return r;
}

double average_precision(const at::Tensor& scores, const at::Tensor& targets) {
  CB_CHECK_INPUT(scores.dim() == 1 && targets.dim() == 1 && scores.size(0) == targets.size(0),
                 "average precision: scores {} and targets {} must be 1-D of equal length", shape_str(scores),
                 shape_str(targets));
  at::Tensor s = scores.to(at::kCPU).to(at::kDouble).contiguous();
  at::Tensor t = (targets.to(at::kCPU) != 0).to(at::kByte).contiguous();
  std::vector<double> sv(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
  std::vector<uint8_t> tv(t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + t.numel());
  return detail::average_precision(sv, tv);
}

double multilabel_map(const at::Tensor& scores, const at::Tensor& targets) {
  CB_CHECK_INPUT(scores.dim() == 2 && shape_str(scores) == shape_str(targets),
                 "multi-label mAP: scores {} and targets {} must both be (N, C)", shape_str(scores),
                 shape_str(targets));
  double sum = 0;
  int64_t n = 0;
  for (int64_t c = 0; c < scores.size(1); ++c) {
    const double ap = average_precision(scores.select(1, c), targets.select(1, c));
    if (std::isnan(ap)) continue;
    sum += ap;
    ++n;
  }
  return n == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / double(n);
}

at::Tensor multilabel_scores(const at::Tensor& emb, const at::Tensor& classifier) {
  return (zero_shot_logits(emb, classifier) + 1.0) / 2.0;  // (N, C)
}

}  // namespace cb::eval
