// test_imagebind.cpp — ImageBind encoders: fixture parity, config schema, weight-loading
// errors, Huge shape listing (docs/imagebind.md §6.1), LoRA zero-init and finite-difference gradients.
#include <fstream>

#include "core/error.h"
#include "app/parity_groups.h"
#include "encoders/imagebind/imagebind_model.h"
#include "test_util.h"

namespace {

using cb::ImageBindConfig;
using cb::ImageBindModel;
using cb::Modality;

// ImageBind's LoRA target list for one tower, as the bridge hands it to LoraAdapters.
cb::LoraTargetFn lora_targets_of(const cb::ModalityConfig& mc) {
  return [mc](const std::vector<int64_t>& blocks, cb::LoraMode mode) { return cb::imagebind_lora_targets(mc, blocks, mode); };
}

std::string fixture(const std::string& f) { return cb::test::fixtures_dir() + "/imagebind/" + f; }

TEST(ImageBindParity, FixtureGroupPasses) {
  CB_REQUIRE_FIXTURES();
  cb::ParityReport r = cb::run_parity_group("imagebind", cb::test::fixtures_dir());
  ASSERT_GT(r.checks().size(), 50u);
  int failed = 0;
  for (const auto& c : r.checks())
    if (!c.pass) {
      ++failed;
      ADD_FAILURE() << c.name << ": " << c.metric << " " << c.error << " (tol " << c.tolerance << ") " << c.note;
    }
  EXPECT_EQ(failed, 0);
}

TEST(ImageBindConfig, FixtureConfigListsTheManifestKeysInOrder) {
  CB_REQUIRE_FIXTURES();
  ImageBindConfig cfg = ImageBindConfig::from_file(fixture("config.json"));
  std::ifstream f(fixture("manifest.json"));
  nlohmann::json man = nlohmann::json::parse(f);
  std::vector<std::pair<std::string, std::vector<int64_t>>> want, got;
  for (const auto& w : man["weights"]) want.emplace_back(w["key"], w["shape"].get<std::vector<int64_t>>());
  for (Modality m : {Modality::Vision, Modality::Text, Modality::Audio, Modality::Depth, Modality::Thermal,
                     Modality::Imu})
    for (const auto& p : cb::param_specs(cfg, m)) got.emplace_back(p.name, p.shape);
  // The reference state_dict groups by module kind, ours by modality: compare as sets + per-tower order.
  auto sorted = [](auto v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(got), sorted(want));
}

TEST(ImageBindConfig, JsonRoundTrip) {
  for (const ImageBindConfig& cfg : {ImageBindConfig::huge(), ImageBindConfig::tiny()}) {
    ImageBindConfig back = ImageBindConfig::from_json(cfg.to_json(), "roundtrip");
    ASSERT_EQ(back.out_dim, cfg.out_dim);
    ASSERT_EQ(back.modalities.size(), cfg.modalities.size());
    for (const auto& [m, c] : cfg.modalities) {
      auto a = cb::param_specs(cfg, m), b = cb::param_specs(back, m);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].name, b[i].name);
        EXPECT_EQ(a[i].shape, b[i].shape);
      }
      const auto& bc = back.at(m);
      EXPECT_EQ(bc.num_heads, c.num_heads);
      EXPECT_EQ(bc.add_bias_kv, c.add_bias_kv);
      EXPECT_EQ(bc.causal, c.causal);
      EXPECT_EQ(bc.stem_ln_eps.has_value(), c.stem_ln_eps.has_value());
      EXPECT_EQ(bc.pre_ln_eps.has_value(), c.pre_ln_eps.has_value());
      EXPECT_NEAR(bc.logit_scale_init, c.logit_scale_init, 1e-12);
    }
  }
}

TEST(ImageBindConfig, BadJsonNamesTheField) {
  nlohmann::json j = ImageBindConfig::tiny().to_json();
  j["modalities"]["audio"].erase("num_heads");
  try {
    ImageBindConfig::from_json(j, "cfg.json");
    FAIL() << "no error";
  } catch (const cb::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.json.modalities.audio: missing field 'num_heads'"), std::string::npos)
        << e.what();
  }
  nlohmann::json k = ImageBindConfig::tiny().to_json();
  k["modalities"]["sonar"] = k["modalities"]["audio"];
  EXPECT_THROW(ImageBindConfig::from_json(k, "cfg.json"), cb::InputError);
  nlohmann::json h = ImageBindConfig::tiny().to_json();
  h["modalities"]["vision"]["num_heads"] = 3;  // 16 not divisible by 3
  EXPECT_THROW(ImageBindConfig::from_json(h, "cfg.json"), cb::InputError);
  // "inputs": one of the two scalings, round-tripped.
  nlohmann::json in = ImageBindConfig::tiny().to_json();
  in["inputs"] = "standardised";
  EXPECT_EQ(ImageBindConfig::from_json(in, "cfg.json").inputs, cb::InputScaling::Standardised);
  in["inputs"] = "minmax";
  try {
    ImageBindConfig::from_json(in, "cfg.json");
    FAIL() << "no error";
  } catch (const cb::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.json.inputs: unknown input scaling 'minmax'"), std::string::npos) << e.what();
  }
  in["inputs"] = 3;
  EXPECT_THROW(ImageBindConfig::from_json(in, "cfg.json"), cb::InputError);
}

