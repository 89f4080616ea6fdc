// summary.h — the first screen of a report: what CodeBind claims over hard alignment, in four
// short tables — zero-shot top-1 per modality (baseline, CodeBind, Δ), class R@1 over the
// retrieval pairs (mean and worst Δ), the private-attribute probes (baseline / shared /
// specific codes / specific before quantisation, next to chance), and codebook usage.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "report/table.h"

namespace cb::report {

// `baseline` may be null (a run alone: its own columns only).
std::vector<Table> summary_tables(const nlohmann::json& baseline, const nlohmann::json& codebind);
// "## Summary" and the tables as Markdown (what `codebind eval --summary` prints).
std::string summary_markdown(const nlohmann::json& baseline, const nlohmann::json& codebind);

}  // namespace cb::report
