// bench_huge_job.cpp — the real job at ImageBind-Huge size, end to end on CPU. Writes a
// random-weight checkpoint with ImageBind-Huge's exact key names and shapes (vision, text and
// audio towers; no metadata, so `train` recognises the `huge` preset from the tensors as it
// would a converted imagebind_huge.pth), then runs the `codebind` CLI as child processes:
//   1. train (LoRA on audio blocks 6–11, paper decoder, batch B, S steps, freeze_bridge_heads)
//      with an empty frozen-bridge cache: every step computes the vision and text towers and
//      fills the cache — the run without the cache, and the cache build;
//   2. the same training into a new run reading that cache: vision/text from the cache;
//   3. embed --run on F audio files of the data set.
// Reports per-step seconds (median of metrics.jsonl "step_seconds") of 1 and 2 and their
// ratio, items/s of 3, each child's peak RSS (wait4) against the checkpoint's bytes, and the
// cached step's FLOP rate as a fraction of the fp32 GEMM rate measured in this process.
// Step FLOPs are counted, not sampled: the audio tower forward (stem, 12 blocks, attention
// with bias_kv) for B single-clip items, twice (forward + the backward to the inputs that the trainable
// CLS token needs; LoRA weight gradients are negligible), plus the same for the decoder.
//   codebind_bench huge_job data=DIR [work=/tmp/cb_huge_job] [steps=20] [batch=8] [files=100]
//                           [threads=2] [keep=0]   (keep=1 reuses a checkpoint already written)
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "bench_child.h"
#include "bench_registry.h"
#include "core/threads.h"
#include "data/manifest.h"
#include "encoders/imagebind/imagebind_model.h"
#include "io/safetensors.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using cb::bench::Child;
using cb::bench::median;
using cb::bench::metric_values;
using cb::bench::run_child;

// Forward FLOPs of one transformer tower on one sequence (multiply-add = 2 FLOPs).
double tower_forward_flops(int64_t tokens, int64_t keys, int64_t D, int64_t mlp, int64_t blocks) {
  const double L = double(tokens), K = double(keys), d = double(D);
  const double per_block = 2 * L * d * 3 * d + 2 * L * d * d + 2 * 2 * L * d * double(mlp) + 2 * 2 * L * K * d;
  return per_block * double(blocks);
}

