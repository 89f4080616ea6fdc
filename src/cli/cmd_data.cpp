// cmd_data.cpp — `codebind data sensor-suite …` (generate the built-in benchmark) and
// `codebind data check DIR [--probe]` (validate and summarise a dataset manifest).
#include "cli/command.h"
#include "core/error.h"
#include "core/threads.h"
#include "data/manifest.h"
#include "data/samples.h"
#include "suite/sensor_suite.h"

namespace {

cb::cli::Runner setup_data(CLI::App* app) {
  app->require_subcommand(1);
  auto opt = std::make_shared<cb::suite::SuiteOptions>();
  auto* gen = app->add_subcommand("sensor-suite", "generate the sensor-suite benchmark (vision, audio, text, imu, depth)");
  gen->add_option("--out", opt->out_dir, "output folder")->required();
  gen->add_option("--seed", opt->seed, "random seed (same seed → same bytes)");
  gen->add_option("--config", opt->config_path, "JSON overriding configs/sensor-suite.json (merged)");
  gen->add_option("--size", opt->size, "small | full")->check(CLI::IsMember({"small", "full"}));
  gen->add_option("--threads", opt->threads, "worker threads (default: all cores)");
  gen->add_flag("--quiet", [opt](int64_t) { opt->progress = false; }, "no progress bar");

  auto dir = std::make_shared<std::string>();
  auto probe = std::make_shared<bool>(false);
  auto* chk = app->add_subcommand("check", "validate a dataset (dataset.json + items.jsonl) and print a summary");
  chk->add_option("dir", *dir, "dataset folder")->required();
  chk->add_flag("--probe", *probe, "also train linear probes on raw features (class and private factors)");

  auto sdir = std::make_shared<std::string>();
  auto sout = std::make_shared<std::string>();
  auto* smp = app->add_subcommand("samples", "render sample pictures of a dataset (vision grid, spectrograms, IMU traces)");
  smp->add_option("dir", *sdir, "dataset folder")->required();
  smp->add_option("--out", *sout, "output folder for the PNG files")->required();

  return [=]() -> int {
    if (smp->parsed()) {
      for (const auto& f : cb::data::render_samples(cb::data::Manifest::load(*sdir), *sout)) fmt::print("{}\n", f);
      return 0;
    }
    if (gen->parsed()) {
      if (opt->threads > 0) cb::configure_threads(opt->threads);
      cb::suite::SuiteStats st = cb::suite::generate_sensor_suite(*opt);
      fmt::print("sensor-suite: {} items in {:.1f} s → {}\n{}", st.items, st.seconds, opt->out_dir, st.summary);
      return 0;
    }
    cb::data::CheckSummary s = cb::data::check_dataset(*dir, *probe);
    fmt::print("{}", s.to_text());
    std::fflush(stdout);
    fmt::print(stderr, "{}", s.errors_text());
    return s.ok() ? 0 : 2;
  };
}

CB_REGISTER_COMMAND("data", "datasets: generate sensor-suite, check a manifest", setup_data);

}  // namespace