// docs/imagebind.md §6.1 totals: tensors and elements per tower, including buffers.
TEST(ImageBindConfig, HugeShapeListMatchesSpec) {
  ImageBindConfig cfg = ImageBindConfig::huge();
  struct Row {
    Modality m;
    size_t tensors;
    int64_t elements;
  };
  const Row rows[] = {{Modality::Vision, 392, 632829440}, {Modality::Text, 295, 354038570},
                      {Modality::Audio, 177, 86235649},   {Modality::Depth, 177, 21871873},
                      {Modality::Thermal, 177, 86211073}, {Modality::Imu, 93, 19600385}};
  size_t all_t = 0;
  int64_t all_e = 0, buffers = 0;
  for (const Row& r : rows) {
    auto specs = cb::param_specs(cfg, r.m);
    int64_t e = 0;
    for (const auto& p : specs) {
      int64_t n = 1;
      for (auto s : p.shape) n *= s;
      e += n;
      if (p.buffer) buffers += n;
    }
    EXPECT_EQ(specs.size(), r.tensors) << cb::modality_name(r.m);
    EXPECT_EQ(e, r.elements) << cb::modality_name(r.m);
    all_t += specs.size();
    all_e += e;
  }
  EXPECT_EQ(all_t, 1311u);
  EXPECT_EQ(all_e, 1200786990);
  EXPECT_EQ(buffers, 5933);
  auto v = cb::param_specs(cfg, Modality::Vision);
  EXPECT_EQ(v[1].name, "modality_preprocessors.vision.rgbt_stem.proj.1.weight");
  EXPECT_EQ(v[1].shape, (std::vector<int64_t>{1280, 3, 2, 14, 14}));
  auto i = cb::param_specs(cfg, Modality::Imu);
  EXPECT_EQ(i.back().name, "modality_postprocessors.imu.1.log_logit_scale");
  EXPECT_EQ(i[i.size() - 2].name, "modality_heads.imu.3.weight");
}

// Saves a tiny model, corrupts the file in three ways and checks ONE error names all three.
TEST(ImageBindLoad, ReportsEveryMissingUnexpectedAndMisshapedKey) {
  cb::test::TempDir tmp;
  ImageBindConfig cfg = ImageBindConfig::tiny();
  ImageBindModel src(cfg, {Modality::Audio, Modality::Vision}, 1);
  cb::NamedTensors ts;
  for (const auto& [k, t] : src.params) {
    if (k == "modality_trunks.audio.blocks.1.attn.bias_k") continue;  // missing
    if (k == "modality_heads.audio.2.weight") {
      ts.emplace_back(k, at::zeros({3, 3}));  // mis-shaped
      continue;
    }
    ts.emplace_back(k, t);
  }
  ts.emplace_back("modality_trunks.audio.blocks.7.norm_1.weight", at::zeros({16}));  // unexpected
  const std::string path = tmp.file("bad.safetensors");
  cb::save_safetensors(path, ts);

  ImageBindModel dst(cfg, {Modality::Audio}, 2);
  try {
    dst.load(cb::SafetensorsFile(path), path);
    FAIL() << "no error";
  } catch (const cb::InputError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("1 missing [modality_trunks.audio.blocks.1.attn.bias_k]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("1 unexpected [modality_trunks.audio.blocks.7.norm_1.weight]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("modality_heads.audio.2.weight expected (16, 16) found (3, 3)"), std::string::npos) << msg;
  }
  // Vision alone loads fine: the broken audio keys are never looked at.
  ImageBindModel vis(cfg, {Modality::Vision}, 3);
  vis.load(cb::SafetensorsFile(path), path);
  EXPECT_TRUE(vis.params.at("modality_heads.vision.2.weight").equal(src.params.at("modality_heads.vision.2.weight")));
  EXPECT_EQ(vis.params.count("modality_heads.audio.2.weight"), 0u);
}

