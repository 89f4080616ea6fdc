// cmd_pretrain.cpp — `codebind pretrain --config FILE --data DIR --out RUN`: trains the small
// ImageBind-architecture bridge (and baseline) from scratch; see train/pretrain.h. `--nproc N`
// or the torchrun variables make it a data-parallel job (train/distributed.h).
#include "app/local_launch.h"
#include "cli/command.h"
#include "core/threads.h"
#include "train/distributed.h"
#include "train/pretrain.h"

namespace {

cb::cli::Runner setup_pretrain(CLI::App* app) {
  auto config = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(0);
  auto quiet = std::make_shared<bool>(false);
  auto force = std::make_shared<bool>(false);
  auto nproc = std::make_shared<int>(0);
  auto timeout = std::make_shared<double>(300);
  app->add_option("--config", *config, "pretrain config JSON (configs/pretrain_sensor_suite.json)")->required();
  app->add_option("--data", *data, "dataset directory (manifest)")->required();
  app->add_option("--out", *out, "run directory to create")->required();
  app->add_option("--threads", *threads, "threads (0 = config / CODEBIND_THREADS / all cores)");
  app->add_flag("--quiet", *quiet, "no progress bars");
  app->add_flag("--force", *force, "replace a previous run in --out (otherwise a non-empty --out is refused)");
  app->add_option("--nproc", *nproc, "run as N local processes of one data-parallel job (batch sizes are global)");
  app->add_option("--dist-timeout", *timeout, "seconds a rank waits for the others before it stops with an error")
      ->capture_default_str();
  return [=]() {
    if (*nproc > 1) return cb::run_local_workers(*nproc);
    auto cfg = cb::PretrainConfig::load(*config);
    cb::configure_threads(*threads > 0 ? *threads : cfg.threads);
    auto path = cb::run_pretrain(cfg, *data, *out, *quiet, *force, *timeout);
    if (cb::DistEnv::from_env().rank == 0) fmt::print("bridge written: {}\n", path);  // rank 0 wrote it
    return 0;
  };
}

}  // namespace

CB_REGISTER_COMMAND("pretrain", "train a small ImageBind-architecture bridge (and baseline) from scratch", setup_pretrain);
