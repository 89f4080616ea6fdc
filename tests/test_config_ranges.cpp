// test_config_ranges.cpp — every integer a user can write into a config, manifest or
// checkpoint state is range-checked at full width: one list of (format, key, valid range)
// drives the property test, which sets each key to values outside its range (below, above,
// 2^31, 2^32 + k, 2^63, negative) and expects an InputError (exit 2) that names the key.
// The bug this guards: nlohmann::json's get<int>() wraps, so batch_size 4294967300 ran as 4.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>

#include "core/error.h"
#include "data/manifest.h"
#include "suite/sensor_suite.h"
#include "encoders/imagebind/imagebind_config.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/pretrain.h"
#include "train/train_config.h"

namespace cb {
namespace {

using json = nlohmann::json;
constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();

json load_json(const std::string& name) {
  std::ifstream f(std::string(CODEBIND_SOURCE_DIR) + "/configs/" + name);
  return json::parse(f);
}

// One format: a valid document, and how to parse it (throws InputError on bad input).
struct Format {
  std::string name;
  json base;
  std::function<void(const json&)> parse;
  bool cheap = true;  // parsing a valid document is quick (the generator's is not: it generates)
};

const char* kDataset = R"({"version":1,"classes":["a","b","c"],"modalities":["text"]})";

std::vector<Format> formats() {
  return {
      {"train", load_json("codebind_tiny_test.json"),
       [](const json& j) { TrainConfig::from_json(j, "cfg.json"); }},
      {"pretrain", load_json("pretrain_tiny_test.json"),
       [](const json& j) { PretrainConfig::from_json(j, "cfg.json"); }},
      {"item", json{{"id", "a"}, {"modality", "text"}, {"split", "train"}, {"label", 1}, {"text", "b"}},
       [](const json& j) { data::Manifest::parse("/ds", kDataset, j.dump()); }},
      {"dataset", json::parse(kDataset),
       [](const json& j) {
         data::Manifest::parse("/ds", j.dump(), R"({"id":"a","modality":"text","split":"train","label":1,"text":"b"})");
       }},
      {"checkpoint", json{{"epoch", 1}, {"step_in_epoch", 2}, {"global_step", 3}},
       [](const json& j) { TrainState::from_json(j); }},
      {"imagebind", ImageBindConfig::tiny().to_json(),
       [](const json& j) { ImageBindConfig::from_json(j, "cfg.json"); }},
      // The sensor-suite generator's config (data sensor-suite --config): a bad value must stop
      // it before anything is generated or written.
      {"suite", load_json("sensor-suite.json"),
       [](const json& j) {
         test::TempDir d;
         std::ofstream(d.file("suite.json")) << j.dump();
         suite::SuiteOptions o;
         o.config_path = d.file("suite.json");
         o.out_dir = d.file("out");
         o.size = "small";
         o.progress = false;
         suite::generate_sensor_suite(o);
       },
       false},
  };
}

// (format, dotted key, lo, hi): the one list of integer keys. `[]` after a key: an array of them.
struct Key {
  std::string format, key;
  int64_t lo, hi;
};

const std::vector<Key> kKeys = {
    {"train", "lora_rank", 1, 256},
    {"train", "lora_blocks[]", 0, 4095},
    {"train", "decoder_depth", 1, 64},
    {"train", "decoder_width", 8, 65536},
    {"train", "decoder_heads", 1, 1024},
    {"train", "shared_dim", 1, 65536},
    {"train", "specific_dim", 0, 65536},
    {"train", "batch_size", 2, 1 << 20},
    {"train", "epochs", 1, 1000000},
    {"train", "scale_factor", 1, 1000000},
    {"train", "max_steps_per_epoch", 0, 1000000000},
    {"train", "checkpoint_every", 0, 1000000000},
    {"train", "threads", 0, 1024},
    {"train", "seed", 0, kMax64},  // uint64: only negatives are out of range
    {"train", "quantiser.shared_codebook_size", 2, 1 << 20},
    {"train", "quantiser.specific_codebook_size", 2, 1 << 20},
    {"train", "quantiser.codevector_dim", 1, 65536},
    {"train", "quantiser.kmeans_iters", 0, 10000},
    {"pretrain", "vision_warmup.epochs", 0, 1000000},
    {"pretrain", "vision_warmup.steps_per_epoch", 0, 1000000000},
    {"pretrain", "vision_warmup.batch_size", 2, 1 << 20},
    {"pretrain", "vision_text.epochs", 1, 1000000},
    {"pretrain", "vision_text.steps_per_epoch", 0, 1000000000},
    {"pretrain", "vision_text.batch_size", 2, 1 << 20},
    {"pretrain", "align.epochs", 1, 1000000},
    {"pretrain", "align.steps_per_epoch", 0, 1000000000},
    {"pretrain", "align.batch_size", 2, 1 << 20},
    {"pretrain", "threads", 0, 1024},
    {"pretrain", "seed", 0, kMax64},
    {"pretrain", "bridge.out_dim", 1, 65536},
    {"pretrain", "bridge.width", 1, 65536},
    {"pretrain", "bridge.blocks", 1, 65536},
    {"pretrain", "bridge.heads", 1, 65536},
    {"pretrain", "bridge.image_size", 1, 65536},
    {"pretrain", "bridge.image_patch", 1, 65536},
    {"pretrain", "bridge.depth_size", 1, 65536},
    {"pretrain", "bridge.depth_patch", 1, 65536},
    {"pretrain", "bridge.audio_mel_bins", 1, 65536},
    {"pretrain", "bridge.audio_frames", 1, 65536},
    {"pretrain", "bridge.audio_kernel", 1, 65536},
    {"pretrain", "bridge.audio_stride", 1, 65536},
    {"pretrain", "bridge.imu_window", 1, 65536},
    {"pretrain", "bridge.imu_patch", 1, 65536},
    {"item", "label", 0, 2},
    {"item", "labels[]", 0, 2},
    {"dataset", "version", 1, 1},
    {"checkpoint", "epoch", 0, 1000000},
    {"checkpoint", "step_in_epoch", 0, kMax64},
    {"checkpoint", "global_step", 0, kMax64},
    // ImageBind architecture configs (bridge metadata, embed --config): counts and sizes.
    {"imagebind", "modalities.imu.embed_dim", 1, 1 << 24},
    {"imagebind", "modalities.imu.num_blocks", 1, 1 << 24},
    {"imagebind", "modalities.imu.num_heads", 1, 1 << 24},
    {"imagebind", "modalities.vision.embed_dim", 1, 1 << 24},
    {"imagebind", "modalities.text.vocab_size", 1, 1 << 24},
    {"imagebind", "modalities.text.context_length", 1, 1 << 24},
    {"suite", "sizes.small.vision[0]", 10, 10000000},
    {"suite", "sizes.small.imu[2]", 10, 10000000},
    {"suite", "vision.size", 8, 1024},
    {"suite", "vision.max_fonts", 1, 10000},
    {"suite", "depth.size", 8, 1024},
    {"suite", "depth.max_fonts", 1, 10000},
    {"suite", "audio.sample_rate", 8000, 192000},
    {"suite", "imu.rate_hz", 1, 10000},
    {"suite", "imu.length", 16, 1000000},
};

// The document with `key` (dotted path; a [] suffix: an array of v; [i]: element i) set to v.
json with_value(json doc, const std::string& key, const json& v) {
  std::string k = key;
  const bool array = k.size() > 2 && k.compare(k.size() - 2, 2, "[]") == 0;
  if (array) k.resize(k.size() - 2);
  int element = -1;
  if (!array && !k.empty() && k.back() == ']') {
    const size_t open = k.rfind('[');
    element = std::stoi(k.substr(open + 1));
    k.resize(open);
  }
  json* node = &doc;
  for (size_t dot; (dot = k.find('.')) != std::string::npos; k = k.substr(dot + 1)) {
    json& child = (*node)[k.substr(0, dot)];
    if (!child.is_object()) child = json::object();
    node = &child;
  }
  if (k == "labels") node->erase("label");
  if (element >= 0)
    (*node)[k][element] = v;
  else
    (*node)[k] = array ? json::array({v}) : v;
  return doc;
}

// Values outside [lo, hi]: each is written into the JSON as its own integer literal.
std::vector<json> outside(const Key& k) {
  std::vector<json> vs;
  auto add_signed = [&](int64_t v) {
    if (v < k.lo || v > k.hi) vs.push_back(v);
  };
  if (k.lo > std::numeric_limits<int64_t>::min()) add_signed(k.lo - 1);
  if (k.hi < kMax64) add_signed(k.hi + 1);
  add_signed(-1);
  add_signed(0);
  add_signed(int64_t(1) << 31);
  add_signed((int64_t(1) << 32) + 2);
  if (k.key != "seed") vs.push_back(uint64_t(1) << 63);  // 2^63: past int64 (a valid uint64 seed)
  return vs;
}

TEST(ConfigRanges, EveryIntegerKeyRejectsValuesOutsideItsRangeNamingTheKey) {
  int checked = 0;
  for (const Format& f : formats()) {
    if (f.cheap) ASSERT_NO_THROW(f.parse(f.base)) << f.name << ": the valid base document must parse";
    for (const Key& k : kKeys) {
      if (k.format != f.name) continue;
      std::string name = k.key.substr(0, k.key.find('['));
      for (const json& v : outside(k)) {
        SCOPED_TRACE(f.name + " " + k.key + " = " + v.dump());
        try {
          f.parse(with_value(f.base, k.key, v));
          ADD_FAILURE() << "accepted";
        } catch (const InputError& e) {
          EXPECT_EQ(e.exit_code(), 2);
          const std::string msg = e.what();
          const std::string leaf = name.substr(name.rfind('.') + 1);
          EXPECT_NE(msg.find(leaf), std::string::npos) << msg;
          // Nested keys appear whole, except in ImageBind configs, which name the object path
          // ("cfg.json.modalities.imu") and then the field.
          if (name.find('.') != std::string::npos && f.name != "imagebind")
            EXPECT_NE(msg.find(name), std::string::npos) << msg;
        }
        ++checked;
      }
      // The value at each end of the range is not refused for being out of range.
      for (int64_t edge : {k.lo, k.hi}) {
        if (!f.cheap) break;
        try {
          f.parse(with_value(f.base, k.key, edge));
        } catch (const InputError& e) {
          EXPECT_EQ(std::string(e.what()).find("expected an integer in"), std::string::npos)
              << f.name << " " << k.key << " = " << edge << ": " << e.what();
        }
      }
    }
  }
  EXPECT_GT(checked, 5 * int(kKeys.size()) / 2);
}

TEST(ConfigRanges, WrappedValuesAreNotReadAsSmallOnes) {
  // 2^32 + 4 used to run as batch_size 4; 2^32 + 1 as label 1.
  json j = load_json("codebind_tiny_test.json");
  j["batch_size"] = (int64_t(1) << 32) + 4;
  try {
    TrainConfig::from_json(j, "cfg.json");
    FAIL() << "batch_size 2^32+4 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("found 4294967300"), std::string::npos) << e.what();
  }
}

TEST(ConfigRanges, TheCommandLineExitsTwoNamingTheKey) {
  test::TempDir d;
  json j = load_json("codebind_tiny_test.json");
  j["max_steps_per_epoch"] = (int64_t(1) << 32) + 2;
  std::ofstream(d.file("cfg.json")) << j.dump();
  const std::string log = d.file("log.txt");
  EXPECT_EQ(test::run_codebind("train --config " + d.file("cfg.json") + " --bridge " + d.file("none") +
                                   " --data " + d.file("none") + " --out " + d.file("run"),
                               log),
            2);
  EXPECT_NE(test::slurp(log).find("max_steps_per_epoch"), std::string::npos) << test::slurp(log);
  EXPECT_FALSE(std::filesystem::exists(d.file("run")));
}

}  // namespace
}  // namespace cb
