// test_embed_cli.cpp — `codebind embed`: output rows equal the library forward, names in the
// metadata, clear errors for bad inputs.
#include <fstream>

#include "encoders/imagebind/imagebind_model.h"
#include "io/npy.h"
#include "preprocess/tokenizer.h"
#include "test_util.h"

namespace {

using cb::Modality;

TEST(EmbedCli, ImuNpyMatchesLibraryForward) {
  cb::test::TempDir tmp;
  cb::ImageBindConfig cfg = cb::ImageBindConfig::tiny();
  cb::ImageBindModel m(cfg, {Modality::Imu, Modality::Depth}, 11);
  cb::NamedTensors ts;
  for (auto& [k, t] : m.params) ts.emplace_back(k, t);
  cb::save_safetensors(tmp.file("w.safetensors"), ts);
  std::ofstream(tmp.file("cfg.json")) << cfg.to_json().dump();
  at::Tensor a = at::randn({6, 200}), b = at::randn({6, 200});
  cb::write_npy(tmp.file("a.npy"), a);
  cb::write_npy(tmp.file("b.npy"), b);
  const std::string args = "embed --weights " + tmp.file("w.safetensors") + " --config " + tmp.file("cfg.json") +
                           " --modality imu --batch 2 --dtype fp32 --out " + tmp.file("e.safetensors") + " " + tmp.file("a.npy") +
                           " " + tmp.file("b.npy");
  ASSERT_EQ(cb::test::run_codebind(args, tmp.file("log")), 0);
  cb::SafetensorsFile out(tmp.file("e.safetensors"));
  at::Tensor e = out.get("embeddings");
  at::Tensor want = m.embed(Modality::Imu, at::stack({a, b}));
  ASSERT_EQ(e.sizes(), want.sizes());
  // Different thread counts (exe vs test) change reduction order: compare at the parity tolerance.
  EXPECT_LT((e - want).abs().max().item<double>() / m.logit_scale(Modality::Imu).item<double>(), 1e-5);
  auto names = nlohmann::json::parse(out.meta("inputs"));
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[1].get<std::string>(), tmp.file("b.npy"));
  EXPECT_EQ(out.meta("modality"), "imu");

  // Bad inputs: exit code 2.
  cb::write_npy(tmp.file("bad.npy"), at::zeros({5, 7, 9}));
  EXPECT_EQ(cb::test::run_codebind("embed --weights " + tmp.file("w.safetensors") + " --config " + tmp.file("cfg.json") +
                                   " --modality vision " + tmp.file("a.npy")),
            2);  // the weights have no vision tower
  EXPECT_EQ(cb::test::run_codebind("embed --weights " + tmp.file("w.safetensors") + " --config " + tmp.file("cfg.json") +
                                   " --modality depth " + tmp.file("bad.npy")),
            2);  // (5,7,9) is neither a depth map nor a (1,H,W) depth tensor
  EXPECT_EQ(cb::test::run_codebind("embed --weights " + tmp.file("missing.safetensors") + " --modality imu x.npy"), 2);
  // A bad --dtype is refused before the weights are read (the file named here does not exist).
  EXPECT_EQ(cb::test::run_codebind("embed --weights " + tmp.file("missing.safetensors") + " --modality imu --dtype fp16 " +
                                       tmp.file("a.npy"),
                                   tmp.file("dtype.log")),
            2);
  EXPECT_NE(cb::test::slurp(tmp.file("dtype.log")).find("--dtype must be auto, fp32 or bf16 (got 'fp16')"),
            std::string::npos)
      << cb::test::slurp(tmp.file("dtype.log"));
}

TEST(EmbedCli, TextMatchesTokenizerPlusModel) {
  CB_REQUIRE_FIXTURES();
  cb::test::TempDir tmp;
  const std::string dir = cb::test::fixtures_dir() + "/imagebind/";
  const std::string args = "embed --weights " + dir + "weights.safetensors --config " + dir +
                           "config.json --modality text --out " + tmp.file("t.safetensors") +
                           " --text 'a photo of a dog.' --text ''";  // + --dtype below
  ASSERT_EQ(cb::test::run_codebind(args + " --dtype fp32", tmp.file("log")), 0);
  cb::ImageBindModel m(cb::ImageBindConfig::from_file(dir + "config.json"), {Modality::Text});
  m.load(cb::SafetensorsFile(dir + "weights.safetensors"), "w");
  at::Tensor ids = cb::BpeTokenizer().tokenize({"a photo of a dog.", ""});
  at::Tensor want = m.embed(Modality::Text, ids);
  at::Tensor got = cb::SafetensorsFile(tmp.file("t.safetensors")).get("embeddings");
  EXPECT_LT((got - want).abs().max().item<double>() / m.logit_scale(Modality::Text).item<double>(), 1e-5);
  // The fixture's `text` case embeds the same first string: final row 0 must match.
  at::Tensor ref = cb::SafetensorsFile(dir + "outputs.safetensors").get("text.final");
  EXPECT_LT((got[0] - ref[0]).abs().max().item<double>(), 1e-4);
  EXPECT_EQ(cb::SafetensorsFile(tmp.file("t.safetensors")).meta("dtype"), "fp32");
  // bf16 (on any CPU, asked for): the same embeddings to cosine 0.999, and the file says bf16.
  ASSERT_EQ(cb::test::run_codebind(args + " --force --dtype bf16", tmp.file("log")), 0);
  cb::SafetensorsFile b(tmp.file("t.safetensors"));
  EXPECT_EQ(b.meta("dtype"), "bf16");
  EXPECT_GE(at::cosine_similarity(b.get("embeddings"), want, 1).min().item<double>(), 0.999);
  EXPECT_FALSE(b.get("embeddings").equal(got)) << "bf16 was not used";
}

}  // namespace

namespace {

// The published checkpoint format (torch.save .pth) embeds exactly like its safetensors copy.
TEST(EmbedCli, PthWeightsEmbedLikeSafetensors) {
  CB_REQUIRE_FIXTURES();
  cb::test::TempDir tmp;
  const std::string fx = cb::test::fixtures_dir() + "/imagebind/";
  for (const char* w : {"weights.pth", "weights.safetensors"}) {
    const std::string args = std::string("embed --weights ") + fx + w + " --config " + fx +
                             "config.json --modality text --text \"a photo of a dog\" --out " +
                             tmp.file(std::string(w) + ".out");
    ASSERT_EQ(cb::test::run_codebind(args, tmp.file("log")), 0) << w;
  }
  at::Tensor a = cb::SafetensorsFile(tmp.file("weights.pth.out")).get("embeddings");
  at::Tensor b = cb::SafetensorsFile(tmp.file("weights.safetensors.out")).get("embeddings");
  EXPECT_TRUE(a.equal(b));
}

}  // namespace