int bench_huge_job(const cb::bench::BenchArgs& a) {
  const std::string data = a.get("data", "");
  if (data.empty()) {
    fmt::print("usage: codebind_bench huge_job data=DIR [work=/tmp/cb_huge_job] [steps=20] [batch=8] [files=100] "
               "[threads=2] [keep=0]\n");
    return 2;
  }
  const std::string work = a.get("work", std::string("/tmp/cb_huge_job"));
  const int64_t steps = a.get_int("steps", 20), batch = a.get_int("batch", 8), files = a.get_int("files", 100);
  const int threads = static_cast<int>(a.get_int("threads", 2));
  cb::configure_threads(threads);
  fs::create_directories(work);
  const std::string exe = cb::bench::codebind_exe_beside();
  const cb::ImageBindConfig huge = cb::ImageBindConfig::huge();
  const std::vector<cb::Modality> towers{cb::Modality::Vision, cb::Modality::Text, cb::Modality::Audio};

  // 1. The checkpoint: ImageBind-Huge's names and shapes, random weights, no metadata.
  const std::string ckpt = work + "/imagebind_huge_random.safetensors";
  double write_s = 0;
  if (!(a.get_int("keep", 0) && fs::exists(ckpt))) {
    const auto t0 = std::chrono::steady_clock::now();
    cb::ImageBindModel model(huge, towers, 0);
    cb::NamedTensors ts;
    for (cb::Modality m : towers)
      for (auto& nt : model.named_params(m)) ts.push_back(std::move(nt));
    cb::save_safetensors(ckpt, ts);
    write_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double ckpt_gb = double(fs::file_size(ckpt)) / 1e9;

  // 2. The training config: the paper's audio run at this batch and step count.
  const json cfg = {{"name", "huge-job"},
                    {"modality_pair", {"audio", "vision", "text"}},
                    {"train_mode", "lora"},
                    {"lora_blocks", {6, 7, 8, 9, 10, 11}},
                    {"recon", {"audio"}},
                    {"batch_size", batch},
                    {"epochs", 1},
                    {"max_steps_per_epoch", steps},
                    {"freeze_bridge_heads", true},
                    {"checkpoint_every", 0}};
  const std::string cfg_path = work + "/train_config.json";
  std::ofstream(cfg_path) << cfg.dump(2);
  const std::string cache = work + "/bridge-cache";
  fs::remove_all(cache);
  auto train = [&](const std::string& run) {
    return run_child({exe, "train", "--config", cfg_path, "--data", data, "--out", work + "/" + run, "--bridge", ckpt,
                      "--bridge-cache", cache, "--force", "--quiet", "--threads", std::to_string(threads)},
                     work + "/" + run + ".log");
  };
  const Child cold = train("run_cold");
  if (cold.rc != 0) {
    fmt::print("huge_job: train (cold) failed, rc {}; see {}/run_cold.log\n", cold.rc, work);
    return 1;
  }
  const Child warm = train("run_warm");
  if (warm.rc != 0) {
    fmt::print("huge_job: train (warm) failed, rc {}; see {}/run_warm.log\n", warm.rc, work);
    return 1;
  }
  const double s_cold = median(metric_values(work + "/run_cold/metrics.jsonl", "step_seconds"));
  const double s_warm = median(metric_values(work + "/run_warm/metrics.jsonl", "step_seconds"));

  // 3. embed --run on the first F audio files.
  const auto man = cb::data::Manifest::load(data);
  std::vector<std::string> embed_argv{exe,         "--threads", std::to_string(threads), "embed", "--run",
                                      work + "/run_warm", "--modality", "audio", "--out", work + "/codes.safetensors",
                                      "--force"};
  int64_t n_files = 0;
  for (const char* split : {"train", "val", "test"})
    for (const cb::data::Item* it : man.select(cb::Modality::Audio, split))
      if (n_files < files) {
        embed_argv.push_back(it->file);
        ++n_files;
      }
  const Child emb = run_child(embed_argv, work + "/embed.log");
  if (emb.rc != 0) {
    fmt::print("huge_job: embed --run failed, rc {}; see {}/embed.log\n", emb.rc, work);
    return 1;
  }

  // 4. FLOPs of the cached step and this process's fp32 GEMM rate on the step's main shape.
  const cb::ModalityConfig& au = huge.at(cb::Modality::Audio);
  const double seqs = double(batch);  // one clip per audio item (data/inputs.cpp)
  const double stem = 2.0 * double(au.num_patches) * double(au.embed_dim) * double(au.kernel[0] * au.kernel[1]);
  const double audio_fwd =
      seqs * (stem + tower_forward_flops(au.num_tokens, au.num_tokens + 1, au.embed_dim, au.mlp_hidden, au.num_blocks));
  const double dec_fwd = seqs * tower_forward_flops(au.num_tokens, au.num_tokens, 512, 4 * 512, 8);
  const double step_flops = 2.0 * (audio_fwd + dec_fwd);
  const int64_t M = int64_t(seqs) * au.num_tokens;
  at::Tensor A = at::randn({M, au.embed_dim}), B = at::randn({au.embed_dim, au.mlp_hidden});
  at::mm(A, B);
  const double gemm_s = cb::bench::median_seconds(3, [&] { at::mm(A, B); });
  const double gemm_rate = 2.0 * double(M) * double(au.embed_dim) * double(au.mlp_hidden) / gemm_s;
  const double step_rate = step_flops / s_warm;

  fmt::print("huge_job: checkpoint {:.2f} GB ({} towers: vision, text, audio; written in {:.0f} s), batch {}, {} steps, "
             "{} threads\n",
             ckpt_gb, towers.size(), write_s, batch, steps, threads);
  fmt::print("  train without cache (computes vision+text, builds the cache): {:.2f} s/step, run {:.0f} s, peak RSS "
             "{:.2f} GB\n",
             s_cold, cold.seconds, cold.peak_rss_gb);
  fmt::print("  train with the cache (vision+text read):                   {:.2f} s/step, run {:.0f} s, peak RSS "
             "{:.2f} GB\n",
             s_warm, warm.seconds, warm.peak_rss_gb);
  fmt::print("  cache speed-up {:.2f}x per step; cache build ≈ {:.0f} s (the cold run's extra time over {} steps)\n",
             s_cold / s_warm, (s_cold - s_warm) * double(steps), steps);
  fmt::print("  embed --run: {} audio files in {:.1f} s = {:.2f} items/s (incl. loading), peak RSS {:.2f} GB\n", n_files,
             emb.seconds, double(n_files) / emb.seconds, emb.peak_rss_gb);
  fmt::print("  peak RSS target ≤ checkpoint + 3 GB = {:.2f} GB: train {}, embed {}\n", ckpt_gb + 3,
             warm.peak_rss_gb <= ckpt_gb + 3 && cold.peak_rss_gb <= ckpt_gb + 3 ? "met" : "NOT met",
             emb.peak_rss_gb <= ckpt_gb + 3 ? "met" : "NOT met");
  fmt::print("  cached step {:.1f} GFLOP ({:.1f} GFLOP/s) vs same-run fp32 GEMM ({} x {} x {}) {:.1f} GFLOP/s: {:.0f}%\n",
             step_flops / 1e9, step_rate / 1e9, M, au.embed_dim, au.mlp_hidden, gemm_rate / 1e9,
             100.0 * step_rate / gemm_rate);
  return 0;
}

}  // namespace

CB_REGISTER_BENCH("huge_job", "ImageBind-Huge-sized train (with/without bridge cache) + embed --run, RSS, FLOP rate",
                  bench_huge_job);
