// test_reliability.cpp — well-formed but wrong input must not pass silently: NaN/Inf in
// weights and checkpoints, impossible checkpoint state, NaN/zero/empty index queries, an
// unknown evaluation split. Each case was once accepted with exit 0 (docs/reliability.md).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/memory_budget.h"
#include "core/threads.h"
#include "data/readers.h"
#include "encoders/imagebind/imagebind_model.h"
#include "index/search.h"
#include "io/finite_check.h"
#include "io/safetensors.h"
#include "test_index_util.h"
#include "test_tiny_run.h"
#include "test_util.h"
#include "train/pretrain.h"
#include "train/trainer.h"

namespace cb {
namespace {

namespace fs = std::filesystem;

// Rewrites a safetensors file with `edit` applied to its tensors and `edit_meta` to its
// metadata (the data checksum is recomputed by save_safetensors).
void rewrite(const std::string& path, const std::function<void(std::map<std::string, at::Tensor>&)>& edit,
             const std::function<void(std::map<std::string, std::string>&)>& edit_meta = {}) {
  std::map<std::string, std::string> meta;
  std::map<std::string, at::Tensor> ts;
  {
    SafetensorsFile f(path);
    meta = f.metadata();
    for (auto& [k, t] : load_safetensors(path)) ts[k] = t.clone();
  }
  if (edit) edit(ts);
  if (edit_meta) edit_meta(meta);
  save_safetensors(path, NamedTensors(ts.begin(), ts.end()), meta);
}

void expect_input_error(const std::function<void()>& f, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing: " << what;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(Reliability, CountNonFiniteSeesNaNAndInfButMasksMayHoldInf) {
  at::Tensor t = at::zeros({1000});
  EXPECT_EQ(count_non_finite(t), 0);
  t[3] = NAN;
  t[999] = INFINITY;
  t[500] = -INFINITY;
  EXPECT_EQ(count_non_finite(t), 3);
  EXPECT_EQ(count_non_finite(t, true), 1);
  EXPECT_EQ(count_non_finite(t.to(at::kBFloat16)), 3);
  EXPECT_EQ(count_non_finite(t.to(at::kDouble), true), 1);
  EXPECT_EQ(count_non_finite(at::ones({4}, at::kLong)), 0);
  at::Tensor mask = at::full({4, 4}, -INFINITY).triu(1);
  EXPECT_NO_THROW(check_finite(mask, "w.safetensors", "modality_preprocessors.text.mask"));
  expect_input_error([&] { check_finite(mask, "w.safetensors", "modality_heads.text.proj.weight"); },
                     "w.safetensors: tensor 'modality_heads.text.proj.weight' holds 6 NaN/Inf values of 16");
  mask[0][0] = NAN;
  expect_input_error([&] { check_finite(mask, "w.safetensors", "x.mask"); }, "holds 1 NaN values");
}

TEST(Reliability, WeightsWithNaNAreRefusedAtLoadNamingTheTensor) {
  test::TempDir tmp;
  ImageBindConfig cfg = ImageBindConfig::tiny();
  ImageBindModel a(cfg, {Modality::Imu}, 5);
  const std::string path = tmp.file("w.safetensors");
  save_safetensors(path, a.named_params(Modality::Imu));
  ImageBindModel b(cfg, {Modality::Imu}, 6);
  EXPECT_NO_THROW(b.load(SafetensorsFile(path), path));
  std::string victim;
  rewrite(path, [&](auto& ts) {
    victim = ts.rbegin()->first;
    ts.rbegin()->second.view(-1)[0] = NAN;
  });
  expect_input_error([&] { b.load(SafetensorsFile(path), path); }, "tensor '" + victim + "' holds 1 NaN/Inf");
}

TEST(Reliability, ResumeRefusesACheckpointWithNaNOrAnImpossibleState) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  TrainOptions o = test::tiny_options(f, tmp.file("run"));
  o.stop_after = 2;  // checkpoint_every 2: a checkpoint exists
  Trainer(test::tiny_train_config(), o).run();
  const std::string ck = o.out_dir + "/checkpoint.safetensors";
  ASSERT_TRUE(fs::exists(ck));
  const std::string saved = tmp.file("good.safetensors");
  fs::copy_file(ck, saved);
  o.stop_after = -1;
  o.resume = true;
  // NaN in five model tensors.
  rewrite(ck, [](auto& ts) {
    int n = 0;
    for (auto& [k, t] : ts)
      if (k.rfind("model.", 0) == 0 && t.is_floating_point() && k.find("mask") == std::string::npos && n < 5) {
        t.view(-1)[0] = NAN;
        ++n;
      }
  });
  expect_input_error([&] { Trainer(test::tiny_train_config(), o).run(); }, "NaN/Inf values");
  EXPECT_FALSE(fs::exists(o.out_dir + "/model.safetensors")) << "a NaN model was written";
  // A state that says epoch −100.
  fs::copy_file(saved, ck, fs::copy_options::overwrite_existing);
  rewrite(ck, {}, [](auto& meta) {
    auto state = nlohmann::json::parse(meta.at("state"));
    state["epoch"] = -100;
    meta["state"] = state.dump();
  });
  expect_input_error([&] { Trainer(test::tiny_train_config(), o).run(); }, "key 'epoch'");
}

TEST(Reliability, IndexSearchRefusesNaNAndZeroQueries) {
  using namespace index;
  Index ix(itest::random_codebook(16, 8, 1), {}, 4, 0);
  std::vector<uint8_t> sc, pc;
  std::vector<float> fl;
  ix.append(itest::random_items(ix, 20, {Modality::Vision}, 2, sc, pc, fl));
  std::vector<float> q(2 * 32, 0.5f);
  SearchOptions o;
  o.k = 3;
  EXPECT_EQ(search(ix, q.data(), 2, 32, Modality::Text, o).size(), 2u);
  for (Kernel k : available_kernels()) {
    o.kernel = k;
    std::vector<float> bad = q;
    bad[32 + 5] = NAN;
    expect_input_error([&] { search(ix, bad.data(), 2, 32, Modality::Text, o); }, "query 1 holds NaN");
    std::fill(bad.begin(), bad.end(), 0.f);
    expect_input_error([&] { search(ix, bad.data(), 2, 32, Modality::Text, o); }, "query 0 is all zeros");
  }
}

TEST(Reliability, EvalOfAnUnknownSplitWritesNothing) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  const std::string log = f.root + "/eval_split.log";
  std::set<std::string> files_before;
  for (const auto& e : fs::directory_iterator(f.bridge)) files_before.insert(e.path().filename().string());
  EXPECT_EQ(test::run_codebind("eval --run " + f.bridge + " --data " + f.data + " --split training --no-plots", log), 2);
  EXPECT_NE(test::slurp(log).find("--split"), std::string::npos) << test::slurp(log);
  std::set<std::string> files_after;
  for (const auto& e : fs::directory_iterator(f.bridge)) files_after.insert(e.path().filename().string());
  EXPECT_EQ(files_before, files_after);
}


