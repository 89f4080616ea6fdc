// run_eval.h — evaluation of a run directory (`codebind eval`, `codebind ablate`, the demo):
// embeds the train split (probe training data) and the evaluated split with the run's model
// (CodeBind: RUN/model.safetensors; baseline: RUN/bridge.safetensors), writes
// RUN/embeddings_<split>.safetensors, RUN/metrics.json, PNG plots and RUN/report.md (with the
// baseline comparison table when a baseline run is given).
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace cb {

struct RunEvalOptions {
  std::string run_dir, data_dir;
  std::string split = "test";
  std::string baseline_dir;  // optional: a pretrain run evaluated as the baseline
  std::string command;       // for the report
  bool plots = true;
  bool quiet = false;
  std::string dtype = "auto";  // forwards through the frozen model: auto|fp32|bf16 (core/precision.h)
};

// The run's metrics (CodeBind or a baseline alone) and the baseline's (null without one); the
// report at RUN/report.md and, self-contained, RUN/report.html (summary first in both).
struct RunEvalResult {
  nlohmann::json metrics, baseline;
};
RunEvalResult evaluate_run(const RunEvalOptions& opt);

// Metrics of one run dir (model.safetensors → CodeBind, else bridge.safetensors → baseline),
// written to RUN/metrics.json (or RUN/metrics_<split>.json for splits other than test).
// A split that is not train/val/test, or has no items, is an InputError before anything is written.
// `dtype` as RunEvalOptions::dtype; the type used is recorded as metrics["dtype"].
nlohmann::json evaluate_one(const std::string& run_dir, const std::string& data_dir, const std::string& split,
                            bool plots, bool quiet, const std::string& dtype = "auto");

// Where evaluate_one writes the metrics of `split`.
std::string metrics_json_path(const std::string& run_dir, const std::string& split);

}  // namespace cb
