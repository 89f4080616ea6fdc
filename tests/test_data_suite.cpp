// test_data_suite.cpp — the sensor-suite generator: same seed → identical bytes (for any
// thread count), another seed → other data, every modality's files load through the readers
// the trainer uses with the documented shapes, every attribute takes several values in every
// class, the built-in defaults equal configs/sensor-suite.json.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <torch/torch.h>

#include "core/error.h"
#include "data/manifest.h"
#include "train/batch_plan.h"
#include "data/readers.h"
#include "suite/sensor_suite.h"
#include "test_util.h"

namespace fs = std::filesystem;
using cb::test::slurp;

namespace {

// A tiny config: 80 vision / 60 other train items (8 / 6 per class), 10 val, 10 test.
const char* kTiny = R"({"sizes":{"small":{"vision":[80,10,10],"audio":[60,10,10],"text":[60,10,10],
  "depth":[60,10,10],"imu":[60,10,10]}},"vision":{"max_fonts":40},"depth":{"max_fonts":20}})";

class DataSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new cb::test::TempDir();
    std::ofstream(dir_->file("tiny.json")) << kTiny;
    generate(dir_->file("a"), 5, 2);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static void generate(const std::string& out, uint64_t seed, int threads) {
    cb::suite::SuiteOptions o;
    o.out_dir = out, o.seed = seed, o.config_path = dir_->file("tiny.json"), o.size = "small";
    o.threads = threads, o.progress = false;
    cb::suite::generate_sensor_suite(o);
  }
  static cb::test::TempDir* dir_;
};
cb::test::TempDir* DataSuite::dir_ = nullptr;

std::map<std::string, std::string> tree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = slurp(e.path().string());
  return out;
}

}  // namespace

TEST_F(DataSuite, SameSeedSameBytesAnyThreads) {
  generate(dir_->file("b"), 5, 1);
  const auto a = tree(dir_->file("a")), b = tree(dir_->file("b"));
  EXPECT_EQ(a.size(), 1 + 1 + 100u + 3 * 80u);  // dataset.json, items.jsonl, 4 file modalities
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, v] : a) {
    ASSERT_TRUE(b.count(k)) << k;
    EXPECT_TRUE(b.at(k) == v) << k << " differs between runs";
  }
}

TEST_F(DataSuite, OtherSeedOtherData) {
  generate(dir_->file("c"), 6, 2);
  EXPECT_NE(slurp(dir_->file("a/items.jsonl")), slurp(dir_->file("c/items.jsonl")));
  EXPECT_NE(slurp(dir_->file("a/vision/train/vision-train-00000.png")),
            slurp(dir_->file("c/vision/train/vision-train-00000.png")));
}

TEST_F(DataSuite, EveryFileLoadsThroughTheTrainerReaders) {
  cb::data::Manifest m = cb::data::Manifest::load(dir_->file("a"));
  EXPECT_EQ(m.items().size(), 420u);
  for (const auto& it : m.items()) {
    if (it.modality == cb::Modality::Text) {
      EXPECT_FALSE(it.text.empty()) << it.id;
      continue;
    }
    int sr = 0;
    at::Tensor t = cb::data::read_item_tensor(it, &sr);
    switch (it.modality) {
      case cb::Modality::Vision:
        EXPECT_EQ(t.sizes(), (std::vector<int64_t>{3, 64, 64})) << it.id;
        EXPECT_GT(t.std().item<float>(), 0.02f) << it.id;
        break;
      case cb::Modality::Audio:
        EXPECT_EQ(t.sizes(), (std::vector<int64_t>{1, 32000})) << it.id;
        EXPECT_EQ(sr, 16000);
        EXPECT_GT(t.abs().max().item<float>(), 0.3f) << it.id << " (speech present)";
        break;
      case cb::Modality::Imu: {
        EXPECT_EQ(t.sizes(), (std::vector<int64_t>{6, 512})) << it.id;
        // Gravity: the accelerometer's mean magnitude is about 9.81 m/s².
        const float g = t.narrow(0, 0, 3).mean(1).norm().item<float>();
        EXPECT_NEAR(g, 9.81f, 0.6f) << it.id;
        break;
      }
      case cb::Modality::Depth:
        EXPECT_EQ(t.sizes(), (std::vector<int64_t>{64, 64})) << it.id;
        EXPECT_GT(t.min().item<float>(), 0.3f) << it.id;  // disparity 1/z with z ≤ 2 m
        break;
      default:
        ADD_FAILURE() << "unexpected modality for " << it.id;
    }
  }
  EXPECT_TRUE(cb::data::check_dataset(dir_->file("a"), false).ok());
}

