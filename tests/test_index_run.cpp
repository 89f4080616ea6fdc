// test_index_run.cpp — the code index over a trained run end to end: a tiny CodeBind run on
// the small sensor-suite → `codebind index build --run --data` → the index holds the model's
// own codes and equals brute force over the decoded embeddings (sensor-suite exactness, shared
// and concat) → `index search --text` returns items, a raw imu file finds itself in concat
// mode, and a query model with other codebooks is refused.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/manifest.h"
#include "index/code_index.h"
#include "io/safetensors.h"
#include "test_index_util.h"
#include "test_tiny_run.h"
#include "train/trainer.h"

namespace cb {
namespace {
namespace fs = std::filesystem;
using test::slurp;

// The tiny run and its index, made once (cached in the build tree like the fixture).
struct RunIndex {
  std::string run, index;
  bool ok = false;
};

const RunIndex& run_index() {
  static RunIndex r = [] {
    RunIndex x;
    auto& f = test::tiny_fixture();
    if (!f.ok) return x;
    x.run = f.root + "/index_run";
    x.index = f.root + "/index_run.cbx";
    return test::with_file_lock(x.run + ".lock", [&] {
    if (!fs::exists(x.run + "/model.safetensors")) {
      TrainConfig c = test::tiny_train_config();
      c.optim.epochs = 1;
      TrainOptions o{f.data, x.run, f.bridge, false, true, -1};
      o.force = true;  // a run interrupted before its model was written is replaced
      Trainer(c, o).run();
    }
    const std::string log = f.root + "/index_build.log";
    if (test::run_codebind("index build --run " + x.run + " --data " + f.data + " --out " + x.index + " --force", log) != 0) {
      ADD_FAILURE() << slurp(log);
      return x;
    }
    x.ok = true;
    return x;
    });
  }();
  return r;
}

TEST(IndexRun, BuildHoldsEveryItemWithTheModelsCodebooks) {
  const auto& r = run_index();
  ASSERT_TRUE(r.ok);
  auto ix = index::Index::open(r.index);
  auto man = data::Manifest::load(test::tiny_fixture().data);
  int64_t expect = 0;
  for (Modality m : {Modality::Imu, Modality::Vision, Modality::Text})
    for (const auto& s : man.splits(m)) expect += int64_t(man.select(m, s).size());
  EXPECT_EQ(ix.size(), expect);
  EXPECT_TRUE(ix.has_specific());
  EXPECT_NE(ix.specific_codebook(Modality::Imu), nullptr);
  EXPECT_EQ(ix.specific_codebook(Modality::Text), nullptr);
}

TEST(IndexRun, SearchEqualsBruteForceOnSensorSuiteCodes) {
  const auto& r = run_index();
  ASSERT_TRUE(r.ok);
  auto ix = index::Index::open(r.index);
  const int64_t half = int64_t(ix.chunks()) * ix.chunk_dim();
  std::vector<std::pair<int64_t, std::vector<double>>> all, imu;
  for (int64_t i = 0; i < ix.size(); ++i) {
    all.push_back({i, index::itest::decode_ref(ix, i, false)});
    if (ix.modality(i) == Modality::Imu) imu.push_back({i, index::itest::decode_ref(ix, i, true)});
  }
  // Queries: random vectors and items' own decoded embeddings (many exact ties: tiny codebooks).
  std::mt19937_64 g(5);
  std::normal_distribution<float> nd;
  for (int q = 0; q < 6; ++q) {
    std::vector<float> v(2 * half);
    if (q < 3) {
      for (float& x : v) x = nd(g);
    } else {
      auto z = ix.decode(imu[q * 7].first, true);
      v.assign(z.begin(), z.end());
    }
    index::SearchOptions o;
    o.k = 10;
    auto res = index::search(ix, v.data(), 1, 2 * half, Modality::Imu, o);
    index::itest::expect_topk(res[0], index::itest::normalised(v.data(), half), all, 10);
    o.mode = index::SearchMode::Concat;
    res = index::search(ix, v.data(), 1, 2 * half, Modality::Imu, o);
    index::itest::expect_topk(res[0], index::itest::normalised(v.data(), 2 * half), imu, 10);
  }
}

TEST(IndexRun, SearchByTextAndByRawFile) {
  const auto& r = run_index();
  ASSERT_TRUE(r.ok);
  test::TempDir tmp;
  const std::string log = tmp.file("log.txt");
  ASSERT_EQ(test::run_codebind("index search --json -k 5 --index " + r.index + " --run " + r.run +
                                   " --text \"a person walking\" --text \"a bicycle\"",
                               log),
            0)
      << slurp(log);
  std::istringstream lines(slurp(log));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["hits"].size(), 5u) << line;
    ++n;
  }
  EXPECT_EQ(n, 2);
  // A raw imu file of the dataset: concat mode returns imu items only, the best at cosine 1
  // (itself or a code-identical twin).
  auto man = data::Manifest::load(test::tiny_fixture().data);
  const data::Item* item = man.select(Modality::Imu, "test").front();
  ASSERT_EQ(test::run_codebind("index search --json -k 3 --mode concat --index " + r.index + " --run " + r.run +
                                   " --modality imu " + item->file,
                               log),
            0)
      << slurp(log);
  std::string out = slurp(log);
  auto j = nlohmann::json::parse(out.substr(out.find('{')));
  ASSERT_EQ(j["hits"].size(), 3u) << out;
  for (const auto& h : j["hits"]) EXPECT_EQ(h["modality"], "imu") << out;
  EXPECT_NEAR(j["hits"][0]["score"].get<double>(), 1.0, 1e-4) << out;
}

TEST(IndexRun, RefusesAQueryModelWithOtherCodebooks) {
  const auto& r = run_index();
  ASSERT_TRUE(r.ok);
  test::TempDir tmp;
  auto ix = index::Index::open(r.index);
  // An index over the same shapes but another (random) codebook.
  at::manual_seed(1);
  const int64_t half = int64_t(ix.chunks()) * ix.chunk_dim();
  save_safetensors(tmp.file("cb.safetensors"), {{"shared", at::randn({ix.shared_codebook().rows, ix.chunk_dim()})}});
  save_safetensors(tmp.file("e.safetensors"), {{"embeddings", at::randn({4, half})}}, {{"modality", "imu"}});
  ASSERT_EQ(test::run_codebind("index build --quiet --embeddings " + tmp.file("e.safetensors") + " --codebook " +
                               tmp.file("cb.safetensors") + " --out " + tmp.file("o.cbx")),
            0);
  const std::string log = tmp.file("log.txt");
  EXPECT_EQ(test::run_codebind("index search --index " + tmp.file("o.cbx") + " --run " + r.run + " --text hello", log),
            2);
  EXPECT_NE(slurp(log).find("codebooks"), std::string::npos) << slurp(log);
}

}  // namespace
}  // namespace cb