TEST(Reliability, AbsurdThreadCountsAreRefused) {
  const int before = thread_count();
  expect_input_error([] { configure_threads(-3); }, "--threads -3");
  expect_input_error([] { configure_threads(max_threads() + 1); }, "expected 0 (all cores) to");
  EXPECT_EQ(configure_threads(1), 1);
  configure_threads(before);
  test::TempDir d;
  EXPECT_EQ(test::run_codebind("--threads 2000 data check " + d.str(), d.file("log")), 2);
  EXPECT_NE(test::slurp(d.file("log")).find("--threads 2000"), std::string::npos) << test::slurp(d.file("log"));
}


TEST(Reliability, ItemArraysWithNaNOrNoSamplesGiveTheDataCheckMessage) {
  at::Tensor empty = at::zeros({6, 0});
  expect_input_error([&] { data::check_item_shape(Modality::Imu, empty, "d/imu/0.npy"); },
                     "d/imu/0.npy: expected imu [6, T], got [6, 0]");
  at::Tensor x = at::zeros({6, 50});
  x[2][7] = NAN;
  expect_input_error([&] { data::check_item_shape(Modality::Imu, x, "d/imu/1.npy"); },
                     "d/imu/1.npy: holds 1 NaN/Inf values");
  expect_input_error([&] { data::check_item_shape(Modality::Depth, at::full({4, 4}, NAN), "d/depth/2.npy"); },
                     "holds 16 NaN/Inf");
}


