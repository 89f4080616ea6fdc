// trainer.h — `codebind train`: the CodeBind training loop (docs/model.md §6.1, one step in order):
// encode every modality of the pair → quantise (text first, then config order; EMA, k-means
// and re-seeding happen here) → L_align (InfoNCE on quantised shared CLS, pairs (anchor, X)
// and (vision, text)) + w_vq·L_vq + w_orth·L_orth + w_uni·L_uni + w_recon·L_recon + w_cm·L_cm
// (paper mode: with a gradient; reference mode: detached, no effect) + w_reg·(L_cctr + L_cuni)
// → backward → clip 1.0 → AdamW. Fixed weights or adaptive balancing (docs/model.md §6.5). Cosine LR
// per epoch. Per-step JSONL metrics, a progress bar with live losses, atomic checkpoints every
// `checkpoint_every` steps and at epoch ends; `resume` continues a killed run to the same
// final parameters. A NaN/Inf loss stops the run with a clear message; the last checkpoint
// (written before the bad step) is kept.
//
// RUN layout: config.json, metrics.jsonl, checkpoint.safetensors, model.safetensors (final).
//
// Several processes (train/distributed.h): every rank runs this loop on its rows of the
// global batch; gradients are summed over ranks before clipping, the quantiser's codebooks
// stay identical through its communicator, and only rank 0 writes the run directory.
#pragma once
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "io/run_dir.h"
#include "model/codebind_model.h"
#include "data/inputs.h"
#include "data/manifest.h"
#include "train/batch_plan.h"
#include "train/bridge_cache.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/loss_balancer.h"
#include "train/schedule.h"
#include "train/train_config.h"

namespace cb {

struct TrainOptions {
  std::string data_dir, out_dir;
  std::string bridge;       // bridge safetensors or a pretrain RUN directory (bridge.safetensors)
  bool resume = false;
  bool quiet = false;
  int64_t stop_after = -1;  // testing: stop (as if killed) after this many global steps
  bool force = false;       // replace a previous run in out_dir (otherwise a non-empty out_dir is refused)
  std::string bridge_cache = "auto";  // frozen-bridge cache directory, "auto" or "off" (train/bridge_cache.h)
  // The frozen bridge towers' forwards (cached or not): auto|fp32|bf16 (core/precision.h).
  // Everything that trains runs in fp32 whatever this says.
  std::string dtype = "auto";
  // Several processes (train/distributed.h): the rendezvous and collective timeout, seconds.
  double dist_timeout_s = 300;
  // Testing the failure paths: rank `hang_rank` stops answering (sleeps) before global step
  // `hang_at_step` (-1: never).
  int hang_rank = -1;
  int64_t hang_at_step = -1;
  // After every step, compare the ranks' trainable parameters and codebooks (fingerprints);
  // metrics gain ranks_params_in_sync / ranks_codebooks_in_sync (1 or 0). A difference that
  // data parallelism rules out stops the run (codebooks may differ only with per_rank_codebooks).
  bool check_sync = false;
  // Several processes: all-reduce gradient buckets while the backward pass runs (false: one
  // all-reduce of all buckets after it).
  bool overlap_gradients = true;
};

class Trainer {
 public:
  Trainer(const TrainConfig& cfg, const TrainOptions& opt);
  ~Trainer();
  // Trains to the end (or stop_after); returns the final model path ("" when stopped early).
  std::string run();
  // One training step on plan (epoch, step); returns the raw losses and "loss" (total).
  std::map<std::string, double> train_step(const BatchPlan& plan);

  CodeBindModel& model() { return *model_; }
  const BatchPlanner& planner() const { return *planner_; }
  AdamW& optimiser() { return *adam_; }
  std::string checkpoint_path() const { return opt_.out_dir + "/checkpoint.safetensors"; }
  // The frozen-bridge cache of tower m, or nullptr when its outputs are computed every step.
  FrozenTowerCache* bridge_cache(Modality m) const;
  // This process's place in a data-parallel job (world 1 when run alone).
  const DataParallel& data_parallel() const { return dp_; }

 private:
  void save_checkpoint_now();
  void open_bridge_caches();
  void flush_bridge_caches();
  // What a stop on a non-finite loss says: the batch's item ids and what is really on disk.
  std::string stop_note(const BatchPlan& plan) const;
  void restore(const std::string& path);
  // Every trainable parameter (the optimiser's groups), named.
  NamedTensors trainable_tensors() const;

  TrainConfig cfg_;
  TrainOptions opt_;
  DataParallel dp_;                  // joined first: every later check can fail on all ranks
  std::unique_ptr<RunDir> run_dir_;  // locked for the trainer's lifetime
  std::unique_ptr<data::Manifest> man_;
  std::unique_ptr<CodeBindModel> model_;
  std::unique_ptr<InputPipeline> inputs_;
  std::unique_ptr<BatchPlanner> planner_;
  std::unique_ptr<AdamW> adam_;
  std::map<Modality, std::unique_ptr<FrozenTowerCache>> caches_;  // the frozen towers' outputs
  std::vector<Modality> frozen_towers_;      // towers that train nothing (cached or not)
  at::ScalarType frozen_dtype_ = at::kFloat;  // their forwards' type (opt_.dtype resolved)
  LossBalancer balancer_;
  TrainState state_;
};

// Resolves --bridge: a file, or a directory holding bridge.safetensors.
std::string resolve_bridge_path(const std::string& arg);

}  // namespace cb
