// cmd_train.cpp — `codebind train --config FILE --data DIR --out RUN --bridge RUN_PRETRAIN
// [--resume] [--nproc N]`: trains CodeBind on a bridge (see train/trainer.h), in one process
// or as a data-parallel job (train/distributed.h, app/local_launch.h).
#include <cstdlib>

#include "app/local_launch.h"
#include "cli/command.h"
#include "core/threads.h"
#include "train/distributed.h"
#include "train/trainer.h"

namespace {

cb::cli::Runner setup_train(CLI::App* app) {
  auto config = std::make_shared<std::string>();
  auto o = std::make_shared<cb::TrainOptions>();
  auto threads = std::make_shared<int>(0);
  auto nproc = std::make_shared<int>(0);
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
  app->add_option("--dtype", o->dtype,
                  "auto|fp32|bf16 for the frozen bridge towers' forwards (what trains is fp32): auto = bf16 on CPUs "
                  "with AVX512-BF16, else fp32")
      ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
      ->capture_default_str();
  app->add_option("--nproc", *nproc,
                  "run as N local processes of one data-parallel job (batch_size is the global batch); without it, "
                  "the torchrun variables RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT make this process one rank");
  app->add_option("--dist-timeout", o->dist_timeout_s,
                  "seconds a rank waits for the others (rendezvous, every collective) before it stops with an error")
      ->capture_default_str();
  app->add_flag("--check-sync", o->check_sync,
                "several processes: after every step verify that every rank holds the same parameters and codebooks");
  auto no_overlap = std::make_shared<bool>(false);
  app->add_flag("--no-grad-overlap", *no_overlap,
                "several processes: all-reduce the gradients after the backward pass instead of during it");
  return [=]() {
    o->overlap_gradients = !*no_overlap;
    if (*nproc > 1) return cb::run_local_workers(*nproc);
    // Testing the failure paths (docs/cli/train.md): rank CODEBIND_TEST_HANG_RANK stops
    // answering before global step CODEBIND_TEST_HANG_AT_STEP.
    if (const char* s = std::getenv("CODEBIND_TEST_HANG_AT_STEP")) o->hang_at_step = std::atoll(s);
    if (const char* s = std::getenv("CODEBIND_TEST_HANG_RANK")) o->hang_rank = std::atoi(s);
    auto cfg = cb::TrainConfig::load(*config);
    cb::configure_threads(*threads > 0 ? *threads : cfg.run.threads);
    cb::Trainer t(cfg, *o);
    auto path = t.run();
    if (cb::DistEnv::from_env().rank == 0) fmt::print("model written: {}\n", path);  // rank 0 wrote it
    return 0;
  };
}

}  // namespace

CB_REGISTER_COMMAND("train", "train CodeBind on a bridge (heads, codebooks, LoRA, decoders)", setup_train);