TEST(Reliability, ANonFiniteLossSaysWhatIsOnDiskAndWhichItems) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  TrainOptions o = test::tiny_options(f, tmp.file("run"));
  Trainer t(test::tiny_train_config(), o);
  {
    torch::NoGradGuard ng;
    for (auto& [n, p] : t.model().state_tensors())
      if (p.is_floating_point() && n.find("mask") == std::string::npos) const_cast<at::Tensor&>(p).fill_(NAN);
  }
  try {
    t.run();
    FAIL() << "a NaN model trained on";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("no checkpoint has been written in " + o.out_dir), std::string::npos) << msg;
    EXPECT_EQ(msg.find("is kept at"), std::string::npos) << msg;
    EXPECT_NE(msg.find("the batch held items "), std::string::npos) << msg;
  }
  EXPECT_FALSE(fs::exists(o.out_dir + "/checkpoint.safetensors"));
}


TEST(Reliability, FlippedBitsInACheckpointAreFoundByItsChecksum) {
  test::TempDir tmp;
  const std::string p = tmp.file("c.safetensors");
  save_safetensors(p, {{"a", at::arange(1000, at::kFloat)}, {"b", at::ones({7}, at::kLong)}}, {{"format", "x"}});
  SafetensorsFile(p).verify_checksum();
  EXPECT_EQ(SafetensorsFile(p).meta(kChecksumKey).size(), 8u);
  std::string bytes = test::slurp(p);
  for (int i = 0; i < 20; ++i) bytes[bytes.size() - 1 - 97 * i] ^= char(1 << (i % 8));  // 20 flipped bits in the data
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
  expect_input_error([&] { SafetensorsFile(p).verify_checksum(); }, p + ": data checksum");
  // A file without a recorded checksum (another tool's) is not refused: drop the key from the
  // header and pad it back to its length with spaces.
  save_safetensors(p, {{"a", at::ones({3})}});
  std::string raw = test::slurp(p);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  auto header = nlohmann::json::parse(raw.substr(8, n));
  header["__metadata__"].erase(kChecksumKey);
  std::string h = header.dump();
  ASSERT_LE(h.size(), n);
  h.resize(n, ' ');
  raw.replace(8, n, h);
  std::ofstream(p, std::ios::binary | std::ios::trunc) << raw;
  SafetensorsFile f(p);
  EXPECT_TRUE(f.meta(kChecksumKey).empty());
  EXPECT_NO_THROW(f.verify_checksum());
}


TEST(Reliability, ConfigsThatCannotFitInMemoryAreRefusedBeforeAllocating) {
  ASSERT_GT(physical_memory_bytes(), 0u);
  expect_input_error([] { check_fits_in_memory(physical_memory_bytes() + 1, "a job", "detail"); },
                     "a job needs about");
  EXPECT_NO_THROW(check_fits_in_memory(1 << 20, "a job", "detail"));
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  TrainOptions o = test::tiny_options(f, tmp.file("run"));
  TrainConfig wide = test::tiny_train_config();
  wide.model.decoder_width = 65536;  // 12·w² per layer: ~200 GiB of decoder
  wide.model.decoder_heads = 8;
  expect_input_error([&] { Trainer(wide, o); }, "training with this config needs about");
  EXPECT_FALSE(fs::exists(o.out_dir)) << "a refused run must not create its directory";
  // A modality the bridge has no tower for (the tiny bridge: vision, text, imu) is refused
  // naming the bridge file, before the run directory exists.
  TrainConfig depth = test::tiny_train_config();
  depth.model.modality_pair = {Modality::Depth, Modality::Vision, Modality::Text};
  depth.model.recon = {Modality::Vision};
  expect_input_error([&] { Trainer(depth, o); }, "bridge has no 'depth' tower");
  expect_input_error([&] { Trainer(depth, o); }, "bridge.safetensors");
  EXPECT_FALSE(fs::exists(o.out_dir)) << "a refused run must not create its directory";
  // The estimate follows how the run uses a tower: ImageBind-Huge's vision tower at batch 8
  // forward only < with a backward through frozen weights (LoRA) < fully tuned (×4 parameters).
  const ImageBindConfig huge = ImageBindConfig::huge();
  const double inf = estimate_tower_bytes(huge, Modality::Vision, 8, TowerUse::Inference);
  const double bwd = estimate_tower_bytes(huge, Modality::Vision, 8, TowerUse::Backward);
  const double full = estimate_tower_bytes(huge, Modality::Vision, 8, TowerUse::FullTune);
  EXPECT_GT(inf, 4.0 * 630e6);  // at least its fp32 weights (≈ 632 M parameters)
  EXPECT_LT(inf, bwd);
  const double weights = estimate_tower_bytes(huge, Modality::Vision, 0, TowerUse::Inference);  // no activations
  EXPECT_DOUBLE_EQ(estimate_tower_bytes(huge, Modality::Vision, 0, TowerUse::FullTune), 4 * weights);
  EXPECT_NEAR(full - bwd, 3 * weights, 1e-6 * full);  // gradients and two Adam moments
  PretrainConfig pc = PretrainConfig::load(std::string(CODEBIND_SOURCE_DIR) + "/configs/pretrain_tiny_test.json");
  pc.bridge.image_size = 65536;  // 16.7 M patches per image
  pc.bridge.image_patch = 16;
  expect_input_error([&] { run_pretrain(pc, f.data, tmp.file("bridge"), true); }, "pre-training with this config");
  EXPECT_FALSE(fs::exists(tmp.file("bridge")));
}

