// search.cpp — query normalisation, lookup-table construction, threading over the database,
// top-k heaps and optional float re-ranking (see search.h; the hot loop is in
// search_kernels.cpp).
#include "index/search.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/threads.h"
#include "index/search_kernels.h"

namespace cb::index {
namespace {

// Items per kernel call: acc = kBlock × L floats (8–16 KB, L1). Measured on the 2-core EPYC
// (AVX2): 256 beat 1024 and 4096, and 8 lanes beat 16 lanes (two ymm) — bench/bench_index.cpp.
constexpr int64_t kBlock = 256;

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
  bool would_take(float s) const { return static_cast<int>(h.size()) < k || s >= h.front().score; }
};

int lanes_of(Kernel k) { return k == Kernel::Avx512 ? 16 : 8; }

void run_kernel(Kernel k, const detail::ScanArgs& a, int64_t r0, int64_t nb, float* acc) {
  switch (k) {
    case Kernel::Avx512: detail::scan_avx512(a, r0, nb, acc); return;
    case Kernel::Avx2: detail::scan_avx2(a, r0, nb, acc); return;
    default: detail::scan_scalar(a, r0, nb, acc); return;
  }
}

// (chunks, K, L) table for a block of nl ≤ L normalised query halves q (nl, chunks·c).
void fill_table(const at::Tensor& q, const Codebook& cbk, uint32_t chunks, int L, float* out) {
  const int64_t nl = q.size(0), c = cbk.dim;
  at::Tensor C = at::from_blob(const_cast<float*>(cbk.w.data()), {cbk.rows, c}, at::kFloat);
  at::Tensor t = at::matmul(q.view({nl, chunks, c}).permute({1, 0, 2}), C.t());  // (chunks, nl, K)
  at::Tensor dst = at::from_blob(out, {int64_t(chunks), int64_t(cbk.rows), int64_t(L)}, at::kFloat);
  dst.zero_();
  dst.narrow(2, 0, nl).copy_(t.permute({0, 2, 1}));
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
    if (__builtin_cpu_supports("avx512f")) return Kernel::Avx512;
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
  if (kern == Kernel::Avx512 && !__builtin_cpu_supports("avx512f")) kern = Kernel::Scalar;
  if (kern == Kernel::Avx2 && !__builtin_cpu_supports("avx2")) kern = Kernel::Scalar;
  const int L = lanes_of(kern);

  // Normalised queries (nq, Dq): cosine needs ‖q‖ = 1 over the part that is compared.
  at::Tensor Q = at::from_blob(const_cast<float*>(queries), {nq, dim}, at::kFloat).narrow(1, 0, Dq).contiguous();
  Q = Q / Q.norm(2, 1, true).clamp_min(1e-12);
  const bool rerank = opt.rerank > 0 && index.float_dim() >= Dq && index.embeddings() != nullptr;
  const int cand = rerank ? std::max(opt.k, opt.rerank) : opt.k;

  const int64_t N = index.size();
  const float* inv = concat ? index.inv_norm_concat() : index.inv_norm_shared();
  const int want = concat ? static_cast<int>(qmod) : opt.only_modality;
  const uint8_t* mods = index.modalities();

  detail::ScanArgs args;
  args.codes = index.shared_codes();
  args.row_bytes = index.shared_code_bytes();
  args.bits = index.shared_bits();
  args.chunks = m;
  args.K = index.shared_codebook().rows;
  if (concat) {
    args.spec = index.specific_codes();
    args.spec_row_bytes = index.specific_code_bytes();
    args.spec_bits = index.specific_bits();
    args.Ks = spec->rows;
  }
  const size_t table_floats = (size_t(m) * args.K + (concat ? size_t(m) * args.Ks : 0)) * L;
  std::vector<float> table(table_floats + 16);
  float* T = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(table.data()) + 63) & ~uintptr_t(63));
  args.T = T;

  // Database parts, one per thread, aligned to blocks.
  const int64_t nblocks = (N + kBlock - 1) / kBlock;
  const int64_t P = std::max<int64_t>(1, std::min<int64_t>(thread_count(), nblocks));
  std::vector<std::vector<Hit>> out(nq);
  for (int64_t q0 = 0; q0 < nq; q0 += L) {
    const int64_t nl = std::min<int64_t>(L, nq - q0);
    at::Tensor qb = Q.narrow(0, q0, nl);
    fill_table(qb.narrow(1, 0, half).contiguous(), index.shared_codebook(), m, L, T);
    if (concat) fill_table(qb.narrow(1, half, half).contiguous(), *spec, m, L, T + size_t(m) * args.K * L);
    std::vector<std::vector<TopK>> heaps(P, std::vector<TopK>(nl));
    at::parallel_for(0, P, 1, [&](int64_t pb, int64_t pe) {
      thread_local std::vector<float> acc_buf;
      acc_buf.resize(kBlock * 16 + 16);
      float* acc = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(acc_buf.data()) + 63) & ~uintptr_t(63));
      for (int64_t p = pb; p < pe; ++p) {
        auto& hp = heaps[p];
        for (auto& h : hp) h.k = cand;
        const int64_t b0 = nblocks * p / P, b1 = nblocks * (p + 1) / P;
        for (int64_t b = b0; b < b1; ++b) {
          const int64_t r0 = b * kBlock, nb = std::min<int64_t>(kBlock, N - r0);
          run_kernel(kern, args, r0, nb, acc);
          for (int64_t i = 0; i < nb; ++i) {
            const int64_t r = r0 + i;
            if (want >= 0 && mods[r] != want) continue;
            const float s = inv[r];
            const float* a = acc + i * L;
            for (int64_t l = 0; l < nl; ++l) {
              const float sc = a[l] * s;
              if (hp[l].would_take(sc)) hp[l].push(r, sc);
            }
          }
        }
      }
    });
    for (int64_t l = 0; l < nl; ++l) {
      TopK all;
      all.k = cand;
      for (int64_t p = 0; p < P; ++p)
        for (const Hit& h : heaps[p][l].h) all.push(h.row, h.score);
      std::sort(all.h.begin(), all.h.end(), better);
      out[q0 + l] = std::move(all.h);
    }
  }

  if (rerank) {
    const int64_t fd = index.float_dim();
    for (int64_t q = 0; q < nq; ++q) {
      const float* qv = Q.data_ptr<float>() + q * Dq;
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
