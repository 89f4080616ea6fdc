// test_bridge_cache.cpp — the frozen-bridge cache (train/bridge_cache.h): with
// freeze_bridge_heads the vision and text towers are read from the cache; cached outputs equal
// the towers' own forward; a run with the cache trains like one without; a later run reads
// the file another run wrote and computes nothing; a tower whose weights, or an item whose
// file, changed misses; a damaged cache file is rebuilt, never trusted; trainable or random
// towers are not cached, with the reason.
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "test_tiny_run.h"
#include "train/bridge_cache.h"

namespace cb {
namespace {
namespace fs = std::filesystem;

TrainConfig frozen_config() {
  TrainConfig c = test::tiny_train_config();
  c.optim.freeze_bridge_heads = true;
  c.optim.epochs = 1;
  c.optim.max_steps_per_epoch = 3;
  return c;
}

// A quiet run on the tiny fixture into TMP/run, its bridge cache in TMP/cache.
TrainOptions cached_options(const test::TinyFixture& f, const test::TempDir& tmp) {
  TrainOptions o = test::tiny_options(f, tmp.file("run"));
  o.bridge_cache = tmp.file("cache");
  return o;
}

std::vector<double> losses(Trainer& t, int steps) {
  std::vector<double> out;
  for (int s = 0; s < steps; ++s) out.push_back(t.train_step(t.planner().plan(0, s)).at("loss"));
  return out;
}

TEST(BridgeCache, CachedOutputsEqualTheTowersForward) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  TrainOptions o = cached_options(f, tmp);
  o.dtype = "fp32";  // compared with the fp32 forward below to 1e-5
  Trainer t(frozen_config(), o);
  FrozenTowerCache* vc = t.bridge_cache(Modality::Vision);
  FrozenTowerCache* tc = t.bridge_cache(Modality::Text);
  ASSERT_NE(vc, nullptr);
  ASSERT_NE(tc, nullptr);
  EXPECT_EQ(t.bridge_cache(Modality::Imu), nullptr);  // the target trains
  const BatchPlan plan = t.planner().plan(0, 0);
  t.train_step(plan);
  EXPECT_EQ(vc->misses(), int64_t(plan.items.at(Modality::Vision).size()));
  EXPECT_EQ(vc->hits(), 0);

  InputPipeline inputs(t.model().bridge());
  const Bridge& br = t.model().bridge();
  torch::NoGradGuard ng;
  int64_t clips = 0;
  const at::Tensor cached = vc->trunk_output(plan.items.at(Modality::Vision), &clips);  // all hits now
  EXPECT_EQ(vc->hits(), int64_t(plan.items.at(Modality::Vision).size()));
  const at::Tensor x = inputs.batch(plan.items.at(Modality::Vision));
  const at::Tensor direct = br.trunk(Modality::Vision, br.tokens(Modality::Vision, x), nullptr);
  ASSERT_EQ(cached.sizes(), direct.sizes());
  EXPECT_EQ(clips, direct.size(0) / int64_t(plan.items.at(Modality::Vision).size()));
  EXPECT_LT((cached - direct).abs().max().item<double>(), 1e-5);
  const at::Tensor pooled = tc->pooled_text(plan.prompts);
  const at::Tensor want = br.head_embedding(Modality::Text, inputs.tokenize(plan.prompts));
  ASSERT_EQ(pooled.sizes(), want.sizes());
  EXPECT_LT((pooled - want).abs().max().item<double>(), 1e-5);
}

// With --dtype bf16 the cache holds the bf16 forward (autocast over the fp32 weights): equal to
// frozen_trunk_output in bf16, within cosine 0.999 of fp32, and in a file of its own.
TEST(BridgeCache, Bf16EntriesAreTheBf16ForwardInAFileOfTheirOwn) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  TrainOptions o = cached_options(f, tmp);
  o.dtype = "bf16";
  Trainer t(frozen_config(), o);
  FrozenTowerCache* vc = t.bridge_cache(Modality::Vision);
  ASSERT_NE(vc, nullptr);
  const Bridge& br = t.model().bridge();
  EXPECT_NE(vc->path().find(FrozenTowerCache::fingerprint(br, Modality::Vision, at::kBFloat16)), std::string::npos);
  EXPECT_NE(FrozenTowerCache::fingerprint(br, Modality::Vision, at::kBFloat16),
            FrozenTowerCache::fingerprint(br, Modality::Vision, at::kFloat));
  const BatchPlan plan = t.planner().plan(0, 0);
  t.train_step(plan);
  InputPipeline inputs(br);
  torch::NoGradGuard ng;
  int64_t clips = 0;
  const at::Tensor cached = vc->trunk_output(plan.items.at(Modality::Vision), &clips);
  const at::Tensor x = inputs.batch(plan.items.at(Modality::Vision));
  const at::Tensor bf16 = frozen_trunk_output(br, Modality::Vision, x, at::kBFloat16);
  const at::Tensor fp32 = br.trunk(Modality::Vision, br.tokens(Modality::Vision, x), nullptr);
  EXPECT_EQ(cached.scalar_type(), at::kFloat);
  EXPECT_LT((cached - bf16).abs().max().item<double>(), 1e-6);
  EXPECT_GT((cached - fp32).abs().max().item<double>(), 0.0) << "bf16 was not used";
  EXPECT_GE(at::cosine_similarity(cached.flatten(1), fp32.flatten(1), 1).min().item<double>(), 0.999);
}

