// bench_index.cpp — `codebind_bench index [n=1000000] [nq=64] [k=10] [reps=3] [faiss=1]`:
// queries/s at k for the code index vs FAISS IndexPQ on the same shared codebook and codes
// (results verified identical) vs brute-force float32 inner product over the un-quantised
// embeddings (libtorch matmul + topk); same threads, one run. Also memory per item and
// recall@k of the code search against the float search.
//
// Data: a random 1024 × 8 shared codebook with unit rows (so that every decoded vector has
// the same norm and FAISS's inner product ranks exactly like our cosine), random codes,
// un-quantised embeddings = decoded codevectors + Gaussian noise (σ = 0.35 per dim, chunk
// assignment mostly preserved), queries = noisy copies of random database items.
//
// `codebind_bench index-suite run=RUN data=DIR [k=10]`: recall@k of the code search against
// float search on a trained run's sensor-suite codes: every item of DIR is embedded by RUN's
// model; the index holds its codes; each item is a query — quantised z_c for the code search
// (as evaluation compares), its un-quantised shared embedding for the float search over the
// un-quantised shared embeddings of all items; also with the un-quantised query against the
// codes (asymmetric distance, `index search --query raw`). Also checks the code search against
// brute force over the decoded quantised embeddings.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <set>

#include "bench_registry.h"
#include "core/threads.h"
#include "index/code_index.h"
#include "quant/code_pack.h"
#include "app/index_run.h"
#include "index/search.h"

#ifdef CODEBIND_HAVE_FAISS
#include <faiss/IndexPQ.h>
#include <omp.h>
#endif

