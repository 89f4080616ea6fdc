// communicator.cpp — GlooCommunicator on c10d ProcessGroupGloo + FileStore.
#include "quant/communicator.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include "core/error.h"

namespace cb {
namespace {

class GlooCommunicator : public Communicator {
 public:
  GlooCommunicator(const std::string& store_path, int rank, int world) : rank_(rank), world_(world) {
    auto store = c10::make_intrusive<c10d::FileStore>(store_path, world);
    auto opts = c10d::ProcessGroupGloo::Options::create();
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, opts);
  }
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  void allreduce_sum(at::Tensor& t) override {
    std::vector<at::Tensor> v{t};
    pg_->allreduce(v)->wait();
  }
  void broadcast(at::Tensor& t, int root) override {
    std::vector<at::Tensor> v{t};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    pg_->broadcast(v, o)->wait();
  }

 private:
  int rank_, world_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
};

}  // namespace

std::shared_ptr<Communicator> make_gloo_communicator(const std::string& store_path, int rank, int world_size) {
  CB_CHECK_INPUT(world_size >= 1 && rank >= 0 && rank < world_size, "gloo: rank {} / world {} is invalid", rank,
                 world_size);
  return std::make_shared<GlooCommunicator>(store_path, rank, world_size);
}

}  // namespace cb
