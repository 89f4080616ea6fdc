// test_eval_probes.cpp — probes recover a planted factor (accuracy near 1, R² near 1), give
// chance on noise, R² of perfect / constant predictors, same-attribute precision@k, and
// determinism given the seed.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "eval/probes.h"

namespace cb::eval {
namespace {

struct Planted {
  at::Tensor xtr, ytr, xte, yte;
};

// Labels are the argmax of a planted linear map of the features (3 classes, D = 16).
Planted planted_categorical(int64_t n_train, int64_t n_test, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  at::Tensor W = at::randn({16, 3}, gen);
  at::Tensor xtr = at::randn({n_train, 16}, gen), xte = at::randn({n_test, 16}, gen);
  return {xtr, at::matmul(xtr, W).argmax(1), xte, at::matmul(xte, W).argmax(1)};
}

TEST(EvalProbes, LinearProbeRecoversPlantedFactor) {
  Planted p = planted_categorical(600, 300, 1);
  ProbeOptions opt;
  opt.max_iter = 60;
  ProbeResult r = linear_probe(p.xtr, p.ytr, p.xte, p.yte, opt);
  EXPECT_GT(r.score, 0.93);
  EXPECT_EQ(r.n_train, 600);
  EXPECT_EQ(r.n_test, 300);
  // Deterministic given the seed.
  ProbeResult again = linear_probe(p.xtr, p.ytr, p.xte, p.yte, opt);
  EXPECT_EQ(r.score, again.score);
  EXPECT_EQ(r.chosen, again.chosen);
}

TEST(EvalProbes, ProbesGiveChanceOnNoise) {
  auto gen = at::detail::createCPUGenerator(7);
  at::Tensor xtr = at::randn({400, 32}, gen), xte = at::randn({800, 32}, gen);
  at::Tensor ytr = at::randint(4, {400}, gen), yte = at::randint(4, {800}, gen);
  ProbeOptions opt;
  opt.max_iter = 40;
  ProbeResult lin = linear_probe(xtr, ytr, xte, yte, opt);
  ProbeResult nn = knn_probe(xtr, ytr, xte, yte, opt);
  // Chance is 0.25; 800 test items give a standard error of about 0.015.
  EXPECT_NEAR(lin.score, 0.25, 0.07);
  EXPECT_NEAR(nn.score, 0.25, 0.07);
}

TEST(EvalProbes, KnnProbeOnClusters) {
  // Two tight clusters on opposite directions; labels follow the cluster.
  auto gen = at::detail::createCPUGenerator(3);
  at::Tensor centres = at::randn({2, 8}, gen);
  at::Tensor ytr = at::arange(100, at::kLong) % 2, yte = at::arange(50, at::kLong) % 2;
  at::Tensor xtr = centres.index_select(0, ytr) + 0.05 * at::randn({100, 8}, gen);
  at::Tensor xte = centres.index_select(0, yte) + 0.05 * at::randn({50, 8}, gen);
  ProbeOptions opt;
  opt.knn_k = 5;
  EXPECT_DOUBLE_EQ(knn_probe(xtr, ytr, xte, yte, opt).score, 1.0);
  // Unlabelled test items (−1) are dropped.
  at::Tensor yte2 = yte.clone();
  yte2.slice(0, 0, 10).fill_(-1);
  EXPECT_EQ(knn_probe(xtr, ytr, xte, yte2, opt).n_test, 40);
  EXPECT_DOUBLE_EQ(same_attribute_precision_at_k(xtr, ytr, 10), 1.0);
  // Random values: precision@k near the 1/2 chance of sharing a value.
  at::Tensor rnd = at::randint(2, {100}, gen);
  EXPECT_NEAR(same_attribute_precision_at_k(at::randn({100, 8}, gen), rnd, 10), 0.5, 0.1);
}

TEST(EvalProbes, R2Definition) {
  at::Tensor t = torch::tensor({1.0, 2.0, 4.0, 7.0});
  EXPECT_DOUBLE_EQ(r2_score(t, t), 1.0);
  EXPECT_NEAR(r2_score(torch::full({4}, 3.5), t), 0.0, 1e-12);  // the mean
  // SS_res = 1+0+0+1 = 2, SS_tot = 6.25+2.25+0.25+12.25 = 21 → 1 − 2/21.
  EXPECT_NEAR(r2_score(torch::tensor({2.0, 2.0, 4.0, 6.0}), t), 1.0 - 2.0 / 21.0, 1e-12);
  EXPECT_DOUBLE_EQ(r2_score(torch::ones({3}), torch::ones({3})), 1.0);
  EXPECT_THROW(r2_score(torch::ones({3}), torch::ones({4})), InputError);
}

TEST(EvalProbes, RegressionRecoversLinearTarget) {
  auto gen = at::detail::createCPUGenerator(5);
  at::Tensor w = at::randn({12}, gen);
  at::Tensor xtr = at::randn({300, 12}, gen), xte = at::randn({200, 12}, gen);
  at::Tensor ttr = at::matmul(xtr, w).to(at::kDouble) + 3.0, tte = at::matmul(xte, w).to(at::kDouble) + 3.0;
  ProbeResult ridge = ridge_probe(xtr, ttr, xte, tte);
  EXPECT_GT(ridge.score, 0.99);
  // kNN regression on a smooth target is good but not perfect.
  ProbeResult knn = knn_regression_probe(xtr, ttr, xte, tte);
  EXPECT_GT(knn.score, 0.3);
  EXPECT_LT(knn.score, 0.99);
  // Noise target: R² at most slightly above 0.
  at::Tensor ntr = at::randn({300}, gen).to(at::kDouble), nte = at::randn({200}, gen).to(at::kDouble);
  EXPECT_LT(ridge_probe(xtr, ntr, xte, nte).score, 0.1);
  // NaN targets are dropped.
  at::Tensor tte2 = tte.clone();
  tte2[0] = std::nan("");
  EXPECT_EQ(ridge_probe(xtr, ttr, xte, tte2).n_test, 199);
}

TEST(EvalProbes, RejectsBadShapes) {
  EXPECT_THROW(linear_probe(torch::randn({4, 3}), torch::zeros({5}, torch::kLong), torch::randn({2, 3}),
                            torch::zeros({2}, torch::kLong)),
               InputError);
  EXPECT_THROW(knn_probe(torch::randn({4, 3}), torch::full({4}, -1, torch::kLong), torch::randn({2, 3}),
                         torch::zeros({2}, torch::kLong)),
               InputError);
}

}  // namespace
}  // namespace cb::eval

