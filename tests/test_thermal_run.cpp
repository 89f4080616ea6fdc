// test_thermal_run.cpp — a new modality through the generic path: thermal, an ImageBind tower
// with the depth stem, is trained and evaluated without any thermal-specific code outside
// the bridge config. The tiny sensor-suite has no thermal camera, so the test re-labels its
// depth maps as thermal images (same (H, W) float .npy layout): the point is the wiring
// (pretrain aligns a thermal tower, CodeBind trains thermal ⇄ vision/text with its own
// specific codebook and decoder, eval reports thermal metrics), not the physics.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "app/run_eval.h"
#include "core/json_read.h"
#include "test_tiny_run.h"

using namespace cb;
namespace fs = std::filesystem;

namespace {

// DIR/data with every depth item of the fixture also listed as a thermal item.
std::string thermal_dataset(const test::TinyFixture& f, const std::string& dir) {
  const std::string data = dir + "/data";
  fs::create_directories(data);
  for (const char* sub : {"vision", "depth", "imu", "audio"})
    if (fs::exists(f.data + "/" + sub)) fs::create_directory_symlink(fs::absolute(f.data + "/" + sub), data + "/" + sub);
  nlohmann::json info = load_json_file(f.data + "/dataset.json");
  info["modalities"].push_back("thermal");
  std::ofstream(data + "/dataset.json") << info.dump(2);
  std::ifstream in(f.data + "/items.jsonl");
  std::ofstream out(data + "/items.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    out << line << "\n";
    nlohmann::json it = nlohmann::json::parse(line);
    if (it["modality"] != "depth") continue;
    it["modality"] = "thermal";
    it["id"] = "thermal" + it["id"].get<std::string>().substr(5);
    out << it.dump() << "\n";
  }
  return data;
}

}  // namespace

TEST(ThermalRun, PretrainTrainAndEvaluateThermal) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok) << "could not generate the small sensor-suite";
  test::TempDir tmp;
  const std::string data = thermal_dataset(f, tmp.str());
  // A tiny bridge with a thermal tower aligned to vision.
  auto pc = PretrainConfig::load(std::string(CODEBIND_SOURCE_DIR) + "/configs/pretrain_tiny_test.json");
  pc.modalities = {Modality::Thermal};
  run_pretrain(pc, data, tmp.file("bridge"), true, /*replace=*/true);
  // CodeBind on [thermal, vision, text], reconstructing thermal.
  TrainConfig c = test::tiny_train_config();
  c.model.modality_pair = {Modality::Thermal, Modality::Vision, Modality::Text};
  c.model.recon = {Modality::Vision, Modality::Thermal};
  TrainOptions o = test::tiny_options(f, tmp.file("run"));
  o.data_dir = data;
  o.bridge = tmp.file("bridge");
  Trainer(c, o).run();
  // The model has thermal's own specific head, codebook and decoder, and finite losses.
  auto params = load_safetensors(tmp.file("run") + "/model.safetensors");
  bool head = false, book = false, decoder = false;
  for (const auto& [n, t] : params) {
    head |= n.rfind("specific.thermal.", 0) == 0;
    book |= n.rfind("quant.specific_thermal.", 0) == 0;
    decoder |= n.rfind("decoder.thermal.", 0) == 0;
    if (n == "modality_preprocessors.text.mask") continue;  // the causal mask holds −inf by design
    EXPECT_TRUE(at::isfinite(t.to(at::kFloat)).all().item<bool>()) << n;
  }
  EXPECT_TRUE(head && book && decoder);
  std::ifstream in(tmp.file("run") + "/metrics.jsonl");
  std::string line;
  int steps = 0;
  while (std::getline(in, line)) {
    EXPECT_TRUE(std::isfinite(nlohmann::json::parse(line)["loss"].get<double>()));
    ++steps;
  }
  EXPECT_EQ(steps, 6);
  // Eval reports thermal zero-shot and thermal→text retrieval.
  nlohmann::json m = evaluate_one(tmp.file("run"), data, "test", true, false);
  ASSERT_TRUE(m.contains("zero_shot") && m["zero_shot"].contains("thermal")) << m.dump().substr(0, 400);
  const double top1 = m["zero_shot"]["thermal"]["top1"].get<double>();
  EXPECT_GE(top1, 0.0);
  EXPECT_LE(top1, 1.0);
}