TEST(Reliability, OutputDirectoriesFollowOnePolicy) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  TrainOptions o = test::tiny_options(f, tmp.file("run"));
  o.stop_after = 1;
  Trainer(test::tiny_train_config(), o).run();
  // A second run into the same non-empty directory is refused without --resume / --force …
  expect_input_error([&] { Trainer(test::tiny_train_config(), o); }, "pass --resume to continue a run there or --force");
  // … while the first holds it, even --resume is refused (the lock).
  {
    TrainOptions r = o;
    r.resume = true;
    Trainer holder(test::tiny_train_config(), r);
    expect_input_error([&] { Trainer(test::tiny_train_config(), r); }, "another codebind process is writing");
  }
  // A temporary left by a kill mid-write is removed on resume; --force clears the old run.
  std::ofstream(o.out_dir + "/checkpoint.safetensors.tmp0badf00d") << "partial";
  std::ofstream(o.out_dir + "/report.md") << "old report";
  std::ofstream(o.out_dir + "/report.html") << "<html>old report</html>";  // `eval` writes both
  {
    TrainOptions r = o;
    r.resume = true;
    Trainer t(test::tiny_train_config(), r);
    EXPECT_FALSE(fs::exists(o.out_dir + "/checkpoint.safetensors.tmp0badf00d"));
  }
  TrainOptions fo = o;
  fo.force = true;
  Trainer(test::tiny_train_config(), fo);
  EXPECT_FALSE(fs::exists(o.out_dir + "/report.md")) << "--force must not leave the old run's files";
  EXPECT_FALSE(fs::exists(o.out_dir + "/report.html"));
  // --force refuses to clear a directory that is not a codebind run.
  test::TempDir other;
  std::ofstream(other.file("thesis.tex")) << "precious";
  TrainOptions fx = fo;
  fx.out_dir = other.str();
  expect_input_error([&] { Trainer(test::tiny_train_config(), fx); }, "--force replaces only a previous codebind run");
  EXPECT_TRUE(fs::exists(other.file("thesis.tex")));
  // pretrain follows the same policy: a non-empty --out is refused before any training.
  PretrainConfig pc = PretrainConfig::load(std::string(CODEBIND_SOURCE_DIR) + "/configs/pretrain_tiny_test.json");
  expect_input_error([&] { run_pretrain(pc, f.data, other.str(), true); }, "the output directory is not empty");
  EXPECT_TRUE(fs::exists(other.file("thesis.tex")));
  // An output path with a file in the way is an input error naming it.
  std::ofstream(tmp.file("file")) << "x";
  TrainOptions fw = o;
  fw.out_dir = tmp.file("file") + "/run";
  expect_input_error([&] { Trainer(test::tiny_train_config(), fw); }, tmp.file("file") + "/run: cannot create");
}


