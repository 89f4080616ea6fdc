// run_eval.cpp — see run_eval.h.
#include "app/run_eval.h"

#include <filesystem>

#include "model/codebind_model.h"
#include "app/embed_split.h"
#include "core/error.h"
#include "core/precision.h"
#include "eval/evaluate.h"
#include "report/plot.h"
#include "eval/projection.h"
#include "report/html.h"
#include "report/report.h"

namespace cb {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

void scatter_plots(const eval::EmbeddingSet& set, const std::string& dir, std::vector<std::string>& plots) {
  for (const auto& [mod, me] : set.modalities) {
    if (mod == "text" || me.size() < 4) continue;
    std::vector<std::pair<std::string, at::Tensor>> embs{{"shared", me.shared}};
    if (me.specific.defined()) embs.emplace_back("specific", me.specific);
    // A private attribute (first categorical one) for colouring.
    std::string attr;
    if (!me.attrs.empty() && me.attrs[0].is_object())
      for (auto it = me.attrs[0].begin(); it != me.attrs[0].end(); ++it)
        if (it->is_string()) {
          attr = it.key();
          break;
        }
    for (const auto& [ename, e] : embs) {
      auto xy = eval::pca_2d(e.to(torch::kFloat), 0);
      std::vector<double> x(xy.size(0)), y(xy.size(0));
      for (int64_t i = 0; i < xy.size(0); ++i) x[i] = xy[i][0].item<double>(), y[i] = xy[i][1].item<double>();
      std::vector<int> cat(x.size());
      auto lab = me.labels.dim() == 1 ? me.labels : me.labels.argmax(1);
      for (size_t i = 0; i < cat.size(); ++i) cat[i] = static_cast<int>(lab[i].item<int64_t>());
      const std::string f1 = "plot_" + mod + "_" + ename + "_class.png";
      report::plot_scatter(dir + "/" + f1, x, y, cat, set.classes, {mod + " " + ename + " embedding (PCA) by class", "pc1", "pc2"});
      plots.push_back(f1);
      if (!attr.empty()) {
        std::map<std::string, int> ids;
        std::vector<std::string> names;
        for (size_t i = 0; i < cat.size(); ++i) {
          std::string v = me.attrs[i].value(attr, json()).is_string() ? me.attrs[i][attr].get<std::string>() : "?";
          if (!ids.count(v)) ids[v] = static_cast<int>(names.size()), names.push_back(v);
          cat[i] = ids[v];
        }
        const std::string f2 = "plot_" + mod + "_" + ename + "_" + attr + ".png";
        report::plot_scatter(dir + "/" + f2, x, y, cat, names, {mod + " " + ename + " embedding (PCA) by " + attr, "pc1", "pc2"});
        plots.push_back(f2);
      }
    }
  }
}

void curve_plot(const std::string& run_dir, std::vector<std::string>& plots) {
  const std::string path = run_dir + "/metrics.jsonl";
  if (!fs::exists(path)) return;
  auto rows = report::read_jsonl(path);
  if (rows.empty()) return;
  auto curves = report::curves_from_jsonl(rows, "global_step");
  std::vector<report::Series> s;
  for (const char* k : {"loss", "info_nce", "loss_rec", "loss_modal_decomp", "loss_cmcm"})
    if (curves.count(k)) s.push_back({k, curves[k].x, curves[k].y});
  if (s.empty() && curves.count("loss")) s.push_back({"loss", curves["loss"].x, curves["loss"].y});
  if (s.empty()) return;
  report::plot_lines(run_dir + "/plot_training.png", s, {"training losses", "step", "loss"});
  plots.push_back("plot_training.png");
}

}  // namespace

std::string metrics_json_path(const std::string& run_dir, const std::string& split) {
  return run_dir + (split == "test" ? "/metrics.json" : "/metrics_" + split + ".json");
}

json evaluate_one(const std::string& run_dir, const std::string& data_dir, const std::string& split, bool plots,
                  bool quiet, const std::string& dtype) {
  CB_CHECK_INPUT(split == "train" || split == "val" || split == "test",
                 "--split: expected train, val or test, found '{}'", split);
  data::Manifest man = data::Manifest::load(data_dir);
  CB_CHECK_INPUT(std::any_of(man.items().begin(), man.items().end(), [&](const data::Item& it) { return it.split == split; }),
                 "{}: no items in split '{}': nothing to evaluate (and nothing written)", data_dir, split);
  eval::EmbeddingSet train, test;
  std::vector<std::string> plot_files;
  PrecisionChoice prec;  // the model's forwards (chosen once the model's widths are known)
  if (fs::exists(run_dir + "/model.safetensors")) {
    auto model = CodeBindModel::load(run_dir + "/model.safetensors");
    InputPipeline inputs(model->bridge(), false);
    prec = choose_precision(dtype, at::Device(at::kCPU), "--dtype", model->bridge().widest_tower());
    model->set_inference_dtype(prec.dtype);
    train = embed_split_codebind(*model, man, inputs, "train", quiet);
    test = embed_split_codebind(*model, man, inputs, split, quiet);
  } else {
    const std::string bp = run_dir + "/bridge.safetensors";
    CB_CHECK_INPUT(fs::exists(bp), "{}: neither model.safetensors (codebind train) nor bridge.safetensors (codebind "
                   "pretrain) found", run_dir);
    WeightFile f(bp);
    const std::unique_ptr<Bridge> bridge = open_bridge(f, {});  // every tower the file has
    const std::vector<Modality> mods = bridge->modalities();
    InputPipeline inputs(*bridge, false);
    prec = choose_precision(dtype, at::Device(at::kCPU), "--dtype", bridge->widest_tower());
    train = embed_split_baseline(*bridge, man, inputs, "train", mods, quiet, prec.dtype);
    test = embed_split_baseline(*bridge, man, inputs, split, mods, quiet, prec.dtype);
  }
  eval::save_embedding_set(eval::embedding_set_path(run_dir, split), test);
  if (!quiet) fmt::print(stderr, "eval: {}\n", prec.why);
  json metrics = eval::evaluate_embeddings(train, test);
  metrics["dtype"] = precision_name(prec.dtype);
  report::write_metrics_json(metrics_json_path(run_dir, split), metrics);
  if (plots) {
    scatter_plots(test, run_dir, plot_files);
    curve_plot(run_dir, plot_files);
  }
  return metrics;
}

RunEvalResult evaluate_run(const RunEvalOptions& opt) {
  json m = evaluate_one(opt.run_dir, opt.data_dir, opt.split, opt.plots, opt.quiet, opt.dtype);
  report::ReportInputs in;
  in.command = opt.command;
  in.codebind = m;
  if (!opt.baseline_dir.empty()) {
    const std::string bm = metrics_json_path(opt.baseline_dir, opt.split);
    in.baseline = fs::exists(bm) ? report::read_metrics_json(bm)
                                 : evaluate_one(opt.baseline_dir, opt.data_dir, opt.split, opt.plots, opt.quiet, opt.dtype);
  }
  for (const auto& e : fs::directory_iterator(opt.run_dir))
    if (e.path().extension() == ".png") in.plots.push_back(e.path().filename().string());
  std::sort(in.plots.begin(), in.plots.end());
  report::write_report(opt.run_dir + "/report.md", in);
  report::write_html_report(opt.run_dir + "/report.html", in, opt.run_dir);
  return {m, in.baseline};
}

}  // namespace cb
