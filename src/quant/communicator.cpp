// communicator.cpp — GlooCommunicator on c10d ProcessGroupGloo + FileStore or TCPStore.
#include "quant/communicator.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <glog/logging.h>

#include <chrono>
#include <cstdlib>

#include "core/error.h"

namespace cb {
namespace {

// The first line of a c10d / Gloo message (they carry C++ backtraces after it).
std::string first_line(const c10::Error& e) {
  std::string s = e.what_without_backtrace();
  const size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

class GlooCommunicator : public Communicator {
 public:
  GlooCommunicator(c10::intrusive_ptr<c10d::Store> store, int rank, int world, std::shared_ptr<::gloo::transport::Device> dev,
                   double timeout_s)
      : rank_(rank), world_(world), timeout_s_(timeout_s) {
    auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::milliseconds(int64_t(timeout_s * 1000)));
    opts->devices.push_back(std::move(dev));
    try {
      pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, opts);
    } catch (const c10::Error& e) {
      fail("connecting to the other ranks", e);
    }
  }
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  int64_t collectives() const override { return count_; }
  double collective_seconds() const override { return seconds_; }
  void allreduce_sum(at::Tensor& t) override {
    std::vector<at::Tensor> v{t};
    run("all-reduce", [&] { pg_->allreduce(v)->wait(); });
  }
  void allreduce_sum_many(std::vector<at::Tensor>& ts) override {
    run("all-reduce", [&] {
      std::vector<c10::intrusive_ptr<c10d::Work>> works;
      for (auto& t : ts) {
        std::vector<at::Tensor> v{t};
        works.push_back(pg_->allreduce(v));
      }
      for (auto& w : works) w->wait();
    });
  }
  std::function<void()> allreduce_sum_async(at::Tensor& t) override {
    std::vector<at::Tensor> v{t};
    c10::intrusive_ptr<c10d::Work> work;
    run("all-reduce", [&] { work = pg_->allreduce(v); }, /*counted=*/false);  // counted when awaited
    return [this, work] { run("all-reduce", [&] { work->wait(); }); };
  }
  void barrier() override {
    run("barrier", [&] { pg_->barrier()->wait(); });
  }
  void broadcast(at::Tensor& t, int root) override {
    std::vector<at::Tensor> v{t};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    run("broadcast", [&] { pg_->broadcast(v, o)->wait(); });
  }

 private:
  template <class F>
  void run(const char* what, F&& f, bool counted = true) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      f();
      count_ += counted;
      seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } catch (const c10::Error& e) {
      fail(what, e);
    } catch (const std::exception& e) {
      fail_input("distributed: rank {} of {}: {} failed: {} (another rank exited or stopped answering within {} s)",
                 rank_, world_, what, e.what(), timeout_s_);
    }
  }
  [[noreturn]] void fail(const char* what, const c10::Error& e) {
    fail_input("distributed: rank {} of {}: {} failed: {} (another rank exited or stopped answering within {} s)", rank_,
               world_, what, first_line(e), timeout_s_);
  }
  int rank_, world_;
  double timeout_s_;
  int64_t count_ = 0;
  double seconds_ = 0;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
};

// c10d logs its socket errors through glog on stderr before throwing them; the exception
// becomes our one-line error, so the log lines are noise. GLOG_minloglevel, when set, wins.
void quiet_c10d_logging() {
  if (!std::getenv("GLOG_minloglevel")) FLAGS_minloglevel = google::GLOG_FATAL;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

}  // namespace

std::shared_ptr<Communicator> make_gloo_communicator(const std::string& store_path, int rank, int world_size) {
  CB_CHECK_INPUT(world_size >= 1 && rank >= 0 && rank < world_size, "gloo: rank {} / world {} is invalid", rank,
                 world_size);
  quiet_c10d_logging();
  auto store = c10::make_intrusive<c10d::FileStore>(store_path, world_size);
  return std::make_shared<GlooCommunicator>(store, rank, world_size,
                                            c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"), 300.0);
}

std::shared_ptr<Communicator> make_tcp_gloo_communicator(const TcpRendezvous& r) {
  CB_CHECK_INPUT(r.world_size >= 1 && r.rank >= 0 && r.rank < r.world_size, "distributed: RANK {} is outside [0, "
                 "WORLD_SIZE {})", r.rank, r.world_size);
  CB_CHECK_INPUT(r.master_port > 0 && r.master_port < 65536, "distributed: MASTER_PORT {} is not a TCP port",
                 r.master_port);
  CB_CHECK_INPUT(r.timeout_s > 0, "distributed: the timeout must be positive (got {} s)", r.timeout_s);
  quiet_c10d_logging();
  c10d::TCPStoreOptions o;
  o.port = uint16_t(r.master_port);
  o.isServer = r.rank == 0;
  o.numWorkers = size_t(r.world_size);
  o.waitWorkers = true;
  o.timeout = std::chrono::milliseconds(int64_t(r.timeout_s * 1000));
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(r.master_addr, o);
  } catch (const c10::Error& e) {
    fail_input("distributed: rank {} of {}: the rendezvous at {}:{} did not complete within {} s: {} (check "
               "MASTER_ADDR / MASTER_PORT and that every rank was started)", r.rank, r.world_size, r.master_addr,
               r.master_port, r.timeout_s, first_line(e));
  } catch (const std::exception& e) {
    fail_input("distributed: rank {} of {}: the rendezvous at {}:{} failed: {} (check MASTER_ADDR / MASTER_PORT and "
               "that every rank was started)", r.rank, r.world_size, r.master_addr, r.master_port, e.what());
  }
  std::shared_ptr<::gloo::transport::Device> dev;
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (is_loopback(r.master_addr)) dev = c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  else if (ifname && *ifname) dev = c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  else dev = c10d::ProcessGroupGloo::createDefaultDevice();
  return std::make_shared<GlooCommunicator>(store, r.rank, r.world_size, dev, r.timeout_s);
}

}  // namespace cb