TEST_F(DataSuite, AttributesVaryWithinEveryClass) {
  cb::data::Manifest m = cb::data::Manifest::load(dir_->file("a"));
  const std::map<std::string, std::vector<std::string>> expected = {
      {"vision", {"font", "hue", "lightness", "texture", "rotation", "scale"}},
      {"audio", {"voice", "accent", "pitch", "rate", "snr"}},
      {"text", {"language", "format"}},
      {"imu", {"style", "speed", "orientation", "noise"}},
      {"depth", {"distance", "tilt", "relief"}}};
  for (const auto& [mod, keys] : expected) {
    auto items = m.select(cb::parse_modality(mod), "train");
    ASSERT_EQ(items.size(), mod == "vision" ? 80u : 60u) << mod;
    for (const auto& k : keys)
      for (int c = 0; c < 10; ++c) {
        std::set<std::string> vals;
        for (auto* it : items)
          if (it->label() == c) {
            ASSERT_TRUE(it->attrs.contains(k)) << mod << "." << k;
            vals.insert(it->attrs[k].dump());
          }
        EXPECT_GE(vals.size(), 2u) << mod << "." << k << " takes one value in class " << c;
      }
  }
}

TEST_F(DataSuite, ClassIsVisibleInTheData) {
  // Vision: the same font/colour/texture/pose draws but another digit give other pixels — checked
  // indirectly: items of different classes are never byte-identical and text names the digit.
  cb::data::Manifest m = cb::data::Manifest::load(dir_->file("a"));
  for (auto* it : m.select(cb::Modality::Text, "")) {
    if (it->attrs["format"] == "numeral") {
      EXPECT_NE(it->text.find(std::to_string(it->label())), std::string::npos) << it->text;
    }
    if (it->attrs["language"] == "en" && it->attrs["format"] == "word") {
      EXPECT_NE(it->text.find(m.info().classes[it->label()]), std::string::npos) << it->text;
    }
  }
}

TEST_F(DataSuite, VisionAndDepthScenesAreInstancePairs) {
  // instance_pairs (default vision, depth): the k-th vision and the k-th depth item of a split
  // show one scene — same group, class and font — for k below the smaller split.
  cb::data::Manifest m = cb::data::Manifest::load(dir_->file("a"));
  const std::map<std::string, size_t> want{{"train", 60}, {"val", 10}, {"test", 10}};
  for (const auto& [split, n] : want) {
    std::map<std::string, const cb::data::Item*> vision, depth;
    for (auto* it : m.select(cb::Modality::Vision, split))
      if (!it->group.empty()) vision[it->group] = it;
    for (auto* it : m.select(cb::Modality::Depth, split))
      if (!it->group.empty()) depth[it->group] = it;
    EXPECT_EQ(vision.size(), n) << split;
    ASSERT_EQ(depth.size(), n) << split;
    for (const auto& [g, v] : vision) {
      ASSERT_TRUE(depth.count(g)) << g;
      EXPECT_EQ(v->label(), depth[g]->label()) << g;
      EXPECT_EQ(v->attrs["font"], depth[g]->attrs["font"]) << g;
    }
    for (auto* it : m.select(cb::Modality::Audio, split)) EXPECT_TRUE(it->group.empty()) << it->id;
  }
  // Other generators' items stay unpaired, and auto pairing binds a run only through groups
  // that hold every one of its non-text modalities.
  using cb::Modality;
  EXPECT_EQ(cb::resolve_pairing("auto", m, {Modality::Imu, Modality::Vision, Modality::Text}, "train"),
            cb::Pairing::Class);
  EXPECT_EQ(cb::resolve_pairing("auto", m, {Modality::Depth, Modality::Vision, Modality::Text}, "train"),
            cb::Pairing::Group);
}

TEST(DataSuiteConfig, DefaultConfigMatchesFile) {
  const std::string path = std::string(CODEBIND_SOURCE_DIR) + "/configs/sensor-suite.json";
  EXPECT_EQ(cb::suite::default_suite_config(), nlohmann::json::parse(slurp(path)));
  // Overrides merge: one key changes, the rest stays.
  cb::test::TempDir d;
  std::ofstream(d.file("o.json")) << R"({"audio":{"snr_db":[0,1]}})";
  auto c = cb::suite::load_suite_config(d.file("o.json"));
  EXPECT_EQ(c["audio"]["snr_db"][1].get<double>(), 1.0);
  EXPECT_EQ(c["audio"]["sample_rate"].get<int>(), 16000);
  std::ofstream(d.file("bad.json")) << R"({"text":{"formats":["cursive"]}})";
  cb::suite::SuiteOptions o;
  o.out_dir = d.file("x"), o.config_path = d.file("bad.json"), o.progress = false;
  EXPECT_THROW(cb::suite::generate_sensor_suite(o), cb::InputError);
  std::ofstream(d.file("pairs.json")) << R"({"instance_pairs":["vision","thermal"]})";
  o.config_path = d.file("pairs.json");
  try {
    cb::suite::generate_sensor_suite(o);
    ADD_FAILURE() << "instance_pairs naming a modality the suite does not generate must be refused";
  } catch (const cb::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("thermal"), std::string::npos) << e.what();
  }
}
