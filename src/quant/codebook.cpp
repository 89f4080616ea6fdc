// codebook.cpp — see codebook.h. All state changes run under NoGradGuard; only the STE
// output and the commitment loss carry gradients (into the input chunks).
#include "quant/codebook.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/error.h"
#include "quant/assign.h"
#include "quant/commitment.h"
#include "quant/normalize.h"

namespace cb {
namespace {

// Every rank's rows concatenated in rank order (an all-gather built from one all-reduce).
at::Tensor gather_rows(Communicator* comm, const at::Tensor& rows) {
  if (!comm || comm->world_size() == 1) return rows;
  at::Tensor sizes = at::zeros({comm->world_size()}, at::kLong);
  sizes[comm->rank()] = rows.size(0);
  comm->allreduce_sum(sizes);
  auto sz = sizes.accessor<int64_t, 1>();
  int64_t offset = 0, total = 0;
  for (int r = 0; r < comm->world_size(); ++r) {
    if (r < comm->rank()) offset += sz[r];
    total += sz[r];
  }
  at::Tensor buf = at::zeros({total, rows.size(1)}, rows.options());
  buf.narrow(0, offset, rows.size(0)).copy_(rows);
  comm->allreduce_sum(buf);
  return buf;
}

// Per-code counts (K) and sums (K, c) of unit rows (N, c) under idx (N), as float64 (the
// EMA takes them as float32; several ranks add theirs first). Sums are accumulated in
// float64 in row order (the order of index_add_, so the same bits): the correctly rounded
// value for any realistic N. One serial pass on CPU; torch ops elsewhere.
std::pair<at::Tensor, at::Tensor> cluster_sums(const at::Tensor& unit_rows, const at::Tensor& idx, int64_t K) {
  const int64_t c = unit_rows.size(1);
  if (!unit_rows.device().is_cpu() || unit_rows.scalar_type() != at::kFloat) {
    at::Tensor counts = at::bincount(idx, {}, K).to(at::kDouble);
    at::Tensor sums = at::zeros({K, c}, unit_rows.options().dtype(at::kDouble)).index_add_(0, idx, unit_rows.to(at::kDouble));
    return {counts, sums};
  }
  at::Tensor rows = unit_rows.contiguous(), ix = idx.to(at::kLong).contiguous();
  at::Tensor counts = at::zeros({K}, at::kDouble), sums = at::zeros({K, c}, at::kDouble);
  double* n = counts.data_ptr<double>();
  double* sp = sums.data_ptr<double>();
  const float* x = rows.data_ptr<float>();
  const int64_t* k = ix.data_ptr<int64_t>();
  for (int64_t i = 0; i < rows.size(0); ++i) {
    CB_CHECK(k[i] >= 0 && k[i] < K, "cluster_sums: code {} outside [0, {})", k[i], K);
    n[k[i]] += 1;
    double* si = sp + k[i] * c;
    for (int64_t j = 0; j < c; ++j) si[j] += double(x[i * c + j]);
  }
  return {counts, sums};
}

constexpr int64_t kEncodeBlockRows = 1 << 16;  // chunks normalised and assigned per block in encode()

}  // namespace

Codebook::Codebook(CodebookConfig cfg) : cfg_(cfg), gen_(at::detail::createCPUGenerator(cfg.seed)) {
  CB_CHECK_INPUT(cfg_.num_codes > 0 && cfg_.code_dim > 0, "codebook: K={} c={} must be positive", cfg_.num_codes,
                 cfg_.code_dim);
  torch::NoGradGuard ng;
  weight = l2_normalize(at::randn({cfg_.num_codes, cfg_.code_dim}, gen_, at::TensorOptions().dtype(at::kFloat)));
  cluster_size = at::zeros({cfg_.num_codes});
  embed_avg = weight.clone();
  embed_prob = at::zeros({cfg_.num_codes});
}

at::Tensor Codebook::normalized_weight() const { return l2_normalize(weight); }

at::Tensor Codebook::assign(const at::Tensor& unit_rows) const {
  return argmax_cosine(unit_rows.contiguous(), normalized_weight().contiguous());
}

at::Tensor Codebook::encode(const at::Tensor& chunks) const {
  torch::NoGradGuard ng;
  CB_CHECK_INPUT(chunks.size(-1) == cfg_.code_dim, "codebook encode: chunk dim {} != code dim {}", chunks.size(-1),
                 cfg_.code_dim);
  auto sizes = chunks.sizes().vec();
  sizes.pop_back();
  // Normalise and assign kEncodeBlockRows chunks of chunks at a time: the normalised block is still
  // in cache when the kernel reads it, and no full-size temporary (400 MB for 100k 2048-d
  // vectors) is allocated and faulted in. Each row's arithmetic is unchanged.
  // Blocks run along the leading dimension, so a strided view (one half of wider vectors) is
  // read in place, never copied whole.
  const at::Tensor x = chunks.detach().to(at::kFloat);
  // (I, r, c): I leading items of r chunks each (r = 1 for a 2-D input); a view when possible.
  const at::Tensor items = x.dim() == 1 ? x.view({1, 1, -1}) : x.dim() == 2 ? x.unsqueeze(1) : x.flatten(0, x.dim() - 3);
  const at::Tensor w = normalized_weight().contiguous();
  const int64_t I = items.size(0), rows_per = items.size(1);
  at::Tensor out = at::empty({I, rows_per}, at::kLong);
  const int64_t block = std::max<int64_t>(1, kEncodeBlockRows / rows_per);
  for (int64_t b = 0; b < I; b += block) {
    const int64_t len = std::min(block, I - b);
    at::Tensor unit = l2_normalize(items.narrow(0, b, len)).reshape({-1, cfg_.code_dim});
    out.narrow(0, b, len).copy_(argmax_cosine(unit.contiguous(), w).view({len, rows_per}));
  }
  return out.view(sizes);
}

at::Tensor Codebook::decode(const at::Tensor& indices) const {
  auto sizes = indices.sizes().vec();
  sizes.push_back(cfg_.code_dim);
  return weight.index_select(0, indices.reshape({-1}).to(at::kLong)).view(sizes);
}

void Codebook::kmeans_init(const at::Tensor& samples_local) {
  torch::NoGradGuard ng;
  at::Tensor samples = gather_rows(comm_.get(), samples_local.contiguous());
  const int64_t n = samples.size(0), K = cfg_.num_codes;
  CB_CHECK(n > 0, "k-means: no samples");
  at::Tensor pick = n >= K ? at::randperm(n, gen_, at::TensorOptions().dtype(at::kLong)).narrow(0, 0, K)
                           : at::randint(0, n, {K}, gen_, at::TensorOptions().dtype(at::kLong));
  pick = pick.to(samples.device());
  at::Tensor means = samples.index_select(0, pick).clone();
  at::Tensor bins;
  for (int it = 0; it < cfg_.kmeans_iters; ++it) {
    at::Tensor buckets = argmax_cosine(samples, means);  // max dot product
    bins = at::bincount(buckets, {}, K);
    at::Tensor zero = bins.eq(0);
    at::Tensor sums = at::zeros({K, cfg_.code_dim}, samples.options()).index_add_(0, buckets, samples);
    at::Tensor nm = l2_normalize(sums / bins.masked_fill(zero, 1).unsqueeze(1).to(at::kFloat));
    means = at::where(zero.unsqueeze(1), means, nm);
  }
  // kmeans_iters 0: the sampled rows are the codebook; their counts come from one assignment.
  if (!bins.defined()) bins = at::bincount(argmax_cosine(samples, means), {}, K);
  weight = means.contiguous();
  cluster_size = bins.to(at::kFloat);
  embed_avg = means * cluster_size.unsqueeze(1);
  initted = true;
}

void Codebook::ema_update(const at::Tensor& unit_rows, const at::Tensor& idx) {
  torch::NoGradGuard ng;
  auto [counts, sums] = cluster_sums(unit_rows, idx, cfg_.num_codes);
  if (comm_) {
    comm_->allreduce_sum(counts);
    comm_->allreduce_sum(sums);
  }
  apply_ema(counts.to(at::kFloat), sums.to(at::kFloat));
}

void Codebook::apply_ema(const at::Tensor& counts, const at::Tensor& sums) {
  const int64_t K = cfg_.num_codes;
  const double g = cfg_.decay;
  cluster_size.mul_(g).add_(counts.to(cluster_size.device()), 1 - g);
  embed_avg.mul_(g).add_(sums.to(embed_avg.device()), 1 - g);
  at::Tensor n = cluster_size.sum();
  at::Tensor smoothed = (cluster_size + cfg_.eps) / (n + K * cfg_.eps) * n;
  weight = embed_avg / smoothed.unsqueeze(1);
}

at::Tensor Codebook::update_usage(const at::Tensor& idx) {
  torch::NoGradGuard ng;
  at::Tensor bins = at::bincount(idx, {}, cfg_.num_codes);
  if (comm_) comm_->allreduce_sum(bins);
  apply_usage(bins);
  return bins;
}

void Codebook::apply_usage(const at::Tensor& bins) {
  at::Tensor b = bins.to(at::kFloat).to(embed_prob.device());
  embed_prob.mul_(cfg_.decay).add_(b / b.sum(), 1 - cfg_.decay);
}

at::Tensor Codebook::reseed_alpha() const {
  return at::exp(-(embed_prob * double(cfg_.num_codes) * 10.0) / (1 - cfg_.decay) - 1e-3);
}

void Codebook::reseed(const at::Tensor& unit_rows, int64_t offset, int64_t total) {
  torch::NoGradGuard ng;
  const int64_t n = unit_rows.size(0), K = cfg_.num_codes, c = cfg_.code_dim;
  if (total < 0) total = n;
  const bool shared = comm_ && comm_->world_size() > 1;
  // The K feature rows: K random rows of the (global) batch, or all of them topped up with
  // noise. Every rank draws the same indices (same generator state, same total); the rows
  // come from the ranks that hold them, as one all-reduce of a (K, c) buffer that is zero
  // wherever another rank's row goes.
  at::Tensor feat;
  if (total > K) {
    at::Tensor pick = at::randint(0, total, {K}, gen_, at::TensorOptions().dtype(at::kLong));
    if (!shared) {
      feat = unit_rows.index_select(0, pick.to(unit_rows.device()));
    } else {
      at::Tensor local = pick - offset;
      at::Tensor mine = (local >= 0).logical_and(local < n).nonzero().squeeze(1);
      feat = at::zeros({K, c}, at::kFloat);
      feat.index_copy_(0, mine, unit_rows.to(at::kCPU, at::kFloat).index_select(0, local.index_select(0, mine)));
      comm_->allreduce_sum(feat);
      feat = feat.to(unit_rows.device());
    }
  } else {
    at::Tensor noise = at::empty({K - total, c}).uniform_(-1.0 / K, 1.0 / K, gen_);
    at::Tensor rows = unit_rows;
    if (shared) {
      rows = at::zeros({total, c}, at::kFloat);
      rows.narrow(0, offset, n).copy_(unit_rows.to(at::kCPU, at::kFloat));
      comm_->allreduce_sum(rows);
    }
    feat = at::cat({rows.to(unit_rows.device()), noise.to(unit_rows.device())}, 0);
  }
  at::Tensor alpha = reseed_alpha().unsqueeze(1);
  weight = weight * (1 - alpha) + feat * alpha;
}

void Codebook::train_update(const at::Tensor& unit_rows, const at::Tensor& idx) {
  torch::NoGradGuard ng;
  const int64_t K = cfg_.num_codes, c = cfg_.code_dim, n = unit_rows.size(0);
  auto [counts, sums] = cluster_sums(unit_rows, idx, K);  // (K), (K, c) float64, this rank's rows
  int64_t offset = 0, total = n;
  if (comm_ && comm_->world_size() > 1) {
    // One all-reduce for the statistics: [counts (K) | sums (K·c) | row count of each rank (W)].
    const int W = comm_->world_size(), r = comm_->rank();
    at::Tensor buf = at::zeros({K + K * c + W}, at::kDouble);
    buf.narrow(0, 0, K).copy_(counts);
    buf.narrow(0, K, K * c).copy_(sums.reshape({-1}));
    buf[K + K * c + r] = double(n);
    comm_->allreduce_sum(buf);
    counts = buf.narrow(0, 0, K);
    sums = buf.narrow(0, K, K * c).view({K, c});
    const double* rows = buf.data_ptr<double>() + K + K * c;
    total = 0;
    for (int k = 0; k < W; ++k) {
      if (k < r) offset += int64_t(rows[k]);
      total += int64_t(rows[k]);
    }
  }
  apply_ema(counts.to(at::kFloat), sums.to(at::kFloat));
  apply_usage(counts);  // the usage bins are the EMA counts
  if (cfg_.reseed) reseed(unit_rows, offset, total);
}

CodebookOutput Codebook::forward(const at::Tensor& chunks, bool training, int64_t tokens_per_sample) {
  CB_CHECK_INPUT(chunks.dim() == 3 && chunks.size(2) == cfg_.code_dim,
                 "codebook: expected chunks (N0, m, {}), got {}", cfg_.code_dim, c10::str(chunks.sizes()));
  const int64_t n0 = chunks.size(0), m = chunks.size(1), c = cfg_.code_dim;
  CB_CHECK_INPUT(tokens_per_sample >= 1 && n0 % tokens_per_sample == 0,
                 "codebook: {} rows are not a multiple of tokens_per_sample {}", n0, tokens_per_sample);
  CodebookOutput out;
  out.unit = l2_normalize(chunks.to(at::kFloat));  // (N0, m, c), with grad
  at::Tensor flat = out.unit.detach().reshape({n0 * m, c}).contiguous();
  if (!initted) {
    const int64_t B = n0 / tokens_per_sample;
    at::Tensor cls = out.unit.detach().view({B, tokens_per_sample, m, c}).select(1, 0).reshape({B * m, c});
    kmeans_init(cls);
  }
  out.indices = assign(flat);  // (N0·m)
  at::Tensor q = weight.index_select(0, out.indices).view({n0, m, c});  // rows before any update
  if (training) train_update(flat, out.indices);
  out.commit = commitment_loss(out.unit, q, cfg_.beta);
  out.q = out.unit + (q - out.unit).detach();
  out.indices = out.indices.view({n0, m});
  return out;
}

CodebookUsage Codebook::usage(const at::Tensor& indices) const {
  CodebookUsage u;
  u.histogram = at::bincount(indices.reshape({-1}).to(at::kLong).cpu(), {}, cfg_.num_codes);
  at::Tensor p = u.histogram.to(at::kDouble);
  double total = p.sum().item<double>();
  if (total > 0) {
    p = p / total;
    at::Tensor nz = p.masked_select(p.gt(0));
    u.perplexity = std::exp(-(nz * nz.log()).sum().item<double>());
  }
  u.dead = u.histogram.eq(0).sum().item<int64_t>();
  return u;
}

void Codebook::save(NamedTensors& out, const std::string& prefix) const {
  out.push_back({prefix + "weight", weight});
  out.push_back({prefix + "cluster_size", cluster_size});
  out.push_back({prefix + "embed_avg", embed_avg});
  out.push_back({prefix + "embed_prob", embed_prob});
  out.push_back({prefix + "initted", at::tensor(uint8_t(initted ? 1 : 0))});
}

void Codebook::load_state(const std::map<std::string, at::Tensor>& t, const std::string& prefix) {
  auto get = [&](const std::string& k, at::IntArrayRef shape) {
    auto it = t.find(prefix + k);
    if (it == t.end()) fail_input("quantiser state: missing tensor '{}{}'", prefix, k);
    CB_CHECK_INPUT(it->second.sizes() == shape, "quantiser state: '{}{}' has shape {}, expected {}", prefix, k,
                   c10::str(it->second.sizes()), c10::str(shape));
    return it->second.to(at::kFloat).clone();
  };
  const int64_t K = cfg_.num_codes, c = cfg_.code_dim;
  weight = get("weight", {K, c});
  cluster_size = get("cluster_size", {K});
  embed_avg = get("embed_avg", {K, c});
  embed_prob = get("embed_prob", {K});
  auto it = t.find(prefix + "initted");
  initted = it == t.end() ? true : it->second.item<double>() != 0;
}

void Codebook::load(const SafetensorsFile& f, const std::string& prefix) {
  std::map<std::string, at::Tensor> t;
  for (const char* k : {"weight", "cluster_size", "embed_avg", "embed_prob", "initted"})
    if (f.has(prefix + k)) t[prefix + k] = f.get(prefix + k);
  load_state(t, prefix);
}

void Codebook::to(const at::Device& device) {
  weight = weight.to(device);
  cluster_size = cluster_size.to(device);
  embed_avg = embed_avg.to(device);
  embed_prob = embed_prob.to(device);
}

}  // namespace cb
