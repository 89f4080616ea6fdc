// report.h — writing evaluation results: metrics.json (atomic), the Markdown report, and
// reading the trainer's per-step JSONL metrics into curves for plots.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/table.h"

namespace cb::report {

// Pretty-printed JSON written atomically (temp file + rename).
void write_metrics_json(const std::string& path, const nlohmann::json& metrics);
// Reads a JSON file; InputError naming the file when missing or malformed.
nlohmann::json read_metrics_json(const std::string& path);

// One row of a flattened metrics object: "zero_shot/imu/top1" → value.
struct MetricLeaf {
  std::string section, subject, metric;  // e.g. "zero_shot", "imu", "top1"
  double value;
};
// Flattens numeric leaves: section / subject / metric path (deeper levels are joined into
// `metric` with '/'). Non-numeric leaves are skipped. Order: JSON object order (sorted keys).
std::vector<MetricLeaf> flatten_metrics(const nlohmann::json& metrics);

// True when the leaf is a fraction to display in percent (top-k, recall, mAP, accuracy,
// precision@k, majority, code overlap); false for R², perplexity, counts.
bool is_fraction_metric(const MetricLeaf& leaf);
// True for bookkeeping leaves left out of comparison tables (n, k5, n_train, n_test, n_values,
// K, total).
bool is_count_metric(const MetricLeaf& leaf);

struct ReportInputs {
  std::string title = "CodeBind evaluation";
  std::string command;                 // the command line that produced it
  nlohmann::json codebind;             // metrics.json of the CodeBind run
  nlohmann::json baseline;             // metrics.json of the baseline (may be null)
  std::vector<std::string> plots;      // relative PNG paths to embed
  std::vector<std::string> notes;      // free lines appended at the end
};
// The comparison table of two metrics.json objects: one row per (section, modality or pair,
// metric) leaf present in either, columns baseline | CodeBind | Δ, sections in the order
// zero-shot, retrieval, probes, codebook. Fractions are shown as percentages and Δ in points;
// R², perplexity and counts are shown raw. compare_runs is its Markdown.
Table comparison_table(const nlohmann::json& baseline, const nlohmann::json& codebind,
                       const std::string& baseline_name = "baseline", const std::string& codebind_name = "CodeBind");
// One run's metrics in the same order (a run evaluated without a baseline).
Table metrics_table(const nlohmann::json& metrics);
std::string compare_runs(const nlohmann::json& baseline, const nlohmann::json& codebind,
                         const std::string& baseline_name = "baseline",
                         const std::string& codebind_name = "CodeBind");

// Every table of a report: the summary (summary.h), then the full comparison (or the run's
// metrics alone); *has_summary says whether the summary produced any table.
std::vector<Table> report_tables(const ReportInputs& in, bool* has_summary = nullptr);
// The Markdown report: title, command, "## Summary", "## Full results", images as ![](path).
std::string render_report(const ReportInputs& in);
void write_report(const std::string& path, const ReportInputs& in);  // atomic

// Per-step metrics JSONL (one object per line, e.g. {"step":10,"epoch":0,"loss/total":1.2}).
// Lines that are empty are skipped; a malformed line throws InputError "FILE:LINE: …".
std::vector<nlohmann::json> read_jsonl(const std::string& path);

// Curves: for each numeric key except `x_key`, the (x, y) points of the rows that have both.
struct Curve {
  std::vector<double> x, y;
};
std::map<std::string, Curve> curves_from_jsonl(const std::vector<nlohmann::json>& rows,
                                               const std::string& x_key = "step");

}  // namespace cb::report
