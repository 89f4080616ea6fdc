// distributed.h — data-parallel training across processes (docs/cli/train.md, "Several
// processes or machines"), on c10d's Gloo process group (quant/communicator.h).
//
// The job: W ranks, launched the torchrun way (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT) or by `--nproc N`. The config's batch_size is the GLOBAL batch B: every rank
// plans the same global batch from (seed, epoch, step) and encodes its own rows
// [r·B/W, (r+1)·B/W), so W processes see exactly the data of one process with batch B, and a
// run can resume on another W.
//
// Gradients. A loss term is either
//   global — computed on rows all-gathered from every rank (InfoNCE, code matching,
//            uniformity: terms that compare items of the batch with each other); its value is
//            the same on every rank, and all_gather() routes the gradient of each rank's own
//            rows back to it, so the sum over ranks of the parameter gradients is the full
//            gradient; or
//   local  — a mean over this rank's rows (commitment, orthogonality, reconstruction); the
//            trainer divides it by W before the backward pass, so the same sum gives the
//            gradient of the mean over the global batch.
// allreduce_gradients() (after the backward pass) or the overlapped GradientReducer (during
// it) sums every gradient over ranks in buckets, so every rank takes the identical optimiser
// step of the single-process run with batch B, up to fp32 summation order.
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "quant/communicator.h"
#include "train/batch_plan.h"
#include "train/gradient_reducer.h"

namespace cb {

// This process's place in the job, read from the torchrun environment variables; world 1
// when WORLD_SIZE is unset. Throws InputError naming the variable that is missing or wrong.
struct DistEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr;
  int master_port = 0;
  bool active() const { return world_size > 1; }
  static DistEnv from_env();
};

class DataParallel {
 public:
  // Single process (world 1): every call below is the identity.
  DataParallel() : comm_(std::make_shared<LocalCommunicator>()) {}
  explicit DataParallel(std::shared_ptr<Communicator> comm) : comm_(std::move(comm)) {}
  // Joins the job `env` describes (TCPStore rendezvous + Gloo); world 1 → single process.
  static DataParallel join(const DistEnv& env, double timeout_s);

  int rank() const { return comm_->rank(); }
  int world_size() const { return comm_->world_size(); }
  bool active() const { return world_size() > 1; }
  bool is_main() const { return rank() == 0; }
  const std::shared_ptr<Communicator>& communicator() const { return comm_; }

  // This rank's rows [r·B/W, (r+1)·B/W) of a global batch plan. InputError when W ∤ B.
  BatchPlan shard(const BatchPlan& global) const;
  // (B/W, …) → (B, …): every rank's rows in rank order. Differentiable: the gradient of the
  // result's rows of this rank flows back to `local`; the other rows' gradients are dropped
  // (their own ranks compute the same loss and keep theirs).
  at::Tensor all_gather(const at::Tensor& local) const;
  // all_gather of several tensors with the same row count, in one collective.
  std::vector<at::Tensor> all_gather_many(const std::vector<at::Tensor>& locals) const;
  // Σ over ranks of every defined gradient of `params`, in buckets of ≤ bucket_bytes.
  void allreduce_gradients(const std::vector<at::Tensor>& params, int64_t bucket_bytes = 16 << 20) const;
  // The same sum overlapped with the backward pass (train/gradient_reducer.h): call
  // overlap_gradients once with the trainable parameters, then wrap every backward pass in
  // before_backward() / after_backward(). No-ops in a single process.
  void overlap_gradients(const std::vector<at::Tensor>& params, int64_t bucket_bytes = 4 << 20);
  void before_backward() const;
  void after_backward() const;  // every .grad holds Σ over ranks; its wait counts in allreduce_seconds
  // Per key, the mean over ranks (every rank must pass the same keys).
  std::map<std::string, double> mean(const std::map<std::string, double>& values) const;
  // Start-up check: `value` (a fingerprint of `what`) must be equal on every rank; otherwise
  // InputError on every rank naming `what` and the ranks that differ from rank 0.
  void check_same(const std::string& what, uint64_t value) const;
  // Whether `value` is equal on every rank (the same answer on every rank).
  bool all_same(uint64_t value) const { return differing_ranks(value).empty(); }
  void barrier() const { comm_->barrier(); }

  // Seconds spent in allreduce_gradients since the start (the benchmark's all-reduce share).
  double allreduce_seconds() const { return *allreduce_s_; }
  // Every collective so far (gradients, all-gathers, codebook statistics, checks): how many,
  // and the seconds spent in them.
  int64_t collectives() const { return comm_ ? comm_->collectives() : 0; }
  double collective_seconds() const { return comm_ ? comm_->collective_seconds() : 0; }

 private:
  // The ranks whose value differs from rank 0's, comma-separated ("" when all agree).
  std::string differing_ranks(uint64_t value) const;
  std::shared_ptr<Communicator> comm_;
  std::shared_ptr<double> allreduce_s_ = std::make_shared<double>(0.0);
  std::shared_ptr<GradientReducer> reducer_;
};

// FNV-1a 64 of a file's size and its first and last 4 MiB: a cheap fingerprint for telling
// whether two ranks opened the same bridge (not a checksum of every byte).
uint64_t file_fingerprint(const std::string& path);
// FNV-1a 64 of the manifest files (dataset.json, items.jsonl) of a data directory.
uint64_t dataset_fingerprint(const std::string& data_dir);
// FNV-1a 64 of the bytes of named tensors (CPU, contiguous copies when needed), in order.
uint64_t tensors_fingerprint(const std::vector<std::pair<std::string, at::Tensor>>& ts);

}  // namespace cb
