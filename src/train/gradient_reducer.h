// gradient_reducer.h — the data-parallel gradient all-reduce, overlapped with the backward
// pass (docs/cli/train.md, "Several processes or machines").
//
// The trainable parameters are split into buckets of ≤ bucket_bytes in reverse order (the
// last layers' gradients are produced first). A hook on every parameter copies its gradient
// into its bucket's flat buffer the moment autograd produces it; when a bucket holds all its
// gradients its all-reduce starts at once, on Gloo's thread, while the backward pass goes on.
// finish() starts the buckets still open (parameters that got no gradient this step count as
// zero), waits for all of them and writes the sums over ranks into every .grad.
//
// Every rank runs the same graph, so the buckets fill — and their collectives start — in the
// same order on every rank, as the process group requires.
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <vector>

#include "quant/communicator.h"

namespace cb {

class GradientReducer {
 public:
  // Registers a hook on each of `params` (leaf tensors that require grad); the hooks stay
  // inert outside a prepare() … finish() window.
  GradientReducer(std::shared_ptr<Communicator> comm, const std::vector<at::Tensor>& params,
                  int64_t bucket_bytes = 4 << 20);
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  void prepare();  // before backward()
  void finish();   // after backward(): every .grad holds Σ over ranks
  size_t buckets() const { return buckets_.size(); }
  // Buckets whose all-reduce started during the backward pass in the last step.
  size_t overlapped() const { return overlapped_; }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    std::vector<int64_t> offset;  // each one's offset in flat
    at::Tensor flat;              // (Σ numel) float32
    size_t pending = 0;           // gradients still to arrive this step
    bool started = false;
    std::function<void()> wait;
  };
  void on_gradient(size_t param, const at::Tensor& grad);
  void start(Bucket& b);

  std::shared_ptr<Communicator> comm_;
  std::vector<at::Tensor> params_;
  std::vector<size_t> bucket_of_, slot_of_;  // per parameter
  std::vector<Bucket> buckets_;
  std::vector<char> arrived_;  // per parameter, this step
  bool armed_ = false;
  size_t overlapped_ = 0;
};

}  // namespace cb
