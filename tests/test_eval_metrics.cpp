// test_eval_metrics.cpp — hand-computed cases for zero-shot top-k, average precision (the
// scikit-learn documented example), multi-label mAP, Recall@K / retrieval mAP and codebook
// statistics.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "eval/codebook_stats.h"
#include "eval/retrieval.h"
#include "eval/zero_shot.h"

namespace cb::eval {
namespace {

at::Tensor F(std::vector<float> v, std::vector<int64_t> shape) {
  return torch::tensor(v, torch::kFloat).reshape(shape);
}
at::Tensor L(std::vector<int64_t> v) { return torch::tensor(v, torch::kLong); }

TEST(EvalZeroShot, ClassifierColumnsAreUnitMeansOverTemplates) {
  torch::manual_seed(0);
  at::Tensor prompts = torch::randn({5, 3, 8});  // (C, T, D)
  prompts = prompts / prompts.norm(2, {2}, true);
  at::Tensor W = build_text_classifier(prompts);  // (D, C)
  ASSERT_EQ(W.size(0), 8);
  ASSERT_EQ(W.size(1), 5);
  EXPECT_TRUE(torch::allclose(W.norm(2, {0}), torch::ones({5}), 1e-5, 1e-6));
  // Column c is parallel to the template mean of class c.
  at::Tensor mean = prompts.mean(1);  // (C, D)
  for (int c = 0; c < 5; ++c) {
    const double cos = (W.select(1, c) * mean[c]).sum().item<double>() / mean[c].norm().item<double>();
    EXPECT_NEAR(cos, 1.0, 1e-5);
  }
  EXPECT_THROW(build_text_classifier(torch::randn({5, 8})), InputError);
}

TEST(EvalZeroShot, TopKHandComputed) {
  // 4 items, 6 classes; true classes ranked 1st, 3rd, 6th, (unlabelled).
  at::Tensor logits = F({9, 1, 2, 3, 4, 5,   //
                         1, 9, 8, 7, 0, 0,   //
                         6, 5, 4, 3, 2, 1,   //
                         0, 0, 0, 0, 0, 0},
                        {4, 6});
  at::Tensor y = L({0, 3, 5, -1});
  EXPECT_DOUBLE_EQ(topk_from_logits(logits, y, 1), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(topk_from_logits(logits, y, 3), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(topk_from_logits(logits, y, 5), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(topk_from_logits(logits, y, 6), 1.0);
  EXPECT_DOUBLE_EQ(topk_from_logits(logits, y, 99), 1.0);  // pruned to C
  // Ties: class 1 ties with class 0 at the top; the lower index wins.
  at::Tensor tie = F({5, 5, 0}, {1, 3});
  EXPECT_DOUBLE_EQ(topk_from_logits(tie, L({0}), 1), 1.0);
  EXPECT_DOUBLE_EQ(topk_from_logits(tie, L({1}), 1), 0.0);
  EXPECT_THROW(topk_from_logits(logits, L({0, 6, 0, 0}), 1), InputError);
}

TEST(EvalZeroShot, TopKAccuracyThroughCosine) {
  // Classifier = identity on 3 classes (D = 3); k5 pruned to 3.
  at::Tensor W = torch::eye(3);
  at::Tensor emb = F({2, 0.1f, 0, 0, 1, 0.5f, 1, 0, 3}, {3, 3});  // argmax 0, 1, 2
  TopK r = topk_accuracy(emb, W, L({0, 2, 2}));
  EXPECT_DOUBLE_EQ(r.top1, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.top5, 1.0);
  EXPECT_EQ(r.k5, 3);
  EXPECT_EQ(r.n, 3);
  at::Tensor logits = zero_shot_logits(emb, W);
  EXPECT_NEAR(logits[1][1].item<double>(), 100.0 / std::sqrt(1.25), 1e-3);
}

TEST(EvalZeroShot, AveragePrecisionSklearnExample) {
  // scikit-learn docs: average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.8333…
  EXPECT_NEAR(average_precision(F({0.1f, 0.4f, 0.35f, 0.8f}, {4}), L({0, 0, 1, 1})), 0.83333333, 1e-7);
  // Tied scores form one threshold: (0.5·0.5) + (0.5·2/3).
  EXPECT_NEAR(average_precision(F({0.5f, 0.5f, 0.2f}, {3}), L({1, 0, 1})), 0.25 + 1.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(average_precision(F({3, 2, 1}, {3}), L({1, 1, 0})), 1.0);
  EXPECT_TRUE(std::isnan(average_precision(F({3, 2, 1}, {3}), L({0, 0, 0}))));
}

TEST(EvalZeroShot, MultiLabelMap) {
  at::Tensor scores = F({0.9f, 0.9f, 0.1f, 0.8f, 0.4f, 0.3f, 0.2f, 0.7f}, {4, 2});
  at::Tensor targets = L({1, 0, 0, 1, 1, 1, 0, 0}).reshape({4, 2});
  // class 0: 0.9 T, 0.4 T, 0.2 F, 0.1 F → 1. class 1: 0.9 F, 0.8 T, 0.7 F, 0.3 T → 0.5·0.5 + 0.5·0.5.
  EXPECT_NEAR(multilabel_map(scores, targets), (1.0 + 0.5) / 2.0, 1e-12);
  // A class without positives is skipped.
  at::Tensor t2 = L({1, 0, 0, 0, 1, 0, 0, 0}).reshape({4, 2});
  EXPECT_NEAR(multilabel_map(scores, t2), 1.0, 1e-12);
}

TEST(EvalRetrieval, RecallAndMapHandComputed) {
  // 3 queries × 4 gallery items.
  at::Tensor sim = F({0.9f, 0.8f, 0.1f, 0.0f,    // relevant {1}: rank 2
                      0.1f, 0.2f, 0.3f, 0.4f,    // relevant {0, 3}: ranks 1 and 4
                      0.5f, 0.4f, 0.3f, 0.2f},   // relevant {}: skipped
                     {3, 4});
  at::Tensor rel = L({0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0}).reshape({3, 4}).to(torch::kBool);
  RetrievalMetrics m = retrieval_metrics(sim, rel, {1, 2, 5});
  EXPECT_EQ(m.n_queries, 2);
  EXPECT_DOUBLE_EQ(m.recall_at(1), 0.5);
  EXPECT_DOUBLE_EQ(m.recall_at(2), 1.0);
  EXPECT_DOUBLE_EQ(m.recall_at(5), 1.0);
  EXPECT_TRUE(std::isnan(m.recall_at(10)));
  // AP q0 = 1/2; AP q1 = 0.5·1 + 0.5·(2/4) = 0.75.
  EXPECT_NEAR(m.map, (0.5 + 0.75) / 2.0, 1e-12);
}

TEST(EvalRetrieval, ByLabelAndByPairing) {
  // Queries along the axes; gallery = same directions permuted.
  at::Tensor q = torch::eye(3);
  at::Tensor g = F({0, 1, 0, 0, 0, 1, 1, 0, 0}, {3, 3});
  RetrievalMetrics p = retrieve_by_pairing(q, g, L({2, 0, 1}));
  EXPECT_DOUBLE_EQ(p.recall_at(1), 1.0);
  EXPECT_DOUBLE_EQ(p.map, 1.0);
  RetrievalMetrics wrong = retrieve_by_pairing(q, g, L({0, 1, -1}));
  EXPECT_EQ(wrong.n_queries, 2);
  EXPECT_DOUBLE_EQ(wrong.recall_at(1), 0.0);
  // Labels: query 0 (class 7) matches gallery items of class 7 at ranks 1 and 3.
  RetrievalMetrics c = retrieve_by_label(q.slice(0, 0, 1), L({7}), g, L({5, 9, 7}).flip(0).contiguous());
  // gallery labels (7, 9, 5): item 2 (class 5) has sim 1, items 0 and 1 tie at 0 → AP = 1/3.
  EXPECT_DOUBLE_EQ(c.recall_at(1), 0.0);
  EXPECT_DOUBLE_EQ(c.recall_at(5), 1.0);
  EXPECT_NEAR(c.map, 1.0 / 3.0, 1e-12);
  // Multi-hot relevance and groups.
  at::Tensor rel = label_relevance(L({1, 0, 1, 0}).reshape({2, 2}), L({0, 1, 1, 1, 0, 0}).reshape({3, 2}));
  EXPECT_TRUE(torch::equal(rel, L({0, 1, 0, 0, 1, 0}).reshape({2, 3}).to(torch::kBool)));
  at::Tensor gr = group_relevance({"a", "", "b"}, {"b", "", "a"});
  EXPECT_TRUE(torch::equal(gr, L({0, 0, 1, 0, 0, 0, 1, 0, 0}).reshape({3, 3}).to(torch::kBool)));
  EXPECT_THROW(retrieve_by_pairing(q, g, L({3, 0, 1})), InputError);
}

TEST(EvalCodebook, UsagePerplexityDead) {
  CodebookUsage u = codebook_usage(torch::arange(16, torch::kLong).repeat({3}), 16);
  EXPECT_NEAR(u.perplexity, 16.0, 1e-9);
  EXPECT_EQ(u.dead, 0);
  EXPECT_EQ(u.used, 16);
  EXPECT_EQ(u.total, 48);
  CodebookUsage one = codebook_usage(torch::full({4, 5}, 3, torch::kLong), 8);
  EXPECT_NEAR(one.perplexity, 1.0, 1e-12);
  EXPECT_EQ(one.dead, 7);
  EXPECT_EQ(one.counts[3].item<int64_t>(), 20);
  // Two codes, p = (3/4, 1/4): exp(H).
  CodebookUsage two = codebook_usage(L({0, 0, 0, 1}), 4);
  const double H = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25));
  EXPECT_NEAR(two.perplexity, std::exp(H), 1e-12);
  EXPECT_THROW(codebook_usage(L({0, 4}), 4), InputError);
}

TEST(EvalCodebook, SharedCodeOverlap) {
  // m = 2 positions. Class 0: A uses {1} / {2}, B uses {1, 3} / {4} → (1/2 + 0) / 2.
  // Class 1: A uses {5}/{6}, B uses {5}/{6} → 1. Class 2 only in A: ignored.
  at::Tensor ia = L({1, 2, 5, 6, 7, 7}).reshape({3, 2});
  at::Tensor ib = L({1, 4, 3, 4, 5, 6}).reshape({3, 2});
  double o = shared_code_overlap(ia, L({0, 1, 2}), ib, L({0, 0, 1}), 8);
  EXPECT_NEAR(o, (0.5 + 0.0 + 1.0 + 1.0) / 4.0, 1e-12);
  EXPECT_TRUE(std::isnan(shared_code_overlap(ia, L({0, 0, 0}), ib, L({1, 1, 1}), 8)));
}

}  // namespace
}  // namespace cb::eval
