// gradient_reducer.cpp — see gradient_reducer.h.
#include "train/gradient_reducer.h"

#include <torch/torch.h>

#include "core/error.h"

namespace cb {

GradientReducer::GradientReducer(std::shared_ptr<Communicator> comm, const std::vector<at::Tensor>& params,
                                 int64_t bucket_bytes)
    : comm_(std::move(comm)), params_(params), bucket_of_(params.size()), slot_of_(params.size()),
      arrived_(params.size(), 0) {
  int64_t bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {  // reverse: the order gradients come in
    const at::Tensor& p = params_[k];
    CB_CHECK(p.scalar_type() == at::kFloat && p.requires_grad(), "GradientReducer: parameter {} is not a float32 "
             "tensor that requires grad", k);
    const int64_t b = p.numel() * 4;
    if (buckets_.empty() || (bytes + b > bucket_bytes && !buckets_.back().params.empty())) {
      buckets_.emplace_back();
      bytes = 0;
    }
    Bucket& bk = buckets_.back();
    bucket_of_[k] = buckets_.size() - 1;
    slot_of_[k] = bk.params.size();
    bk.offset.push_back(bk.params.empty() ? 0 : bk.offset.back() + params_[bk.params.back()].numel());
    bk.params.push_back(k);
    bytes += b;
  }
  for (Bucket& bk : buckets_)
    bk.flat = at::zeros({bk.offset.back() + params_[bk.params.back()].numel()}, at::kFloat);
  for (size_t k = 0; k < params_.size(); ++k)
    params_[k].register_hook([this, k](const at::Tensor& g) {
      on_gradient(k, g);
      return at::Tensor();  // the gradient itself is left as it is
    });
}

void GradientReducer::prepare() {
  for (Bucket& b : buckets_) {
    b.flat.zero_();
    b.pending = b.params.size();
    b.started = false;
    b.wait = nullptr;
  }
  std::fill(arrived_.begin(), arrived_.end(), 0);
  overlapped_ = 0;
  armed_ = true;
}

void GradientReducer::on_gradient(size_t k, const at::Tensor& g) {
  if (!armed_) return;
  // A leaf's hook sees the gradient summed over all its uses, once per backward pass.
  CB_CHECK(!arrived_[k], "GradientReducer: parameter {} received a second gradient in one backward pass", k);
  arrived_[k] = 1;
  Bucket& b = buckets_[bucket_of_[k]];
  const size_t slot = slot_of_[k];
  b.flat.narrow(0, b.offset[slot], g.numel()).copy_(g.detach().reshape({-1}));
  if (--b.pending == 0) {
    start(b);
    ++overlapped_;
  }
}

void GradientReducer::start(Bucket& b) {
  b.started = true;
  b.wait = comm_->allreduce_sum_async(b.flat);
}

void GradientReducer::finish() {
  CB_CHECK(armed_, "GradientReducer::finish without prepare");
  armed_ = false;
  // Buckets with a parameter that got no gradient start now, in index order (the same on
  // every rank: the graph, hence the set of parameters without a gradient, is the same).
  for (Bucket& b : buckets_)
    if (!b.started) start(b);
  torch::NoGradGuard ng;
  for (Bucket& b : buckets_) {
    b.wait();
    for (size_t s = 0; s < b.params.size(); ++s) {
      at::Tensor& p = params_[b.params[s]];
      if (!arrived_[b.params[s]]) continue;  // no gradient on any rank: .grad stays as it is
      p.mutable_grad().copy_(b.flat.narrow(0, b.offset[s], p.numel()).view_as(p));
    }
  }
}

}  // namespace cb
