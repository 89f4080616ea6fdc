// cmd_ceiling.cpp — `codebind ceiling --bridge RUN --data DIR --modality M`: trains one tower with
// the class labels and reports the test accuracy at its best val step (eval/supervised_ceiling.h).
#include "cli/command.h"
#include "core/threads.h"
#include "app/supervised_ceiling.h"
#include "io/mapped_file.h"
#include "train/trainer.h"

namespace {

cb::cli::Runner setup_ceiling(CLI::App* app) {
  auto o = std::make_shared<cb::CeilingOptions>();
  auto bridge = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>();
  auto modality = std::make_shared<std::string>();
  auto json_out = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(0);
  app->add_option("--bridge", *bridge, "bridge: a codebind pretrain RUN directory or its bridge.safetensors")
      ->required();
  app->add_option("--data", *data, "dataset directory (manifest) with train, val and test items")->required();
  app->add_option("--modality", *modality, "the tower to train (vision, audio, imu, depth, ...)")->required();
  app->add_flag("--scratch", o->from_scratch, "start from random weights instead of the bridge's");
  app->add_flag("--freeze-tower", o->freeze_tower, "train the linear classifier only (a linear probe)");
  app->add_option("--steps", o->steps, "optimiser steps (default 1500)");
  app->add_option("--eval-every", o->eval_every, "score val and test every N steps (default 50)");
  app->add_option("--batch", o->batch, "batch size (default 40)");
  app->add_option("--lr", o->lr, "AdamW learning rate (default 1e-3)");
  app->add_option("--weight-decay", o->weight_decay, "AdamW weight decay (default 1e-4)");
  app->add_option("--seed", o->seed, "seed of the init and the batch draw (default 1)");
  app->add_option("--json", *json_out, "also write the curve and the summary to this JSON file");
  app->add_option("--threads", *threads, "threads (0 = CODEBIND_THREADS / all cores)");
  app->add_flag("--quiet", o->quiet, "no progress bar");
  return [=]() {
    cb::configure_threads(*threads);
    o->modality = cb::parse_modality(*modality, "--modality");
    const cb::CeilingResult r = cb::supervised_ceiling(cb::resolve_bridge_path(*bridge), *data, *o);
    fmt::print("{} items: train {}, val {}, test {}; init {}{}\n", *modality, r.train_items, r.val_items,
               r.test_items, o->from_scratch ? "random" : "bridge", o->freeze_tower ? ", tower frozen" : "");
    fmt::print("| step | loss | val top-1 | test top-1 |\n|---|---|---|---|\n");
    for (const auto& p : r.curve) fmt::print("| {} | {:.3f} | {:.1f} | {:.1f} |\n", p.step, p.loss, p.val, p.test);
    fmt::print("supervised ceiling ({}): test top-1 {:.1f} at the best val step {} (val {:.1f}); highest test {:.1f}\n",
               *modality, r.test_at_best_val, r.best_step, r.best_val, r.max_test);
    if (!json_out->empty()) {
      nlohmann::json j = {{"modality", *modality},         {"init", o->from_scratch ? "random" : "bridge"},
                          {"freeze_tower", o->freeze_tower}, {"steps", o->steps},
                          {"lr", o->lr},                     {"batch", o->batch},
                          {"seed", o->seed},                 {"best_step", r.best_step},
                          {"best_val", r.best_val},          {"test_at_best_val", r.test_at_best_val},
                          {"max_test", r.max_test},          {"curve", nlohmann::json::array()}};
      for (const auto& p : r.curve)
        j["curve"].push_back({{"step", p.step}, {"loss", p.loss}, {"val", p.val}, {"test", p.test}});
      cb::write_file_atomic(*json_out, j.dump(2) + "\n");
    }
    return 0;
  };
}

}  // namespace

CB_REGISTER_COMMAND("ceiling", "train one tower with the class labels: the supervised ceiling of a zero-shot target",
                    setup_ceiling);