// Runs `codebind ARGS` with stdout and stderr in separate files; returns the exit status.
int run_split(const std::string& args, const std::string& out, const std::string& err) {
  const int rc = std::system((test::codebind_exe() + " " + args + " >" + out + " 2>" + err).c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(Reliability, TheCommandLineSaysWhatIsWrongAndWhere) {
  test::TempDir d;
  const std::string out = d.file("out"), err = d.file("err");
  // An unknown command is named, with the list of real ones.
  EXPECT_EQ(run_split("frobnicate --x", out, err), 2);
  EXPECT_NE(test::slurp(err).find("unknown command 'frobnicate'"), std::string::npos) << test::slurp(err);
  EXPECT_NE(test::slurp(err).find("train"), std::string::npos);
  // --help shows defaults.
  EXPECT_EQ(run_split("eval --help", out, err), 0);
  EXPECT_NE(test::slurp(out).find("test"), std::string::npos) << test::slurp(out);
  EXPECT_EQ(run_split("index search --help", out, err), 0);
  EXPECT_NE(test::slurp(out).find("10"), std::string::npos) << "the default k";
  // Commands that write one file refuse an existing one without --force (the dataset's
  // manifest was once replaced by an index this way), before doing any work.
  std::ofstream(d.file("items.jsonl")) << "precious manifest\n";
  EXPECT_EQ(run_split("index build --embeddings e.safetensors --codebook c.safetensors --out " + d.file("items.jsonl"),
                      out, err),
            2);
  EXPECT_NE(test::slurp(err).find(d.file("items.jsonl") + ": already exists; pass --force"), std::string::npos)
      << test::slurp(err);
  EXPECT_EQ(run_split("embed --weights w.safetensors --modality imu --out " + d.file("items.jsonl") + " x.npy", out, err),
            2);
  EXPECT_NE(test::slurp(err).find("already exists"), std::string::npos) << test::slurp(err);
  EXPECT_EQ(test::slurp(d.file("items.jsonl")), "precious manifest\n");
  // An empty text query is refused before the index is even opened.
  EXPECT_EQ(run_split("index search --index none.cbx --run none --text \"  \"", out, err), 2);
  EXPECT_NE(test::slurp(err).find("is empty: nothing to search for"), std::string::npos) << test::slurp(err);
  // data check: the summary on stdout, the errors on stderr.
  std::filesystem::create_directories(d.file("ds"));
  std::ofstream(d.file("ds/dataset.json")) << R"({"version":1,"classes":["a","b"],"modalities":["imu","text"]})";
  std::ofstream(d.file("ds/items.jsonl"))
      << R"({"id":"a","modality":"imu","split":"train","label":0,"file":"missing.npy"})" << "\n"
      << R"({"id":"t","modality":"text","split":"train","label":1,"text":"b"})" << "\n";
  EXPECT_EQ(run_split("data check " + d.file("ds"), out, err), 2);
  EXPECT_NE(test::slurp(err).find("error: "), std::string::npos) << test::slurp(err);
  EXPECT_EQ(test::slurp(out).find("error: "), std::string::npos) << test::slurp(out);
  EXPECT_NE(test::slurp(out).find("check: "), std::string::npos) << test::slurp(out);
}


TEST(Reliability, AnImageBindConfigTooLargeForMemoryIsRefusedBeforeAllocating) {
  ImageBindConfig cfg = ImageBindConfig::tiny();
  cfg.modalities.at(Modality::Imu).embed_dim = 1 << 20;  // 12·D² per block: terabytes
  cfg.modalities.at(Modality::Imu).num_heads = 1;
  expect_input_error([&] { ImageBindModel m(cfg, {Modality::Imu}, 1); }, "this ImageBind config needs about");
  expect_input_error([&] { ImageBindModel m(cfg, {Modality::Imu}); }, "imu width 1048576");
  EXPECT_NO_THROW(ImageBindModel(ImageBindConfig::tiny(), {Modality::Imu}, 1));
}

TEST(Reliability, AnOutputFolderThatCannotBeCreatedIsAnInputError) {
  test::TempDir d;
  std::ofstream(d.file("f")) << "x";
  EXPECT_EQ(test::run_codebind("data sensor-suite --size small --out " + d.file("f") + "/suite", d.file("log")), 2);
  EXPECT_NE(test::slurp(d.file("log")).find(d.file("f") + "/suite: cannot create the output directory"),
            std::string::npos)
      << test::slurp(d.file("log"));
}


TEST(Reliability, BadBridgeMetadataNamesTheFileAndKey) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  const std::string bridge = tmp.file("bridge.safetensors");
  fs::copy_file(f.bridge + "/bridge.safetensors", bridge);
  rewrite(bridge, {}, [](auto& meta) { meta["imagebind_config"] = "{not json"; });
  TrainOptions o = test::tiny_options(f, tmp.file("run"));
  o.bridge = bridge;
  expect_input_error([&] { Trainer(test::tiny_train_config(), o); },
                     bridge + ": metadata 'imagebind_config' is not valid JSON");
  EXPECT_FALSE(fs::exists(o.out_dir));
}

}  // namespace
}  // namespace cb
