// distributed.cpp — see distributed.h.
#include "train/distributed.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.h"
#include "core/hash.h"

namespace cb {
namespace {

// An environment variable as an integer; InputError naming it when it is not one.
int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  CB_CHECK_INPUT(end && *end == '\0', "distributed: environment variable {}='{}' is not an integer", name, v);
  return int(x);
}

// The all-gather of rows with its gradient routed back to this rank's rows.
struct AllGatherRows : public torch::autograd::Function<AllGatherRows> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& local, Communicator* comm) {
    const int W = comm->world_size(), r = comm->rank();
    at::Tensor sizes = at::zeros({W}, at::kLong);
    sizes[r] = local.size(0);
    comm->allreduce_sum(sizes);
    int64_t offset = 0, total = 0;
    for (int k = 0; k < W; ++k) {
      if (k < r) offset += sizes[k].item<int64_t>();
      total += sizes[k].item<int64_t>();
    }
    auto shape = local.sizes().vec();
    shape[0] = total;
    at::Tensor buf = at::zeros(shape, local.options().requires_grad(false));
    buf.narrow(0, offset, local.size(0)).copy_(local.detach());
    comm->allreduce_sum(buf);  // zeros elsewhere: the sum is an exact copy of every rank's rows
    ctx->saved_data["offset"] = offset;
    ctx->saved_data["rows"] = local.size(0);
    return buf;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const int64_t offset = ctx->saved_data["offset"].toInt(), rows = ctx->saved_data["rows"].toInt();
    return {grad[0].narrow(0, offset, rows), at::Tensor()};
  }
};

template <class T>
std::vector<T> rows_of(const std::vector<T>& v, int64_t lo, int64_t hi) {
  if (v.empty()) return v;
  return std::vector<T>(v.begin() + lo, v.begin() + hi);
}

}  // namespace

DistEnv DistEnv::from_env() {
  DistEnv e;
  e.world_size = env_int("WORLD_SIZE", 1);
  CB_CHECK_INPUT(e.world_size >= 1, "distributed: WORLD_SIZE={} must be at least 1", e.world_size);
  if (e.world_size == 1) return e;
  CB_CHECK_INPUT(std::getenv("RANK"), "distributed: WORLD_SIZE={} is set but RANK is not (launch with torchrun's "
                 "variables RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, or with --nproc N)", e.world_size);
  e.rank = env_int("RANK", 0);
  CB_CHECK_INPUT(e.rank >= 0 && e.rank < e.world_size, "distributed: RANK={} is outside [0, WORLD_SIZE={})", e.rank,
                 e.world_size);
  e.local_rank = env_int("LOCAL_RANK", e.rank);
  const char* addr = std::getenv("MASTER_ADDR");
  CB_CHECK_INPUT(addr && *addr, "distributed: WORLD_SIZE={} but MASTER_ADDR is not set (the host of rank 0)",
                 e.world_size);
  e.master_addr = addr;
  e.master_port = env_int("MASTER_PORT", 0);
  CB_CHECK_INPUT(e.master_port > 0 && e.master_port < 65536,
                 "distributed: MASTER_PORT must be a TCP port of rank 0's host (got '{}')",
                 std::getenv("MASTER_PORT") ? std::getenv("MASTER_PORT") : "");
  return e;
}

DataParallel DataParallel::join(const DistEnv& env, double timeout_s) {
  if (!env.active()) return DataParallel();
  TcpRendezvous r;
  r.master_addr = env.master_addr;
  r.master_port = env.master_port;
  r.rank = env.rank;
  r.world_size = env.world_size;
  r.timeout_s = timeout_s;
  return DataParallel(make_tcp_gloo_communicator(r));
}

BatchPlan DataParallel::shard(const BatchPlan& g) const {
  if (!active()) return g;
  int64_t B = 0;
  for (const auto& [m, items] : g.items) B = std::max<int64_t>(B, int64_t(items.size()));
  B = std::max<int64_t>(B, int64_t(g.prompts.size()));
  const int W = world_size();
  CB_CHECK_INPUT(B % W == 0, "distributed: batch_size {} is not divisible by the {} processes (batch_size is the "
                 "global batch; each rank takes batch_size / processes rows)", B, W);
  const int64_t lo = B / W * rank(), hi = lo + B / W;
  BatchPlan p;
  p.classes = rows_of(g.classes, lo, hi);
  p.groups = rows_of(g.groups, lo, hi);
  p.prompts = rows_of(g.prompts, lo, hi);
  for (const auto& [m, items] : g.items) p.items[m] = rows_of(items, lo, hi);
  return p;
}

at::Tensor DataParallel::all_gather(const at::Tensor& local) const {
  if (!active()) return local;
  return AllGatherRows::apply(local, comm_.get());
}

std::vector<at::Tensor> DataParallel::all_gather_many(const std::vector<at::Tensor>& locals) const {
  if (!active() || locals.empty()) return locals;
  // Side by side as (n, Σ widths) rows, gathered once, split back.
  const int64_t n = locals[0].size(0);
  std::vector<at::Tensor> flat;
  std::vector<int64_t> widths;
  for (const at::Tensor& t : locals) {
    CB_CHECK(t.size(0) == n, "all_gather_many: {} rows next to {}", t.size(0), n);
    flat.push_back(t.reshape({n, -1}).to(at::kFloat));
    widths.push_back(flat.back().size(1));
  }
  const at::Tensor all = all_gather(at::cat(flat, 1));  // (N, Σ widths)
  std::vector<at::Tensor> out;
  int64_t col = 0;
  for (size_t i = 0; i < locals.size(); ++i) {
    auto shape = locals[i].sizes().vec();
    shape[0] = all.size(0);
    out.push_back(all.narrow(1, col, widths[i]).reshape(shape));
    col += widths[i];
  }
  return out;
}

