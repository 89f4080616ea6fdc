// bench_ddp.cpp — data-parallel training (train/distributed.h) against one process, in one
// run: `codebind train` with 1 process and with `--nproc 2`, each process on 1 thread, on the
// same data, bridge and config (batch_size = the global batch, so both do the same work per
// step). Reports median step time (metrics.jsonl "step_seconds", first step dropped),
// steps/s and samples/s of each, the speed-up and scaling efficiency (speed-up / 2), the
// share of a 2-process step spent in the gradient all-reduce ("allreduce_seconds") and in
// all collectives together ("collective_seconds": the gradients, the all-gather of the
// global batch's embeddings, the codebook statistics; includes waiting for the other rank),
// and a third run with the gradient all-reduce after the backward pass instead of
// overlapped with it (--no-grad-overlap). "all-reduce" is the wait after backward.
//   codebind_bench ddp data=DIR bridge=RUN [config=configs/codebind_tiny_test.json] [steps=20]
//                      [batch=8] [reps=3] [work=/tmp/cb_bench_ddp]
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "bench_child.h"
#include "bench_registry.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

int bench_ddp(const cb::bench::BenchArgs& a) {
  const std::string data = a.get("data", ""), bridge = a.get("bridge", "");
  if (data.empty() || bridge.empty()) {
    fmt::print("usage: codebind_bench ddp data=DIR bridge=RUN [config=FILE] [steps=20] [batch=8] [reps=3] [work=DIR]\n");
    return 2;
  }
  const std::string work = a.get("work", std::string("/tmp/cb_bench_ddp"));
  const long steps = a.get_int("steps", 20), batch = a.get_int("batch", 8), reps = std::max(1L, a.get_int("reps", 3));
  fs::create_directories(work);
  const std::string cfg_in = a.get("config", std::string("configs/codebind_tiny_test.json"));  // run from the repository root
  std::ifstream in(cfg_in);
  if (!in) {
    fmt::print("ddp: cannot open config {}\n", cfg_in);
    return 2;
  }
  json cfg = json::parse(in);
  cfg["batch_size"] = batch;
  cfg["epochs"] = 1;
  cfg["max_steps_per_epoch"] = steps;
  cfg["checkpoint_every"] = 0;
  const std::string cfg_path = work + "/config.json";
  std::ofstream(cfg_path) << cfg.dump(2);
  ::setenv("CODEBIND_THREADS", "1", 1);
  const std::string exe = cb::bench::codebind_exe_beside();
  struct Result {
    double step_s = 0, reduce_s = 0, coll_s = 0, colls = 0;
  };
  auto run = [&](int nproc, Result& r, bool overlap = true) {
    const std::string out = work + "/run" + std::to_string(nproc) + (overlap ? "" : "-after");
    std::vector<std::string> argv{exe, "train", "--config", cfg_path, "--data", data, "--bridge", bridge, "--out", out,
                                  "--force", "--quiet", "--bridge-cache", "off"};
    if (nproc > 1) argv.insert(argv.end(), {"--nproc", std::to_string(nproc)});
    if (!overlap) argv.push_back("--no-grad-overlap");
    const cb::bench::Child c = cb::bench::run_child(argv, out + ".log");
    if (c.rc != 0) {
      fmt::print("ddp: train with {} process(es) failed, rc {}; see {}.log\n", nproc, c.rc, out);
      return false;
    }
    auto s = cb::bench::metric_values(out + "/metrics.jsonl", "step_seconds");
    auto red = cb::bench::metric_values(out + "/metrics.jsonl", "allreduce_seconds");
    auto coll = cb::bench::metric_values(out + "/metrics.jsonl", "collective_seconds");
    auto count = cb::bench::metric_values(out + "/metrics.jsonl", "collectives");
    for (auto* v : {&s, &red, &coll, &count})
      if (v->size() > 1) v->erase(v->begin());  // the first step builds the codebooks (k-means)
    r.step_s = cb::bench::median(s);
    r.reduce_s = cb::bench::median(red);
    r.coll_s = cb::bench::median(coll);
    r.colls = cb::bench::median(count);
    return true;
  };
  // The three runs interleaved `reps` times; each figure is the median over repetitions of
  // the runs' medians (a shared VM drifts by tens of percent from one minute to the next).
  std::vector<Result> ones, twos, afters;
  for (long rep = 0; rep < reps; ++rep) {
    Result o, t, f;
    if (!run(1, o) || !run(2, t) || !run(2, f, false)) return 1;
    ones.push_back(o);
    twos.push_back(t);
    afters.push_back(f);
  }
  auto med = [](const std::vector<Result>& rs) {
    auto pick = [&](double Result::*m) {
      std::vector<double> v;
      for (const Result& r : rs) v.push_back(r.*m);
      return cb::bench::median(v);
    };
    return Result{pick(&Result::step_s), pick(&Result::reduce_s), pick(&Result::coll_s), pick(&Result::colls)};
  };
  const Result one = med(ones), two = med(twos), after = med(afters);
  int overlap_wins = 0;
  for (long rep = 0; rep < reps; ++rep) overlap_wins += twos[size_t(rep)].step_s < afters[size_t(rep)].step_s;
  const double speedup = one.step_s / two.step_s;
  fmt::print("ddp: config {} at global batch {}, {} steps, 1 thread per process, median of {} interleaved repetitions\n",
             cfg.value("name", "?"), batch, steps, reps);
  fmt::print("  1 process:   {:.4f} s/step = {:.2f} steps/s, {:.1f} samples/s\n", one.step_s, 1 / one.step_s,
             double(batch) / one.step_s);
  fmt::print("  2 processes: {:.4f} s/step = {:.2f} steps/s, {:.1f} samples/s; all-reduce {:.4f} s/step = {:.1f}% of "
             "the step\n",
             two.step_s, 1 / two.step_s, double(batch) / two.step_s, two.reduce_s, 100 * two.reduce_s / two.step_s);
  fmt::print("  2 processes: {:.0f} collectives/step taking {:.4f} s = {:.1f}% of the step ({:.2f} ms each)\n", two.colls,
             two.coll_s, 100 * two.coll_s / two.step_s, two.colls > 0 ? 1000 * two.coll_s / two.colls : 0.0);
  fmt::print("  2 processes, gradient all-reduce after the backward pass (--no-grad-overlap): {:.4f} s/step, all-reduce "
             "{:.4f} s/step = {:.1f}%; overlapping saves {:.1f}% of the step (faster in {} of {} paired runs)\n",
             after.step_s, after.reduce_s, 100 * after.reduce_s / after.step_s, 100 * (1 - two.step_s / after.step_s),
             overlap_wins, reps);
  fmt::print("  RATIO speed-up {:.2f}x, scaling efficiency {:.0f}%\n", speedup, 50 * speedup);
  return 0;
}

}  // namespace

CB_REGISTER_BENCH("ddp", "data-parallel train: 1 vs 2 processes (1 thread each), steps/s, all-reduce share", bench_ddp);
