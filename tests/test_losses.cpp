// test_losses.cpp — hand-computed limits and gradients of CodeBind's loss functions.
#include <torch/torch.h>

#include <cmath>

#include "train/losses.h"
#include "test_util.h"

namespace cb {
namespace {
namespace F = torch::nn::functional;

at::Tensor unit_rows(int64_t n, int64_t d) { return F::normalize(torch::randn({n, d}), F::NormalizeFuncOptions().dim(-1)); }

TEST(Losses, InfoNceLimits) {
  // Identical, well separated inputs and a small τ → 0.
  at::Tensor e = torch::eye(8) * 3;
  EXPECT_LT(info_nce(e, e, 0.01).item<double>(), 1e-6);
  // Identical rows everywhere → uniform softmax → 2·log B (two summed directions).
  at::Tensor same = torch::ones({6, 16});
  EXPECT_NEAR(info_nce(same, same, 0.07).item<double>(), 2 * std::log(6.0), 1e-5);
  // Scale invariance (cosine).
  at::Tensor a = torch::randn({5, 32}), b = torch::randn({5, 32});
  EXPECT_NEAR(info_nce(a, b, 0.1).item<double>(), info_nce(a * 7, b * 0.3, 0.1).item<double>(), 1e-5);
}

TEST(Losses, InfoNceGradientMatchesFiniteDifferences) {
  at::Tensor a = torch::randn({4, 6}, torch::dtype(torch::kDouble).requires_grad(true));
  at::Tensor b = torch::randn({4, 6}, torch::dtype(torch::kDouble));
  at::Tensor g = torch::autograd::grad({info_nce(a, b, 0.2)}, {a})[0];
  const double h = 1e-6;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 6; j += 2) {
      at::Tensor ap = a.detach().clone(), am = a.detach().clone();
      ap[i][j] += h;
      am[i][j] -= h;
      double fd = (info_nce(ap, b, 0.2).item<double>() - info_nce(am, b, 0.2).item<double>()) / (2 * h);
      EXPECT_NEAR(g[i][j].item<double>(), fd, 1e-6);
    }
}

TEST(Losses, OrthogonalityOnRandomUnitVectors) {
  const int64_t L = 197, D = 1024;
  at::Tensor zc = unit_rows(2 * L, D).view({2, L, D}), zs = unit_rows(2 * L, D).view({2, L, D});
  // Each of the L² entries has variance 1/D → ‖G‖_F ≈ L/√D.
  EXPECT_NEAR(orthogonality_loss(zc, zs).item<double>(), L / std::sqrt(double(D)), 0.2);
  // Exactly orthogonal halves give 0.
  at::Tensor a = torch::zeros({1, 2, 4}), b = torch::zeros({1, 2, 4});
  a[0][0][0] = 1;
  a[0][1][1] = 1;
  b[0][0][2] = 1;
  b[0][1][3] = 1;
  EXPECT_EQ(orthogonality_loss(a, b).item<double>(), 0.0);
}

TEST(Losses, UniformityByHand) {
  // Two points at squared distance 2: log exp(−2) = −2.
  at::Tensor s = torch::tensor({{1.f, 0.f}, {0.f, 1.f}});
  EXPECT_NEAR(uniformity_loss(s).item<double>(), -2.0, 1e-6);
  // Collapsed points: log 1 = 0.
  EXPECT_NEAR(uniformity_loss(torch::ones({5, 3})).item<double>(), 0.0, 1e-6);
}

TEST(Losses, CodeMatchingReferenceHasNoGradientPaperFormDoes) {
  at::Tensor ua = unit_rows(4 * 16, 8).view({4, 16, 8}).requires_grad_(true);
  at::Tensor ub = unit_rows(4 * 16, 8).view({4, 16, 8});
  at::Tensor cb = unit_rows(64, 8);
  at::Tensor sim_a = at::matmul(ua, cb.t()), sim_b = at::matmul(ub, cb.t());
  at::Tensor ref = code_matching_loss(sim_a.detach(), sim_b.detach());
  EXPECT_FALSE(ref.requires_grad());
  // On near-uniform code distributions the logged value is ≈ log B.
  EXPECT_NEAR(ref.item<double>(), std::log(4.0), 0.05);
  at::Tensor paper = code_matching_loss(chunk_similarity(ua, cb), chunk_similarity(ub, cb));
  EXPECT_NEAR(paper.item<double>(), ref.item<double>(), 1e-5);
  at::Tensor g = torch::autograd::grad({paper}, {ua})[0];
  EXPECT_GT(g.abs().sum().item<double>(), 0);
}

TEST(Losses, CodevectorTermsNearTheirRandomValues) {
  // Random similarities: ≈ log(1 + K/2) for the double-softmax contrastive term.
  at::Tensor sim = torch::rand({32, 1024}) * 2 - 1;
  EXPECT_NEAR(codevector_contrastive(sim).item<double>(), std::log(1 + 512.0), 0.05);
  // A collapsed codebook has uniformity 0; a spread one is negative.
  EXPECT_NEAR(codevector_uniformity(torch::ones({16, 8})).item<double>(), 0.0, 1e-6);
  EXPECT_LT(codevector_uniformity(torch::randn({256, 8})).item<double>(), -1.0);
}

}  // namespace
}  // namespace cb