TEST(ImageBindModel, LoadedWeightsReproduceTheSourceModel) {
  cb::test::TempDir tmp;
  ImageBindConfig cfg = ImageBindConfig::tiny();
  ImageBindModel a(cfg, {Modality::Imu}, 5);
  cb::save_safetensors(tmp.file("w.safetensors"), a.named_params(Modality::Imu));
  ImageBindModel b(cfg, {Modality::Imu}, 6);
  at::Tensor x = at::randn({2, 6, 200});
  EXPECT_FALSE(a.embed(Modality::Imu, x).equal(b.embed(Modality::Imu, x)));
  b.load(cb::SafetensorsFile(tmp.file("w.safetensors")), "w");
  EXPECT_TRUE(a.embed(Modality::Imu, x).equal(b.embed(Modality::Imu, x)));
  // Unit norm × scale, and clip averaging over a 5-D input is the mean of per-clip outputs.
  at::Tensor e = a.embed(Modality::Imu, x);
  EXPECT_NEAR(e.norm(2, {-1}).max().item<double>(), a.logit_scale(Modality::Imu).item<double>(), 1e-5);
}

TEST(ImageBindModel, ClipAveragingAndBadShapes) {
  ImageBindConfig cfg = ImageBindConfig::tiny();
  ImageBindModel m(cfg, {Modality::Depth, Modality::Vision}, 7);
  at::Tensor x = at::randn({2, 3, 1, 32, 32});  // (B=2, S=3, 1, 32, 32)
  at::Tensor e = m.embed(Modality::Depth, x);
  ASSERT_EQ(e.sizes(), (at::IntArrayRef{2, 16}));
  at::Tensor per = m.embed(Modality::Depth, x.flatten(0, 1)).view({2, 3, 16}).mean(1);
  EXPECT_TRUE(at::allclose(e, per, 1e-6, 1e-6));
  EXPECT_THROW(m.embed(Modality::Depth, at::randn({1, 3, 32, 32})), cb::InputError);  // channels
  EXPECT_THROW(m.embed(Modality::Depth, at::randn({1, 1, 40, 40})), cb::InputError);  // no interpolation
  EXPECT_THROW(m.embed(Modality::Vision, at::randn({1, 3, 40, 32})), cb::InputError); // non-square
  EXPECT_EQ(m.embed(Modality::Vision, at::randn({1, 3, 48, 48})).size(1), 16);        // 6×6 grid: interpolated
  // Image == the same image given as a 2-frame clip (PadIm2Video repeat).
  at::Tensor img = at::randn({1, 3, 32, 32});
  at::Tensor clip = img.unsqueeze(2).repeat({1, 1, 2, 1, 1});
  EXPECT_TRUE(at::allclose(m.embed(Modality::Vision, img), m.embed(Modality::Vision, clip), 1e-6, 1e-6));
}

TEST(ImageBindModel, DropPathOnlyInTrainMode) {
  ImageBindModel m(ImageBindConfig::tiny(), {Modality::Audio}, 8);  // audio drop_path 0.1
  at::Tensor x = at::randn({2, 1, 128, 204});
  at::Tensor a = m.embed(Modality::Audio, x), b = m.embed(Modality::Audio, x);
  EXPECT_TRUE(a.equal(b));
  m.train(true);
  m.seed_dropout(1);
  at::Tensor c = m.embed(Modality::Audio, x);
  EXPECT_FALSE(a.equal(c));
  m.train(false);
  EXPECT_TRUE(a.equal(m.embed(Modality::Audio, x)));
}

// ---- LoRA -----------------------------------------------------------------------------------

TEST(ImageBindLora, ZeroInitLeavesOutputUnchanged) {
  ImageBindConfig cfg = ImageBindConfig::tiny();
  ImageBindModel m(cfg, {Modality::Thermal}, 9);
  auto lora = cb::LoraAdapters::create(Modality::Thermal, 4, {1}, cb::LoraMode::All, lora_targets_of(cfg.at(Modality::Thermal)), 3);
  EXPECT_EQ(lora.params.size(), 8u);
  EXPECT_EQ(lora.params.at("modality_trunks.thermal.blocks.1.attn.in_proj_weight_lora_down").sizes(),
            (at::IntArrayRef{4, 16}));
  EXPECT_EQ(lora.params.at("modality_trunks.thermal.blocks.1.mlp.fc1.weight_lora_up").sizes(),
            (at::IntArrayRef{64, 4}));
  at::Tensor x = at::randn({2, 1, 32, 32});
  EXPECT_TRUE(m.embed(Modality::Thermal, x).equal(m.embed(Modality::Thermal, x, &lora)));
  // A non-zero down matrix changes the output.
  lora.params.at("modality_trunks.thermal.blocks.1.mlp.fc2.weight_lora_down").normal_();
  EXPECT_FALSE(at::allclose(m.embed(Modality::Thermal, x), m.embed(Modality::Thermal, x, &lora)));
}

