// ablate.h — the paper's ablation grid (docs/model.md §7.5) in miniature on one data set,
// bridge and seed: baseline; decoupling + reconstruction (no codebook); codebook only;
// codebook + decoupling (no decoder); full; standard VQ; reference-mode code matching. Each
// variant is trained and evaluated; one Markdown table (OUT/ablation.md) compares them.
#pragma once
#include <string>

namespace cb {

struct AblateOptions {
  std::string config;  // the base train config (the "full" row)
  std::string data;    // dataset directory
  std::string bridge;  // pretrain run (also the baseline row)
  std::string out;     // OUT/run<i> per variant, OUT/ablation.md
  int threads = 0;
  bool table_only = false;  // re-make the table from the runs already in `out`
};

// Runs the grid (or only the table) and returns the Markdown table.
std::string run_ablation(const AblateOptions& o);

}  // namespace cb
