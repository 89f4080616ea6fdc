// cmd_eval.cpp — `codebind eval --run RUN --data DIR [--split test] [--baseline RUN_PRETRAIN]`:
// zero-shot, retrieval, probes and codebook diagnostics → RUN/metrics.json, RUN/report.md,
// PNG plots (see codebind/run_eval.h).
#include "cli/command.h"
#include "app/run_eval.h"
#include "core/threads.h"
#include "eval/evaluate.h"
#include "report/summary.h"

namespace {

cb::cli::Runner setup_eval(CLI::App* app) {
  auto o = std::make_shared<cb::RunEvalOptions>();
  auto threads = std::make_shared<int>(0);
  auto no_plots = std::make_shared<bool>(false);
  app->add_option("--run", o->run_dir, "run directory (codebind train or codebind pretrain)")->required();
  app->add_option("--data", o->data_dir, "dataset directory (manifest)")->required();
  app->add_option("--split", o->split, "split to evaluate")->check(CLI::IsMember({"train", "val", "test"}))->capture_default_str();
  app->add_option("--baseline", o->baseline_dir, "baseline run (a codebind pretrain directory) to compare with");
  app->add_option("--threads", *threads, "threads (0 = CODEBIND_THREADS / all cores)");
  app->add_flag("--no-plots", *no_plots, "skip the PNG plots");
  app->add_flag("--quiet", o->quiet, "no progress bars");
  auto summary = std::make_shared<bool>(false);
  app->add_flag("--summary", *summary,
                "print only the summary (zero-shot, retrieval, private-detail probes, codebook usage); the report "
                "files are written as always");
  app->add_option("--dtype", o->dtype, "auto|fp32|bf16 for the forwards: auto = bf16 on CPUs with AVX512-BF16, else fp32")
      ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
      ->capture_default_str();
  return [=]() {
    cb::configure_threads(*threads);
    o->plots = !*no_plots;
    o->command = "codebind eval --run " + o->run_dir + " --data " + o->data_dir + " --split " + o->split +
                 (o->baseline_dir.empty() ? "" : " --baseline " + o->baseline_dir) +
                 (o->dtype == "auto" ? "" : " --dtype " + o->dtype);
    const cb::RunEvalResult r = cb::evaluate_run(*o);
    if (*summary) {
      fmt::print("{}", cb::report::summary_markdown(r.baseline, r.metrics));
      return 0;
    }
    fmt::print("metrics: {}\nreport:  {}/report.md  {}/report.html\n", cb::metrics_json_path(o->run_dir, o->split),
               o->run_dir, o->run_dir);
    return 0;
  };
}

}  // namespace

CB_REGISTER_COMMAND("eval", "evaluate a run: zero-shot, retrieval, private-detail probes, codebook diagnostics", setup_eval);
