// test_train_parts.cpp — TrainConfig validation, the loss balancer (hand-computed updates),
// the cosine LR schedule and AdamW, and decoder output shapes.
#include <gtest/gtest.h>

#include <cmath>

#include "model/decoder.h"
#include "model/specific_head.h"
#include "core/error.h"
#include "train/loss_balancer.h"
#include "train/pretrain.h"
#include "train/schedule.h"
#include "train/train_config.h"

using namespace cb;
using json = nlohmann::json;

TEST(TrainConfig, RoundTripAndDefaults) {
  TrainConfig c;
  c.optim.lr = 1e-3;
  c.optim.code_matching = CodeMatchingMode::Reference;
  c.model.quantiser.standard_vq = true;
  c.optim.uniformity_on_raw = true;
  auto c2 = TrainConfig::from_json(c.to_json(), "x.json");
  EXPECT_EQ(c2.to_json(), c.to_json());
  EXPECT_TRUE(c2.optim.uniformity_on_raw);
  EXPECT_FALSE(TrainConfig().optim.uniformity_on_raw);  // the reference's choice by default
  EXPECT_EQ(c2.model.targets(), std::vector<Modality>{Modality::Imu});
  EXPECT_EQ(c2.model.non_text(), (std::vector<Modality>{Modality::Imu, Modality::Vision}));
}

