// cmd_train.cpp — `codebind train --config FILE --data DIR --out RUN --bridge RUN_PRETRAIN
// [--resume]`: trains CodeBind on a bridge (see train/trainer.h).
#include "cli/command.h"
#include "core/threads.h"
#include "train/trainer.h"

namespace {

cb::cli::Runner setup(CLI::App* app) {
  auto config = std::make_shared<std::string>();
  auto o = std::make_shared<cb::TrainOptions>();
  auto threads = std::make_shared<int>(0);
  app->add_option("--config", *config, "train config JSON (e.g. configs/codebind_sensor_suite.json)")->required();
  app->add_option("--data", o->data_dir, "dataset directory (manifest)")->required();
  app->add_option("--out", o->out_dir, "run directory")->required();
  app->add_option("--bridge", o->bridge, "pretrain run directory or bridge .safetensors")->required();
  app->add_flag("--resume", o->resume, "continue from RUN/checkpoint.safetensors");
  app->add_flag("--force", o->force, "replace a previous run in --out (otherwise a non-empty --out is refused)");
  app->add_option("--threads", *threads, "threads (0 = config / CODEBIND_THREADS / all cores)");
  app->add_option("--bridge-cache", o->bridge_cache,
                  "where frozen bridge towers' outputs are cached: auto (DATA/.codebind-cache, else RUN/bridge-cache), "
                  "off, or a directory")
      ->capture_default_str();
  app->add_flag("--quiet", o->quiet, "no progress bar");
  return [=]() {
    auto cfg = cb::TrainConfig::load(*config);
    cb::configure_threads(*threads > 0 ? *threads : cfg.run.threads);
    cb::Trainer t(cfg, *o);
    auto path = t.run();
    fmt::print("model written: {}\n", path);
    return 0;
  };
}

}  // namespace

CB_REGISTER_COMMAND("train", "train CodeBind on a bridge (heads, codebooks, LoRA, decoders)", setup);
