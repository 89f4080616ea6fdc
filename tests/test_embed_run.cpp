// test_embed_run.cpp — `codebind embed --run`: CodeBind codes for files and texts equal what
// `codebind eval` computed for the same items (shared and specific halves, codes), the packed
// codes unpack to the codes, `codebind index add` accepts the file, and bad input (a
// modality the run lacks, --run with --weights) is a one-line error with nothing written.
#include <filesystem>

#include "data/manifest.h"
#include "eval/embedding_set.h"
#include "io/safetensors.h"
#include "quant/code_pack.h"
#include "test_tiny_run.h"

namespace cb {
namespace {
namespace fs = std::filesystem;
using test::slurp;

TEST(EmbedRun, CodesEqualEvalAndIndexAddAcceptsThem) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  const std::string run = tmp.file("run");
  {
    TrainConfig c = test::tiny_train_config();
    c.optim.epochs = 1;
    Trainer(c, test::tiny_options(f, run)).run();
  }
  ASSERT_EQ(test::run_codebind("eval --run " + run + " --data " + f.data + " --quiet", tmp.file("eval.log")), 0)
      << slurp(tmp.file("eval.log"));
  const eval::EmbeddingSet set = eval::load_embedding_set(eval::embedding_set_path(run, "test"));
  const eval::ModalityEmbeddings& imu = set.modalities.at("imu");
  auto man = data::Manifest::load(f.data);
  std::string files;
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < 3; ++i) {
    const data::Item* it = man.find(imu.ids.at(size_t(i)));
    ASSERT_NE(it, nullptr);
    files += " " + it->file;
    rows.push_back(i);
  }
  const std::string out = tmp.file("imu.safetensors");
  ASSERT_EQ(test::run_codebind("embed --run " + run + " --modality imu --out " + out + files, tmp.file("e.log")), 0)
      << slurp(tmp.file("e.log"));
  SafetensorsFile e(out);
  const at::Tensor sel = at::tensor(rows, at::kLong);
  EXPECT_TRUE(at::allclose(e.get("shared"), imu.shared.index_select(0, sel), 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(e.get("specific"), imu.specific.index_select(0, sel), 1e-5, 1e-6));
  EXPECT_TRUE(e.get("shared_codes").equal(imu.shared_codes.index_select(0, sel)));
  EXPECT_TRUE(e.get("specific_codes").equal(imu.specific_codes.index_select(0, sel)));
  EXPECT_EQ(e.get("embeddings").size(1), e.get("shared").size(1) + e.get("specific").size(1));
  const at::Tensor codes = e.get("shared_codes");
  EXPECT_TRUE(unpack_codes(e.get("shared_codes_packed"), codes.size(1), bits_for_codes(32)).equal(codes));
  EXPECT_FALSE(e.meta("codebook_fingerprint").empty());

  // Texts: shared half only.
  const std::string tout = tmp.file("text.safetensors");
  ASSERT_EQ(test::run_codebind("embed --run " + run + " --text \"a b\" --text \"c\" --out " + tout, tmp.file("t.log")), 0)
      << slurp(tmp.file("t.log"));
  EXPECT_EQ(SafetensorsFile(tout).get("embeddings").size(0), 2);
  EXPECT_EQ(SafetensorsFile(tout).get("embeddings").size(1), SafetensorsFile(tout).get("shared").size(1));

  // The index takes the file.
  const std::string ix = tmp.file("ix.cbx");
  ASSERT_EQ(test::run_codebind("index build --run " + run + " --data " + f.data + " --out " + ix, tmp.file("b.log")), 0)
      << slurp(tmp.file("b.log"));
  ASSERT_EQ(test::run_codebind("index add --index " + ix + " --embeddings " + out, tmp.file("a.log")), 0)
      << slurp(tmp.file("a.log"));

  // Bad input: nothing written.
  const std::string bad = tmp.file("bad.safetensors");
  EXPECT_NE(test::run_codebind("embed --run " + run + " --modality audio --out " + bad + files, tmp.file("x.log")), 0);
  EXPECT_NE(slurp(tmp.file("x.log")).find("no 'audio' tower"), std::string::npos) << slurp(tmp.file("x.log"));
  EXPECT_NE(test::run_codebind("embed --run " + run + " --weights " + out + " --modality imu --out " + bad + files,
                               tmp.file("y.log")),
            0);
  EXPECT_NE(slurp(tmp.file("y.log")).find("exactly one of --weights"), std::string::npos) << slurp(tmp.file("y.log"));
  EXPECT_FALSE(fs::exists(bad));
  EXPECT_NE(test::run_codebind("embed --run " + run + " --modality imu --batch 0 --out " + bad + files, tmp.file("z.log")), 0);
  EXPECT_NE(slurp(tmp.file("z.log")).find("batch"), std::string::npos) << slurp(tmp.file("z.log"));
  EXPECT_FALSE(fs::exists(bad));
  // An existing output is kept unless --force.
  const std::string before = slurp(out);
  EXPECT_NE(test::run_codebind("embed --run " + run + " --modality imu --out " + out + files, tmp.file("w.log")), 0);
  EXPECT_EQ(slurp(out), before);
  EXPECT_EQ(test::run_codebind("embed --run " + run + " --modality imu --force --out " + out + files, tmp.file("v.log")), 0)
      << slurp(tmp.file("v.log"));
}

}  // namespace
}  // namespace cb
