// retrieval.h — cross-modal retrieval metrics (docs/model.md §7.3): Recall@K and mean average
// precision of a query set against a gallery, with relevance given either by class
// (a hit is a gallery item sharing a label with the query) or by explicit pairing
// (ground-truth gallery index, e.g. items of the same manifest `group`).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cb::eval {

struct RetrievalMetrics {
  std::vector<int64_t> ks;       // the K of each recall entry (default 1, 5, 10)
  std::vector<double> recall;    // Recall@K, fraction of scored queries with a relevant item in the top K
  double map = 0.0;              // mean over scored queries of the per-query average precision
  int64_t n_queries = 0;         // queries with at least one relevant gallery item
  double recall_at(int64_t k) const;  // NaN when k was not computed
};

// Core routine. sim: (Q, G) similarities (higher = better), relevant: (Q, G) bool.
// Ranking per query: descending similarity, ties by lower gallery index (stable).
// Recall@K: fraction of queries with ≥ 1 relevant item among the first min(K, G).
// AP per query: scikit-learn's definition over the query's row (tied similarities form one
// threshold), mean over queries. Queries with no relevant item are skipped.
RetrievalMetrics retrieval_metrics(const at::Tensor& sim, const at::Tensor& relevant,
                                   const std::vector<int64_t>& ks = {1, 5, 10});

// Relevance by labels. Labels are either (N) int64 class ids (−1 = unlabelled, never relevant)
// or (N, C) multi-hot; two items are relevant when they share a class. → (Q, G) bool.
at::Tensor label_relevance(const at::Tensor& query_labels, const at::Tensor& gallery_labels);

// Relevance by pairing: gt (Q) int64 gallery index per query (−1 = none). → (Q, G) bool.
at::Tensor pairing_relevance(const at::Tensor& gt_index, int64_t gallery_size);

// Relevance by group string (items of the same non-empty group are pairs). → (Q, G) bool.
at::Tensor group_relevance(const std::vector<std::string>& query_groups,
                           const std::vector<std::string>& gallery_groups);

// Convenience: cosine similarity of L2-normalised rows, query (Q, D) × gallery (G, D) → (Q, G).
at::Tensor cosine_similarity_matrix(const at::Tensor& query, const at::Tensor& gallery);

// Class-level cross-modal retrieval: query (Q, D) with labels → gallery (G, D) with labels.
RetrievalMetrics retrieve_by_label(const at::Tensor& query, const at::Tensor& query_labels,
                                   const at::Tensor& gallery, const at::Tensor& gallery_labels,
                                   const std::vector<int64_t>& ks = {1, 5, 10});

// Instance-level retrieval with a ground-truth gallery index per query (−1 = skip).
RetrievalMetrics retrieve_by_pairing(const at::Tensor& query, const at::Tensor& gallery,
                                     const at::Tensor& gt_index,
                                     const std::vector<int64_t>& ks = {1, 5, 10});

}  // namespace cb::eval
