// test_train_run.cpp — end-to-end training on a generated small sensor-suite with tiny
// configs: finite losses, checkpoint round trip, kill-and-resume gives bit-identical final
// parameters, freeze_bridge_heads leaves the bridge heads unchanged; the supervised ceiling
// (codebind ceiling) learns.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_tiny_run.h"
#include "core/error.h"
#include "app/supervised_ceiling.h"
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
  // Uninterrupted run.
  TrainOptions o = test::tiny_options(f, tmp.file("a"));
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
  c.optim.freeze_bridge_heads = true;
  c.optim.epochs = 1;
  TrainOptions o{f.data, tmp.file("r"), f.bridge, false, true, -1};
  Trainer(c, o).run();
  auto before = load_safetensors(f.bridge + "/bridge.safetensors");
  auto after = final_params(tmp.file("r"));
  for (const char* k : {"modality_heads.vision.2.weight", "modality_heads.text.proj.1.weight"})
    EXPECT_TRUE(torch::equal(before.at(k), after.at(k))) << k;
  // The target's pretrained head did train.
  EXPECT_FALSE(torch::equal(before.at("modality_heads.imu.3.weight"), after.at("modality_heads.imu.3.weight")));
}

// codebind ceiling: the classifier starts at zero (step 1's loss is ln 10 for 10 classes), the
// loss falls as the tower learns the labels, and the summary is the curve's best-val row.
TEST(TrainRun, SupervisedCeilingLearnsAndReportsItsBestValRow) {
  auto& f = tiny_fixture();
  ASSERT_TRUE(f.ok) << "could not generate the small sensor-suite";
  CeilingOptions o;
  o.modality = Modality::Imu;
  o.steps = 60;
  o.eval_every = 20;
  o.batch = 8;
  o.quiet = true;
  const CeilingResult r = supervised_ceiling(f.bridge + "/bridge.safetensors", f.data, o);
  EXPECT_NEAR(r.first_loss, std::log(10.0), 1e-5);
  ASSERT_EQ(r.curve.size(), 3u);
  EXPECT_LT(r.curve.back().loss, 0.85 * r.first_loss);
  double best = -1, max_test = 0;
  for (const auto& p : r.curve) {
    EXPECT_GE(p.val, 0);
    EXPECT_LE(p.test, 100);
    if (p.val > best) best = p.val, max_test = std::max(max_test, p.test);
    if (p.step == r.best_step) EXPECT_EQ(p.test, r.test_at_best_val);
  }
  EXPECT_EQ(r.best_val, best);
  EXPECT_EQ(r.train_items + r.val_items + r.test_items, 80);
  // Bad requests name the problem.
  o.modality = Modality::Text;
  EXPECT_THROW(supervised_ceiling(f.bridge + "/bridge.safetensors", f.data, o), InputError);
  o.modality = Modality::Eeg;
  EXPECT_THROW(supervised_ceiling(f.bridge + "/bridge.safetensors", f.data, o), InputError);
}
