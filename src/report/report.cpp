// report.cpp — metrics.json I/O, flattening, the baseline-vs-CodeBind comparison table, the
// Markdown report, and the per-step JSONL reader (report.h, compare_runs).
#include "report/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "eval/evaluate.h"
#include "io/mapped_file.h"
#include "report/summary.h"

namespace cb::report {

using nlohmann::json;

void write_metrics_json(const std::string& path, const json& metrics) {
  write_file_atomic(path, metrics.dump(2) + "\n");
}

json read_metrics_json(const std::string& path) {
  std::ifstream in(path);
  CB_CHECK_INPUT(in.good(), "{}: cannot open metrics file", path);
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    fail_input("{}: malformed JSON: {}", path, e.what());
  }
}

namespace {

void flatten_into(const json& j, std::vector<std::string>& path, std::vector<MetricLeaf>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      path.push_back(k);
      flatten_into(v, path, out);
      path.pop_back();
    }
    return;
  }
  if (!j.is_number() || j.is_boolean() || path.size() < 3) return;
  std::string metric = path[2];
  for (size_t i = 3; i < path.size(); ++i) metric += "/" + path[i];
  out.push_back({path[0], path[1], metric, j.get<double>()});
}

std::string last_component(const std::string& s) {
  const size_t p = s.rfind('/');
  return p == std::string::npos ? s : s.substr(p + 1);
}

std::string fmt_value(const MetricLeaf& l, double v) {
  if (std::isnan(v)) return "—";
  if (is_fraction_metric(l)) return fmt::format("{:.1f}", 100.0 * v);
  if (is_count_metric(l) || last_component(l.metric) == "used" || last_component(l.metric) == "dead")
    return fmt::format("{:.0f}", v);
  if (last_component(l.metric) == "perplexity") return fmt::format("{:.1f}", v);
  return fmt::format("{:.3f}", v);
}

std::string fmt_delta(const MetricLeaf& l, double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return "";
  const double d = is_fraction_metric(l) ? 100.0 * (b - a) : (b - a);
  if (is_fraction_metric(l)) return fmt::format("{:+.1f}", d);
  if (last_component(l.metric) == "used" || last_component(l.metric) == "dead") return fmt::format("{:+.0f}", d);
  if (last_component(l.metric) == "perplexity") return fmt::format("{:+.1f}", d);
  return fmt::format("{:+.3f}", d);
}

std::string section_title(const std::string& s) {
  if (s == "zero_shot") return "zero-shot";
  if (s == "retrieval") return "retrieval";
  if (s == "probes") return "probe";
  if (s == "codebook") return "codebook";
  return s;
}

}  // namespace

std::vector<MetricLeaf> flatten_metrics(const json& metrics) {
  std::vector<MetricLeaf> out;
  std::vector<std::string> path;
  flatten_into(metrics, path, out);
  return out;
}

bool is_count_metric(const MetricLeaf& l) {
  static const std::set<std::string> counts = {"n", "k5", "n_train", "n_test", "n_values", "K", "total"};
  return counts.count(last_component(l.metric)) > 0;
}

bool is_fraction_metric(const MetricLeaf& l) {
  if (l.section == "codebook") return l.subject == "shared_overlap";
  const std::string m = last_component(l.metric);
  if (m.rfind("top", 0) == 0 || m == "map" || m == "majority" || m == "chance_r1") return true;
  if (m.size() >= 4 && m.compare(m.size() - 4, 4, "_acc") == 0) return true;
  if (m.rfind("p@", 0) == 0) return true;
  if (m.size() >= 2 && m[0] == 'r' && std::all_of(m.begin() + 1, m.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) return true;
  return false;
}

namespace {

// Sections in the order a reader needs them: the claims first, diagnostics last.
int section_rank(const std::string& s) {
  static const std::vector<std::string> order = {"zero_shot", "retrieval", "probes", "codebook"};
  const auto it = std::find(order.begin(), order.end(), s);
  return it == order.end() ? int(order.size()) : int(it - order.begin());
}

const char* kUnitsNote =
    "Percentages for accuracies, recalls, mAP and precision@k (Δ in points); R², perplexity and counts raw; "
    "— = not measured.";

}  // namespace

Table comparison_table(const json& baseline, const json& codebind, const std::string& baseline_name,
                       const std::string& codebind_name) {
  // Union of leaves, in the CodeBind run's order then the baseline's extra leaves, grouped by
  // section in importance order (stable within a section).
  std::vector<MetricLeaf> order;
  std::map<std::string, std::pair<double, double>> values;
  auto key = [](const MetricLeaf& l) { return l.section + "\x1f" + l.subject + "\x1f" + l.metric; };
  const double nan = std::nan("");
  for (const auto& l : flatten_metrics(codebind)) {
    if (is_count_metric(l)) continue;
    if (!values.count(key(l))) order.push_back(l);
    values[key(l)] = {nan, l.value};
  }
  for (const auto& l : flatten_metrics(baseline)) {
    if (is_count_metric(l)) continue;
    auto it = values.find(key(l));
    if (it == values.end()) {
      order.push_back(l);
      values[key(l)] = {l.value, nan};
    } else {
      it->second.first = l.value;
    }
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const MetricLeaf& x, const MetricLeaf& y) { return section_rank(x.section) < section_rank(y.section); });
  Table t;
  t.title = "All metrics";
  t.header = {"section", "modality", "metric", baseline_name, codebind_name, "Δ"};
  t.first_numeric = 3;
  for (const auto& l : order) {
    const auto [a, b] = values[key(l)];
    t.rows.push_back({section_title(l.section), l.subject, l.metric, fmt_value(l, a), fmt_value(l, b), fmt_delta(l, a, b)});
  }
  t.note = kUnitsNote;
  return t;
}

