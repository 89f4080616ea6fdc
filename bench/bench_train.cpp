// bench_train.cpp — one CodeBind training step (tiny config, batch 32): steps/s of the full
// step (quantiser on) against the same step without the codebook (quantiser.use_vq = false),
// same data, bridge and seed; prints both and the ratio.
//   codebind_bench train_step data=DIR bridge=RUN_PRETRAIN [config=FILE] [reps=5]
// (make the inputs with `codebind data sensor-suite --size small` and
//  `codebind pretrain --config configs/pretrain_tiny_test.json`).
#include <chrono>
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

namespace {

// bridge_cache — epoch time of a target-modality CodeBind run (pair: target, vision, text;
// freeze_bridge_heads) with the frozen-bridge cache against the same run without it, same
// data, bridge, seed and steps, one process. Each variant runs the epoch twice; the second
// pass is timed (both then have their decoded inputs in memory; the cached one also its
// cache), the cached variant's first pass is the cache build.
//   codebind_bench bridge_cache data=DIR bridge=RUN_PRETRAIN [config=FILE] [target=audio]
//                  [steps=20] [batch=from config] [threads=0]
int bench_bridge_cache(const cb::bench::BenchArgs& a) {
  const std::string data = a.get("data", ""), bridge = a.get("bridge", "");
  if (data.empty() || bridge.empty()) {
    fmt::print("usage: codebind_bench bridge_cache data=DIR bridge=RUN_PRETRAIN [config=FILE] [target=audio] "
               "[steps=20] [batch=N]\n");
    return 2;
  }
  cb::configure_threads(static_cast<int>(a.get_int("threads", 0)));
  auto cfg = cb::TrainConfig::load(a.get("config", std::string("configs/codebind_sensor_suite_demo.json")));
  const cb::Modality target = cb::parse_modality(a.get("target", std::string("audio")));
  cfg.model.modality_pair = {target, cb::Modality::Vision, cb::Modality::Text};
  std::vector<cb::Modality> recon;
  for (cb::Modality m : cfg.model.recon)
    if (cfg.model.has(m)) recon.push_back(m);
  cfg.model.recon = recon;
  cfg.optim.freeze_bridge_heads = true;
  if (a.get_int("batch", 0) > 0) cfg.optim.batch_size = static_cast<int>(a.get_int("batch", 0));
  const int64_t steps = a.get_int("steps", 20);
  const std::string cache_dir = (std::filesystem::temp_directory_path() / "cb_bench_bridge_cache").string();
  std::filesystem::remove_all(cache_dir);
  auto epoch = [&](cb::Trainer& t) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t s = 0; s < steps; ++s) t.train_step(t.planner().plan(0, s % t.planner().steps_per_epoch()));
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  auto variant = [&](const std::string& cache, double* first) {
    cb::TrainOptions o;
    o.data_dir = data;
    o.bridge = bridge;
    o.bridge_cache = cache;
    o.out_dir = (std::filesystem::temp_directory_path() / ("cb_bench_bridge_cache_run_" + cache.substr(0, 3))).string();
    o.quiet = true;
    o.force = true;
    cb::Trainer t(cfg, o);
    *first = epoch(t);
    const double second = epoch(t);
    std::filesystem::remove_all(o.out_dir);
    return second;
  };
  double off_first = 0, on_first = 0;
  const double off = variant("off", &off_first);
  const double on = variant(cache_dir, &on_first);
  std::filesystem::remove_all(cache_dir);
  fmt::print("bridge_cache target {} batch {} steps {}: without cache {:.2f} s/epoch (first pass {:.2f} s), with cache "
             "{:.2f} s/epoch (first pass = cache build {:.2f} s); speed-up {:.2f}x\n",
             cb::modality_name(target), cfg.optim.batch_size, steps, off, off_first, on, on_first, off / on);
  return 0;
}

}  // namespace

CB_REGISTER_BENCH("bridge_cache", "epoch time of a target run with the frozen-bridge cache vs without", bench_bridge_cache);
