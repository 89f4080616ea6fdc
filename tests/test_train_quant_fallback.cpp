// test_train_quant_fallback.cpp — the stand-in quantiser of the CodeBind model (spec §7):
// k-means with exactly K distinct CLS chunks reproduces them (commitment ≈ 0), the STE passes
// gradients, shapes of z_c / z_s / z, and the EMA update on a toy case.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include "codebind/mvq_fallback.h"

using namespace cb;

static TrainConfig tiny_cfg() {
  TrainConfig c;
  c.modality_pair = {Modality::Imu, Modality::Vision, Modality::Text};
  c.shared_dim = 16;
  c.specific_dim = 16;
  c.quantiser.shared_codebook_size = 4;
  c.quantiser.specific_codebook_size = 4;
  c.quantiser.codevector_dim = 8;
  return c;
}

TEST(QuantFallback, ShapesAndSte) {
  FallbackQuantiser q(tiny_cfg(), 1);
  auto x = torch::randn({3, 5, 32}).requires_grad_(true);
  auto o = q.forward(x, Modality::Vision, true, 5);
  EXPECT_EQ(o.z_c.sizes().vec(), (std::vector<int64_t>{3, 5, 16}));
  EXPECT_EQ(o.z_s.sizes().vec(), (std::vector<int64_t>{3, 5, 16}));
  EXPECT_EQ(o.z.sizes().vec(), (std::vector<int64_t>{3, 5, 32}));
  EXPECT_EQ(o.shared_indices.sizes().vec(), (std::vector<int64_t>{3, 5, 2}));
  o.z.sum().backward();
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0);
  auto t = q.forward(torch::randn({3, 16}), Modality::Text, true, 1);
  EXPECT_EQ(t.z_c.sizes().vec(), (std::vector<int64_t>{3, 16}));
  EXPECT_FALSE(t.z_s.defined());
}

TEST(QuantFallback, KmeansWithKDistinctSamplesIsExact) {
  // Text batch B = 2 with 2 chunks each → 4 CLS chunks = K: codes are the samples.
  FallbackQuantiser q(tiny_cfg(), 2);
  auto x = torch::zeros({2, 16});
  x[0][0] = 1; x[0][9] = 1; x[1][2] = 1; x[1][11] = 1;  // 4 distinct unit chunks
  auto o = q.forward(x, Modality::Text, false, 1);
  EXPECT_NEAR(o.commit.item<double>(), 0.0, 1e-10);
}

TEST(QuantFallback, EmaToyCase) {
  torch::Generator g = at::make_generator<at::CPUGeneratorImpl>(0);
  EmaCodebook b(2, 2, g);
  b.weight.copy_(torch::tensor({{1.f, 0.f}, {0.f, 1.f}}));
  b.embed_avg.copy_(b.weight);
  b.cluster_size.zero_();
  b.initted.fill_(1);
  auto u = torch::tensor({{1.f, 0.f}, {1.f, 0.f}}).view({2, 1, 2});
  b.forward(u, torch::tensor({0L, 1L}), true, 0.99, 1e-5, 0.25, 10, g);
  EXPECT_NEAR(b.cluster_size[0].item<double>(), 0.02, 1e-7);        // 0.01 · 2
  EXPECT_NEAR(b.embed_avg[0][0].item<double>(), 0.99 + 0.02, 1e-6);  // 0.99·1 + 0.01·2
}
