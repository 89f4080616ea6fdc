// summary.cpp — see summary.h.
#include "report/summary.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace cb::report {

using nlohmann::json;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// j[a][b]… as a number, NaN when absent.
double at_path(const json& j, std::initializer_list<const char*> path) {
  const json* p = &j;
  for (const char* k : path) {
    if (!p->is_object() || !p->contains(k)) return kNaN;
    p = &(*p)[k];
  }
  return p->is_number() ? p->get<double>() : kNaN;
}

std::string pct(double v) { return std::isnan(v) ? "—" : fmt::format("{:.1f}", 100 * v); }
std::string pct_delta(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? "—" : fmt::format("{:+.1f}", 100 * (b - a));
}
std::string raw(double v) { return std::isnan(v) ? "—" : fmt::format("{:.3f}", v); }

bool has(const json& j) { return !j.is_null() && j.is_object() && !j.empty(); }

Table zero_shot(const json& base, const json& cb) {
  Table t;
  t.title = "Zero-shot classification, top-1 (%)";
  t.header = has(base) ? std::vector<std::string>{"modality", "baseline", "CodeBind", "Δ"}
                       : std::vector<std::string>{"modality", "top-1"};
  if (!cb.contains("zero_shot")) return t;
  double sa = 0, sb = 0;
  int n = 0;
  for (const auto& [m, v] : cb["zero_shot"].items()) {
    const double b = at_path(v, {"top1"}), a = at_path(base, {"zero_shot", m.c_str(), "top1"});
    if (has(base)) {
      t.rows.push_back({m, pct(a), pct(b), pct_delta(a, b)});
      if (!std::isnan(a)) sa += a, sb += b, ++n;
    } else {
      t.rows.push_back({m, pct(b)});
    }
  }
  if (has(base) && n > 0) t.rows.push_back({"mean", pct(sa / n), pct(sb / n), pct_delta(sa / n, sb / n)});
  t.note = "Chance is 100 / classes. Δ in points.";
  return t;
}

Table retrieval(const json& base, const json& cb) {
  Table t;
  t.title = "Cross-modal retrieval, class R@1 (%) over every modality pair";
  if (!cb.contains("retrieval")) return t;
  double sa = 0, sb = 0, worst = std::numeric_limits<double>::infinity();
  std::string worst_pair;
  int n = 0, lower = 0;
  for (const auto& [pair, v] : cb["retrieval"].items()) {
    const double b = at_path(v, {"class", "r1"}), a = at_path(base, {"retrieval", pair.c_str(), "class", "r1"});
    if (std::isnan(b)) continue;
    sb += b;
    ++n;
    if (!std::isnan(a)) {
      sa += a;
      if (b - a < worst) worst = b - a, worst_pair = pair;
      if (b < a) ++lower;
    }
  }
  if (n == 0) return t;
  if (has(base) && !worst_pair.empty()) {
    t.header = {"pairs", "baseline mean", "CodeBind mean", "mean Δ", "worst Δ", "pairs lower"};
    t.rows.push_back({std::to_string(n), pct(sa / n), pct(sb / n), pct_delta(sa / n, sb / n),
                      fmt::format("{:+.1f} ({})", 100 * worst, worst_pair), std::to_string(lower)});
  } else {
    t.header = {"pairs", "mean R@1"};
    t.rows.push_back({std::to_string(n), pct(sb / n)});
  }
  return t;
}

Table private_detail(const json& base, const json& cb) {
  Table t;
  t.title = "Private detail: linear probe on the test split";
  t.header = {"modality", "attribute", "metric", "chance"};
  if (has(base)) t.header.push_back("baseline");
  for (const char* h : {"shared", "specific (codes)", "specific (before quantisation)"}) t.header.push_back(h);
  t.first_numeric = 3;
  if (!cb.contains("probes")) return t;
  for (const auto& [m, attrs] : cb["probes"].items()) {
    for (const auto& [a, v] : attrs.items()) {
      const std::string type = v.value("type", "");
      if (type != "categorical" && type != "continuous") continue;
      const bool cat = type == "categorical";
      const char* metric = cat ? "linear_acc" : "linear_r2";
      auto cell = [&](double x) { return cat ? pct(x) : raw(x); };
      std::vector<std::string> row = {m, a, cat ? "accuracy %" : "R²", cat ? pct(at_path(v, {"majority"})) : "0"};
      if (has(base)) row.push_back(cell(at_path(base, {"probes", m.c_str(), a.c_str(), "shared", metric})));
      for (const char* e : {"shared", "specific", "specific_raw"}) row.push_back(cell(at_path(v, {e, metric})));
      t.rows.push_back(std::move(row));
    }
  }
  t.note = std::string("Chance: the majority class (accuracy) or 0 (R²). ") +
           (has(base) ? "The baseline has one embedding (its shared one). " : "") +
           "The claim: the specific codes keep what the shared half drops.";
  return t;
}

Table codebook_usage(const json& cb) {
  Table t;
  t.title = "Codebook usage on the test split";
  t.header = {"codebook", "codes used", "of", "perplexity"};
  if (!cb.contains("codebook")) return t;
  auto row = [&](const std::string& name, const json& v) {
    t.rows.push_back({name, fmt::format("{:.0f}", at_path(v, {"used"})), fmt::format("{:.0f}", at_path(v, {"K"})),
                      fmt::format("{:.1f}", at_path(v, {"perplexity"}))});
  };
  const json& c = cb["codebook"];
  if (c.contains("shared") && c["shared"].contains("all")) row("shared (all modalities)", c["shared"]["all"]);
  if (c.contains("specific"))
    for (const auto& [m, v] : c["specific"].items()) row("specific " + m, v);
  return t;
}

}  // namespace

std::vector<Table> summary_tables(const json& baseline, const json& codebind) {
  std::vector<Table> out;
  for (Table t : {zero_shot(baseline, codebind), retrieval(baseline, codebind), private_detail(baseline, codebind),
                  codebook_usage(codebind)})
    if (!t.rows.empty()) out.push_back(std::move(t));
  return out;
}

std::string summary_markdown(const json& baseline, const json& codebind) {
  std::string md = "## Summary\n\n";
  for (const Table& t : summary_tables(baseline, codebind)) md += table_markdown(t) + "\n";
  return md;
}

}  // namespace cb::report
