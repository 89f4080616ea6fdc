// test_paired_train.cpp — instance-paired training: a small paired data set (the tiny
// fixture's vision and imu items joined into groups, each with a caption text item) trains by
// group — every batch row is one group's vision item, imu item and caption — and evaluation
// reports paired retrieval with its chance level; without groups, "pairing": "group" is refused
// before anything is written.
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/manifest.h"
#include "report/report.h"
#include "test_tiny_run.h"
#include "train/batch_plan.h"

namespace cb {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using test::slurp;

// The tiny fixture with groups: per split and class, the k-th vision and k-th imu item form
// group "g-<split>-<class>-<k>" with a caption "<class name> sample <k>".
std::string paired_dataset(const test::TinyFixture& f, const std::string& dir) {
  fs::create_directories(dir);
  fs::copy_file(f.data + "/dataset.json", dir + "/dataset.json", fs::copy_options::overwrite_existing);
  for (const char* sub : {"vision", "imu"})
    if (!fs::exists(dir + "/" + sub)) fs::create_directory_symlink(f.data + "/" + sub, dir + "/" + sub);
  const json info = json::parse(slurp(f.data + "/dataset.json"));
  std::map<std::string, std::vector<json>> by_key;  // "split/label/modality" → items in file order
  std::vector<json> out;
  std::ifstream in(f.data + "/items.jsonl");
  for (std::string line; std::getline(in, line);) {
    json it = json::parse(line);
    const std::string m = it["modality"];
    if (m != "vision" && m != "imu") continue;
    by_key[it["split"].get<std::string>() + "/" + std::to_string(it["label"].get<int>()) + "/" + m].push_back(it);
  }
  for (auto& [key, vis] : by_key) {
    if (key.substr(key.rfind('/') + 1) != "vision") continue;
    const std::string base = key.substr(0, key.rfind('/'));
    auto& imus = by_key[base + "/imu"];
    const std::string split = base.substr(0, base.find('/'));
    const int label = std::stoi(base.substr(base.find('/') + 1));
    for (size_t k = 0; k < vis.size() && k < imus.size(); ++k) {
      const std::string g = "g-" + split + "-" + std::to_string(label) + "-" + std::to_string(k);
      vis[k]["group"] = g;
      imus[k]["group"] = g;
      out.push_back(vis[k]);
      out.push_back(imus[k]);
      out.push_back({{"id", "cap-" + g}, {"modality", "text"}, {"split", split}, {"label", label}, {"group", g},
                     {"text", info["classes"][label].get<std::string>() + " sample " + std::to_string(k)}});
    }
  }
  std::ofstream o(dir + "/items.jsonl");
  for (const auto& it : out) o << it.dump() << "\n";
  return dir;
}

TEST(PairedTrain, BatchesAreGroupsWithTheirCaptions) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  const auto man = data::Manifest::load(paired_dataset(f, tmp.file("paired")));
  const std::vector<Modality> mods{Modality::Imu, Modality::Vision, Modality::Text};
  EXPECT_EQ(resolve_pairing("auto", man, mods, "train"), Pairing::Group);
  BatchPlanner p(man, mods, "train", 4, 7, 1, Pairing::Group);
  EXPECT_EQ(p.skipped_groups(), 0);
  for (int64_t step = 0; step < 3; ++step) {
    const BatchPlan b = p.plan(1, step);
    ASSERT_EQ(b.groups.size(), 4u);
    for (size_t r = 0; r < 4; ++r) {
      EXPECT_EQ(b.items.at(Modality::Imu)[r]->group, b.groups[r]);
      EXPECT_EQ(b.items.at(Modality::Vision)[r]->group, b.groups[r]);
      const data::Item* cap = man.find("cap-" + b.groups[r]);
      ASSERT_NE(cap, nullptr);
      EXPECT_EQ(b.prompts[r], cap->text);  // the group's own caption, not a class prompt
    }
    EXPECT_EQ(p.plan(1, step).groups, b.groups);  // a function of (seed, epoch, step)
  }
  // The ungrouped fixture: group pairing has nothing to bind, auto falls back to classes.
  const auto plain = data::Manifest::load(f.data);
  EXPECT_EQ(resolve_pairing("auto", plain, mods, "train"), Pairing::Class);
  EXPECT_THROW(BatchPlanner(plain, mods, "train", 4, 7, 1, Pairing::Group), InputError);
}

TEST(PairedTrain, TrainsByGroupAndReportsPairedRetrieval) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  const std::string data = paired_dataset(f, tmp.file("paired")), run = tmp.file("run");
  TrainConfig c = test::tiny_train_config();
  c.optim.epochs = 2;
  c.optim.max_steps_per_epoch = 4;
  TrainOptions o = test::tiny_options(f, run);
  o.data_dir = data;
  Trainer(c, o).run();
  ASSERT_EQ(test::run_codebind("eval --run " + run + " --data " + data + " --quiet", tmp.file("eval.log")), 0)
      << slurp(tmp.file("eval.log"));
  const json m = report::read_metrics_json(run + "/metrics.json");
  // Paired retrieval is reported with its chance level: one partner among the test groups.
  // (The tiny fixture's bridge does not learn, so no claim about the level is made here.)
  const json& pr = m.at("retrieval").at("imu->vision").at("paired");
  const auto test_imu = data::Manifest::load(data).select(Modality::Imu, "test");
  ASSERT_FALSE(test_imu.empty());
  EXPECT_EQ(pr.at("n").get<int64_t>(), int64_t(test_imu.size())) << pr.dump();
  EXPECT_NEAR(pr.at("chance_r1").get<double>(), 1.0 / double(test_imu.size()), 1e-9) << pr.dump();
  const double r1 = pr.at("r1").get<double>(), r5 = pr.at("r5").get<double>();
  EXPECT_TRUE(r1 >= 0 && r1 <= r5 && r5 <= 1) << pr.dump();
  const std::string log = slurp(run + "/metrics.jsonl");
  EXPECT_FALSE(log.empty());
  // "pairing": "group" on data without groups is refused before the run directory exists.
  TrainConfig g = c;
  g.optim.pairing = "group";
  TrainOptions plain = test::tiny_options(f, tmp.file("plain"));
  EXPECT_THROW(Trainer(g, plain), InputError);
  EXPECT_FALSE(fs::exists(tmp.file("plain")));
}

TEST(PairedTrain, ACaptionLongerThanTheContextIsRefused) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  test::TempDir tmp;
  const std::string data = paired_dataset(f, tmp.file("paired"));
  {
    // One more caption for a training group, 120 words long.
    std::string first;
    std::ifstream in(data + "/items.jsonl");
    for (std::string line; std::getline(in, line);) {
      json it = json::parse(line);
      if (it["split"] == "train" && it.contains("group")) {
        first = it["group"];
        break;
      }
    }
    std::string words;
    for (int i = 0; i < 120; ++i) words += "word ";
    std::ofstream o(data + "/items.jsonl", std::ios::app);
    o << json{{"id", "long-caption"}, {"modality", "text"}, {"split", "train"}, {"group", first}, {"text", words}}.dump()
      << "\n";
  }
  TrainConfig c = test::tiny_train_config();
  TrainOptions o = test::tiny_options(f, tmp.file("run"));
  o.data_dir = data;
  try {
    Trainer(c, o);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("long-caption"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp.file("run")));
}

}  // namespace
}  // namespace cb
