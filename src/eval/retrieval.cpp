// retrieval.cpp — Recall@K and mAP of a similarity matrix under a relevance mask (retrieval.h).
#include "eval/retrieval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "core/error.h"
#include "eval/ranking.h"
#include "core/shape_str.h"

namespace cb::eval {


double RetrievalMetrics::recall_at(int64_t k) const {
  for (size_t i = 0; i < ks.size(); ++i)
    if (ks[i] == k) return recall[i];
  return std::numeric_limits<double>::quiet_NaN();
}

RetrievalMetrics retrieval_metrics(const at::Tensor& sim, const at::Tensor& relevant,
                                   const std::vector<int64_t>& ks) {
  CB_CHECK_INPUT(sim.dim() == 2 && relevant.dim() == 2 && sim.size(0) == relevant.size(0) &&
                     sim.size(1) == relevant.size(1),
                 "retrieval: similarity {} and relevance {} must both be (Q, G)", shape_str(sim),
                 shape_str(relevant));
  for (int64_t k : ks) CB_CHECK_INPUT(k >= 1, "retrieval: K must be ≥ 1, got {}", k);
  const int64_t Q = sim.size(0), G = sim.size(1);
  at::Tensor s = sim.to(at::kCPU).to(at::kDouble).contiguous();
  at::Tensor r = (relevant.to(at::kCPU) != 0).to(at::kByte).contiguous();
  const double* sp = s.data_ptr<double>();
  const uint8_t* rp = r.data_ptr<uint8_t>();

  RetrievalMetrics m;
  m.ks = ks;
  m.recall.assign(ks.size(), 0.0);
  std::vector<double> row(G);
  std::vector<uint8_t> rel(G);
  std::vector<int64_t> order(G);
  double ap_sum = 0;
  for (int64_t q = 0; q < Q; ++q) {
    std::copy(sp + q * G, sp + (q + 1) * G, row.begin());
    std::copy(rp + q * G, rp + (q + 1) * G, rel.begin());
    if (std::none_of(rel.begin(), rel.end(), [](uint8_t v) { return v != 0; })) continue;
    ++m.n_queries;
    std::iota(order.begin(), order.end(), int64_t{0});
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[a] > row[b]; });
    int64_t first_hit = G;
    for (int64_t i = 0; i < G; ++i)
      if (rel[order[i]]) { first_hit = i; break; }
    for (size_t j = 0; j < ks.size(); ++j)
      if (first_hit < ks[j]) m.recall[j] += 1.0;
    ap_sum += detail::average_precision(row, rel);
  }
  if (m.n_queries == 0) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::fill(m.recall.begin(), m.recall.end(), nan);
    m.map = nan;
    return m;
  }
  for (double& v : m.recall) v /= double(m.n_queries);
  m.map = ap_sum / double(m.n_queries);
  return m;
}

at::Tensor label_relevance(const at::Tensor& query_labels, const at::Tensor& gallery_labels) {
  CB_CHECK_INPUT(query_labels.dim() == gallery_labels.dim() && query_labels.dim() >= 1 && query_labels.dim() <= 2,
                 "retrieval: query labels {} and gallery labels {} must both be (N) or both (N, C)",
                 shape_str(query_labels), shape_str(gallery_labels));
  at::Tensor ql = query_labels.to(at::kCPU).to(at::kLong);
  at::Tensor gl = gallery_labels.to(at::kCPU).to(at::kLong);
  if (ql.dim() == 1)
    return (ql.unsqueeze(1) == gl.unsqueeze(0)) & (ql.unsqueeze(1) >= 0);  // (Q, G)
  CB_CHECK_INPUT(ql.size(1) == gl.size(1), "retrieval: multi-hot labels with {} vs {} classes", ql.size(1),
                 gl.size(1));
  return at::matmul((ql != 0).to(at::kFloat), (gl != 0).to(at::kFloat).t()) > 0.5;  // (Q, G)
}

at::Tensor pairing_relevance(const at::Tensor& gt_index, int64_t gallery_size) {
  CB_CHECK_INPUT(gt_index.dim() == 1, "retrieval: ground-truth index must be (Q), got {}", shape_str(gt_index));
  at::Tensor gt = gt_index.to(at::kCPU).to(at::kLong);
  if (gt.numel() > 0) {
    const int64_t mx = gt.max().item<int64_t>();
    CB_CHECK_INPUT(mx < gallery_size, "retrieval: ground-truth index {} out of range for a gallery of {}", mx,
                   gallery_size);
  }
  at::Tensor cols = at::arange(gallery_size, at::kLong);
  return gt.unsqueeze(1) == cols.unsqueeze(0);  // (Q, G); −1 matches nothing
}

at::Tensor group_relevance(const std::vector<std::string>& query_groups,
                           const std::vector<std::string>& gallery_groups) {
  std::map<std::string, int64_t> ids;
  auto code = [&](const std::string& g) -> int64_t {
    if (g.empty()) return -1;
    return ids.emplace(g, int64_t(ids.size())).first->second;
  };
  at::Tensor q = at::empty({int64_t(query_groups.size())}, at::kLong);
  at::Tensor g = at::empty({int64_t(gallery_groups.size())}, at::kLong);
  for (size_t i = 0; i < query_groups.size(); ++i) q[i] = code(query_groups[i]);
  for (size_t i = 0; i < gallery_groups.size(); ++i) g[i] = code(gallery_groups[i]);
  return label_relevance(q, g);
}

at::Tensor cosine_similarity_matrix(const at::Tensor& query, const at::Tensor& gallery) {
  CB_CHECK_INPUT(query.dim() == 2 && gallery.dim() == 2 && query.size(1) == gallery.size(1),
                 "retrieval: query {} and gallery {} must be (Q, D) and (G, D)", shape_str(query),
                 shape_str(gallery));
  at::Tensor a = query.to(at::kFloat), b = gallery.to(a.device()).to(at::kFloat);
  a = a / a.norm(2, {1}, true).clamp_min(1e-12);
  b = b / b.norm(2, {1}, true).clamp_min(1e-12);
  return at::matmul(a, b.t());  // (Q, G)
}

RetrievalMetrics retrieve_by_label(const at::Tensor& query, const at::Tensor& query_labels,
                                   const at::Tensor& gallery, const at::Tensor& gallery_labels,
                                   const std::vector<int64_t>& ks) {
  CB_CHECK_INPUT(query_labels.size(0) == query.size(0) && gallery_labels.size(0) == gallery.size(0),
                 "retrieval: {} queries with {} labels, {} gallery items with {} labels", query.size(0),
                 query_labels.size(0), gallery.size(0), gallery_labels.size(0));
  return retrieval_metrics(cosine_similarity_matrix(query, gallery), label_relevance(query_labels, gallery_labels),
                           ks);
}

RetrievalMetrics retrieve_by_pairing(const at::Tensor& query, const at::Tensor& gallery, const at::Tensor& gt_index,
                                     const std::vector<int64_t>& ks) {
  CB_CHECK_INPUT(gt_index.dim() == 1 && gt_index.size(0) == query.size(0),
                 "retrieval: {} queries but ground truth {}", query.size(0), shape_str(gt_index));
  return retrieval_metrics(cosine_similarity_matrix(query, gallery), pairing_relevance(gt_index, gallery.size(0)),
                           ks);
}

}  // namespace cb::eval
