// ablate.cpp — see ablate.h.
#include "app/ablate.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "app/run_eval.h"
#include "core/error.h"
#include "core/threads.h"
#include "io/mapped_file.h"
#include "io/run_dir.h"
#include "train/trainer.h"

namespace cb {
namespace {

struct Variant {
  std::string name;
  std::function<void(TrainConfig&)> edit;
};

std::vector<Variant> grid() {
  return {
      {"decoupling+recon (no VQ)", [](TrainConfig& c) { c.model.quantiser.use_vq = false; }},
      {"codebook only", [](TrainConfig& c) { c.model.specific_dim = 0; c.model.use_decoder = false; c.optim.w_reg = 0; }},
      {"codebook+decoupling", [](TrainConfig& c) { c.model.use_decoder = false; }},
      {"full", [](TrainConfig&) {}},
      {"standard VQ", [](TrainConfig& c) { c.model.quantiser.standard_vq = true; }},
      {"reference code matching", [](TrainConfig& c) { c.optim.code_matching = CodeMatchingMode::Reference; }},
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

}  // namespace

std::string run_ablation(const AblateOptions& o) {
    namespace fs = std::filesystem;
    auto base = TrainConfig::load(o.config);
    configure_threads(o.threads > 0 ? o.threads : base.run.threads);
    if (!o.table_only) create_output_dir(o.out);
    std::vector<std::pair<std::string, nlohmann::json>> rows;
    const std::string bm = o.bridge + "/metrics.json";
    rows.emplace_back("baseline (hard alignment)",
                      fs::exists(bm) ? nlohmann::json::parse(std::ifstream(bm))
                                     : evaluate_one(o.bridge, o.data, "test", false, true));
    int i = 0;
    for (const auto& v : grid()) {
      TrainConfig c = base;
      v.edit(c);
      c.run.name = v.name;
      const std::string dir = o.out + "/run" + std::to_string(i++);
      if (o.table_only) {
        const std::string mj = dir + "/metrics.json";
        CB_CHECK_INPUT(fs::exists(mj), "{}: not found (--table-only needs the evaluated runs of an earlier ablate)", mj);
        rows.emplace_back(v.name, nlohmann::json::parse(std::ifstream(mj)));
        continue;
      }
      TrainOptions to;
      to.data_dir = o.data;
      to.out_dir = dir;
      to.bridge = o.bridge;
      to.quiet = false;  // the training progress bar (stderr) shows where the grid is
      fmt::print(stderr, "ablate {}/{}: training '{}' → {}\n", i, grid().size(), v.name, dir);
      Trainer(c, to).run();
      rows.emplace_back(v.name, evaluate_one(dir, o.data, "test", false, true));
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
    write_file_atomic(o.out + "/ablation.md", md);
    fmt::print("{}\ntable: {}/ablation.md\n", md, o.out);
    return md;
}

}  // namespace cb