// The primal (D × D) and dual (N × N) ridge solutions are the same predictor; both equal the
// textbook closed form (AᵀA + αN I)⁻¹ Aᵀ(t − mean) on standardised features.
TEST(EvalProbes, RidgePrimalEqualsDualEqualsClosedForm) {
  auto gen = at::detail::createCPUGenerator(11);
  for (auto [N, D] : {std::pair<int64_t, int64_t>{80, 12}, {15, 40}}) {
    at::Tensor xtr = at::randn({N, D}, gen), xte = at::randn({30, D}, gen);
    at::Tensor ttr = at::randn({N}, gen).to(at::kDouble), tte = at::randn({30}, gen).to(at::kDouble);
    const std::vector<double> alphas = {1e-2, 1.0};
    auto primal = cb::eval::ridge_r2_grid(xtr, ttr, xte, tte, alphas, false);
    auto dual = cb::eval::ridge_r2_grid(xtr, ttr, xte, tte, alphas, true);
    at::Tensor a = cb::eval::standardise(xtr, xtr).to(at::kDouble), c = cb::eval::standardise(xte, xtr).to(at::kDouble);
    const double mean = ttr.mean().item<double>();
    for (size_t i = 0; i < alphas.size(); ++i) {
      at::Tensor G = at::matmul(a.t(), a) + alphas[i] * double(N) * at::eye(D, at::kDouble);
      at::Tensor w = at::linalg_solve(G, at::matmul(a.t(), (ttr - mean).unsqueeze(1)));
      const double ref = cb::eval::r2_score(at::matmul(c, w).squeeze(1) + mean, tte);
      EXPECT_NEAR(primal[i], ref, 1e-8) << "N=" << N << " D=" << D;
      EXPECT_NEAR(dual[i], ref, 1e-8) << "N=" << N << " D=" << D;
    }
  }
}
