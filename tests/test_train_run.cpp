// test_train_run.cpp — end-to-end training on a generated small sensor-suite with tiny
// configs: finite losses, checkpoint round trip, kill-and-resume gives bit-identical final
// parameters, freeze_bridge_heads leaves the bridge heads unchanged.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_tiny_run.h"
#include "train/trainer.h"

using namespace cb;
namespace fs = std::filesystem;

namespace {

using test::tiny_fixture;
TrainConfig tiny() { return test::tiny_train_config(); }

std::map<std::string, at::Tensor> final_params(const std::string& run) {
  return load_safetensors(run + "/model.safetensors");
}

}  // namespace

TEST(TrainRun, FiniteLossesAndResumeIsBitIdentical) {
  auto& f = tiny_fixture();
  ASSERT_TRUE(f.ok) << "could not generate the small sensor-suite";
  test::TempDir tmp;
  TrainOptions o;
  o.data_dir = f.data;
  o.bridge = f.bridge;
  o.quiet = true;
  // Uninterrupted run.
  o.out_dir = tmp.file("a");
  Trainer(tiny(), o).run();
  // Killed after 5 steps (mid-epoch 1; last checkpoint at step 4, so step 5 is redone), resumed.
  o.out_dir = tmp.file("b");
  o.stop_after = 5;
  EXPECT_EQ(Trainer(tiny(), o).run(), "");
  o.stop_after = -1;
  o.resume = true;
  Trainer(tiny(), o).run();
  auto a = final_params(tmp.file("a")), b = final_params(tmp.file("b"));
  ASSERT_EQ(a.size(), b.size());
  for (auto& [n, t] : a) {
    ASSERT_TRUE(b.count(n)) << n;
    EXPECT_TRUE(torch::equal(t, b.at(n))) << n;
  }
  // Metrics: finite losses on every step.
  std::ifstream in(tmp.file("a") + "/metrics.jsonl");
  std::string line;
  int steps = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_TRUE(std::isfinite(j["loss"].get<double>()));
    ++steps;
  }
  EXPECT_EQ(steps, 6);
}

TEST(TrainRun, FreezeBridgeHeadsLeavesThemUnchanged) {
  auto& f = tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  TrainConfig c = tiny();
  c.freeze_bridge_heads = true;
  c.epochs = 1;
  TrainOptions o{f.data, tmp.file("r"), f.bridge, false, true, -1};
  Trainer(c, o).run();
  auto before = load_safetensors(f.bridge + "/bridge.safetensors");
  auto after = final_params(tmp.file("r"));
  for (const char* k : {"modality_heads.vision.2.weight", "modality_heads.text.proj.1.weight"})
    EXPECT_TRUE(torch::equal(before.at(k), after.at(k))) << k;
  // The target's pretrained head did train.
  EXPECT_FALSE(torch::equal(before.at("modality_heads.imu.3.weight"), after.at("modality_heads.imu.3.weight")));
}
