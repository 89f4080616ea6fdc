// cmd_pretrain.cpp — `codebind pretrain --config FILE --data DIR --out RUN`: trains the small
// ImageBind-architecture bridge (and baseline) from scratch; see train/pretrain.h.
#include "cli/command.h"
#include "core/threads.h"
#include "train/pretrain.h"

namespace {

cb::cli::Runner setup(CLI::App* app) {
  auto config = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(0);
  auto quiet = std::make_shared<bool>(false);
  auto force = std::make_shared<bool>(false);
  app->add_option("--config", *config, "pretrain config JSON (configs/pretrain_sensor_suite.json)")->required();
  app->add_option("--data", *data, "dataset directory (manifest)")->required();
  app->add_option("--out", *out, "run directory to create")->required();
  app->add_option("--threads", *threads, "threads (0 = config / CODEBIND_THREADS / all cores)");
  app->add_flag("--quiet", *quiet, "no progress bars");
  app->add_flag("--force", *force, "replace a previous run in --out (otherwise a non-empty --out is refused)");
  return [=]() {
    auto cfg = cb::PretrainConfig::load(*config);
    cb::configure_threads(*threads > 0 ? *threads : cfg.threads);
    auto path = cb::run_pretrain(cfg, *data, *out, *quiet, *force);
    fmt::print("bridge written: {}\n", path);
    return 0;
  };
}

}  // namespace

CB_REGISTER_COMMAND("pretrain", "train a small ImageBind-architecture bridge (and baseline) from scratch", setup);