namespace {
using namespace cb::index;
using cb::RunModel, cb::load_run_model, cb::build_index_from_run;

int bench_index(const cb::bench::BenchArgs& a) {
  const int64_t N = a.get_int("n", 1000000), nq = a.get_int("nq", 64);
  const int k = static_cast<int>(a.get_int("k", 10)), reps = static_cast<int>(a.get_int("reps", 3));
  const bool do_faiss = a.get_int("faiss", 1) != 0;
  const uint32_t m = 128, c = 8, K = 1024;
  const int64_t D = int64_t(m) * c;
  at::manual_seed(a.get_int("seed", 0));
  std::printf("n=%lld nq=%lld k=%d threads=%d kernel=%s\n", (long long)N, (long long)nq, k, cb::thread_count(),
              kernel_name(Kernel::Auto));

  at::Tensor C = at::randn({K, c});
  C = C / C.norm(2, 1, true);  // unit rows
  Codebook cbk{K, c, std::vector<float>(C.data_ptr<float>(), C.data_ptr<float>() + C.numel())};
  at::Tensor codes = at::randint(K, {N, m}, at::kLong);                 // (N, 128)
  at::Tensor packed = cb::pack_codes(codes, bits_for(K));            // (N, 160)
  // Un-quantised embeddings (N, 1024), L2-normalised: decoded + noise.
  at::Tensor X = at::empty({N, D});
  for (int64_t r0 = 0; r0 < N; r0 += 65536) {  // in slices: no second N × D temporary
    const int64_t nr = std::min<int64_t>(65536, N - r0);
    at::Tensor x = C.index_select(0, codes.narrow(0, r0, nr).reshape(-1)).view({nr, D});
    x.add_(at::randn({nr, D}), 0.35);
    X.narrow(0, r0, nr).copy_(x / x.norm(2, 1, true));
  }
  at::Tensor Qsrc = at::randint(N, {nq}, at::kLong);
  at::Tensor Q = X.index_select(0, Qsrc) + 0.05 * at::randn({nq, D});
  Q = Q / Q.norm(2, 1, true);  // (nq, 1024)

  Index ix(cbk, {}, m, 0);
  {
    ItemBatch b;
    b.n = N;
    b.shared_codes = packed.data_ptr<uint8_t>();
    b.ids.reserve(N);
    for (int64_t i = 0; i < N; ++i) b.ids.push_back(std::to_string(i));
    b.modalities.assign(N, cb::Modality::Vision);
    ix.append(b);
  }
  packed = at::Tensor();

  // --- code index
  std::vector<std::vector<Hit>> ours;
  SearchOptions opt;
  opt.k = k;
  int64_t rescored = 0;
  opt.rescored = &rescored;
  double t_code = cb::bench::median_seconds(reps, [&] { ours = search(ix, Q.data_ptr<float>(), nq, D, cb::Modality::Text, opt); });

  // --- float brute force over un-quantised embeddings (libtorch matmul + topk)
  at::Tensor fidx;
  double t_float = cb::bench::median_seconds(reps, [&] { fidx = std::get<1>(at::matmul(Q, X.t()).topk(k, 1)); });

  // recall@k of code search vs float search
  double hit = 0;
  for (int64_t q = 0; q < nq; ++q) {
    std::set<int64_t> f(fidx[q].data_ptr<int64_t>(), fidx[q].data_ptr<int64_t>() + k);
    for (const Hit& h : ours[q]) hit += f.count(h.row);
  }
  const double recall = hit / double(nq * k);

  std::printf("code index   : %10.1f queries/s  (%.3f s for %lld queries; %.1f candidates re-scored per query)\n",
              nq / t_code, t_code, (long long)nq, double(rescored) / nq);
  std::printf("float32 brute: %10.1f queries/s  (%.3f s)   code/float = %.2fx\n", nq / t_float, t_float,
              t_float / t_code);
#ifdef CODEBIND_HAVE_FAISS
  if (do_faiss) {
    omp_set_num_threads(cb::thread_count());
    faiss::IndexPQ fx(D, m, bits_for(K), faiss::METRIC_INNER_PRODUCT);
    for (uint32_t j = 0; j < m; ++j) fx.pq.set_params(cbk.w.data(), j);
    fx.is_trained = true;
    fx.codes.assign(ix.shared_codes(), ix.shared_codes() + N * ix.shared_code_bytes());
    fx.ntotal = N;
    std::vector<float> fd(nq * k);
    std::vector<faiss::Index::idx_t> fl(nq * k);
    double t_faiss = cb::bench::median_seconds(std::max(1, reps / 3), [&] {
      fx.search(nq, Q.data_ptr<float>(), k, fd.data(), fl.data());
    });
    // Identical results: same rows in the same order, except where scores tie (within 1e-5).
    int64_t mismatch = 0;
    for (int64_t q = 0; q < nq; ++q)
      for (int i = 0; i < k; ++i) {
        const Hit& h = ours[q][i];
        if (h.row != fl[q * k + i] && std::abs(h.score * std::sqrt(float(m)) - fd[q * k + i]) > 1e-4f) ++mismatch;
      }
    std::printf("faiss IndexPQ: %10.1f queries/s  (%.3f s)   code/faiss = %.2fx   results differing: %lld of %lld\n",
                nq / t_faiss, t_faiss, t_faiss / t_code, (long long)mismatch, (long long)(nq * k));
  }
#else
  (void)do_faiss;
  std::printf("faiss IndexPQ: not built (libfaiss-dev not found)\n");
#endif
  std::printf("memory/item  : code index %.0f B (codes %zu + modality + 1/norm), float32 %lld B -> %.1fx less\n",
              ix.search_bytes_per_item(), ix.shared_code_bytes(), (long long)(D * 4),
              double(D * 4) / ix.search_bytes_per_item());
  std::printf("recall@%d of code search vs float search: %.3f\n", k, recall);
  return 0;
}

CB_REGISTER_BENCH("index", "code index vs FAISS IndexPQ vs float brute force (n= nq= k= reps= faiss=)", bench_index);

int bench_index_suite(const cb::bench::BenchArgs& a) {
  const std::string run = a.get("run", ""), data = a.get("data", "");
  const int k = static_cast<int>(a.get_int("k", 10));
  if (run.empty() || data.empty()) {
    std::fprintf(stderr, "index-suite: give run=RUN data=DIR\n");
    return 2;
  }
  RunModel rm = load_run_model(run);
  at::Tensor raw;  // (N, d_c) un-quantised shared halves, unit rows
  Index ix = build_index_from_run(rm, data, false, &raw);
  const int64_t N = ix.size(), D = raw.size(1);
  // Decoded quantised shared embeddings (N, d_c), unit rows: the code search's queries and its
  // brute-force reference.
  at::Tensor Z = at::empty({N, D});
  for (int64_t i = 0; i < N; ++i) {
    auto z = ix.decode(i, false);
    std::memcpy(Z[i].data_ptr<float>(), z.data(), D * sizeof(float));
  }
  SearchOptions opt;
  opt.k = k;
  std::vector<std::vector<Hit>> ours;
  const double t_code = cb::bench::median_seconds(1, [&] { ours = search(ix, Z.data_ptr<float>(), N, D, cb::Modality::Text, opt); });
  at::Tensor fidx = std::get<1>(at::matmul(raw, raw.t()).topk(k, 1));  // float search
  auto [bval, bidx] = at::matmul(Z, Z.t()).topk(k, 1);              // brute force, decoded
  double hit = 0;
  int64_t differ = 0;
  for (int64_t q = 0; q < N; ++q) {
    std::set<int64_t> f(fidx[q].data_ptr<int64_t>(), fidx[q].data_ptr<int64_t>() + k);
    for (size_t i = 0; i < ours[q].size(); ++i) {
      hit += f.count(ours[q][i].row);
      // Identical to brute force: same row, or a tie (same score within 1e-5).
      if (ours[q][i].row != bidx[q][i].item<int64_t>() &&
          std::abs(ours[q][i].score - bval[q][i].item<float>()) > 1e-5f)
        ++differ;
    }
  }
  // Asymmetric distance: the un-quantised query against the codes (index search --query raw).
  auto adc = search(ix, raw.data_ptr<float>(), N, D, cb::Modality::Text, opt);
  double hit_raw = 0;
  for (int64_t q = 0; q < N; ++q) {
    std::set<int64_t> f(fidx[q].data_ptr<int64_t>(), fidx[q].data_ptr<int64_t>() + k);
    for (const Hit& h : adc[q]) hit_raw += f.count(h.row);
  }
  std::printf("index-suite: %lld items (%u chunks, K=%u), every item a query, k=%d\n", (long long)N, ix.chunks(),
              ix.shared_codebook().rows, k);
  std::printf("code search: %.1f queries/s; results differing from brute force over decoded codes: %lld of %lld\n",
              N / t_code, (long long)differ, (long long)(N * k));
  std::printf("recall@%d of code search (quantised queries) vs float search (un-quantised): %.3f\n", k,
              hit / double(N * k));
  std::printf("recall@%d of code search (un-quantised queries, asymmetric) vs float search: %.3f\n", k,
              hit_raw / double(N * k));
  std::printf("mean cosine between an item's un-quantised and decoded quantised shared embedding: %.3f; "
              "distinct shared code rows: %lld of %lld\n",
              (raw * Z).sum(1).mean().item<double>(),
              (long long)std::get<0>(at::unique_dim(
                  at::from_blob(const_cast<uint8_t*>(ix.shared_codes()), {N, int64_t(ix.shared_code_bytes())},
                                at::kByte), 0)).size(0),
              (long long)N);
  std::printf("memory/item: code index %.0f B vs float32 %lld B\n", ix.search_bytes_per_item(), (long long)(D * 4));
  return 0;
}

CB_REGISTER_BENCH("index-suite", "recall@k of the code index vs float search on a run's sensor-suite codes (run= data= k=)",
                  bench_index_suite);

}  // namespace
