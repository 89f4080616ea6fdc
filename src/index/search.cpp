// search.cpp — query normalisation, quantised lookup tables with error bounds, the threaded
// blocked scan with per-thread candidate lists, exact re-scoring of the candidates, and
// optional float re-ranking (see search.h; the hot loops are in search_kernels.cpp).
#include "index/search.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/threads.h"
#include "index/search_kernels.h"

namespace cb::index {
namespace {

using detail::kLanes;

// Items per database block: acc = 2048 × 16 × 2 B = 64 KB and 4 table slices = 128 KB in L2.
constexpr int64_t kBlock = 2048;
// Query batches (of 16) per pass over the database: each block's codes are transposed once
// for all of them.
constexpr int kBatchesPerPass = 4;

// Better = higher score, then lower row (deterministic ties).
inline bool better(const Hit& a, const Hit& b) { return a.score > b.score || (a.score == b.score && a.row < b.row); }

// Bounded top-k: a heap whose top is the worst kept hit.
struct TopK {
  int k = 0;
  std::vector<Hit> h;
  void push(int64_t row, float s) {
    Hit x{row, s};
    if (static_cast<int>(h.size()) < k) {
      h.push_back(x);
      std::push_heap(h.begin(), h.end(), better);
    } else if (better(x, h.front())) {
      std::pop_heap(h.begin(), h.end(), better);
      h.back() = x;
      std::push_heap(h.begin(), h.end(), better);
    }
  }
  // Scores below this cannot enter (−∞ until k hits are held).
  float threshold() const {
    return static_cast<int>(h.size()) < k ? -std::numeric_limits<float>::infinity() : h.front().score;
  }
};

// 64-byte aligned buffer.
template <typename T>
struct Aligned {
  std::vector<T> v;
  T* p = nullptr;
  void resize(size_t n) {
    v.assign(n + 64 / sizeof(T), T{});
    p = reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(v.data()) + 63) & ~uintptr_t(63));
  }
};

// Quantised tables of one batch of ≤ 16 queries: approx dot ã_l = base_l + scale_l · Σ_j Tq[j][k_j][l],
// |ã_l − exact| ≤ err_l; stored as hi = base + err, lo = base − err.
struct QTables {
  Aligned<int16_t> shared, spec;  // (chunks4, K, 16), (chunks4, Ks, 16)
  float hi[kLanes], lo[kLanes], scale[kLanes];
};

// Float tables (chunks, nl, K) for nl normalised query halves q (nl, chunks·c).
at::Tensor float_tables(const at::Tensor& q, const Codebook& cbk, uint32_t chunks) {
  const int64_t nl = q.size(0), c = cbk.dim;
  at::Tensor C = at::from_blob(const_cast<float*>(cbk.w.data()), {cbk.rows, c}, at::kFloat);
  return at::matmul(q.reshape({nl, chunks, c}).permute({1, 0, 2}), C.t());
}

// Writes round((t − min_k t) / Δ) into dst (chunks4, K, 16), lanes/chunks past the data stay 0.
void quantise_into(const at::Tensor& t, const at::Tensor& mn, const at::Tensor& step, int64_t R, uint32_t chunks4,
                   Aligned<int16_t>& dst) {
  const int64_t m = t.size(0), nl = t.size(1), K = t.size(2);
  dst.resize(size_t(chunks4) * K * kLanes);
  at::Tensor q = ((t - mn) / step.view({1, nl, 1})).round_().clamp_(0, double(R)).to(at::kShort);
  at::Tensor d = at::from_blob(dst.p, {int64_t(chunks4), K, kLanes}, at::kShort);
  d.narrow(0, 0, m).narrow(2, 0, nl).copy_(q.permute({0, 2, 1}));
}

