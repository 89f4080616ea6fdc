// report_plots.h — the standard PNG plots of an evaluation report, from saved embeddings and
// the trainer's per-step JSONL: training curves, codebook usage, and 2-D PCA projections of
// the shared and specific embeddings coloured by class and by a private attribute.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "eval/embedding_set.h"

namespace cb::report {

struct ReportPlotOptions {
  // Attribute to colour the projections by, per modality (e.g. {"audio":"voice"}); absent
  // modalities use their first categorical attribute in alphabetical order.
  std::map<std::string, std::string> attribute;
  int64_t max_points = 2000;  // scatter plots subsample (seeded) above this
  uint64_t seed = 0;
  // Curves to draw from the JSONL: keys containing any of these substrings (default "loss").
  std::vector<std::string> curve_patterns = {"loss"};
  size_t max_curves = 10;
};

// Writes the plots into OUT_DIR/plots/ and returns their paths relative to OUT_DIR, in a
// stable order: "plots/curves.png" (when `metrics_jsonl` is non-empty and has curves),
// "plots/codebook_shared.png", "plots/codebook_specific_<mod>.png",
// "plots/<mod>_<shared|specific>_<class|attr>.png".
std::vector<std::string> write_report_plots(const std::string& out_dir, const eval::EmbeddingSet& test,
                                            const std::string& metrics_jsonl,
                                            const ReportPlotOptions& opt = {});

}  // namespace cb::report