TEST(BridgeCache, TrainsLikeTheUncachedRunAndALaterRunReadsTheFile) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  const std::string cache = tmp.file("cache");
  auto opts = [&](const std::string& run, const std::string& c) {
    TrainOptions o = test::tiny_options(f, tmp.file(run));
    o.bridge_cache = c;
    o.dtype = "bf16";  // the frozen towers in bf16, cached or not (the harder case for equality)
    return o;
  };
  std::vector<double> off, first, later;
  {
    Trainer t(frozen_config(), opts("off", "off"));
    EXPECT_EQ(t.bridge_cache(Modality::Vision), nullptr);
    off = losses(t, 3);
  }
  {
    Trainer t(frozen_config(), opts("first", cache));
    first = losses(t, 3);  // computed on the fly
    EXPECT_FALSE(t.run().empty());  // the whole run; its checkpoints write the cache file
    ASSERT_TRUE(fs::exists(t.bridge_cache(Modality::Vision)->path()));
  }
  {
    Trainer t(frozen_config(), opts("later", cache));
    FrozenTowerCache* vc = t.bridge_cache(Modality::Vision);
    ASSERT_NE(vc, nullptr);
    EXPECT_GT(vc->entries(), 0u);
    later = losses(t, 3);
    EXPECT_EQ(vc->misses(), 0) << "a later run on the same data computes nothing";
    EXPECT_EQ(t.bridge_cache(Modality::Text)->misses(), 0);
  }
  ASSERT_EQ(off.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(first[i], off[i], 1e-4 * std::max(1.0, std::abs(off[i]))) << "step " << i;
    EXPECT_EQ(later[i], first[i]) << "step " << i << ": values read back are the values computed";
  }
}

TEST(BridgeCache, ChangedWeightsOrFilesMissAndDamagedFilesAreRebuilt) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  const TrainOptions o = cached_options(f, tmp);
  Trainer t(frozen_config(), o);
  Bridge& br = t.model().bridge();
  const std::string fp = FrozenTowerCache::fingerprint(br, Modality::Vision);
  EXPECT_EQ(fp, FrozenTowerCache::fingerprint(br, Modality::Vision));
  {
    torch::NoGradGuard ng;
    at::Tensor w = br.named_params(Modality::Vision).back().second;
    w.add_(1e-3);
    EXPECT_NE(FrozenTowerCache::fingerprint(br, Modality::Vision), fp) << "a changed tower must not hit";
    w.sub_(1e-3);
  }
  InputPipeline inputs(br);
  const BatchPlan plan = t.planner().plan(0, 0);
  std::vector<const data::Item*> one{plan.items.at(Modality::Vision).front()};
  // An item whose file changed (same id, new mtime) is a miss.
  test::TempDir media;
  data::Item copy = *one.front();
  copy.file = media.file("x" + fs::path(copy.file).extension().string());
  fs::copy_file(one.front()->file, copy.file);
  {
    FrozenTowerCache c(br, Modality::Vision, inputs, tmp.file("cache"));
    int64_t clips = 0;
    c.trunk_output({&copy}, &clips);
    c.trunk_output({&copy}, &clips);
    EXPECT_EQ(c.misses(), 1);
    EXPECT_EQ(c.hits(), 1);
    fs::last_write_time(copy.file, fs::last_write_time(copy.file) + std::chrono::seconds(5));
    c.trunk_output({&copy}, &clips);
    EXPECT_EQ(c.misses(), 2) << "an edited file must not hit";
    c.flush();
    ASSERT_TRUE(fs::exists(c.path()));
  }
  // A truncated cache file: ignored with a warning, rebuilt; never an error, never trusted.
  const std::string path = FrozenTowerCache(br, Modality::Vision, inputs, tmp.file("cache")).path();
  fs::resize_file(path, fs::file_size(path) / 2);
  FrozenTowerCache c(br, Modality::Vision, inputs, tmp.file("cache"));
  EXPECT_EQ(c.entries(), 0u);
  int64_t clips = 0;
  EXPECT_NO_THROW(c.trunk_output({&copy}, &clips));
  EXPECT_EQ(c.misses(), 1);
  c.flush();
  EXPECT_EQ(FrozenTowerCache(br, Modality::Vision, inputs, tmp.file("cache")).entries(), 1u);
}

TEST(BridgeCache, OnlyTowersThatTrainNothingAndAreDeterministic) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  const TrainOptions o = cached_options(f, tmp);
  TrainConfig c = frozen_config();
  c.optim.freeze_bridge_heads = false;  // the reference's default: bridge heads and CLS train
  Trainer t(c, o);
  EXPECT_EQ(t.bridge_cache(Modality::Vision), nullptr);
  EXPECT_EQ(t.bridge_cache(Modality::Text), nullptr);
  std::vector<std::string> why;
  EXPECT_TRUE(cacheable_towers(c.model, false, t.model().bridge(), &why).empty());
  ASSERT_EQ(why.size(), 2u);
  EXPECT_NE(why[0].find("freeze_bridge_heads"), std::string::npos) << why[0];
  // "auto" puts the cache next to the data when it is writable, else in the run.
  EXPECT_EQ(resolve_bridge_cache_dir("off", f.data, tmp.file("run")), "");
  EXPECT_EQ(resolve_bridge_cache_dir("auto", tmp.str(), tmp.file("run")), tmp.file(".codebind-cache"));
  EXPECT_EQ(resolve_bridge_cache_dir("auto", tmp.file("not-writable"), tmp.file("run")), tmp.file("run") + "/bridge-cache");
  EXPECT_EQ(resolve_bridge_cache_dir(tmp.file("c"), f.data, tmp.file("run")), tmp.file("c"));
}

}  // namespace
}  // namespace cb
