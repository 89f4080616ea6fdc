// evaluate.h — the whole evaluation on saved embeddings: zero-shot top-1/top-5 per
// modality, cross-modal retrieval (Recall@1/5/10 and mAP, by class and by pairing) for every
// ordered modality pair, private-detail probes for every manifest attribute on the specific /
// shared / concat embeddings, same-attribute retrieval, and codebook diagnostics.
// Output is the `metrics.json` object (layout in docs/evaluation.md); report/report.h's
// compare_runs renders the baseline-vs-CodeBind Markdown table from two such objects.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "eval/embedding_set.h"
#include "eval/probes.h"

namespace cb::eval {

struct EvalOptions {
  bool zero_shot = true;
  bool retrieval = true;
  bool probes = true;
  bool codebook = true;
  std::vector<int64_t> recall_ks = {1, 5, 10};
  int64_t attr_retrieval_k = 10;  // precision@k of same-attribute retrieval
  ProbeOptions probe;             // seed, grids, kNN k
  // Codebook sizes; when ≤ 0 taken from set.meta ("shared_codebook_size",
  // "specific_codebook_size"), else from the max index + 1.
  int64_t shared_codebook_size = 0;
  int64_t specific_codebook_size = 0;
  // Restrict to these modalities (empty = all present in `test`).
  std::vector<std::string> modalities;
  // Modality pairs seen together in training (unordered). When given, every retrieval entry
  // carries "emergent": true for pairs not in this list (e.g. audio↔text, imu↔audio).
  std::vector<std::pair<std::string, std::string>> trained_pairs;
};

// metrics.json object:
// {
//  "split": "test", "classes": C,
//  "zero_shot":  {mod: {"top1", "top5", "k5", "n"}},
//  "retrieval":  {"a->b": {"class": {"r1","r5","r10","map","n","chance_r1"}, "paired": {…}?,
//                 "emergent": bool?}},
//  "probes":     {mod: {attr: {"type": "categorical"|"continuous", "n_train", "n_test",
//                 "majority"?, "n_values"?,
//                 "<emb>": {"linear_acc","knn_acc","p@k"} | {"linear_r2","knn_r2"}}}},
//  "codebook":   {"shared": {mod|"all": {"K","used","dead","perplexity"}}, "specific": {…},
//                 "shared_overlap": {"a|b": x}}
// }
// All accuracies / recalls / mAP are fractions in [0, 1]. `train` supplies probe training
// data (same modalities; may lack some — those probes are skipped).
nlohmann::json evaluate_embeddings(const EmbeddingSet& train, const EmbeddingSet& test,
                                   const EvalOptions& opt = {});

}  // namespace cb::eval
