// test_train_quantiser.cpp — the CodeBind model's quantiser view (codebind_quantiser.h):
// shapes and straight-through gradients, the no-VQ ablation, and that its checkpoint state
// (codebooks, k-means flags, generators) restores a run exactly.
#include <gtest/gtest.h>

#include "codebind/codebind_quantiser.h"

using namespace cb;

static TrainConfig tiny_cfg() {
  TrainConfig c;
  c.modality_pair = {Modality::Imu, Modality::Vision, Modality::Text};
  c.shared_dim = 16;
  c.specific_dim = 16;
  c.quantiser.shared_codebook_size = 16;
  c.quantiser.specific_codebook_size = 16;
  c.quantiser.codevector_dim = 8;
  return c;
}

TEST(TrainQuantiser, ShapesAndSte) {
  CodeBindQuantiser q(tiny_cfg(), 1);
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

TEST(TrainQuantiser, NoVqAblationIsIdentityOnNormalisedHalves) {
  TrainConfig c = tiny_cfg();
  c.quantiser.use_vq = false;
  CodeBindQuantiser q(c, 1);
  auto x = torch::randn({2, 3, 32});
  auto o = q.forward(x, Modality::Imu, true, 3);
  auto want = torch::nn::functional::normalize(x.narrow(-1, 0, 16), torch::nn::functional::NormalizeFuncOptions().dim(-1));
  EXPECT_TRUE(torch::allclose(o.z_c, want));
  EXPECT_EQ(o.commit.item<double>(), 0.0);
}

TEST(TrainQuantiser, StateRestoresExactly) {
  CodeBindQuantiser a(tiny_cfg(), 3);
  a.forward(torch::randn({4, 2, 32}), Modality::Imu, true, 2);  // k-means + one EMA step
  // Snapshot, continue a; restore the snapshot into b and continue identically.
  NamedTensors snap;
  for (auto& [n, t] : a.named_state()) snap.emplace_back(n, t.clone());
  auto next = torch::randn({4, 2, 32});
  auto oa = a.forward(next, Modality::Imu, true, 2);
  CodeBindQuantiser b(tiny_cfg(), 99);
  auto live = b.named_state();
  ASSERT_EQ(live.size(), snap.size());
  for (size_t i = 0; i < live.size(); ++i) {
    ASSERT_EQ(live[i].first, snap[i].first);
    live[i].second.copy_(snap[i].second);
  }
  b.after_load();
  auto ob = b.forward(next, Modality::Imu, true, 2);
  EXPECT_TRUE(oa.shared_indices.equal(ob.shared_indices));
  EXPECT_TRUE(oa.z.equal(ob.z));
  EXPECT_TRUE(a.shared_codebook().equal(b.shared_codebook()));
}
