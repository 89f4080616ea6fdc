// test_data_manifest.cpp — manifest validation on hand-made broken datasets (each error names
// the file and line), `data check` on a hand-made dataset, the data loader (determinism,
// thread-count independence, batching) and the pair sampler (determinism, class balance, groups).
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <torch/torch.h>

#include "core/error.h"
#include "data/loader.h"
#include "data/manifest.h"
#include "data/readers.h"
#include "io/npy.h"
#include "test_util.h"

using cb::data::Item;
using cb::data::Manifest;

namespace {

const char* kDataset = R"({"version":1,"name":"t","classes":["a","b","c"],"modalities":["imu","text"]})";

void write(const std::string& path, const std::string& s) {
  std::ofstream f(path, std::ios::binary);
  f << s;
}

// A small valid dataset: n imu items per class and split, plus text.
std::string make_dataset(const cb::test::TempDir& d, int per_class = 2) {
  std::filesystem::create_directories(d.file("imu"));
  std::string items;
  int k = 0;
  for (const char* sp : {"train", "val", "test"})
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < per_class; ++i, ++k) {
        const std::string f = fmt::format("imu/{}.npy", k);
        cb::write_npy(d.file(f), at::full({6, 20}, static_cast<float>(k)));
        items += fmt::format(R"({{"id":"i{}","modality":"imu","split":"{}","label":{},"file":"{}","attrs":{{"style":"s{}","speed":{}}}}})",
                             k, sp, c, f, k % 2, 0.1 * k) + "\n";
        items += fmt::format(R"({{"id":"t{}","modality":"text","split":"{}","label":{},"text":"word {}"}})", k, sp, c, c) +
                 "\n";
      }
  write(d.file("dataset.json"), kDataset);
  write(d.file("items.jsonl"), items);
  return items;
}

