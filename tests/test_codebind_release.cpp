// test_codebind_release.cpp — `codebind convert --codebind-release`: a tiny trained run written
// out in the official release layout (per-module torch.save files, the quantiser, LoRA
// safetensors; the layout is spelled out here independently of the importer) converts back to
// a run whose tensors equal the original's and whose embeddings, codes, eval and index work;
// what the release holds without a counterpart is ignored with a note; a missing file, a wrong
// shape and an unknown key are one-line errors naming the file, exit 2, and no RUN written.
#include <cmath>
#include <filesystem>
#include <sstream>

#include "app/codebind_release.h"
#include "core/error.h"
#include "data/manifest.h"
#include "io/safetensors.h"
#include "test_pth_writer.h"
#include "test_tiny_run.h"

namespace cb {
namespace {
namespace fs = std::filesystem;
using test::slurp;
using Tensors = std::vector<std::pair<std::string, at::Tensor>>;

// A tiny one-epoch run (imu target, LoRA on imu block 1, vision and imu decoders), made once and
// shared with test_api.
const std::string& trained_run() {
  static std::string run = test::tiny_one_epoch_run("api_run");
  return run;
}

std::string bridge_file() { return test::tiny_fixture().bridge + "/bridge.safetensors"; }

at::Tensor get(const NamedTensors& st, const std::string& name) {
  for (const auto& [n, t] : st)
    if (n == name) return t;
  ADD_FAILURE() << "no tensor " << name;
  return at::Tensor();
}

// The tensors under `prefix`, prefix stripped, each renamed by `rename`.
Tensors under(const NamedTensors& st, const std::string& prefix,
              const std::function<std::string(std::string)>& rename = [](std::string s) { return s; }) {
  Tensors out;
  for (const auto& [n, t] : st)
    if (n.rfind(prefix, 0) == 0) out.emplace_back(rename(n.substr(prefix.size())), t.detach());
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

// Writes `m` in the release's layout (names as the release's save_checkpoint / save_module /
// save_lora_parameters produce them), plus things the importer must skip or ignore.
void write_release(const CodeBindModel& m, const std::string& dir) {
  fs::create_directories(dir);
  const NamedTensors st = m.state_tensors();
  auto pth = [&](const std::string& module, const std::string& modality, const Tensors& ts) {
    test::write_pth(dir + "/imagebind-" + module + "-" + modality + "_best.pth", ts);
  };
  // ImageBind sub-modules, each the ModuleDict entry's own state dict; vision and text too, as
  // the release saves them when they train (their heads and cls tokens trained here).
  // Vision's postprocessor is a bare Normalize: an empty state dict.
  for (const std::string mn : {"imu", "vision", "text"})
    for (const std::string mod : {"preprocessors", "heads", "postprocessors"})
      pth(mod, mn, under(st, "modality_" + mod + "." + mn + "."));
  // Specific heads: LayerNorm → Linear; imu's Linear follows a Dropout (index 2).
  pth("heads_mvq", "imu", under(st, "specific.imu.", [](std::string k) { return k == "1.weight" ? "2.weight" : k; }));
  pth("heads_mvq", "vision", under(st, "specific.vision."));
  pth("heads_mvq", "text", {{"proj.0.weight", at::ones({16})}, {"proj.0.bias", at::zeros({16})},
                            {"proj.1.weight", at::zeros({0, 16})}});  // text specific width 0
  pth("postprocessors_new", "imu", {{"log_logit_scale", at::scalar_tensor(1.7f)}});
  pth("mvq_adapter", "vision", {{"0.weight", at::randn({4, 4})}});
  // LoRA: the trunk's named parameters "blocks.<i>.attn.in_proj_lora_down", ….
  Tensors lora = under(st, "lora.modality_trunks.imu.", [](std::string k) {
    return replace_all(replace_all(k, "in_proj_weight_lora", "in_proj_lora"), ".weight_lora", "_lora");
  });
  ASSERT_EQ(lora.size(), 8u);  // block 1: in_proj, out_proj, fc1, fc2 × down, up
  save_safetensors(dir + "/imagebind-lora-imu_best.safetensors", lora);
  // Decoders: trunk (input projection, shared position embedding) and head (deconv + unused convs).
  for (const std::string mn : {"vision", "imu"}) {
    Tensors trunk = under(st, "decoder." + mn + ".", [](std::string k) {
      for (auto [ours, theirs] : std::vector<std::pair<std::string, std::string>>{
               {"decoder_input_norm.", "input_proj_norm."}, {"decoder_norm.", "norm."}, {"attn_qkv", "attn.qkv"},
               {"attn_proj", "attn.proj"}, {"mlp_fc1", "mlp.fc1"}, {"mlp_fc2", "mlp.fc2"}})
        k = replace_all(k, ours, theirs);
      return k;
    });
    Tensors head;
    trunk.erase(std::remove_if(trunk.begin(), trunk.end(), [&](const auto& nt) {
                  if (nt.first.rfind("decoder_pred.", 0) != 0) return false;
                  head.emplace_back("deconv." + nt.first.substr(13), nt.second);
                  return true;
                }),
                trunk.end());
    ASSERT_EQ(head.size(), 2u);
    head.emplace_back("hid_conv._layers.0._block.1.weight", at::randn({2, 4, 3, 3}));
    head.emplace_back("out_conv.weight", at::randn({3, 4, 1, 1}));
    pth("decoder_trunk", mn, trunk);
    pth("decoder_head", mn, head);
  }
  // The quantiser: mvq_dict.<common|modality>.{embedding.{weight,cluster_size,embed_avg}, embed_prob, initted}.
  Tensors q;
  for (const auto& [n, t] : under(st, "quant.")) {
    const std::string book = n.substr(0, n.find('.')), field = n.substr(n.find('.') + 1);
    if (field == "rng") continue;
    const std::string b = book == "shared" ? "common" : book.substr(std::string("specific_").size());
    const bool emb = field == "weight" || field == "cluster_size" || field == "embed_avg";
    q.emplace_back("mvq_dict." + b + "." + (emb ? "embedding." : "") + field, t);
  }
  test::write_pth(dir + "/imagebind-vector_quantise-_best.pth", q);
  // Skipped: the other checkpoint of the pair (unreadable here on purpose) and non-checkpoint files.
  std::ofstream(dir + "/imagebind-heads-imu_last.pth") << "not read";
  std::ofstream(dir + "/cfg_all_train.yaml") << "train: false\n";
}

// A release folder of the trained run, written once per test process.
const std::string& release_dir() {
  static test::TempDir tmp;  // removed at exit
  static std::string dir = [] {
    const std::string d = tmp.file("release");
    write_release(*CodeBindModel::load(trained_run() + "/model.safetensors"), d);
    return d;
  }();
  return dir;
}

// A copy of the release folder to break.
std::string copy_release(const test::TempDir& tmp, const std::string& name) {
  const std::string d = tmp.file(name);
  fs::copy(release_dir(), d, fs::copy_options::recursive);
  return d;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

TEST(CodebindRelease, RoundTripEqualsTrainedRun) {
  ASSERT_TRUE(test::tiny_fixture().ok);
  const std::string& orig = trained_run();
  test::TempDir tmp;
  const std::string run = tmp.file("imported");
  ASSERT_EQ(test::run_codebind("convert --codebind-release " + release_dir() + " --bridge " + bridge_file() + " --out " +
                                   run,
                               tmp.file("c.log")),
            0)
      << slurp(tmp.file("c.log"));
  const std::string log = slurp(tmp.file("c.log"));
  for (const char* ignored : {"postprocessors_new-imu_best.pth", "mvq_adapter-vision_best.pth",
                              "heads_mvq-text_best.pth", "decoder_head-vision_best.pth"})
    EXPECT_NE(log.find(ignored), std::string::npos) << "no note for " << ignored << " in:\n" << log;

  // Every tensor equals the original (the quantiser's re-seeding generator has no release counterpart).
  auto a = CodeBindModel::load(orig + "/model.safetensors");
  auto b = CodeBindModel::load(run + "/model.safetensors");
  const NamedTensors sa = a->state_tensors(), sb = b->state_tensors();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    ASSERT_EQ(sa[i].first, sb[i].first);
    if (sa[i].first.size() > 4 && sa[i].first.compare(sa[i].first.size() - 4, 4, ".rng") == 0) continue;
    EXPECT_TRUE(sa[i].second.equal(sb[i].second)) << sa[i].first;
  }
  // The config from the shapes: the original's, but 8 decoder heads (the release's fixed attention).
  nlohmann::json want = a->config().to_json(), got = b->config().to_json();
  EXPECT_EQ(got["decoder_heads"], 8);
  want["decoder_heads"] = 8;
  EXPECT_EQ(got, want);
  EXPECT_EQ(TrainConfig::load(run + "/config.json").model.to_json(), got);

  // embed --run: the same embeddings and codes for files and texts.
  auto man = data::Manifest::load(test::tiny_fixture().data);
  std::string files;
  int n = 0;
  for (const auto& it : man.items())
    if (it.modality == Modality::Imu && it.split == "test" && n < 3) files += " " + it.file, ++n;
  ASSERT_EQ(n, 3);
  for (const std::string what : {std::string("--modality imu") + files, std::string("--text \"a b\" --text c")}) {
    const std::string ea = tmp.file("a.safetensors"), eb = tmp.file("b.safetensors");
    ASSERT_EQ(test::run_codebind("embed --run " + orig + " --out " + ea + " " + what, tmp.file("ea.log")), 0)
        << slurp(tmp.file("ea.log"));
    ASSERT_EQ(test::run_codebind("embed --run " + run + " --out " + eb + " " + what, tmp.file("eb.log")), 0)
        << slurp(tmp.file("eb.log"));
    SafetensorsFile fa(ea), fb(eb);
    for (const std::string& k : fa.keys()) {
      ASSERT_TRUE(fb.has(k)) << k;
      EXPECT_TRUE(at::allclose(fa.get(k).to(at::kDouble), fb.get(k).to(at::kDouble), 0, 1e-6)) << what << ": " << k;
    }
    fs::remove(ea);
    fs::remove(eb);
  }
  // eval and index take the run as they take a trained one.
  ASSERT_EQ(test::run_codebind("eval --run " + run + " --data " + test::tiny_fixture().data + " --quiet", tmp.file("e.log")),
            0)
      << slurp(tmp.file("e.log"));
  ASSERT_EQ(test::run_codebind("index build --run " + run + " --data " + test::tiny_fixture().data + " --out " +
                                   tmp.file("ix.cbx"),
                               tmp.file("i.log")),
            0)
      << slurp(tmp.file("i.log"));

  // An existing run is refused without --force and replaced with it.
  EXPECT_EQ(test::run_codebind("convert --codebind-release " + release_dir() + " --bridge " + bridge_file() + " --out " + run),
            2);
  EXPECT_EQ(test::run_codebind("convert --codebind-release " + release_dir() + " --bridge " + bridge_file() + " --out " +
                               tmp.file("imported2") + " --postfix _last"),
            2);  // no _last files of the target modality
  EXPECT_FALSE(fs::exists(tmp.file("imported2")));
}

// Each broken folder: exit 2, one line naming the file and the problem, no RUN.
TEST(CodebindRelease, MissingFileWrongShapeUnknownKeyAreOneLineErrors) {
  ASSERT_TRUE(test::tiny_fixture().ok);
  test::TempDir tmp;
  struct Case {
    std::string name, file, what;
    std::function<void(const std::string& dir)> breakit;
  };
  const NamedTensors st = CodeBindModel::load(trained_run() + "/model.safetensors")->state_tensors();
  std::vector<Case> cases = {
      {"missing", "imagebind-heads_mvq-imu_best.pth", "missing file (the 'imu' specific head",
       [](const std::string& d) { fs::remove(d + "/imagebind-heads_mvq-imu_best.pth"); }},
      {"shape", "imagebind-heads_mvq-imu_best.pth", "'0.bias' has shape (17), expected (16)",
       [&](const std::string& d) {
         Tensors h = under(st, "specific.imu.", [](std::string k) { return k == "1.weight" ? "2.weight" : k; });
         for (auto& [k, t] : h)
           if (k == "0.bias") t = at::zeros({17});
         test::write_pth(d + "/imagebind-heads_mvq-imu_best.pth", h);
       }},
      {"unknown", "imagebind-vector_quantise-_best.pth", "unknown key 'mvq_dict.common.embedding.extra'",
       [&](const std::string& d) {
         Tensors q = {{"mvq_dict.common.embedding.extra", at::zeros({2})}};
         test::write_pth(d + "/imagebind-vector_quantise-_best.pth", q);
       }},
      {"bridge", "imagebind-preprocessors-imu_best.pth", "bridge/release mismatch",
       [&](const std::string& d) {
         Tensors p = under(st, "modality_preprocessors.imu.");
         p.emplace_back("not_in_imagebind", at::zeros({1}));
         test::write_pth(d + "/imagebind-preprocessors-imu_best.pth", p);
       }},
      {"lora_key", "imagebind-lora-imu_best.safetensors", "unknown key 'blocks.1.attn.qkv_lora_down'",
       [&](const std::string& d) {
         save_safetensors(d + "/imagebind-lora-imu_best.safetensors", {{"blocks.1.attn.qkv_lora_down", at::zeros({4, 16})}});
       }},
  };
  for (const Case& c : cases) {
    const std::string dir = copy_release(tmp, c.name);
    c.breakit(dir);
    const std::string run = tmp.file("run_" + c.name), log = tmp.file(c.name + ".log");
    EXPECT_EQ(test::run_codebind("convert --codebind-release " + dir + " --bridge " + bridge_file() + " --out " + run, log),
              2)
        << c.name << ": " << slurp(log);
    const auto ls = lines(slurp(log));
    ASSERT_EQ(ls.size(), 1u) << c.name << ": " << slurp(log);
    EXPECT_NE(ls[0].find(dir + "/" + c.file), std::string::npos) << c.name << ": " << ls[0];
    EXPECT_NE(ls[0].find(c.what), std::string::npos) << c.name << ": " << ls[0];
    EXPECT_FALSE(fs::exists(run)) << c.name;
  }
}

// What the release may hold that our model cannot take whole: an attn_out-only LoRA (the other
// adapters become zero), a decoder head whose kernel differs from ours (that decoder is dropped).
TEST(CodebindRelease, PartialLoraAndForeignDecoderHead) {
  ASSERT_TRUE(test::tiny_fixture().ok);
  test::TempDir tmp;
  const std::string dir = copy_release(tmp, "partial");
  SafetensorsFile lf(dir + "/imagebind-lora-imu_best.safetensors");
  Tensors out_only;
  for (const std::string& k : lf.keys())
    if (k.find("out_proj") != std::string::npos) out_only.emplace_back(k, lf.get(k).clone());
  ASSERT_EQ(out_only.size(), 2u);
  save_safetensors(dir + "/imagebind-lora-imu_best.safetensors", out_only);
  test::write_pth(dir + "/imagebind-decoder_head-imu_best.pth",
                  {{"deconv.weight", at::zeros({16, 6, 8, 8})}, {"deconv.bias", at::zeros({6})}});
  ReleaseImport r = read_codebind_release(dir, bridge_file(), "_best");
  EXPECT_EQ(r.model->config().recon, std::vector<Modality>{Modality::Vision});
  EXPECT_FALSE(r.model->has_decoder(Modality::Imu));
  std::string notes;
  for (const auto& n : r.notes) notes += n + "\n";
  EXPECT_NE(notes.find("6 LoRA matrices"), std::string::npos) << notes;
  EXPECT_NE(notes.find("imu decoder is not imported"), std::string::npos) << notes;
  for (const auto& [n, t] : r.model->state_tensors()) {
    if (n.rfind("lora.", 0) != 0) continue;
    if (n.find("out_proj") != std::string::npos)
      EXPECT_TRUE(t.equal(SafetensorsFile(dir + "/imagebind-lora-imu_best.safetensors")
                              .get(n.find("down") != std::string::npos ? "blocks.1.attn.out_proj_lora_down"
                                                                        : "blocks.1.attn.out_proj_lora_up")))
          << n;
    else
      EXPECT_EQ(t.abs().sum().item<double>(), 0.0) << n;
  }
  // The API's own errors are InputErrors too.
  EXPECT_THROW(read_codebind_release(dir + "/nope", bridge_file(), "_best"), InputError);
  EXPECT_THROW(read_codebind_release(dir, bridge_file(), "_final"), InputError);
}

}  // namespace
}  // namespace cb
