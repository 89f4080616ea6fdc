// search.cpp — query normalisation, quantised lookup tables with error bounds, the threaded
// blocked scan (blocks handed out dynamically) with per-thread candidate lists, exact re-scoring of the candidates, and
// optional float re-ranking (see search.h; the hot loops are in search_kernels.cpp).
#include "index/search.h"


#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/threads.h"
#include "index/search_kernels.h"

namespace cb::index {
namespace {

using detail::kLanes;

// Items per database block: codes 8192 × 256 B and acc 8192 × 32 B stream through L2 while
// the 4 table slices of a chunk group (128 KB) are reused 8192 times. Measured at n = 250 000,
// 64 queries, 2 threads (bench/bench_index.cpp): 2048 → 119 q/s, 8192 → 296, 32768 → 329,
// 65536 → 307.
constexpr int64_t kBlock = 8192;
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

// fn(p, p + 1) for p in [0, P) on P threads (the caller's included). Plain threads, and no
// ATen inside search: on the shared 2-core machine OpenMP's spin-waiting workers (left by any
// ATen op) made 2 threads 2.6× slower than 1 (OMP_WAIT_POLICY=passive restored it), measured
// with bench/bench_index.cpp.
template <typename F>
void run_workers(int64_t P, const F& fn) {
  std::vector<std::thread> ts;
  std::exception_ptr err;
  std::mutex mu;
  auto guarded = [&](int64_t p) {
    try {
      fn(p, p + 1);
    } catch (...) {
      std::lock_guard<std::mutex> l(mu);
      if (!err) err = std::current_exception();
    }
  };
  for (int64_t p = 1; p < P; ++p) ts.emplace_back(guarded, p);
  guarded(0);
  for (auto& t : ts) t.join();
  if (err) std::rethrow_exception(err);
}

// Float table of one half for nl ≤ 16 queries: tf[j][k][l] = q_l,j · C[k] (l < nl), and per
// (j, l) the minimum over k (mn), plus per lane the largest range over j (rng, running max),
// Σ_j min (base) and Σ_j max|t| (maxabs). q (nl, ·) rows, this half at column `off`.
void float_table(const float* q, int64_t qstride, int64_t off, int64_t nl, const Codebook& cbk, uint32_t chunks,
                 float* tf, float* mn, float* rng, double* base, double* maxabs) {
  const uint32_t K = cbk.rows, c = cbk.dim;
  std::vector<float> qt(size_t(c) * kLanes);  // chunk j of every query, transposed (c, 16)
  for (uint32_t j = 0; j < chunks; ++j) {
    std::fill(qt.begin(), qt.end(), 0.f);
    for (int64_t l = 0; l < nl; ++l)
      for (uint32_t d = 0; d < c; ++d) qt[d * kLanes + l] = q[l * qstride + off + j * c + d];
    float lo[kLanes], hi[kLanes], ab[kLanes];
    std::fill(lo, lo + kLanes, std::numeric_limits<float>::infinity());
    std::fill(hi, hi + kLanes, -std::numeric_limits<float>::infinity());
    std::fill(ab, ab + kLanes, 0.f);
    float* tj = tf + size_t(j) * K * kLanes;
    for (uint32_t k = 0; k < K; ++k) {
      const float* cv = cbk.row(k);
      float t[kLanes] = {};
      for (uint32_t d = 0; d < c; ++d)
        for (int l = 0; l < kLanes; ++l) t[l] += cv[d] * qt[d * kLanes + l];
      for (int l = 0; l < kLanes; ++l) {
        tj[size_t(k) * kLanes + l] = t[l];
        lo[l] = std::min(lo[l], t[l]), hi[l] = std::max(hi[l], t[l]), ab[l] = std::max(ab[l], std::abs(t[l]));
      }
    }
    for (int l = 0; l < kLanes; ++l) {
      mn[j * kLanes + l] = lo[l];
      rng[l] = std::max(rng[l], hi[l] - lo[l]);
      base[l] += lo[l], maxabs[l] += ab[l];
    }
  }
}

// dst[j][k][l] = round((tf[j][k][l] − mn[j][l]) / Δ_l) in [0, R]; dst sized (chunks4, K, 16), zeroed.
void quantise_table(const float* tf, const float* mn, const float* inv_step, int64_t R, uint32_t chunks, uint32_t K,
                    uint32_t chunks4, Aligned<int16_t>& dst) {
  dst.resize(size_t(chunks4) * K * kLanes);
  for (uint32_t j = 0; j < chunks; ++j)
    for (uint32_t k = 0; k < K; ++k) {
      const size_t o = (size_t(j) * K + k) * kLanes;
      for (int l = 0; l < kLanes; ++l) {
        const float x = (tf[o + l] - mn[j * kLanes + l]) * inv_step[l];  // ≥ 0
        dst.p[o + l] = int16_t(std::min<int64_t>(R, int64_t(x + 0.5f)));
      }
    }
}

// Quantised tables of nl ≤ 16 normalised queries q (nl, Dq). Plain loops, no ATen: on the
// shared machine every OpenMP region left a spinning worker that slowed the scan threads.
void build_tables(const float* q, int64_t Dq, int64_t nl, const Index& ix, const Codebook* spec, QTables& out) {
  const uint32_t m = ix.chunks(), m4 = (m + 3) / 4 * 4, c = ix.chunk_dim();
  const int64_t half = int64_t(m) * c;
  const int64_t total = int64_t(m) * (spec ? 2 : 1);
  const int64_t R = std::min<int64_t>(32767, 65535 / total);  // Σ of `total` entries ≤ 65535
  float rng[kLanes] = {};
  double base[kLanes] = {}, maxabs[kLanes] = {};
  thread_local std::vector<float> tf_s, tf_p, mn_s, mn_p;
  const Codebook& C = ix.shared_codebook();
  tf_s.resize(size_t(m) * C.rows * kLanes), mn_s.resize(size_t(m) * kLanes);
  float_table(q, Dq, 0, nl, C, m, tf_s.data(), mn_s.data(), rng, base, maxabs);
  if (spec) {
    tf_p.resize(size_t(m) * spec->rows * kLanes), mn_p.resize(size_t(m) * kLanes);
    float_table(q, Dq, half, nl, *spec, m, tf_p.data(), mn_p.data(), rng, base, maxabs);
  }
  float inv_step[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    const double step = l < nl && rng[l] > 0 ? double(rng[l]) / double(R) : 1.0;
    inv_step[l] = float(1.0 / step);
    // Per entry: rounding ≤ Δ/2 (+ float error of the scaling, ≪ 1e-3 Δ); the float tables
    // and the float sum base + Δ·S are off by ~1e-7 relative — covered by 1e-5·Σ_j max|t| + 1e-6.
    const double err = step * (double(total) * 0.501) + maxabs[l] * 1e-5 + 1e-6;
    out.scale[l] = l < nl ? float(step) : 0.f;
    out.hi[l] = l < nl ? float(base[l] + err) : 0.f;
    out.lo[l] = l < nl ? float(base[l] - err) : 0.f;
  }
  quantise_table(tf_s.data(), mn_s.data(), inv_step, R, m, C.rows, m4, out.shared);
  if (spec) quantise_table(tf_p.data(), mn_p.data(), inv_step, R, m, spec->rows, m4, out.spec);
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

// One query's first-pass state in one worker (over the blocks it scanned).
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

namespace {
bool cpu_runs(Kernel k) {
  __builtin_cpu_init();
  if (k == Kernel::Avx512) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  if (k == Kernel::Avx2) return __builtin_cpu_supports("avx2");
  return true;
}
}  // namespace

std::vector<Kernel> available_kernels() {
  std::vector<Kernel> ks = {Kernel::Scalar};
  for (Kernel k : {Kernel::Avx2, Kernel::Avx512})
    if (cpu_runs(k)) ks.push_back(k);
  return ks;
}

Kernel best_kernel() {
  static const Kernel k = [] {
    if (const char* e = std::getenv("CODEBIND_INDEX_KERNEL")) {
      const std::string s = e;
      for (Kernel c : {Kernel::Scalar, Kernel::Avx2, Kernel::Avx512})
        if (s == kernel_name(c) && cpu_runs(c)) return c;
    }
    if (cpu_runs(Kernel::Avx512)) return Kernel::Avx512;
    if (cpu_runs(Kernel::Avx2)) return Kernel::Avx2;
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
  CB_CHECK(cpu_runs(kern), "index search: this CPU cannot run the {} kernel", kernel_name(kern));

  // Normalised queries (nq, Dq): cosine needs ‖q‖ = 1 over the part that is compared.
  std::vector<float> Qn(size_t(nq) * Dq);
  for (int64_t i = 0; i < nq; ++i) {
    const float* src = queries + i * dim;
    double ss = 0;
    for (int64_t d = 0; d < Dq; ++d) ss += double(src[d]) * src[d];
    CB_CHECK_INPUT(std::isfinite(ss), "index search: query {} holds NaN or Inf values", i);
    CB_CHECK_INPUT(ss > 0, "index search: query {} is all zeros (no direction to search)", i);
    const float inv_n = float(1.0 / std::max(std::sqrt(ss), 1e-12));
    for (int64_t d = 0; d < Dq; ++d) Qn[i * Dq + d] = src[d] * inv_n;
  }
  const float* Qp = Qn.data();
  const bool rerank = opt.rerank > 0 && index.float_dim() >= Dq && index.embeddings() != nullptr;
  const int cand = rerank ? std::max(opt.k, opt.rerank) : opt.k;

  const int64_t N = index.size();
  const float* inv = concat ? index.inv_norm_concat() : index.inv_norm_shared();
  const int want = concat ? static_cast<int>(qmod) : opt.only_modality;
  const uint8_t* mods = index.modalities();
  const uint32_t K = index.shared_codebook().rows, Ks = concat ? spec->rows : 0;

  const int64_t nblocks = (N + kBlock - 1) / kBlock;
  // One worker per thread; blocks are handed out dynamically (a shared machine may slow one
  // core down: a static split made 2 threads slower than 1 under load).
  const int64_t P = std::max<int64_t>(1, std::min<int64_t>(thread_count(), nblocks));
  std::vector<std::vector<Hit>> out(nq);
  int64_t rescored = 0;
  constexpr int64_t kPass = int64_t(kLanes) * kBatchesPerPass;
  for (int64_t p0 = 0; p0 < nq && N > 0; p0 += kPass) {
    const int64_t np = std::min(kPass, nq - p0), nbatch = (np + kLanes - 1) / kLanes;
    std::vector<QTables> tables(nbatch);
    run_workers(std::min<int64_t>(P, nbatch), [&](int64_t pb, int64_t) {
      for (int64_t b = pb; b < nbatch; b += std::min<int64_t>(P, nbatch))
        build_tables(Qp + (p0 + b * kLanes) * Dq, Dq, std::min<int64_t>(kLanes, np - b * kLanes), index,
                     concat ? spec : nullptr, tables[b]);
    });
    std::vector<std::vector<QueryState>> st(P, std::vector<QueryState>(np));
    std::atomic<int64_t> next_block{0};
    run_workers(P, [&](int64_t pb, int64_t pe) {
      detail::BlockCodes bs, bp;
      Aligned<uint16_t> acc;
      acc.resize(size_t(kBlock) * kLanes);
      std::vector<uint16_t> mask(kBlock);
      float th[kLanes];
      for (int64_t p = pb; p < pe; ++p) {
        for (QueryState& s : st[p]) s.lb.k = cand;
        for (int64_t blk; (blk = next_block.fetch_add(1)) < nblocks;) {
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
    // Merge the workers: global threshold from every worker's lower bounds, then exact scores of
    // the surviving candidates.
    std::vector<int64_t> n_rescored(np, 0);
    run_workers(std::min<int64_t>(P, np), [&](int64_t pb, int64_t) {
      for (int64_t qi = pb; qi < np; qi += std::min<int64_t>(P, np)) {
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
