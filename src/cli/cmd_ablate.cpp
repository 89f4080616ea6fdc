// cmd_ablate.cpp — `codebind ablate --config FILE --data DIR --bridge RUN_PRETRAIN --out DIR`:
// the paper's ablation grid in miniature (app/ablate.h). See docs/cli/ablate.md.
#include "app/ablate.h"
#include "cli/command.h"

namespace {

cb::cli::Runner setup_ablate(CLI::App* app) {
  auto o = std::make_shared<cb::AblateOptions>();
  app->add_option("--config", o->config, "base train config JSON (the 'full' model)")->required();
  app->add_option("--data", o->data, "dataset directory")->required();
  app->add_option("--bridge", o->bridge, "pretrain run directory (also the baseline row)")->required();
  app->add_option("--out", o->out, "directory for the ablation runs and ablation.md")->required();
  app->add_option("--threads", o->threads, "threads");
  app->add_flag("--table-only", o->table_only, "re-make ablation.md from the runs already in --out (no training)");
  return [o]() {
    cb::run_ablation(*o);
    return 0;
  };
}

}  // namespace

CB_REGISTER_COMMAND("ablate", "the paper's ablation grid in miniature (one table)", setup_ablate);
