// cmd_ablate.cpp — `codebind ablate --config FILE --data DIR --bridge RUN_PRETRAIN --out DIR`:
// the paper's ablation grid (spec §12.7) in miniature on the same data, bridge and seed —
// baseline; decoupling + reconstruction (no codebook); codebook only; codebook + decoupling
// (no decoder); full; standard VQ; reference-mode code matching — one Markdown table.
#include <filesystem>
#include <set>

#include "cli/command.h"
#include "codebind/run_eval.h"
#include "core/error.h"
#include "core/threads.h"
#include "io/mapped_file.h"
#include "io/run_dir.h"
#include "train/trainer.h"

namespace {

struct Variant {
  std::string name;
  std::function<void(cb::TrainConfig&)> edit;
};

std::vector<Variant> grid() {
  return {
      {"decoupling+recon (no VQ)", [](cb::TrainConfig& c) { c.quantiser.use_vq = false; }},
      {"codebook only", [](cb::TrainConfig& c) { c.specific_dim = 0; c.use_decoder = false; c.w_reg = 0; }},
      {"codebook+decoupling", [](cb::TrainConfig& c) { c.use_decoder = false; }},
      {"full", [](cb::TrainConfig&) {}},
      {"standard VQ", [](cb::TrainConfig& c) { c.quantiser.standard_vq = true; }},
      {"reference code matching", [](cb::TrainConfig& c) { c.code_matching = cb::CodeMatchingMode::Reference; }},
  };
}

using Path = std::vector<std::string>;

double get(const nlohmann::json& m, const Path& path) {
  const nlohmann::json* p = &m;
  for (const std::string& k : path) {
    if (!p->is_object() || !p->contains(k)) return NAN;
    p = &(*p)[k];
  }
  return p->is_number() ? p->get<double>() : NAN;
}

// The entries every row has — retrieval pairs {"retrieval", pair} or categorical probe
// attributes {"probes", modality, attribute} — so that the means compare like with like (the
// baseline bridge also has towers, e.g. depth, that the CodeBind runs do not train).
std::set<Path> common_entries(const std::vector<std::pair<std::string, nlohmann::json>>& rows, bool retrieval) {
  std::set<Path> common;
  bool first = true;
  for (const auto& [name, m] : rows) {
    std::set<Path> k;
    if (retrieval && m.contains("retrieval"))
      for (const auto& [pair, v] : m["retrieval"].items()) k.insert({"retrieval", pair});
    if (!retrieval && m.contains("probes"))
      for (const auto& [mod, attrs] : m["probes"].items())
        for (const auto& [attr, v] : attrs.items())
          if (v.value("type", "") == "categorical") k.insert({"probes", mod, attr});
    if (first) common = k;
    else for (auto it = common.begin(); it != common.end();) it = k.count(*it) ? std::next(it) : common.erase(it);
    first = false;
  }
  return common;
}

// Mean over `entries` of the number at entry + `leaf` (NaN entries skipped; NaN if none).
double mean_over(const nlohmann::json& m, const std::set<Path>& entries, const Path& leaf) {
  double sum = 0;
  int n = 0;
  for (Path path : entries) {
    path.insert(path.end(), leaf.begin(), leaf.end());
    if (double v = get(m, path); !std::isnan(v)) sum += v, ++n;
  }
  return n ? sum / n : NAN;
}

cb::cli::Runner setup(CLI::App* app) {
  auto config = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>();
  auto bridge = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(0);
  app->add_option("--config", *config, "base train config JSON (the 'full' model)")->required();
  app->add_option("--data", *data, "dataset directory")->required();
  app->add_option("--bridge", *bridge, "pretrain run directory (also the baseline row)")->required();
  app->add_option("--out", *out, "directory for the ablation runs and ablation.md")->required();
  app->add_option("--threads", *threads, "threads");
  auto table_only = std::make_shared<bool>(false);
  app->add_flag("--table-only", *table_only, "re-make ablation.md from the runs already in --out (no training)");
  return [=]() {
    namespace fs = std::filesystem;
    auto base = cb::TrainConfig::load(*config);
    cb::configure_threads(*threads > 0 ? *threads : base.threads);
    if (!*table_only) cb::create_output_dir(*out);
    std::vector<std::pair<std::string, nlohmann::json>> rows;
    const std::string bm = *bridge + "/metrics.json";
    rows.emplace_back("baseline (hard alignment)",
                      fs::exists(bm) ? nlohmann::json::parse(std::ifstream(bm))
                                     : cb::evaluate_one(*bridge, *data, "test", false, true));
    int i = 0;
    for (const auto& v : grid()) {
      cb::TrainConfig c = base;
      v.edit(c);
      c.name = v.name;
      const std::string dir = *out + "/run" + std::to_string(i++);
      if (*table_only) {
        const std::string mj = dir + "/metrics.json";
        CB_CHECK_INPUT(fs::exists(mj), "{}: not found (--table-only needs the evaluated runs of an earlier ablate)", mj);
        rows.emplace_back(v.name, nlohmann::json::parse(std::ifstream(mj)));
        continue;
      }
      cb::TrainOptions o;
      o.data_dir = *data;
      o.out_dir = dir;
      o.bridge = *bridge;
      o.quiet = false;  // the training progress bar (stderr) shows where the grid is
      fmt::print(stderr, "ablate {}/{}: training '{}' → {}\n", i, grid().size(), v.name, dir);
      cb::Trainer(c, o).run();
      rows.emplace_back(v.name, cb::evaluate_one(dir, *data, "test", false, true));
    }
    std::string md =
        "| variant | imu zero-shot top-1 | audio zero-shot top-1 | vision zero-shot top-1 | imu→text R@1 | mean "
        "cross-modal R@1 | specific probe (mean acc) | shared probe (mean acc) |\n|---|---|---|---|---|---|---|---|\n";
    auto pct = [](double x) { return std::isnan(x) ? std::string("—") : fmt::format("{:.1f}", 100 * x); };
    const std::set<Path> pairs = common_entries(rows, true), attrs = common_entries(rows, false);
    for (const auto& [name, m] : rows)
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", name, pct(get(m, {"zero_shot", "imu", "top1"})),
                        pct(get(m, {"zero_shot", "audio", "top1"})), pct(get(m, {"zero_shot", "vision", "top1"})),
                        pct(get(m, {"retrieval", "imu->text", "class", "r1"})), pct(mean_over(m, pairs, {"class", "r1"})),
                        pct(mean_over(m, attrs, {"specific", "linear_acc"})),
                        pct(mean_over(m, attrs, {"shared", "linear_acc"})));
    md += fmt::format("\nMeans over what every row has: class Recall@1 over {} retrieval pairs; linear-probe accuracy "
                      "over {} categorical attributes (the baseline has one embedding, listed as shared).\n",
                      pairs.size(), attrs.size());
    cb::write_file_atomic(*out + "/ablation.md", md);
    fmt::print("{}\ntable: {}/ablation.md\n", md, *out);
    return 0;
  };
}

}  // namespace

CB_REGISTER_COMMAND("ablate", "the paper's ablation grid in miniature (one table)", setup);
