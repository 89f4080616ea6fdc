// report_plots.cpp — the standard report plots (report_plots.h).
#include "report/report_plots.h"

#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>
#include <set>

#include "core/error.h"
#include "eval/codebook_stats.h"
#include "report/plot.h"
#include "eval/projection.h"
#include "report/report.h"

namespace cb::report {

using nlohmann::json;

namespace {

std::string pick_attribute(const eval::ModalityEmbeddings& m, const std::string& wanted) {
  if (!wanted.empty()) return wanted;
  std::set<std::string> names;
  for (const json& a : m.attrs)
    if (a.is_object())
      for (const auto& [k, v] : a.items())
        if (v.is_string()) names.insert(k);
  return names.empty() ? "" : *names.begin();
}

// Scatter of the 2-D PCA of `x` (N, D) for the rows `rows`, coloured by `cat`.
void scatter(const std::string& path, const at::Tensor& x, const at::Tensor& rows, const std::vector<int>& cat,
             const std::vector<std::string>& names, const std::string& title, uint64_t seed) {
  at::Tensor p = eval::pca_2d(x.to(at::kCPU).index_select(0, rows), seed).to(at::kDouble).contiguous();  // (n, 2)
  std::vector<double> px(size_t(p.size(0))), py(size_t(p.size(0)));
  for (int64_t i = 0; i < p.size(0); ++i) px[size_t(i)] = p[i][0].item<double>(), py[size_t(i)] = p[i][1].item<double>();
  std::vector<int> c;
  for (int64_t i = 0; i < rows.size(0); ++i) c.push_back(cat[size_t(rows[i].item<int64_t>())]);
  PlotOptions o;
  o.title = title;
  o.xlabel = "PC1";
  o.ylabel = "PC2";
  plot_scatter(path, px, py, c, names, o);
}

}  // namespace

std::vector<std::string> write_report_plots(const std::string& out_dir, const eval::EmbeddingSet& test,
                                            const std::string& metrics_jsonl, const ReportPlotOptions& opt) {
  namespace fs = std::filesystem;
  fs::create_directories(fs::path(out_dir) / "plots");
  std::vector<std::string> out;
  auto emit = [&](const std::string& rel) { out.push_back(rel); return (fs::path(out_dir) / rel).string(); };

  if (!metrics_jsonl.empty()) {
    std::vector<Series> series;
    for (const auto& [key, curve] : curves_from_jsonl(read_jsonl(metrics_jsonl))) {
      bool match = false;
      for (const auto& pat : opt.curve_patterns) match = match || key.find(pat) != std::string::npos;
      if (match && series.size() < opt.max_curves) series.push_back({key, curve.x, curve.y});
    }
    if (!series.empty()) {
      PlotOptions o;
      o.title = "Training curves";
      o.xlabel = "step";
      o.ylabel = "value";
      plot_lines(emit("plots/curves.png"), series, o);
    }
  }

  // Codebook usage, sorted by count (most used first): shape of the usage distribution.
  auto usage_plot = [&](const std::string& rel, const std::vector<at::Tensor>& codes, int64_t K, const std::string& title) {
    std::vector<at::Tensor> flat;
    for (const auto& c : codes) flat.push_back(c.to(at::kCPU).to(at::kLong).reshape(-1));
    at::Tensor all = at::cat(flat);
    if (K <= 0) K = all.numel() ? all.max().item<int64_t>() + 1 : 1;
    eval::CodebookUsage u = eval::codebook_usage(all, K);
    at::Tensor sorted = std::get<0>(u.counts.to(at::kDouble).sort(0, /*descending=*/true)).contiguous();
    std::vector<double> v(sorted.data_ptr<double>(), sorted.data_ptr<double>() + sorted.numel());
    PlotOptions o;
    o.title = fmt::format("{} (perplexity {:.1f}, dead {})", title, u.perplexity, u.dead);
    o.xlabel = "code rank";
    o.ylabel = "count";
    plot_bars(emit(rel), v, {}, o);
  };
  std::vector<at::Tensor> shared_codes;
  for (const auto& [name, m] : test.modalities)
    if (m.shared_codes.defined() && m.shared_codes.numel() > 0) shared_codes.push_back(m.shared_codes);
  if (!shared_codes.empty())
    usage_plot("plots/codebook_shared.png", shared_codes, test.meta.value("shared_codebook_size", int64_t(0)),
               "Shared codebook usage");
  for (const auto& [name, m] : test.modalities)
    if (m.specific_codes.defined() && m.specific_codes.numel() > 0)
      usage_plot("plots/codebook_specific_" + name + ".png", {m.specific_codes},
                 test.meta.value("specific_codebook_size", int64_t(0)), "Specific codebook usage, " + name);

  // 2-D projections.
  for (const auto& [name, m] : test.modalities) {
    const int64_t n = m.size();
    if (n < 3 || m.multi_label()) continue;
    at::Tensor rows = at::arange(n, at::kLong);
    if (n > opt.max_points) {
      at::Generator gen = at::detail::createCPUGenerator(opt.seed);
      rows = std::get<0>(at::randperm(n, gen, at::TensorOptions().dtype(at::kLong)).slice(0, 0, opt.max_points).sort());
    }
    at::Tensor lab = m.labels.to(at::kCPU).to(at::kLong).contiguous();
    std::vector<int> cls(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) cls[size_t(i)] = int(lab[i].item<int64_t>());
    std::vector<std::string> class_names = test.classes;
    if (class_names.size() > 12) class_names.resize(12);
    const std::string attr = pick_attribute(m, opt.attribute.count(name) ? opt.attribute.at(name) : "");
    std::vector<int> attr_cat(size_t(n), -1);
    std::vector<std::string> attr_names;
    if (!attr.empty()) {
      std::set<std::string> values;
      for (const json& a : m.attrs)
        if (a.is_object() && a.contains(attr) && a[attr].is_string()) values.insert(a[attr].get<std::string>());
      attr_names.assign(values.begin(), values.end());
      for (int64_t i = 0; i < n && size_t(i) < m.attrs.size(); ++i) {
        const json& a = m.attrs[size_t(i)];
        if (a.is_object() && a.contains(attr) && a[attr].is_string())
          attr_cat[size_t(i)] = int(std::lower_bound(attr_names.begin(), attr_names.end(), a[attr].get<std::string>()) -
                                    attr_names.begin());
      }
    }
    const bool have_attr = !attr_names.empty();
    for (const char* kind : {"shared", "specific"}) {
      const at::Tensor& x = std::string(kind) == "shared" ? m.shared : m.specific;
      if (!x.defined()) continue;
      scatter(emit(fmt::format("plots/{}_{}_class.png", name, kind)), x, rows, cls, class_names,
              fmt::format("{} {} embedding by class", name, kind), opt.seed);
      if (have_attr)
        scatter(emit(fmt::format("plots/{}_{}_attr.png", name, kind)), x, rows, attr_cat, attr_names,
                fmt::format("{} {} embedding by {}", name, kind, attr), opt.seed);
    }
  }
  return out;
}

}  // namespace cb::report
