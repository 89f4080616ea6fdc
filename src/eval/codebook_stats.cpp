// codebook_stats.cpp — usage histogram, perplexity, dead codes, cross-modal code overlap
// (codebook_stats.h).
#include "eval/codebook_stats.h"

#include <cmath>
#include <limits>
#include <set>

#include "core/error.h"
#include "core/shape_str.h"

namespace cb::eval {

CodebookUsage codebook_usage(const at::Tensor& indices, int64_t K) {
  CB_CHECK_INPUT(K > 0, "codebook usage: codebook size must be > 0, got {}", K);
  CB_CHECK_INPUT(indices.defined(), "codebook usage: no code indices");
  at::Tensor idx = indices.to(at::kCPU).to(at::kLong).reshape(-1);
  CodebookUsage u;
  u.total = idx.numel();
  if (u.total > 0) {
    const int64_t lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
    CB_CHECK_INPUT(lo >= 0 && hi < K, "codebook usage: code ids span [{}, {}] but the codebook has {} codes", lo,
                   hi, K);
  }
  u.counts = at::bincount(idx, {}, K);  // (K)
  u.used = (u.counts > 0).sum().item<int64_t>();
  u.dead = K - u.used;
  if (u.total > 0) {
    at::Tensor p = u.counts.to(at::kDouble) / double(u.total);
    at::Tensor nz = p.index({p > 0});
    u.perplexity = std::exp(-(nz * nz.log()).sum().item<double>());
  }
  return u;
}

double shared_code_overlap(const at::Tensor& idx_a, const at::Tensor& labels_a, const at::Tensor& idx_b,
                           const at::Tensor& labels_b, int64_t K) {
  CB_CHECK_INPUT(idx_a.dim() == 2 && idx_b.dim() == 2 && idx_a.size(1) == idx_b.size(1),
                 "code overlap: indices {} and {} must be (N, m) with the same m", shape_str(idx_a),
                 shape_str(idx_b));
  CB_CHECK_INPUT(labels_a.dim() == 1 && labels_a.size(0) == idx_a.size(0) && labels_b.dim() == 1 &&
                     labels_b.size(0) == idx_b.size(0),
                 "code overlap: labels {} / {} do not match indices {} / {}", shape_str(labels_a),
                 shape_str(labels_b), shape_str(idx_a), shape_str(idx_b));
  const int64_t m = idx_a.size(1);
  at::Tensor ia = idx_a.to(at::kCPU).to(at::kLong).contiguous(), ib = idx_b.to(at::kCPU).to(at::kLong).contiguous();
  at::Tensor la = labels_a.to(at::kCPU).to(at::kLong).contiguous(), lb = labels_b.to(at::kCPU).to(at::kLong).contiguous();
  std::set<int64_t> classes_a, classes_b;
  for (int64_t i = 0; i < la.size(0); ++i)
    if (la[i].item<int64_t>() >= 0) classes_a.insert(la[i].item<int64_t>());
  for (int64_t i = 0; i < lb.size(0); ++i)
    if (lb[i].item<int64_t>() >= 0) classes_b.insert(lb[i].item<int64_t>());
  double sum = 0;
  int64_t n = 0;
  for (int64_t c : classes_a) {
    if (!classes_b.count(c)) continue;
    // (na, m) and (nb, m) → one-hot presence per position: (m, K) each.
    at::Tensor ca = ia.index({la == c}), cbi = ib.index({lb == c});
    CB_CHECK_INPUT(ca.max().item<int64_t>() < K && cbi.max().item<int64_t>() < K && ca.min().item<int64_t>() >= 0 &&
                       cbi.min().item<int64_t>() >= 0,
                   "code overlap: code ids out of range for a codebook of {}", K);
    at::Tensor pa = at::zeros({m, K}, at::kBool), pb = at::zeros({m, K}, at::kBool);
    at::Tensor pos_a = at::arange(m, at::kLong).unsqueeze(0).expand_as(ca);
    at::Tensor pos_b = at::arange(m, at::kLong).unsqueeze(0).expand_as(cbi);
    pa.index_put_({pos_a.reshape(-1), ca.reshape(-1)}, true);
    pb.index_put_({pos_b.reshape(-1), cbi.reshape(-1)}, true);
    at::Tensor inter = (pa & pb).sum(1).to(at::kDouble), uni = (pa | pb).sum(1).to(at::kDouble);  // (m)
    sum += (inter / uni).sum().item<double>();
    n += m;
  }
  return n == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / double(n);
}

}  // namespace cb::eval
