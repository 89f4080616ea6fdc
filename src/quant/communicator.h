// communicator.h — the collectives codebind's processes share (docs/model.md §3.9 for the
// quantiser, docs/cli/train.md "Several processes" for data-parallel training): sum-all-reduce,
// broadcast, barrier. LocalCommunicator is the single-process identity; the Gloo communicators
// wrap c10d's ProcessGroupGloo, rendezvousing over a FileStore (one machine, tests) or a
// TCPStore (the torchrun environment: one machine or several).
//
// A collective that fails — a peer process exited, or did not answer within the timeout —
// throws InputError (exit code 2) naming this rank, the collective and the cause, so every
// surviving rank ends with one line instead of hanging.
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cb {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // In place: t ← Σ_ranks t (CPU tensors; float or int64).
  virtual void allreduce_sum(at::Tensor& t) = 0;
  // In place, each tensor t ← Σ_ranks t; all are started before any is awaited, so the
  // transfers of several buckets overlap. The default runs them one after another.
  virtual void allreduce_sum_many(std::vector<at::Tensor>& ts) {
    for (auto& t : ts) allreduce_sum(t);
  }
  // Starts t ← Σ_ranks t and returns; the returned function waits for it (and throws what
  // the collective threw). t must stay alive and untouched until then. Every rank must start
  // its collectives in the same order. The default runs it at once.
  virtual std::function<void()> allreduce_sum_async(at::Tensor& t) {
    allreduce_sum(t);
    return [] {};
  }
  // In place: t ← t of `root` (t must have the same shape and dtype on every rank).
  virtual void broadcast(at::Tensor& t, int root = 0) = 0;
  // Returns once every rank has called it.
  virtual void barrier() {
    at::Tensor t = at::zeros({1});
    allreduce_sum(t);
  }
  // Collectives run so far and the seconds spent waiting for them (transfer + waiting for
  // the slowest rank). The Gloo communicators count; the others report 0.
  virtual int64_t collectives() const { return 0; }
  virtual double collective_seconds() const { return 0; }
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

// Where the ranks of a job meet: rank 0 serves a c10d TCPStore on master_addr:master_port,
// the others connect to it (the torchrun convention).
struct TcpRendezvous {
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  int rank = 0, world_size = 1;
  double timeout_s = 300;  // rendezvous and every collective
};

// c10d ProcessGroupGloo over a TCPStore. The network device is the loopback interface when
// master_addr is a loopback address, $GLOO_SOCKET_IFNAME when set, else the interface of this
// host's name. Throws InputError when the rendezvous does not complete within the timeout.
std::shared_ptr<Communicator> make_tcp_gloo_communicator(const TcpRendezvous& r);

}  // namespace cb