// Loss = <embedding, fixed direction>; autograd gradients of A and U vs central differences
// in float64. With A = 0 only A gets a gradient; after one SGD step U gets one too.
TEST(ImageBindLora, GradientReachesDownAndUpMatrices) {
  ImageBindConfig cfg = ImageBindConfig::tiny();
  ImageBindModel m(cfg, {Modality::Audio}, 10);
  m.to(at::kCPU, at::kDouble);
  auto lora = cb::LoraAdapters::create(Modality::Audio, 2, {0, 1}, cb::LoraMode::All, lora_targets_of(cfg.at(Modality::Audio)), 4);
  lora.to(at::kCPU, at::kDouble);
  at::Tensor x = at::randn({1, 1, 128, 204}, at::kDouble);
  at::Tensor dir = at::randn({1, 16}, at::kDouble);
  auto loss = [&]() { return (m.embed(Modality::Audio, x, &lora) * dir).sum(); };
  const std::string A = "modality_trunks.audio.blocks.0.attn.in_proj_weight_lora_down";
  const std::string U = "modality_trunks.audio.blocks.0.attn.in_proj_weight_lora_up";
  const std::string A2 = "modality_trunks.audio.blocks.1.mlp.fc2.weight_lora_down";
  for (auto& [k, t] : lora.params) t.requires_grad_(true);

  auto check_fd = [&](const std::string& key, at::Tensor grad) {
    at::Tensor p = lora.params.at(key);
    for (int64_t idx : {int64_t(0), p.numel() / 2, p.numel() - 1}) {
      const double h = 1e-6;
      double orig;
      {
        at::NoGradGuard ng;
        orig = p.view(-1)[idx].item<double>();
        p.view(-1)[idx].fill_(orig + h);
      }
      double up = loss().item<double>();
      {
        at::NoGradGuard ng;
        p.view(-1)[idx].fill_(orig - h);
      }
      double dn = loss().item<double>();
      {
        at::NoGradGuard ng;
        p.view(-1)[idx].fill_(orig);
      }
      double fd = (up - dn) / (2 * h);
      EXPECT_NEAR(grad.view(-1)[idx].item<double>(), fd, 1e-6 + 1e-4 * std::abs(fd)) << key << "[" << idx << "]";
    }
  };

  at::Tensor l = loss();
  auto g = torch::autograd::grad({l}, {lora.params.at(A), lora.params.at(U), lora.params.at(A2)});
  EXPECT_GT(g[0].abs().max().item<double>(), 0.0);
  EXPECT_EQ(g[1].abs().max().item<double>(), 0.0);  // U gets nothing while A = 0
  check_fd(A, g[0]);
  check_fd(A2, g[2]);
  {
    at::NoGradGuard ng;  // one SGD step on every down matrix
    lora.params.at(A).sub_(g[0], 0.1);
    lora.params.at(A2).sub_(g[2], 0.1);
  }
  l = loss();
  g = torch::autograd::grad({l}, {lora.params.at(U)});
  EXPECT_GT(g[0].abs().max().item<double>(), 0.0);
  check_fd(U, g[0]);
}

TEST(ImageBindLora, SaveLoadAndErrors) {
  cb::test::TempDir tmp;
  ImageBindConfig cfg = ImageBindConfig::tiny();
  auto a = cb::LoraAdapters::create(Modality::Depth, 3, {0, 1}, cb::LoraMode::Attn, lora_targets_of(cfg.at(Modality::Depth)), 5);
  a.save(tmp.file("l.safetensors"));
  auto b = cb::LoraAdapters::load(tmp.file("l.safetensors"), Modality::Depth, lora_targets_of(cfg.at(Modality::Depth)));
  EXPECT_EQ(b.rank, 3);
  EXPECT_EQ(b.blocks, (std::vector<int64_t>{0, 1}));
  ASSERT_EQ(b.params.size(), a.params.size());
  for (const auto& [k, t] : a.params) EXPECT_TRUE(t.equal(b.params.at(k))) << k;
  EXPECT_THROW(cb::LoraAdapters::load(tmp.file("l.safetensors"), Modality::Audio, lora_targets_of(cfg.at(Modality::Audio))), cb::InputError);
  EXPECT_THROW(cb::LoraAdapters::create(Modality::Depth, 4, {2}, cb::LoraMode::All, lora_targets_of(cfg.at(Modality::Depth)), 1), cb::InputError);
  ImageBindConfig wide = cfg;
  wide.modalities[Modality::Depth].embed_dim = 32;
  try {
    cb::LoraAdapters::load(tmp.file("l.safetensors"), Modality::Depth, lora_targets_of(wide.at(Modality::Depth)));
    FAIL() << "no error";
  } catch (const cb::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("mis-shaped modality_trunks.depth.blocks.0.attn.in_proj_weight_lora_down"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