void build_tables(const at::Tensor& qb, const Index& ix, const Codebook* spec, QTables& out) {
  const uint32_t m = ix.chunks(), m4 = (m + 3) / 4 * 4;
  const int64_t half = int64_t(m) * ix.chunk_dim(), nl = qb.size(0);
  std::vector<at::Tensor> ts = {float_tables(qb.narrow(1, 0, half), ix.shared_codebook(), m)};
  if (spec) ts.push_back(float_tables(qb.narrow(1, half, half), *spec, m));
  const int64_t total = int64_t(m) * int64_t(ts.size());
  const int64_t R = std::min<int64_t>(32767, 65535 / total);  // Σ of `total` entries ≤ 65535
  at::Tensor range = at::zeros({nl}), base = at::zeros({nl}), maxabs = at::zeros({nl});
  std::vector<at::Tensor> mins;
  for (const at::Tensor& t : ts) {
    at::Tensor mn = t.amin(2, true);  // (m, nl, 1)
    range = at::maximum(range, (t.amax(2, true) - mn).amax({0, 2}));
    base += mn.sum(at::IntArrayRef{0, 2});
    maxabs += t.abs().amax(2).sum(0);
    mins.push_back(mn);
  }
  at::Tensor step = range / double(R);
  step = at::where(step > 0, step, at::ones_like(step));
  // Per entry: rounding ≤ Δ/2 (+ float error of the division, ≪ 1e-3 Δ); the float tables and
  // the float sum base + Δ·S are off by ~1e-7 relative — covered by 1e-5·Σ_j max|t| + 1e-6.
  at::Tensor err = step * (double(total) * 0.501) + maxabs * 1e-5 + 1e-6;
  quantise_into(ts[0], mins[0], step, R, m4, out.shared);
  if (spec) quantise_into(ts[1], mins[1], step, R, m4, out.spec);
  for (int l = 0; l < kLanes; ++l) {
    if (l < nl) {
      out.hi[l] = (base[l] + err[l]).item<float>();
      out.lo[l] = (base[l] - err[l]).item<float>();
      out.scale[l] = step[l].item<float>();
    } else {
      out.hi[l] = out.lo[l] = out.scale[l] = 0;
    }
  }
}

void run_scan(Kernel k, const detail::BlockCodes& b, const int16_t* T, uint32_t K, uint16_t* acc) {
  switch (k) {
    case Kernel::Avx512: detail::scan_avx512(b, T, K, acc); return;
    case Kernel::Avx2: detail::scan_avx2(b, T, K, acc); return;
    default: detail::scan_scalar(b, T, K, acc); return;
  }
}

void run_bounds(Kernel k, const uint16_t* acc, int64_t nb, const float* w, const QTables& t, const float* th,
                uint16_t* mask) {
  switch (k) {
    case Kernel::Avx512: detail::bounds_avx512(acc, nb, w, t.hi, t.scale, th, mask); return;
    case Kernel::Avx2: detail::bounds_avx2(acc, nb, w, t.hi, t.scale, th, mask); return;
    default: detail::bounds_scalar(acc, nb, w, t.hi, t.scale, th, mask); return;
  }
}

struct Candidate {
  int64_t row;
  float ub;
};

// One query's first-pass state in one database shard.
struct QueryState {
  TopK lb;                      // the best lower bounds seen
  std::vector<Candidate> cand;  // items whose upper bound reached the threshold when seen
};

// Exact Σ_j q_j · C[k_j(row)] over the packed codes of one row (double accumulation).
double exact_dot(const float* q, const uint8_t* row, uint32_t bits, uint32_t chunks, const Codebook& cbk) {
  double s = 0;
  const uint32_t c = cbk.dim;
  for (uint32_t j = 0; j < chunks; ++j) {
    const float* cv = cbk.row(read_code(row, j, bits));
    const float* qj = q + size_t(j) * c;
    for (uint32_t d = 0; d < c; ++d) s += double(qj[d]) * cv[d];
  }
  return s;
}

}  // namespace

const char* kernel_name(Kernel k) {
  switch (k) {
    case Kernel::Avx512: return "avx512";
    case Kernel::Avx2: return "avx2";
    case Kernel::Scalar: return "generic";
    case Kernel::Auto: return kernel_name(best_kernel());
  }
  return "?";
}