// Expects Manifest::parse to fail with a message containing `where` and `what`.
void expect_bad(const std::string& items, const std::string& where, const std::string& what,
                const std::string& dataset = kDataset) {
  try {
    Manifest::parse("/ds", dataset, items);
    FAIL() << "no error for: " << items;
  } catch (const cb::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

const std::string kGood = R"({"id":"a","modality":"text","split":"train","label":1,"text":"b"})";

}  // namespace

TEST(DataManifest, ParsesFieldsAndResolvesPaths) {
  Manifest m = Manifest::parse("/ds", kDataset,
                               kGood + "\n\n" +
                                   R"({"id":"x","modality":"imu","split":"val","labels":[0,2],"file":"a/b.npy","group":"g1","attrs":{"k":"v","n":2.5}})");
  ASSERT_EQ(m.items().size(), 2u);
  const Item* x = m.find("x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->file, "/ds/a/b.npy");
  EXPECT_EQ(x->labels, (std::vector<int>{0, 2}));
  EXPECT_EQ(x->group, "g1");
  EXPECT_EQ(x->line, 3);
  EXPECT_EQ(x->attrs["n"].get<double>(), 2.5);
  EXPECT_EQ(m.select(cb::Modality::Imu, "val").size(), 1u);
  EXPECT_EQ(m.select(cb::Modality::Imu, "train").size(), 0u);
  EXPECT_EQ(m.info().classes.size(), 3u);
}

TEST(DataManifest, BrokenItemsNameFileAndLine) {
  const std::string l2 = "/ds/items.jsonl:2";
  expect_bad(kGood + "\n{\"id\":", l2, "malformed JSON");
  expect_bad(kGood + "\n" + R"({"id":"b","modality":"sonar","split":"train","label":0,"text":"x"})", l2, "sonar");
  expect_bad(kGood + "\n" + R"({"id":"b","modality":"vision","split":"train","label":0,"file":"x.png"})", l2,
             "not listed in dataset.json");
  expect_bad(kGood + "\n" + R"({"id":"b","modality":"text","split":"train","label":3,"text":"x"})", l2,
             "found 3");
  expect_bad(kGood + "\n" + R"({"id":"b","modality":"text","split":"train","label":-1,"text":"x"})", l2, "found -1");
  // 2^32 + 1 must not wrap to label 1 (it did, read as a 32-bit int).
  expect_bad(kGood + "\n" + R"({"id":"b","modality":"text","split":"train","label":4294967297,"text":"x"})", l2,
             "key 'label': expected an integer in [0, ");
  expect_bad(kGood + "\n" + R"({"id":"b","modality":"text","split":"train","labels":[0, 4294967297],"text":"x"})",
             l2, "found 4294967297");
  expect_bad(kGood + "\n" + R"({"id":"b","modality":"text","split":"dev","label":0,"text":"x"})", l2, "split");
  expect_bad(kGood + "\n" + R"({"id":"b","modality":"text","split":"train","text":"x"})", l2, "missing 'label'");
  expect_bad(kGood + "\n" + R"({"id":"b","modality":"imu","split":"train","label":0})", l2, "exactly one of");
  expect_bad(kGood + "\n" + kGood, l2, "duplicate item id");
  expect_bad(kGood + "\n" + R"({"id":"b","modality":"text","split":"train","label":0,"text":"x","attrs":{"a":[1]}})",
             l2, "attribute 'a'");
  expect_bad("", "/ds/items.jsonl", "no items");
}

TEST(DataManifest, BrokenDatasetJsonNamesFile) {
  expect_bad(kGood, "/ds/dataset.json", "not valid JSON", "{");
  expect_bad(kGood, "/ds/dataset.json", "version", R"({"version":2,"classes":["a"],"modalities":["text"]})");
  expect_bad(kGood, "/ds/dataset.json", "classes", R"({"version":1,"classes":[],"modalities":["text"]})");
  expect_bad(kGood, "/ds/dataset.json", "lidar", R"({"version":1,"classes":["a"],"modalities":["lidar"]})");
  expect_bad(kGood, "/ds/dataset.json", "placeholder",
             R"({"version":1,"classes":["a"],"modalities":["text"],"templates":["no slot"]})");
}

TEST(DataManifest, CheckFindsFileProblemsWithLines) {
  cb::test::TempDir d;
  make_dataset(d);
  {
    cb::data::CheckSummary s = cb::data::check_dataset(d.str(), false);
    EXPECT_TRUE(s.ok()) << s.to_text();
    EXPECT_EQ(s.counts["imu"]["train"], (std::vector<int64_t>{2, 2, 2}));
    EXPECT_EQ(s.attr_values["imu"]["style"].size(), 2u);
  }
  // Wrong array shape (line 1: item i0), unreadable file (line 3: item i1), missing file → load error.
  cb::write_npy(d.file("imu/0.npy"), at::zeros({5, 20}));
  write(d.file("imu/1.npy"), "garbage-garbage-garbage");
  cb::data::CheckSummary s = cb::data::check_dataset(d.str(), false);
  ASSERT_EQ(s.errors.size(), 2u) << s.to_text();
  EXPECT_NE(s.errors[0].find("items.jsonl:1"), std::string::npos) << s.errors[0];
  EXPECT_NE(s.errors[0].find("expected imu [6, T]"), std::string::npos) << s.errors[0];
  EXPECT_NE(s.errors[1].find("items.jsonl:3"), std::string::npos) << s.errors[1];
  EXPECT_NE(s.errors[1].find("bad magic"), std::string::npos) << s.errors[1];
  std::filesystem::remove(d.file("imu/2.npy"));
  s = cb::data::check_dataset(d.str(), false);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_NE(s.errors[0].find("items.jsonl:5"), std::string::npos) << s.errors[0];
  EXPECT_NE(s.errors[0].find("file not found"), std::string::npos) << s.errors[0];
}

TEST(DataManifest, CheckReportsEmptySplitAndCliExitCode) {
  cb::test::TempDir d;
  make_dataset(d);
  std::ifstream in(d.file("items.jsonl"));
  std::string line, kept;
  while (std::getline(in, line))
    if (line.find("\"val\"") == std::string::npos || line.find("\"text\"") != std::string::npos) kept += line + "\n";
  write(d.file("items.jsonl"), kept);
  cb::data::CheckSummary s = cb::data::check_dataset(d.str(), false);
  ASSERT_EQ(s.errors.size(), 1u) << s.to_text();
  EXPECT_NE(s.errors[0].find("items.jsonl: modality 'imu' has an empty 'val' split"), std::string::npos);
  EXPECT_EQ(cb::test::run_codebind("data check " + d.str()), 2);
}

TEST(DataLoader, DeterministicAndIndependentOfWorkers) {
  cb::test::TempDir d;
  make_dataset(d, 5);
  Manifest m = Manifest::load(d.str());
  auto decode = [](const Item& it) { return cb::data::read_item_tensor(it); };
  auto run = [&](int workers, int64_t epoch) {
    cb::data::LoaderOptions o;
    o.batch_size = 4, o.seed = 7, o.workers = workers;
    cb::data::DataLoader dl(m, cb::Modality::Imu, "train", decode, o);
    dl.start_epoch(epoch);
    std::vector<std::string> ids;
    cb::data::Batch b;
    int64_t nb = 0;
    while (dl.next(b)) {
      ++nb;
      EXPECT_EQ(b.input.size(1), 6);
      for (int64_t i = 0; i < b.input.size(0); ++i) {
        ids.push_back(b.items[i]->id);
        EXPECT_EQ(b.labels[i].item<int64_t>(), b.items[i]->label());
        // The decoded tensor is the item's own file (filled with its index).
        EXPECT_EQ(b.input[i][0][0].item<float>(), std::stof(b.items[i]->id.substr(1)));
      }
    }
    EXPECT_EQ(nb, dl.num_batches());
    return ids;
  };
  const auto a = run(0, 0), b = run(3, 0), c = run(2, 1);
  EXPECT_EQ(a.size(), 15u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);  // another epoch, another order
  EXPECT_EQ(std::set<std::string>(a.begin(), a.end()), std::set<std::string>(c.begin(), c.end()));
}

TEST(DataLoader, DecodeErrorSurfacesAsInputError) {
  cb::test::TempDir d;
  make_dataset(d);
  write(d.file("imu/0.npy"), "junk");
  Manifest m = Manifest::load(d.str());
  cb::data::LoaderOptions o;
  o.batch_size = 100, o.workers = 2;
  cb::data::DataLoader dl(m, cb::Modality::Imu, "train", [](const Item& it) { return cb::data::read_item_tensor(it); }, o);
  dl.start_epoch(0);
  cb::data::Batch b;
  EXPECT_THROW(dl.next(b), cb::InputError);
}

TEST(DataPairSampler, ClassBalancedDeterministicAndGrouped) {
  // Bridge: 3 classes; target: unbalanced (class 0: 6 items, 1: 2, 2: 1) and one grouped item.
  std::vector<Item> bridge(9), target(10);
  for (int i = 0; i < 9; ++i) bridge[i].id = "b" + std::to_string(i), bridge[i].labels = {i % 3};
  bridge[4].group = "scene";  // label 1
  for (int i = 0; i < 10; ++i) {
    target[i].id = "t" + std::to_string(i);
    target[i].labels = {i < 6 ? 0 : i < 8 ? 1 : 2};
  }
  target[9].labels = {1};
  target[9].group = "scene";
  std::vector<const Item*> bp, tp;
  for (auto& b : bridge) bp.push_back(&b);
  for (auto& t : target) tp.push_back(&t);
  cb::data::PairSampler ps(bp, tp, 42);
  auto e0 = ps.epoch(0), e0b = ps.epoch(0), e1 = ps.epoch(1);
  ASSERT_EQ(e0.size(), 18u);  // 3 classes × 6 (the largest class)
  std::map<int, int> per_class;
  for (size_t i = 0; i < e0.size(); ++i) {
    EXPECT_EQ(e0[i].bridge, e0b[i].bridge);
    EXPECT_EQ(e0[i].target, e0b[i].target);
    ++per_class[e0[i].target->label()];
    if (e0[i].target->group == "scene") EXPECT_EQ(e0[i].bridge, &bridge[4]);
    else EXPECT_EQ(e0[i].bridge->label(), e0[i].target->label());
  }
  EXPECT_EQ(per_class, (std::map<int, int>{{0, 6}, {1, 6}, {2, 6}}));
  bool differs = false;
  for (size_t i = 0; i < e0.size(); ++i) differs |= e0[i].target != e1[i].target || e0[i].bridge != e1[i].bridge;
  EXPECT_TRUE(differs);
  auto bs = ps.batches(0, 4);
  EXPECT_EQ(bs.size(), 5u);
  EXPECT_EQ(bs.back().size(), 2u);
  EXPECT_EQ(ps.batches(0, 4, true).size(), 4u);
}
