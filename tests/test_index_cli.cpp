// test_index_cli.cpp — `codebind index` end to end: build from embeddings + codebook, info,
// search (an item's own embedding finds it first), add, delete, merge, and refusals
// (codebook mismatch, text queries without a model, corrupt file) with exit code 2.
#include <fstream>
#include <sstream>

#include "index/code_index.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace cb {
namespace {
using test::slurp;

struct Files {
  cb::test::TempDir tmp;
  std::string cbk = tmp.file("cb.safetensors"), cbk2 = tmp.file("cb2.safetensors"), emb = tmp.file("e.safetensors"),
              emb2 = tmp.file("e2.safetensors"), idx = tmp.file("i.cbx"), log = tmp.file("log.txt");
  Files() {
    at::manual_seed(0);
    save_safetensors(cbk, {{"shared", at::randn({64, 4})}, {"specific.depth", at::randn({16, 4})}});
    save_safetensors(cbk2, {{"shared", at::randn({64, 4})}});
    // 30 depth rows of 2·8·4 = 64 columns.
    save_safetensors(emb, {{"embeddings", at::randn({30, 64})}},
                     {{"modality", "depth"}, {"ids", ids(0, 30)}, {"sources", ids(100, 30)}});
    save_safetensors(emb2, {{"embeddings", at::randn({5, 64})}}, {{"modality", "vision"}, {"ids", ids(30, 5)}});
  }
  static std::string ids(int from, int n) {
    std::string s = "[";
    for (int i = 0; i < n; ++i) s += (i ? ",\"d" : "\"d") + std::to_string(from + i) + "\"";
    return s + "]";
  }
};

TEST(IndexCli, BuildInfoSearchAddDeleteMerge) {
  Files f;
  ASSERT_EQ(test::run_codebind("index build --quiet --embeddings " + f.emb + " --codebook " + f.cbk +
                                   " --store-floats --out " + f.idx,
                               f.log),
            0)
      << slurp(f.log);
  ASSERT_EQ(test::run_codebind("index info --index " + f.idx, f.log), 0);
  std::string info = slurp(f.log);
  EXPECT_NE(info.find("items 30"), std::string::npos) << info;
  EXPECT_NE(info.find("depth    30"), std::string::npos) << info;
  EXPECT_NE(info.find("fingerprint"), std::string::npos) << info;
  // Each item's own embedding (quantised like the index) comes back first.
  for (std::string mode : {"shared", "concat"}) {
    ASSERT_EQ(test::run_codebind("index search --json -k 3 --mode " + mode + " --index " + f.idx + " --embeddings " +
                                     f.emb,
                                 f.log),
              0)
        << slurp(f.log);
    std::istringstream lines(slurp(f.log));
    std::string line;
    int n = 0, self_first = 0;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line);
      ++n;
      ASSERT_EQ(j["hits"].size(), 3u);
      if (j["hits"][0]["id"] == j["query"]) ++self_first;
      else EXPECT_NEAR(j["hits"][0]["score"].get<double>(), 1.0, 1e-5);  // a code-identical twin
    }
    EXPECT_EQ(n, 30);
    EXPECT_GE(self_first, 28);
  }
  ASSERT_EQ(test::run_codebind("index add --quiet --index " + f.idx + " --embeddings " + f.emb2, f.log), 0)
      << slurp(f.log);
  EXPECT_EQ(index::Index::open(f.idx).size(), 35);
  // Adding the same ids again is refused.
  EXPECT_EQ(test::run_codebind("index add --quiet --index " + f.idx + " --embeddings " + f.emb2, f.log), 2);
  ASSERT_EQ(test::run_codebind("index delete --index " + f.idx + " --id d3 d31 --out " + f.tmp.file("d.cbx"), f.log),
            0);
  auto d = index::Index::open(f.tmp.file("d.cbx"));
  EXPECT_EQ(d.size(), 33);
  EXPECT_EQ(d.find("d3"), -1);
  ASSERT_EQ(test::run_codebind("index merge " + f.tmp.file("d.cbx") + " " + f.idx + " --out " + f.tmp.file("m.cbx"),
                               f.log),
            0);
  EXPECT_EQ(index::Index::open(f.tmp.file("m.cbx")).size(), 68);
  // Refusals: a query codebook from another model, text without a model, a corrupt file.
  EXPECT_EQ(test::run_codebind("index search --index " + f.idx + " --embeddings " + f.emb + " --codebook " + f.cbk2,
                               f.log),
            2);
  EXPECT_NE(slurp(f.log).find("fingerprint"), std::string::npos) << slurp(f.log);
  EXPECT_EQ(test::run_codebind("index search --index " + f.idx + " --text hello", f.log), 2);
  std::string bytes = slurp(f.idx);
  bytes[bytes.size() - 3] ^= 1;
  std::ofstream(f.tmp.file("bad.cbx"), std::ios::binary) << bytes;
  EXPECT_EQ(test::run_codebind("index info --index " + f.tmp.file("bad.cbx"), f.log), 2);
  EXPECT_NE(slurp(f.log).find("bad.cbx"), std::string::npos) << slurp(f.log);
}

}  // namespace
}  // namespace cb
