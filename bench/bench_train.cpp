// bench_train.cpp — one CodeBind training step (tiny config, batch 32): steps/s of the full
// step (quantiser on) against the same step without the codebook (quantiser.use_vq = false),
// same data, bridge and seed; prints both and the ratio.
//   codebind_bench train_step data=DIR bridge=RUN_PRETRAIN [config=FILE] [reps=5]
// (make the inputs with `codebind data sensor-suite --size small` and
//  `codebind pretrain --config configs/pretrain_tiny_test.json`).
#include <filesystem>

#include "bench_registry.h"
#include "core/threads.h"
#include "train/trainer.h"

namespace {

int bench_train_step(const cb::bench::BenchArgs& a) {
  const std::string data = a.get("data", ""), bridge = a.get("bridge", "");
  if (data.empty() || bridge.empty()) {
    fmt::print("usage: codebind_bench train_step data=DIR bridge=RUN_PRETRAIN [config=FILE] [reps=5]\n");
    return 2;
  }
  cb::configure_threads(static_cast<int>(a.get_int("threads", 0)));
  auto cfg = cb::TrainConfig::load(a.get("config", std::string("configs/codebind_tiny_test.json")));
  cfg.optim.batch_size = static_cast<int>(a.get_int("batch", 32));
  const int reps = static_cast<int>(a.get_int("reps", 5));
  auto time_it = [&](const cb::TrainConfig& c, const std::string& tag) {
    cb::TrainOptions o;
    o.data_dir = data;
    o.bridge = bridge;
    o.out_dir = (std::filesystem::temp_directory_path() / ("cb_bench_train_" + tag)).string();
    o.quiet = true;
    cb::Trainer t(c, o);
    int64_t s = 0;
    double sec = cb::bench::median_seconds(reps, [&] { t.train_step(t.planner().plan(0, s++)); });
    std::filesystem::remove_all(o.out_dir);
    return sec;
  };
  const double full = time_it(cfg, "full");
  auto novq = cfg;
  novq.model.quantiser.use_vq = false;
  const double base = time_it(novq, "novq");
  fmt::print("train_step batch {}: full {:.2f} steps/s ({:.1f} ms), without codebook {:.2f} steps/s ({:.1f} ms), "
             "ratio full/without = {:.2f}x time\n",
             cfg.optim.batch_size, 1 / full, 1e3 * full, 1 / base, 1e3 * base, full / base);
  return 0;
}

}  // namespace

CB_REGISTER_BENCH("train_step", "one CodeBind training step (tiny config, batch 32), steps/s vs no codebook", bench_train_step);
