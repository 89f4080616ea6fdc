// test_tiny_run.h — one generated small sensor-suite and one tiny pretrained bridge
// (configs/pretrain_tiny_test.json), made once under the build tree and shared by the tests
// that need a dataset and a bridge (training, the code index end to end), plus the tiny
// CodeBind training config.
#pragma once
#include <filesystem>
#include <string>

#include "test_util.h"
#include "train/pretrain.h"
#include "train/train_config.h"
#include "train/trainer.h"

namespace cb::test {

struct TinyFixture {
  std::string root, data, bridge;
  bool ok = false;
};

inline TinyFixture& tiny_fixture() {
  static TinyFixture f = [] {
    namespace fs = std::filesystem;
    TinyFixture x;
    x.root = std::string(CODEBIND_BINARY_DIR) + "/tmp/train_run_fixture";
    x.data = x.root + "/data";
    x.bridge = x.root + "/bridge";
    return with_file_lock(x.root + ".lock", [&] {
      if (!fs::exists(x.data + "/items.jsonl")) {
        fs::create_directories(x.root);
        fs::remove_all(x.data);  // a generation interrupted before items.jsonl
        if (run_codebind("data sensor-suite --out " + x.data + " --size small --seed 1") != 0) return x;
      }
      if (!fs::exists(x.bridge + "/bridge.safetensors")) {
        auto pc = PretrainConfig::load(std::string(CODEBIND_SOURCE_DIR) + "/configs/pretrain_tiny_test.json");
        run_pretrain(pc, x.data, x.bridge, true, /*replace=*/true);
      }
      x.ok = true;
      return x;
    });
  }();
  return f;
}

// Options for a quiet training run on the fixture's data and bridge into `out`.
inline TrainOptions tiny_options(const TinyFixture& f, const std::string& out) {
  TrainOptions o;
  o.data_dir = f.data;
  o.bridge = f.bridge;
  o.quiet = true;
  o.out_dir = out;
  return o;
}

inline TrainConfig tiny_train_config() {
  return TrainConfig::load(std::string(CODEBIND_SOURCE_DIR) + "/configs/codebind_tiny_test.json");
}

// A one-epoch run of the tiny config at <fixture root>/<name>, trained once (under a lock) and
// shared by the tests that only read it; "" when the fixture could not be made.
inline std::string tiny_one_epoch_run(const std::string& name) {
  auto& f = tiny_fixture();
  if (!f.ok) return std::string();
  const std::string r = f.root + "/" + name;
  return with_file_lock(r + ".lock", [&] {
    if (!std::filesystem::exists(r + "/model.safetensors")) {
      TrainConfig c = tiny_train_config();
      c.optim.epochs = 1;
      TrainOptions o = tiny_options(f, r);
      o.force = true;
      Trainer(c, o).run();
    }
    return r;
  });
}

}  // namespace cb::test
