// test_bridge_files.cpp — any ImageBind checkpoint is a bridge: the architecture comes from the
// file (its "imagebind_config" or `codebind convert`'s "config" metadata, or a built-in preset
// recognised from the tensors), never from a hand-written training config; with an ImageBind
// bridge the inputs take ImageBind's own preprocessing. A published-style .pth whose tensors
// match no preset is refused with the command that fixes it.
#include <filesystem>

#include "core/error.h"
#include "encoders/bridge.h"
#include "encoders/imagebind/imagebind_model.h"
#include "io/safetensors.h"
#include "io/weights.h"
#include "model/codebind_model.h"
#include "test_tiny_run.h"

namespace cb {
namespace {
namespace fs = std::filesystem;

std::string fixture(const std::string& f) { return test::fixtures_dir() + "/imagebind/" + f; }

TEST(BridgeFiles, ConvertedCheckpointTrainsWithImageBindPreprocessing) {
  if (!fs::exists(fixture("weights.pth"))) GTEST_SKIP() << "no fixtures";
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  const std::string bridge = tmp.file("bridge.safetensors"), log = tmp.file("convert.log");
  ASSERT_EQ(test::run_codebind("convert " + fixture("weights.pth") + " " + bridge + " --config " +
                                   fixture("config.json"),
                               log),
            0)
      << test::slurp(log);
  {
    WeightFile w(bridge);
    std::string kind;
    bridge_config_of(w, &kind);
    EXPECT_EQ(kind, "imagebind");
    auto b = open_bridge(w, {Modality::Imu, Modality::Vision, Modality::Text});
    EXPECT_EQ(b->input_spec(Modality::Imu).scaling, InputScaling::ImageBind);
    EXPECT_EQ(b->input_spec(Modality::Imu).shape, (std::vector<int64_t>{6, 2000}));
    EXPECT_EQ(b->input_spec(Modality::Vision).shape, (std::vector<int64_t>{3, 224, 224}));
  }
  // CodeBind on it: the tiny config with the bridge's 64-d heads.
  TrainConfig c = test::tiny_train_config();
  c.model.shared_dim = c.model.specific_dim = 64;
  c.model.lora_blocks = {1};
  c.optim.epochs = 1;
  c.optim.max_steps_per_epoch = 2;
  TrainOptions o = test::tiny_options(f, tmp.file("run"));
  o.bridge = bridge;
  Trainer(c, o).run();
  auto model = CodeBindModel::load(tmp.file("run") + "/model.safetensors");
  EXPECT_EQ(model->bridge().kind(), "imagebind");
  EXPECT_EQ(model->bridge().input_spec(Modality::Imu).scaling, InputScaling::ImageBind);
  EXPECT_EQ(model->bridge().out_dim(), 64);
}

TEST(BridgeFiles, AnUnknownArchitectureNamesTheFix) {
  if (!fs::exists(fixture("weights.pth"))) GTEST_SKIP() << "no fixtures";
  WeightFile w(fixture("weights.pth"));  // small towers, no metadata: not a preset
  try {
    open_bridge(w, {Modality::Vision});
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("weights.pth"), std::string::npos) << msg;
    EXPECT_NE(msg.find("codebind convert"), std::string::npos) << msg;
  }
}

TEST(BridgeFiles, APresetIsRecognisedFromItsTensors) {
  test::TempDir tmp;
  ImageBindModel m(ImageBindConfig::tiny(), {Modality::Vision, Modality::Text}, 5);
  NamedTensors ts;
  for (Modality x : m.modalities())
    for (auto& nt : m.named_params(x)) ts.push_back(nt);
  save_safetensors(tmp.file("tiny.safetensors"), ts, {});  // no architecture in the metadata
  WeightFile w(tmp.file("tiny.safetensors"));
  const ImageBindConfig c = ImageBindConfig::of_file(w);
  EXPECT_EQ(c.out_dim, ImageBindConfig::tiny().out_dim);
  EXPECT_EQ(c.modalities.size(), 2u);  // only the towers the file holds
  EXPECT_EQ(c.inputs, InputScaling::ImageBind);
  auto b = open_bridge(w, {Modality::Vision, Modality::Text});
  EXPECT_TRUE(b->has(Modality::Text));
  // A bridge kind nobody registered is refused by name.
  save_safetensors(tmp.file("other.safetensors"), ts, {{"bridge", "vitlens"}});
  try {
    open_bridge(WeightFile(tmp.file("other.safetensors")), {Modality::Vision});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown bridge kind 'vitlens' (known: imagebind)"), std::string::npos) << e.what();
  }
  // A tensor with the wrong shape breaks the match.
  ts.back().second = at::zeros({3});
  save_safetensors(tmp.file("bad.safetensors"), ts, {});
  EXPECT_THROW(ImageBindConfig::of_file(WeightFile(tmp.file("bad.safetensors"))), InputError);
}

}  // namespace
}  // namespace cb