void DataParallel::allreduce_gradients(const std::vector<at::Tensor>& params, int64_t bucket_bytes) const {
  if (!active()) return;
  const auto t0 = std::chrono::steady_clock::now();
  // Buckets of consecutive float gradients, flattened into one buffer each.
  std::vector<std::vector<at::Tensor>> buckets;
  int64_t bytes = 0;
  for (const at::Tensor& p : params) {
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;
    CB_CHECK(g.scalar_type() == at::kFloat, "allreduce_gradients: gradient of dtype {} (float32 expected)",
             c10::toString(g.scalar_type()));
    const int64_t b = g.numel() * 4;
    if (buckets.empty() || (bytes + b > bucket_bytes && !buckets.back().empty())) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(g);
    bytes += b;
  }
  std::vector<at::Tensor> flat;
  for (auto& b : buckets) {
    std::vector<at::Tensor> parts;
    for (auto& g : b) parts.push_back(g.reshape({-1}));
    flat.push_back(at::cat(parts));
  }
  comm_->allreduce_sum_many(flat);
  for (size_t i = 0; i < buckets.size(); ++i) {
    int64_t off = 0;
    for (auto& g : buckets[i]) {
      g.copy_(flat[i].narrow(0, off, g.numel()).view_as(g));
      off += g.numel();
    }
  }
  *allreduce_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void DataParallel::overlap_gradients(const std::vector<at::Tensor>& params, int64_t bucket_bytes) {
  if (active()) reducer_ = std::make_shared<GradientReducer>(comm_, params, bucket_bytes);
}

void DataParallel::before_backward() const {
  if (reducer_) reducer_->prepare();
}

void DataParallel::after_backward() const {
  if (!reducer_) return;
  const auto t0 = std::chrono::steady_clock::now();
  reducer_->finish();
  *allreduce_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::map<std::string, double> DataParallel::mean(const std::map<std::string, double>& values) const {
  if (!active()) return values;
  at::Tensor t = at::empty({int64_t(values.size())}, at::kDouble);
  int64_t i = 0;
  for (auto& [k, v] : values) t[i++] = v;
  comm_->allreduce_sum(t);
  std::map<std::string, double> out;
  i = 0;
  for (auto& [k, v] : values) out[k] = t[i++].item<double>() / world_size();
  return out;
}

std::string DataParallel::differing_ranks(uint64_t value) const {
  if (!active()) return "";
  // Every rank's value in its own slot (as two 32-bit halves: int64 sums stay exact).
  at::Tensor t = at::zeros({world_size(), 2}, at::kLong);
  t[rank()][0] = int64_t(value >> 32);
  t[rank()][1] = int64_t(value & 0xffffffffu);
  comm_->allreduce_sum(t);
  std::string differ;
  for (int r = 1; r < world_size(); ++r)
    if (!t[r].equal(t[0])) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
  return differ;
}

void DataParallel::check_same(const std::string& what, uint64_t value) const {
  const std::string differ = differing_ranks(value);
  CB_CHECK_INPUT(differ.empty(), "distributed: rank {} of {}: the {} differs between rank 0 and rank(s) {}; every "
                 "rank must be started with the same arguments and files", rank(), world_size(), what, differ);
}

uint64_t file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  CB_CHECK_INPUT(in, "{}: cannot open", path);
  in.seekg(0, std::ios::end);
  const uint64_t size = uint64_t(in.tellg());
  uint64_t h = fnv1a64(reinterpret_cast<const uint8_t*>(&size), sizeof size);
  constexpr uint64_t kPart = 4 << 20;
  std::vector<char> buf(kPart);
  for (uint64_t at : {uint64_t(0), size > kPart ? size - kPart : uint64_t(0)}) {
    in.seekg(std::streamoff(at));
    in.read(buf.data(), std::streamsize(std::min(kPart, size - at)));
    h = fnv1a64(reinterpret_cast<const uint8_t*>(buf.data()), size_t(in.gcount()), h);
    in.clear();
  }
  return h;
}

uint64_t dataset_fingerprint(const std::string& data_dir) {
  uint64_t h = kFnvOffset;
  for (const char* f : {"/dataset.json", "/items.jsonl"}) {
    std::ifstream in(data_dir + f, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    h = fnv1a64(s, h);
  }
  return h;
}

uint64_t tensors_fingerprint(const std::vector<std::pair<std::string, at::Tensor>>& ts) {
  uint64_t h = kFnvOffset;
  for (const auto& [name, t] : ts) {
    h = fnv1a64(name, h);
    if (!t.defined()) continue;
    const at::Tensor c = t.detach().cpu().contiguous();
    h = fnv1a64(static_cast<const uint8_t*>(c.data_ptr()), size_t(c.nbytes()), h);
  }
  return h;
}

}  // namespace cb