static std::string error_of(const json& j) {
  try {
    TrainConfig::from_json(j, "cfg.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(TrainConfig, ErrorsNameTheKey) {
  EXPECT_NE(error_of({{"lr", "fast"}}).find("'lr'"), std::string::npos);
  EXPECT_NE(error_of({{"lr", -1.0}}).find("'lr'"), std::string::npos);
  EXPECT_NE(error_of({{"batch_size", 2.5}}).find("'batch_size'"), std::string::npos);
  EXPECT_NE(error_of({{"bogus", 1}}).find("unknown key 'bogus'"), std::string::npos);
  EXPECT_NE(error_of({{"pairing", "instance"}}).find("'pairing'"), std::string::npos);
  EXPECT_NE(error_of({{"pairing", 1}}).find("'pairing'"), std::string::npos);
  EXPECT_EQ(TrainConfig::from_json({{"pairing", "group"}}, "cfg.json").optim.pairing, "group");
  EXPECT_NE(error_of({{"quantiser", {{"decay", 1.5}}}}).find("quantiser.decay"), std::string::npos);
  EXPECT_NE(error_of({{"quantiser", {{"nope", 1}}}}).find("quantiser.nope"), std::string::npos);
  EXPECT_NE(error_of({{"modality_pair", {"imu", "smell"}}}).find("modality_pair"), std::string::npos);
  EXPECT_NE(error_of({{"modality_pair", {"imu", "text"}}}).find("vision"), std::string::npos);
  EXPECT_NE(error_of({{"train_mode", "partial"}}).find("train_mode"), std::string::npos);
  EXPECT_NE(error_of({{"code_matching", "x"}}).find("code_matching"), std::string::npos);
  EXPECT_NE(error_of({{"uniformity_on", "both"}}).find("uniformity_on"), std::string::npos);
  EXPECT_NE(error_of({{"decoder_heads", 3}}).find("decoder_heads"), std::string::npos);
  EXPECT_NE(error_of({{"specific_dim", 12}}).find("specific_dim"), std::string::npos);
  EXPECT_NE(error_of({{"recon", {"text"}}}).find("recon"), std::string::npos);
  EXPECT_NE(error_of({{"target", "audio"}}).find("target"), std::string::npos);
  EXPECT_NE(error_of(json::array()).find("object"), std::string::npos);
  EXPECT_EQ(error_of({{"lr", 1e-4}, {"specific_dim", 0}}), "");
}

TEST(LossBalancer, HandComputedUpdates) {
  LossBalancer b;
  // First batch: r = |L|, w = f · L_align / |L|.
  auto w = b.update({{"info_nce", 2.0}, {"loss_vq", 0.001}, {"loss_uniform", -4.0}, {"loss_rec", 5.0}});
  EXPECT_DOUBLE_EQ(w.at("info_nce"), 1.0);
  EXPECT_DOUBLE_EQ(w.at("loss_rec"), 1.0);
  EXPECT_NEAR(w.at("loss_vq"), 0.01 * 2.0 / (0.001 + 1e-8), 1e-9);
  EXPECT_NEAR(w.at("loss_uniform"), 1.0 * 2.0 / (4.0 + 1e-8), 1e-12);
  // Held for the next 9 batches (I = 10).
  for (int i = 0; i < 9; ++i) b.update({{"info_nce", 100.0}, {"loss_vq", 1.0}, {"loss_uniform", 1.0}, {"loss_rec", 1.0}});
  EXPECT_NEAR(b.weight("loss_uniform"), 0.5, 1e-8);
  // 11th batch: t − t_last = 10 → EMA update.
  b.update({{"info_nce", 3.0}, {"loss_vq", 0.002}, {"loss_uniform", 2.0}, {"loss_rec", 1.0}});
  const double r_align = 0.9 * 2.0 + 0.1 * 3.0, r_vq = 0.9 * 0.001 + 0.1 * 0.002, r_u = 0.9 * 4 + 0.1 * 2;
  EXPECT_NEAR(b.weight("loss_vq"), std::min(10000.0, 0.01 * r_align / (r_vq + 1e-8)), 1e-6);
  EXPECT_NEAR(b.weight("loss_uniform"), r_align / (r_u + 1e-8), 1e-12);
  EXPECT_EQ(b.interval(), int64_t(std::floor(10 + 90 * std::sin(11.0 / 40000 * std::acos(-1.0) / 2))));
  // Cap on w_vq.
  LossBalancer c;
  c.update({{"info_nce", 10.0}, {"loss_vq", 1e-9}});
  EXPECT_DOUBLE_EQ(c.weight("loss_vq"), 10000.0);
  // State round trip.
  LossBalancer d;
  d.load_state(b.state());
  EXPECT_EQ(d.state(), b.state());
}

TEST(Schedule, CosineValues) {
  const double lr = 5e-4, floor = lr / 50;
  EXPECT_DOUBLE_EQ(cosine_lr(lr, floor, 0, 40), lr);
  EXPECT_NEAR(cosine_lr(lr, floor, 20, 40), (lr + floor) / 2, 1e-15);
  EXPECT_NEAR(cosine_lr(lr, floor, 40, 40), floor, 1e-15);
  EXPECT_NEAR(cosine_lr(1e-3, floor, 10, 40), floor + (1e-3 - floor) * (1 + std::cos(M_PI / 4)) / 2, 1e-15);
}

TEST(Schedule, AdamWMatchesHandComputedStep) {
  auto p = torch::tensor({1.0, -2.0}, torch::kFloat64).requires_grad_(true);
  ParamGroup g{"g", 0.1, 0.1, {{"p", p}}};
  AdamW opt({g});
  p.mutable_grad() = torch::tensor({0.5, -0.25}, torch::kFloat64);
  opt.step();
  // Step 1: m̂ = g, v̂ = g², update = lr · g/(|g| + eps) after decay p·(1 − lr·wd).
  for (int i = 0; i < 2; ++i) {
    double p0 = i == 0 ? 1.0 : -2.0, gr = i == 0 ? 0.5 : -0.25;
    double expect = p0 * (1 - 0.1 * 1e-4) - 0.1 * gr / (std::fabs(gr) + 1e-8);
    EXPECT_NEAR(p[i].item<double>(), expect, 1e-12);
  }
  // Clipping.
  p.mutable_grad() = torch::tensor({3.0, 4.0}, torch::kFloat64);
  EXPECT_NEAR(opt.clip_grad_norm(1.0), 5.0, 1e-12);
  EXPECT_NEAR(p.grad().norm().item<double>(), 1.0, 1e-5);
}

TEST(Decoder, OutputShapes) {
  torch::manual_seed(0);
  struct Case {
    DecoderGeometry g;
    std::vector<int64_t> expect;
  } cases[] = {
      {{3, {1, 16, 16}, {2, 7, 7}, {2, 7, 7}}, {2, 3, 2, 112, 112}},  // ImageBind vision
      {{1, {14, 14}, {8, 8}, {8, 8}}, {2, 1, 112, 112}},             // depth
      {{1, {12, 19}, {8, 8}, {5, 5}}, {2, 1, 63, 98}},               // audio
      {{3, {8, 8}, {4, 4}, {4, 4}}, {2, 3, 32, 32}},                 // small 64×64 vision, 8×8 patches
  };
  for (auto& c : cases) {
    DecoderConfig cfg;
    cfg.in_dim = 32;
    cfg.trunk_dim = 16;
    cfg.width = 16;
    cfg.depth = 2;
    cfg.heads = 2;
    cfg.geometry = c.g;
    ReconDecoder dec(cfg);
    const int64_t L = c.g.num_patches() + 1;
    auto z = torch::randn({2, L, 32});
    auto trunk = torch::randn({6, L, 16});  // S = 3 clips averaged
    auto pe = torch::randn({1, L, 16});
    auto out = dec->forward(z, trunk, pe);
    EXPECT_EQ(out.sizes().vec(), c.expect);
    EXPECT_EQ(reconstruction_target(torch::randn({2, c.g.out_channels, 64, 64}), c.g).sizes().vec(), c.expect);
    // Gradient reaches both the quantised tokens and the trunk features (docs/model.md §4.1).
    auto zz = z.clone().requires_grad_(true), tt = trunk.clone().requires_grad_(true);
    dec->forward(zz, tt, pe).pow(2).mean().backward();
    EXPECT_GT(zz.grad().abs().sum().item<double>(), 0);
    EXPECT_GT(tt.grad().abs().sum().item<double>(), 0);
  }
}

TEST(SpecificHead, DefaultInitBounds) {
  torch::manual_seed(1);
  SpecificHead h(64, 32);
  auto w = h->proj->weight;
  EXPECT_LE(w.abs().max().item<double>(), 1.0 / 8.0 + 1e-7);
  EXPECT_GT(w.abs().max().item<double>(), 0.1);
  EXPECT_EQ(h->forward(torch::randn({2, 5, 64})).sizes().vec(), (std::vector<int64_t>{2, 5, 32}));
  auto names = h->named_parameters().keys();
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "1.weight"}));
}

