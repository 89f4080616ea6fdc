// test_train_losses.cpp — the step losses (docs/model.md §5) on hand-checkable inputs, and the
// paper-vs-reference code-matching gradient (docs/model.md §5.6).
#include <gtest/gtest.h>

#include <cmath>

#include "train/losses.h"

using namespace cb;

TEST(StepLosses, InfoNceLimits) {
  // Identical well-separated inputs, small τ → 0; orthogonal-ish (identical rows) → 2 log B.
  auto e = torch::eye(4);
  EXPECT_NEAR(info_nce(e, e, 0.01).item<double>(), 0.0, 1e-6);
  auto same = torch::ones({4, 8});
  EXPECT_NEAR(info_nce(same, same, 0.07).item<double>(), 2 * std::log(4.0), 1e-5);
}

TEST(StepLosses, OrthogonalityAndUniformityHandComputed) {
  // One sample, L = 2: Zc = I2 (padded), Zs = I2 → G = I2, ‖G‖_F = √2.
  auto zc = torch::eye(2).unsqueeze(0), zs = torch::eye(2).unsqueeze(0);
  EXPECT_NEAR(orthogonality_loss(zc, zs).item<double>(), std::sqrt(2.0), 1e-6);
  EXPECT_NEAR(orthogonality_loss(zc, torch::zeros({1, 2, 2})).item<double>(), 0.0, 1e-5);
  // Uniformity of 3 orthonormal vectors: all pair distances² = 2 → log exp(−2) = −2.
  EXPECT_NEAR(uniformity_loss(torch::eye(3)).item<double>(), -2.0, 1e-5);
}

TEST(StepLosses, UniformityOnRawSpecificKeepsAGradientWhenCodesCollapse) {
  // Four items whose specific halves differ slightly (a collapsed specific head).
  torch::manual_seed(5);
  auto e = (torch::ones({4, 8 + 16}) + 0.01 * torch::randn({4, 24})).requires_grad_(true);
  auto u = specific_cls_unit(e, 8, 8);  // (4, 16): two unit 8-d chunks per item
  ASSERT_EQ(u.sizes(), (std::vector<int64_t>{4, 16}));
  EXPECT_NEAR(u.slice(1, 8, 16).norm(2, {1}).min().item<double>(), 1.0, 1e-6);
  // Straight-through quantisation that picks the same codeword per chunk for every item:
  // forward value identical across items → the uniformity gradient vanishes exactly.
  auto code = torch::ones({1, 16}) / std::sqrt(8.0);
  auto q = u + (code.expand_as(u) - u).detach();
  auto gq = torch::autograd::grad({uniformity_loss(q)}, {e})[0];
  EXPECT_EQ(gq.abs().max().item<double>(), 0.0);
  // On the raw unit chunks the gradient is there and pushes the items apart.
  auto gr = torch::autograd::grad({uniformity_loss(specific_cls_unit(e, 8, 8))}, {e})[0];
  EXPECT_GT(gr.slice(1, 8).abs().max().item<double>(), 1e-4);
  EXPECT_EQ(gr.slice(1, 0, 8).abs().max().item<double>(), 0.0);  // the shared half is not touched
}

TEST(StepLosses, CodeMatchingGradientPaperVsReference) {
  torch::manual_seed(3);
  auto codebook = torch::randn({16, 8});
  auto heads = torch::randn({4, 3, 8}).requires_grad_(true);  // stands in for head outputs
  auto other = torch::randn({4, 3, 8});
  auto unit = [](const at::Tensor& t) { return torch::nn::functional::normalize(t, torch::nn::functional::NormalizeFuncOptions().dim(-1)); };
  // Paper mode: similarities from the non-detached unit chunks → non-zero gradient.
  auto lp = code_matching_loss(chunk_similarity(unit(heads), codebook), chunk_similarity(unit(other), codebook));
  lp.backward();
  EXPECT_GT(heads.grad().abs().sum().item<double>(), 0.0);
  // Reference mode: detached input → no gradient path at all.
  auto lr = code_matching_loss(chunk_similarity(unit(heads).detach(), codebook),
                                chunk_similarity(unit(other), codebook));
  EXPECT_FALSE(lr.requires_grad());
  EXPECT_NEAR(lp.item<double>(), lr.item<double>(), 1e-6);  // same value, only the gradient differs
  // Near-uniform softmax over K codes: L_cm ≈ log B (docs/model.md §5.6 sanity).
  EXPECT_NEAR(lr.item<double>(), std::log(4.0), 0.1);
}
