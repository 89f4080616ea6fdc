// test_eval_evaluate.cpp — evaluate_embeddings on a synthetic EmbeddingSet with planted
// structure (class in the shared part, a private attribute in the specific part), the
// embedding-set file round trip, metrics.json / report writing, compare_runs and JSONL.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/error.h"
#include "eval/embedding_set.h"
#include "eval/evaluate.h"
#include "report/report.h"
#include "eval/zero_shot.h"
#include "test_util.h"

namespace cb::eval {
namespace {

using nlohmann::json;
using namespace cb::report;  // metrics.json, the report and compare_runs

constexpr int64_t kC = 4, kD = 16, kM = 4;  // classes, dims per half, code chunks

at::Tensor l2n(const at::Tensor& x) { return x / x.norm(2, {1}, true); }

// Per modality: shared = class centroid + noise; specific = hue direction + noise;
// codes: class id at every chunk position (shared), hue id (specific).
ModalityEmbeddings make_modality(const std::string& name, int64_t n, const at::Tensor& centroids,
                                 const at::Tensor& hue_dirs, at::Generator& gen, bool with_specific) {
  ModalityEmbeddings m;
  at::Tensor y = at::arange(n, at::kLong) % kC;
  at::Tensor hue = at::randint(3, {n}, gen);
  at::Tensor level = at::rand({n}, gen);
  m.labels = y;
  m.shared = l2n(centroids.index_select(0, y) + 0.2 * at::randn({n, kD}, gen));
  if (with_specific) {
    m.specific = l2n(hue_dirs.index_select(0, hue) + 0.2 * at::randn({n, kD}, gen));
    m.specific.select(1, kD - 1).copy_(level);  // continuous factor readable linearly
    m.concat = l2n(at::cat({m.shared, m.specific}, 1));
    m.shared_raw = l2n(m.shared + 0.05 * at::randn({n, kD}, gen));  // "before quantisation"
    m.specific_raw = l2n(m.specific + 0.05 * at::randn({n, kD}, gen));
    m.specific_codes = hue.unsqueeze(1).repeat({1, kM});
  }
  m.shared_codes = y.unsqueeze(1).repeat({1, kM});
  for (int64_t i = 0; i < n; ++i) {
    m.ids.push_back(name + std::to_string(i));
    m.groups.push_back("g" + std::to_string(i));  // item i of every modality is one group
    static const char* hues[] = {"red", "green", "blue"};
    m.attrs.push_back(json{{"hue", hues[hue[i].item<int64_t>()]}, {"level", level[i].item<double>()}});
  }
  return m;
}

EmbeddingSet make_set(const std::string& split, int64_t n, uint64_t seed) {
  auto fixed = at::detail::createCPUGenerator(42);  // same geometry in every split
  at::Tensor centroids = 3.0 * at::randn({kC, kD}, fixed);
  at::Tensor hue_dirs = 3.0 * at::randn({3, kD}, fixed);
  auto gen = at::detail::createCPUGenerator(seed);
  EmbeddingSet s;
  s.split = split;
  s.classes = {"a", "b", "c", "d"};
  s.meta = {{"shared_codebook_size", 8}, {"specific_codebook_size", 4}};
  s.modalities["vision"] = make_modality("v", n, centroids, hue_dirs, gen, true);
  s.modalities["audio"] = make_modality("a", n, centroids, hue_dirs, gen, true);
  s.modalities["text"] = make_modality("t", n, centroids, hue_dirs, gen, false);
  s.modalities["text"].attrs.clear();
  s.text_classifier = build_text_classifier(l2n(centroids).unsqueeze(1));  // (D, C)
  return s;
}

EvalOptions fast_options() {
  EvalOptions o;
  o.probe.max_iter = 30;
  o.probe.weight_decays = {1e-3, 1e-1};
  o.trained_pairs = {{"vision", "text"}, {"vision", "audio"}};
  return o;
}

TEST(EvalEvaluate, PlantedStructureIsRecovered) {
  EmbeddingSet train = make_set("train", 120, 1), test = make_set("test", 60, 2);
  json m = evaluate_embeddings(train, test, fast_options());
  EXPECT_DOUBLE_EQ(m["zero_shot"]["vision"]["top1"].get<double>(), 1.0);
  EXPECT_FALSE(m["zero_shot"].contains("text"));
  EXPECT_EQ(m["zero_shot"]["audio"]["k5"].get<int>(), 4);
  // Class-level retrieval is perfect; paired retrieval among same-class items is at chance
  // level (the pairing ignores the embeddings here), so below class retrieval.
  EXPECT_DOUBLE_EQ(m["retrieval"]["audio->text"]["class"]["r1"].get<double>(), 1.0);
  EXPECT_NEAR(m["retrieval"]["audio->text"]["class"]["chance_r1"].get<double>(), 0.25, 1e-12);
  EXPECT_LT(m["retrieval"]["audio->text"]["paired"]["r1"].get<double>(), 0.5);
  EXPECT_TRUE(m["retrieval"]["audio->text"]["emergent"].get<bool>());
  EXPECT_FALSE(m["retrieval"]["text->vision"]["emergent"].get<bool>());
  EXPECT_EQ(m["retrieval"].size(), 6u);
  // Private detail: hue is readable from the specific part, not from the shared one.
  const json& hue = m["probes"]["vision"]["hue"];
  EXPECT_EQ(hue["type"], "categorical");
  EXPECT_GT(hue["specific"]["linear_acc"].get<double>(), 0.9);
  EXPECT_GT(hue["specific"]["knn_acc"].get<double>(), 0.9);
  EXPECT_GT(hue["specific"]["p@10"].get<double>(), 0.9);
  EXPECT_LT(hue["shared"]["knn_acc"].get<double>(), 0.7);
  EXPECT_GT(hue["specific_raw"]["linear_acc"].get<double>(), 0.9);
  EXPECT_LT(hue["shared_raw"]["knn_acc"].get<double>(), 0.7);
  const json& level = m["probes"]["audio"]["level"];
  EXPECT_EQ(level["type"], "continuous");
  EXPECT_GT(level["specific"]["linear_r2"].get<double>(), 0.9);
  EXPECT_FALSE(m["probes"].contains("text"));
  // Codebook: 4 of 8 shared codes used uniformly → perplexity 4, 4 dead.
  EXPECT_NEAR(m["codebook"]["shared"]["all"]["perplexity"].get<double>(), 4.0, 1e-9);
  EXPECT_EQ(m["codebook"]["shared"]["vision"]["dead"].get<int>(), 4);
  EXPECT_DOUBLE_EQ(m["codebook"]["shared_overlap"]["audio|vision"].get<double>(), 1.0);
  EXPECT_EQ(m["codebook"]["specific"]["audio"]["K"].get<int>(), 4);
}

TEST(EvalEvaluate, EmbeddingSetRoundTripGivesSameMetrics) {
  test::TempDir dir;
  EmbeddingSet train = make_set("train", 40, 3), test = make_set("test", 24, 4);
  save_embedding_set(embedding_set_path(dir.str(), "train"), train);
  save_embedding_set(embedding_set_path(dir.str(), "test"), test);
  EmbeddingSet tr2 = load_embedding_set(dir.file("embeddings_train.safetensors"));
  EmbeddingSet te2 = load_embedding_set(dir.file("embeddings_test.safetensors"));
  EXPECT_EQ(te2.split, "test");
  EXPECT_EQ(te2.classes, test.classes);
  EXPECT_EQ(te2.modalities.at("vision").ids, test.modalities.at("vision").ids);
  EXPECT_EQ(te2.modalities.at("vision").attrs[3], test.modalities.at("vision").attrs[3]);
  EXPECT_FALSE(te2.modalities.at("text").specific.defined());
  EXPECT_TRUE(torch::equal(te2.modalities.at("audio").shared_codes, test.modalities.at("audio").shared_codes));
  EXPECT_TRUE(torch::equal(te2.modalities.at("audio").specific_raw, test.modalities.at("audio").specific_raw));
  EXPECT_FALSE(te2.modalities.at("text").shared_raw.defined());
  EvalOptions o = fast_options();
  EXPECT_EQ(evaluate_embeddings(train, test, o).dump(), evaluate_embeddings(tr2, te2, o).dump());
}

TEST(EvalEvaluate, RejectsInconsistentSets) {
  test::TempDir dir;
  EmbeddingSet s = make_set("test", 8, 5);
  s.modalities["vision"].ids.pop_back();
  EXPECT_THROW(save_embedding_set(dir.file("x.safetensors"), s), InputError);
  s = make_set("test", 8, 5);
  s.modalities["audio"].specific = torch::zeros({7, kD});
  EXPECT_THROW(s.validate(), InputError);
  EXPECT_THROW(load_embedding_set(dir.file("missing.safetensors")), InputError);
  EvalOptions o;
  o.modalities = {"imu"};
  EXPECT_THROW(evaluate_embeddings(s, make_set("test", 8, 5), o), InputError);
}

TEST(EvalReport, CompareRunsTable) {
  json base = {{"zero_shot", {{"imu", {{"top1", 0.25}, {"top5", 0.5}, {"n", 10}}}}},
               {"probes", {{"audio", {{"voice", {{"shared", {{"linear_acc", 0.3}}}}}}}}}};
  json cbj = {{"zero_shot", {{"imu", {{"top1", 0.375}, {"top5", 0.5}, {"n", 10}}}}},
              {"probes", {{"audio", {{"voice", {{"shared", {{"linear_acc", 0.25}}}, {"specific", {{"linear_acc", 0.8}}}}},
                                     {"pitch", {{"specific", {{"linear_r2", 0.5}}}}}}}}},
              {"codebook", {{"shared", {{"all", {{"perplexity", 12.5}, {"K", 8}}}}}}}};
  const std::string md = compare_runs(base, cbj);
  EXPECT_NE(md.find("| zero-shot | imu | top1 | 25.0 | 37.5 | +12.5 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| zero-shot | imu | top5 | 50.0 | 50.0 | +0.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| probe | audio | voice/specific/linear_acc | — | 80.0 |  |"), std::string::npos) << md;
  EXPECT_NE(md.find("| probe | audio | voice/shared/linear_acc | 30.0 | 25.0 | -5.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| probe | audio | pitch/specific/linear_r2 | — | 0.500 |  |"), std::string::npos) << md;
  EXPECT_NE(md.find("| codebook | shared | all/perplexity | — | 12.5 |  |"), std::string::npos) << md;
  EXPECT_EQ(md.find("| n |"), std::string::npos);  // counts are left out
  EXPECT_EQ(md.find("/K |"), std::string::npos);
}

TEST(EvalReport, MetricsJsonReportAndJsonl) {
  test::TempDir dir;
  json m = {{"zero_shot", {{"imu", {{"top1", 0.5}}}}}};
  write_metrics_json(dir.file("metrics.json"), m);
  EXPECT_EQ(read_metrics_json(dir.file("metrics.json")), m);
  ReportInputs in;
  in.codebind = m;
  in.baseline = json{{"zero_shot", {{"imu", {{"top1", 0.25}}}}}};
  in.plots = {"plots/curves.png"};
  write_report(dir.file("report.md"), in);
  std::ifstream rf(dir.file("report.md"));
  std::string text((std::istreambuf_iterator<char>(rf)), {});
  EXPECT_NE(text.find("| zero-shot | imu | top1 | 25.0 | 50.0 | +25.0 |"), std::string::npos) << text;
  EXPECT_NE(text.find("![plots/curves.png](plots/curves.png)"), std::string::npos);

  {
    std::ofstream f(dir.file("m.jsonl"));
    f << R"({"step":1,"loss":2.0,"lr":0.1})" << "\n\n" << R"({"step":2,"loss":1.5,"tag":"x"})" << "\n";
  }
  auto rows = read_jsonl(dir.file("m.jsonl"));
  ASSERT_EQ(rows.size(), 2u);
  auto curves = curves_from_jsonl(rows);
  ASSERT_EQ(curves.count("loss"), 1u);
  EXPECT_EQ(curves["loss"].x, (std::vector<double>{1, 2}));
  EXPECT_EQ(curves["loss"].y, (std::vector<double>{2.0, 1.5}));
  EXPECT_EQ(curves["lr"].x.size(), 1u);
  EXPECT_EQ(curves.count("tag"), 0u);
  {
    std::ofstream f(dir.file("bad.jsonl"));
    f << R"({"step":1})" << "\n" << R"({"step":2,)" << "\n";
  }
  try {
    read_jsonl(dir.file("bad.jsonl"));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2:"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_metrics_json(dir.file("bad.jsonl")), InputError);
}

}  // namespace
}  // namespace cb::eval

#include "report/raster.h"
#include "report/report_plots.h"

namespace cb::eval {
namespace {

TEST(EvalReportPlots, WritesTheStandardPlots) {
  test::TempDir dir;
  EmbeddingSet test = make_set("test", 30, 6);
  {
    std::ofstream f(dir.file("metrics.jsonl"));
    for (int s = 0; s < 5; ++s) f << json{{"step", s}, {"loss/total", 2.0 / (s + 1)}, {"lr", 0.1}}.dump() << "\n";
  }
  ReportPlotOptions o;
  o.max_points = 20;
  auto plots = write_report_plots(dir.str(), test, dir.file("metrics.jsonl"), o);
  const std::vector<std::string> expected = {
      "plots/curves.png",          "plots/codebook_shared.png",  "plots/codebook_specific_audio.png",
      "plots/codebook_specific_vision.png", "plots/audio_shared_class.png", "plots/audio_shared_attr.png",
      "plots/audio_specific_class.png",     "plots/audio_specific_attr.png", "plots/text_shared_class.png",
      "plots/vision_shared_class.png",      "plots/vision_shared_attr.png",  "plots/vision_specific_class.png",
      "plots/vision_specific_attr.png"};
  EXPECT_EQ(plots, expected);
  for (const auto& p : plots) EXPECT_EQ(read_png(dir.file(p)).width, 800) << p;
  // Same inputs → byte-identical files.
  test::TempDir dir2;
  write_report_plots(dir2.str(), test, dir.file("metrics.jsonl"), o);
  for (const auto& p : plots) {
    std::ifstream a(dir.file(p), std::ios::binary), b(dir2.file(p), std::ios::binary);
    EXPECT_EQ(std::string((std::istreambuf_iterator<char>(a)), {}), std::string((std::istreambuf_iterator<char>(b)), {}))
        << p;
  }
}

}  // namespace
}  // namespace cb::eval