Table metrics_table(const json& metrics) {
  std::vector<MetricLeaf> leaves;
  for (const auto& l : flatten_metrics(metrics))
    if (!is_count_metric(l)) leaves.push_back(l);
  std::stable_sort(leaves.begin(), leaves.end(),
                   [](const MetricLeaf& x, const MetricLeaf& y) { return section_rank(x.section) < section_rank(y.section); });
  Table t;
  t.title = "All metrics";
  t.header = {"section", "modality", "metric", "value"};
  t.first_numeric = 3;
  for (const auto& l : leaves) t.rows.push_back({section_title(l.section), l.subject, l.metric, fmt_value(l, l.value)});
  t.note = kUnitsNote;
  return t;
}

std::string compare_runs(const json& baseline, const json& codebind, const std::string& baseline_name,
                         const std::string& codebind_name) {
  Table t = comparison_table(baseline, codebind, baseline_name, codebind_name);
  t.title.clear();
  return table_markdown(t);
}

std::vector<Table> report_tables(const ReportInputs& in, bool* has_summary) {
  const bool with_base = !in.baseline.is_null() && !in.baseline.empty();
  std::vector<Table> out = summary_tables(with_base ? in.baseline : json(), in.codebind);
  if (has_summary) *has_summary = !out.empty();
  out.push_back(with_base ? comparison_table(in.baseline, in.codebind) : metrics_table(in.codebind));
  return out;
}

std::string render_report(const ReportInputs& in) {
  std::ostringstream md;
  md << "# " << in.title << "\n\n";
  if (!in.command.empty()) md << "Command: `" << in.command << "`\n\n";
  bool summary = false;
  const std::vector<Table> tables = report_tables(in, &summary);
  if (summary) md << "## Summary\n\n";
  for (size_t i = 0; i < tables.size(); ++i) {
    if (i + 1 == tables.size()) md << "## Full results\n\n";
    md << table_markdown(tables[i]) << "\n";
  }
  if (!in.plots.empty()) {
    md << "## Plots\n\n";
    for (const auto& p : in.plots) md << "![" << p << "](" << p << ")\n\n";
  }
  if (!in.notes.empty()) {
    md << "\n## Notes\n\n";
    for (const auto& n : in.notes) md << "- " << n << "\n";
  }
  return md.str();
}

void write_report(const std::string& path, const ReportInputs& in) { write_file_atomic(path, render_report(in)); }

std::vector<json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  CB_CHECK_INPUT(in.good(), "{}: cannot open JSONL file", path);
  std::vector<json> rows;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      fail_input("{}:{}: malformed JSON line: {}", path, lineno, e.what());
    }
    CB_CHECK_INPUT(j.is_object(), "{}:{}: expected a JSON object per line", path, lineno);
    rows.push_back(std::move(j));
  }
  return rows;
}

std::map<std::string, Curve> curves_from_jsonl(const std::vector<json>& rows, const std::string& x_key) {
  std::map<std::string, Curve> out;
  for (const json& r : rows) {
    if (!r.contains(x_key) || !r[x_key].is_number()) continue;
    const double x = r[x_key].get<double>();
    for (const auto& [k, v] : r.items()) {
      if (k == x_key || !v.is_number() || v.is_boolean()) continue;
      Curve& c = out[k];
      c.x.push_back(x);
      c.y.push_back(v.get<double>());
    }
  }
  return out;
}

}  // namespace cb::report