// The chance level the pre-training warning uses is the loss of uniform logits: ln B for the
// label-aware InfoNCE whatever the labels, ln C for cross-entropy over C classes.
TEST(Pretrain, ChanceLevelAndUntrainedPhaseDetection) {
  const int64_t B = 12;
  auto same = torch::ones({B, 8});  // every row the same embedding → uniform logits
  auto labels = torch::tensor(std::vector<int64_t>{0, 1, 2, 0, 1, 2, 3, 3, 4, 5, 6, 7});
  EXPECT_NEAR(cb::class_info_nce(same, same, labels, 0.07).item<double>(), std::log(double(B)), 1e-5);
  auto logits = torch::zeros({B, 10});
  EXPECT_NEAR(torch::cross_entropy_loss(logits, labels).item<double>(), std::log(10.0), 1e-6);

  const double chance = std::log(10.0);
  std::vector<double> flat(500, chance + 0.001), learned;
  for (int i = 0; i < 500; ++i) learned.push_back(chance * std::exp(-i / 100.0));
  EXPECT_TRUE(cb::ended_at_chance(flat, chance));
  EXPECT_FALSE(cb::ended_at_chance(learned, chance));
  std::vector<double> late = flat;  // learning only in the last 50 steps still counts
  for (int i = 450; i < 500; ++i) late[i] = 1.0;
  EXPECT_FALSE(cb::ended_at_chance(late, chance));
  EXPECT_FALSE(cb::ended_at_chance({}, chance));
  // The old full config's warm-up: its last 50 losses averaged 2.255 (ln 10 = 2.303).
  EXPECT_TRUE(cb::ended_at_chance(std::vector<double>(50, 2.255), chance));
}

// The shipped sensor-suite configs load, and each CodeBind config fits the bridge its pretrain
// config builds (demo.sh pairs them by suffix): shared width = the heads' output, LoRA blocks
// inside the trunk, and it trains every modality of that bridge.
TEST(ShippedConfigs, LoadAndFitTheirBridge) {
  const std::string dir = std::string(CODEBIND_SOURCE_DIR) + "/configs/";
  for (const std::string suffix : {"", "_full", "_demo"}) {
    SCOPED_TRACE("suffix '" + suffix + "'");
    auto pc = cb::PretrainConfig::load(dir + "pretrain_sensor_suite" + suffix + ".json");
    auto tc = cb::TrainConfig::load(dir + "codebind_sensor_suite" + suffix + ".json");
    EXPECT_EQ(tc.model.shared_dim, pc.bridge.out_dim);
    for (int b : tc.model.lora_blocks) EXPECT_LT(b, pc.bridge.blocks);
    // Every modality the bridge is pre-trained on is trained and compared by CodeBind too.
    for (cb::Modality m : pc.modalities)
      EXPECT_TRUE(tc.model.has(m)) << cb::modality_name(m) << " is in the bridge but not in modality_pair";
  }
}
