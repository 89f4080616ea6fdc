// communicator.h — the few collectives the quantiser needs to keep one codebook across
// processes (docs/model.md §3.9): sum-all-reduce and broadcast.
// LocalCommunicator is the single-process identity; GlooCommunicator wraps c10d Gloo.
#pragma once
#include <ATen/ATen.h>

#include <memory>
#include <string>

namespace cb {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // In place: t ← Σ_ranks t (CPU tensors; float or int64).
  virtual void allreduce_sum(at::Tensor& t) = 0;
  // In place: t ← t of `root` (t must have the same shape and dtype on every rank).
  virtual void broadcast(at::Tensor& t, int root = 0) = 0;
  // Returns once every rank has called it.
  virtual void barrier() {
    at::Tensor t = at::zeros({1});
    allreduce_sum(t);
  }
};

class LocalCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void allreduce_sum(at::Tensor&) override {}
  void broadcast(at::Tensor&, int) override {}
};

// c10d ProcessGroupGloo over a FileStore (a shared file path) on the loopback interface.
// Every rank constructs it with the same `store_path` and `world_size`.
std::shared_ptr<Communicator> make_gloo_communicator(const std::string& store_path, int rank, int world_size);

}  // namespace cb