Kernel best_kernel() {
  static const Kernel k = [] {
    if (const char* e = std::getenv("CODEBIND_INDEX_KERNEL")) {
      std::string s = e;
      if (s == "generic") return Kernel::Scalar;
      if (s == "avx2" && __builtin_cpu_supports("avx2")) return Kernel::Avx2;
    }
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) return Kernel::Avx512;
    if (__builtin_cpu_supports("avx2")) return Kernel::Avx2;
    return Kernel::Scalar;
  }();
  return k;
}

std::vector<std::vector<Hit>> search(const Index& index, const float* queries, int64_t nq, int64_t dim,
                                     Modality qmod, const SearchOptions& opt) {
  const uint32_t m = index.chunks(), c = index.chunk_dim();
  const int64_t half = int64_t(m) * c;
  CB_CHECK_INPUT(opt.k >= 1, "index search: k must be ≥ 1 (got {})", opt.k);
  CB_CHECK_INPUT(dim >= half, "index search: queries have {} columns, the index needs at least {}", dim, half);
  const Codebook* spec = index.has_specific() ? index.specific_codebook(qmod) : nullptr;
  const bool concat = opt.mode == SearchMode::Concat && spec != nullptr;
  if (concat)
    CB_CHECK_INPUT(dim >= 2 * half, "index search: concat mode needs {}-wide queries (shared + specific), got {}",
                   2 * half, dim);
  const int64_t Dq = concat ? 2 * half : half;
  Kernel kern = opt.kernel == Kernel::Auto ? best_kernel() : opt.kernel;
  if (kern == Kernel::Avx512 && !(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")))
    kern = Kernel::Scalar;
  if (kern == Kernel::Avx2 && !__builtin_cpu_supports("avx2")) kern = Kernel::Scalar;

  // Normalised queries (nq, Dq): cosine needs ‖q‖ = 1 over the part that is compared.
  at::Tensor Q = at::from_blob(const_cast<float*>(queries), {nq, dim}, at::kFloat).narrow(1, 0, Dq).contiguous();
  Q = Q / Q.norm(2, 1, true).clamp_min(1e-12);
  const float* Qp = Q.data_ptr<float>();
  const bool rerank = opt.rerank > 0 && index.float_dim() >= Dq && index.embeddings() != nullptr;
  const int cand = rerank ? std::max(opt.k, opt.rerank) : opt.k;

  const int64_t N = index.size();
  const float* inv = concat ? index.inv_norm_concat() : index.inv_norm_shared();
  const int want = concat ? static_cast<int>(qmod) : opt.only_modality;
  const uint8_t* mods = index.modalities();
  const uint32_t K = index.shared_codebook().rows, Ks = concat ? spec->rows : 0;

  const int64_t nblocks = (N + kBlock - 1) / kBlock;
  const int64_t P = std::max<int64_t>(1, std::min<int64_t>(thread_count(), nblocks));
  std::vector<std::vector<Hit>> out(nq);
  int64_t rescored = 0;
  constexpr int64_t kPass = int64_t(kLanes) * kBatchesPerPass;
  for (int64_t p0 = 0; p0 < nq && N > 0; p0 += kPass) {
    const int64_t np = std::min(kPass, nq - p0), nbatch = (np + kLanes - 1) / kLanes;
    std::vector<QTables> tables(nbatch);
    for (int64_t b = 0; b < nbatch; ++b)
      build_tables(Q.narrow(0, p0 + b * kLanes, std::min<int64_t>(kLanes, np - b * kLanes)), index,
                   concat ? spec : nullptr, tables[b]);
    std::vector<std::vector<QueryState>> st(P, std::vector<QueryState>(np));
    at::parallel_for(0, P, 1, [&](int64_t pb, int64_t pe) {
      detail::BlockCodes bs, bp;
      Aligned<uint16_t> acc;
      acc.resize(size_t(kBlock) * kLanes);
      std::vector<uint16_t> mask(kBlock);
      float th[kLanes];
      for (int64_t p = pb; p < pe; ++p) {
        for (QueryState& s : st[p]) s.lb.k = cand;
        const int64_t b0 = nblocks * p / P, b1 = nblocks * (p + 1) / P;
        for (int64_t blk = b0; blk < b1; ++blk) {
          const int64_t r0 = blk * kBlock, nb = std::min<int64_t>(kBlock, N - r0);
          detail::load_block(index.shared_codes(), index.shared_code_bytes(), index.shared_bits(), m, N, r0, nb, bs);
          if (concat)
            detail::load_block(index.specific_codes(), index.specific_code_bytes(), index.specific_bits(), m, N, r0,
                               nb, bp);
          for (int64_t b = 0; b < nbatch; ++b) {
            const QTables& t = tables[b];
            const int64_t q0 = b * kLanes, nl = std::min<int64_t>(kLanes, np - q0);
            std::memset(acc.p, 0, size_t(nb) * kLanes * sizeof(uint16_t));
            run_scan(kern, bs, t.shared.p, K, acc.p);
            if (concat) run_scan(kern, bp, t.spec.p, Ks, acc.p);
            for (int l = 0; l < kLanes; ++l)
              th[l] = l < nl ? st[p][q0 + l].lb.threshold() : std::numeric_limits<float>::infinity();
            run_bounds(kern, acc.p, nb, inv + r0, t, th, mask.data());
            for (int64_t i = 0; i < nb; ++i) {
              if (mask[i] == 0) continue;
              const int64_t r = r0 + i;
              if (want >= 0 && mods[r] != want) continue;
              const float w = inv[r];
              for (uint32_t bits = mask[i]; bits; bits &= bits - 1) {
                const int l = __builtin_ctz(bits);
                const float S = float(acc.p[i * kLanes + l]);
                const float ub = (t.hi[l] + t.scale[l] * S) * w;
                QueryState& s = st[p][q0 + l];
                if (ub < s.lb.threshold()) continue;  // the threshold rose within this block
                s.cand.push_back({r, ub});
                s.lb.push(r, (t.lo[l] + t.scale[l] * S) * w);
              }
            }
          }
        }
      }
    });
    // Merge the shards: global threshold from every shard's lower bounds, then exact scores of
    // the surviving candidates.
    std::vector<int64_t> n_rescored(np, 0);
    at::parallel_for(0, np, 1, [&](int64_t qb, int64_t qe) {
      for (int64_t qi = qb; qi < qe; ++qi) {
        TopK lb;
        lb.k = cand;
        for (int64_t p = 0; p < P; ++p)
          for (const Hit& h : st[p][qi].lb.h) lb.push(h.row, h.score);
        const float theta = lb.threshold();
        const float* q = Qp + (p0 + qi) * Dq;
        TopK best;
        best.k = cand;
        for (int64_t p = 0; p < P; ++p)
          for (const Candidate& cd : st[p][qi].cand) {
            if (cd.ub < theta) continue;
            const int64_t r = cd.row;
            double dot = exact_dot(q, index.shared_codes() + r * index.shared_code_bytes(), index.shared_bits(), m,
                                   index.shared_codebook());
            if (concat)
              dot += exact_dot(q + half, index.specific_codes() + r * index.specific_code_bytes(),
                               index.specific_bits(), m, *spec);
            best.push(r, float(dot * double(inv[r])));
            ++n_rescored[qi];
          }
        std::sort(best.h.begin(), best.h.end(), better);
        out[p0 + qi] = std::move(best.h);
      }
    });
    for (int64_t v : n_rescored) rescored += v;
  }
  if (opt.rescored) *opt.rescored = rescored;

  if (rerank) {
    const int64_t fd = index.float_dim();
    for (int64_t q = 0; q < nq; ++q) {
      const float* qv = Qp + q * Dq;
      for (Hit& h : out[q]) {
        const float* e = index.embeddings() + h.row * fd;
        double dot = 0, nn = 0;
        for (int64_t d = 0; d < Dq; ++d) dot += double(qv[d]) * e[d], nn += double(e[d]) * e[d];
        h.score = nn > 0 ? float(dot / std::sqrt(nn)) : 0.f;
      }
      std::sort(out[q].begin(), out[q].end(), better);
      if (static_cast<int>(out[q].size()) > opt.k) out[q].resize(opt.k);
    }
  }
  return out;
}

}  // namespace cb::index
