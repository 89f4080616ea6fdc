// bench_quant.cpp — quantiser benchmarks (docs/bench/quant.md):
//   quant_encode: assign + pack N vectors of 2048-d with the default codebooks, against FAISS
//                 ProductQuantizer encoding of both halves with the same codebooks (one PQ per
//                 half: 128 × 1024 shared, 128 × 256 specific; codes verified equal),
//                 and the machine's fp32 GEMM rate (a large at::mm, same threads) as the yardstick
//                 for the assignment kernel.
//   quant_step:   one quantiser training step (assign, EMA, re-seed, commitment, backward) on
//                 8 × 197 tokens of 2048-d, shared 1024 × 8 + one specific 256 × 8 codebook,
//                 against the same step in libtorch eager ops (quant/eager_reference.h).
#include <torch/torch.h>

#include <cstdio>

#include "bench_registry.h"
#include "core/threads.h"
#include "quant/assign.h"
#include "quant/code_pack.h"
#include "quant/eager_reference.h"
#include "quant/multimodal_quantiser.h"
#include "quant/normalize.h"

#ifdef CODEBIND_HAVE_FAISS
#include <faiss/impl/ProductQuantizer.h>
#include <omp.h>
#endif

namespace cb::bench {
namespace {

QuantiserConfig default_config() {
  QuantiserConfig qc;
  qc.specific_modalities = {Modality::Audio};
  return qc;
}

// The fp32 GEMM rate of this machine with the current threads: (g, g) × (g, g) at::mm.
double sgemm_gflops(int64_t g, int reps) {
  at::Tensor A = torch::randn({g, g}), B = torch::randn({g, g}), C = torch::empty({g, g});
  double t = median_seconds(reps, [&] { at::mm_out(C, A, B); });
  return 2.0 * g * g * g / t / 1e9;
}

int bench_quant_encode(const BenchArgs& a) {
  const int64_t n = a.get_int("n", 100000);
  const int reps = static_cast<int>(a.get_int("reps", 3));
  MultimodalQuantiser q(default_config());
  q.shared_codebook().initted = true;
  q.specific_codebook(Modality::Audio).initted = true;
  at::Tensor x = torch::randn({n, 2048});
  at::Tensor packed_c, packed_s;
  // (n·128, 8) unit chunks of one half (offset 0: shared, 1024: specific).
  // As Codebook::encode does it: a (n, 128, 8) view of the half, normalised into a new tensor.
  auto half_unit_chunks = [&](int64_t offset) {
    return l2_normalize(x.narrow(1, offset, 1024).reshape({n, 128, 8})).reshape({-1, 8}).contiguous();
  };
  at::Tensor unit = half_unit_chunks(0);
  at::Tensor cbn = q.shared_codebook().normalized_weight().contiguous();
  double t_ours = median_seconds(reps, [&] {
    auto [c, s] = q.encode(x, Modality::Audio);
    packed_c = pack_codes(c, 10);
    packed_s = pack_codes(s, 8);
  });
  // The shared half alone: assignment FLOPs = N·128 chunks × 1024 codes × 8 × 2.
  double t_assign = median_seconds(reps, [&] { argmax_cosine(unit, cbn); });
  double gflops = double(n) * 128 * 1024 * 8 * 2 / t_assign / 1e9;
  std::printf("codebind encode (shared+specific, assign+pack): %.3f s for %ld vectors = %.0f vectors/s (kernel %s)\n",
              t_ours, long(n), n / t_ours, assign_kernel_name());
  {
    // Where the full encode's time goes, stage by stage (same data, same minute).
    at::Tensor us, ix_c, ix_s;
    const double t_norm_c = median_seconds(reps, [&] { unit = half_unit_chunks(0); });
    const double t_norm_s = median_seconds(reps, [&] { us = half_unit_chunks(1024); });
    at::Tensor sbk = q.specific_codebook(Modality::Audio).normalized_weight().contiguous();
    const double t_as_c = median_seconds(reps, [&] { ix_c = argmax_cosine(unit, cbn); });
    const double t_as_s = median_seconds(reps, [&] { ix_s = argmax_cosine(us, sbk); });
    const double t_pack = median_seconds(reps, [&] {
      pack_codes(ix_c.view({n, 128}), 10);
      pack_codes(ix_s.view({n, 128}), 8);
    });
    std::printf("  stages: normalise shared %.3f s, normalise specific %.3f s, assign shared %.3f s, assign specific "
                "%.3f s (%.1f GFLOP/s), pack both %.3f s; sum %.3f s\n",
                t_norm_c, t_norm_s, t_as_c, t_as_s, double(n) * 128 * 256 * 16 / t_as_s / 1e9, t_pack,
                t_norm_c + t_norm_s + t_as_c + t_as_s + t_pack);
  }
  // Every assignment kernel this CPU runs, same data and minute (the dispatcher's choice above).
  // kernel_n vectors only: the scalar kernel is ~20x slower than the SIMD ones.
  const int64_t kn = std::min<int64_t>(n, a.get_int("kernel_n", 5000));
  at::Tensor unit_k = unit.narrow(0, 0, kn * 128);
  for (AssignKernel k : available_assign_kernels()) {
    const double tk = median_seconds(reps, [&] { argmax_cosine(unit_k, cbn, k); });
    std::printf("  shared-half assignment, %ld vectors, kernel %-6s: %.4f s = %.1f GFLOP/s\n", long(kn),
                assign_kernel_name(k), tk, double(kn) * 128 * 1024 * 8 * 2 / tk / 1e9);
  }
  const int64_t g = a.get_int("gemm", 3072);
  const double gemm = sgemm_gflops(g, reps);
  std::printf("fp32 GEMM rate (at::mm %ldx%ld, threads %d): %.1f GFLOP/s\n", long(g), long(g), cb::thread_count(), gemm);
  std::printf("shared-half assignment alone: %.3f s = %.1f GFLOP/s = %.0f%% of the measured GEMM rate\n",
              t_assign, gflops, 100 * gflops / gemm);
  // Per full vector: shared 128 chunks × 1024 codes + specific 128 × 256, × 8 dims × 2 FLOPs.
  const double flop_per_vec = (128.0 * 1024 + 128.0 * 256) * 8 * 2;
  std::printf("full encode: %.1f GFLOP/s of assignment work = %.0f%% of the GEMM rate\n",
              flop_per_vec * n / t_ours / 1e9, 100 * flop_per_vec * n / t_ours / 1e9 / gemm);
#ifdef CODEBIND_HAVE_FAISS
  // FAISS: PQ with M = 128 sub-quantizers of 8 dims, 10 bits, every sub-quantizer set to the
  // same normalised shared codebook. Inputs: the chunk-normalised shared half (cosine = IP on
  // unit vectors, and L2 argmin on unit codes equals IP argmax).
  const int64_t nf = a.get_int("faiss_n", std::min<int64_t>(n, 10000));
  omp_set_num_threads(cb::thread_count());
  // One FAISS PQ per half: (dims, sub-quantizers, bits) with every sub-quantizer set to `book`.
  auto faiss_half = [&](const at::Tensor& book, int bits, const at::Tensor& half_unit, const at::Tensor& our_idx,
                        const char* name) {
    faiss::ProductQuantizer pq(1024, 128, bits);
    std::vector<float> cents(book.data_ptr<float>(), book.data_ptr<float>() + book.numel());
    for (int m = 0; m < 128; ++m) pq.set_params(cents.data(), m);
    at::Tensor xf = half_unit.view({n, 1024}).narrow(0, 0, nf).contiguous();
    std::vector<uint8_t> codes(pq.code_size * nf);
    double t = median_seconds(1, [&] { pq.compute_codes(xf.data_ptr<float>(), codes.data(), nf); });
    at::Tensor fcodes = at::from_blob(codes.data(), {nf, int64_t(pq.code_size)}, at::kByte).clone();
    at::Tensor ours = our_idx.narrow(0, 0, nf);
    int64_t same = fcodes.eq(pack_codes(ours, bits)).all(1).sum().item<int64_t>();
    // Where the codes differ, FAISS (L2 = ‖x‖² + ‖c‖² − 2x·c in float) and the cosine argmax
    // may only disagree on a near-tie: compare the two codewords' cosines to the chunk.
    at::Tensor theirs = unpack_codes(fcodes, 128, bits);                        // (nf, 128)
    at::Tensor xc = half_unit.view({n, 128, 8}).narrow(0, 0, nf);               // (nf, 128, 8)
    auto cos_of = [&](const at::Tensor& idx) { return (book.index_select(0, idx.flatten()).view({nf, 128, 8}) * xc).sum(-1); };
    at::Tensor gap = (cos_of(ours) - cos_of(theirs)).abs();                     // (nf, 128)
    const double max_gap = gap.max().item<double>();
    const bool ok = max_gap <= 1e-5;
    std::printf("faiss ProductQuantizer.compute_codes, %s half (128 x %d codes): %.3f s for %ld vectors = %.0f "
                "vectors/s; identical packed codes: %ld / %ld rows; largest cosine gap between differing codes "
                "%.2g (%s)\n",
                name, 1 << bits, t, long(nf), nf / t, long(same), long(nf), max_gap,
                ok ? "near-ties only" : "REAL DIFFERENCE");
    return std::make_pair(t / nf, ok);
  };
  auto [c_idx, s_idx] = q.encode(x.narrow(0, 0, nf), Modality::Audio);
  at::Tensor unit_s = half_unit_chunks(1024);
  at::Tensor sbn = q.specific_codebook(Modality::Audio).normalized_weight().contiguous();
  auto [tc, ok_c] = faiss_half(cbn, 10, unit, c_idx, "shared");
  auto [ts, ok_s] = faiss_half(sbn, 8, unit_s, s_idx, "specific");
  const bool same_all = ok_c && ok_s;
  const double faiss_full = 1.0 / (tc + ts), faiss_shared = 1.0 / tc, our_shared_rate = n / (t_assign + 1e-12);
  std::printf("faiss full 2048-d encode (both halves, inputs pre-normalised): %.0f vectors/s\n", faiss_full);
  std::printf("RATIO codebind/faiss, full 2048-d encode vs full: %.1fx; full vs faiss shared half only: %.1fx; "
              "shared-half assignment vs faiss shared half: %.1fx\n",
              (n / t_ours) / faiss_full, (n / t_ours) / faiss_shared, our_shared_rate / faiss_shared);
  // What 20x FAISS would take: the assignment FLOPs alone at that rate, against the GEMM rate.
  std::printf("20x faiss (full) = %.0f vectors/s = %.1f GFLOP/s of assignment = %.0f%% of the GEMM rate\n",
              20 * faiss_full, 20 * faiss_full * flop_per_vec / 1e9, 100 * 20 * faiss_full * flop_per_vec / 1e9 / gemm);
  return same_all ? 0 : 1;
#else
  std::printf("FAISS not available: baseline skipped\n");
  return 0;
#endif
}

int bench_quant_step(const BenchArgs& a) {
  const int64_t B = a.get_int("batch", 8), L = a.get_int("tokens", 197);
  const int reps = static_cast<int>(a.get_int("reps", 5));
  QuantiserConfig qc = default_config();
  qc.reseed = false;  // the fixtures' anchor "none", which the eager baseline implements
  MultimodalQuantiser q(qc);
  at::Tensor x = torch::randn({B, L, 2048}, torch::requires_grad());
  q.forward(x.detach(), Modality::Audio, true, L);  // k-means init outside the timing
  double t = median_seconds(reps, [&] {
    QuantiserOutput o = q.forward(x, Modality::Audio, true, L);
    at::Tensor loss = o.commit + o.z.sum() * 1e-3;
    loss.backward();
  });
  std::printf("quantiser training step (fused, kernel %s): %ld tokens in %.4f s = %.0f tokens/s\n",
              assign_kernel_name(), long(B * L), t, B * L / t);
  // Baseline, same process and data: the step as the reference module writes it, in libtorch
  // eager ops (quant/eager_reference.h; checked against the golden fixtures by
  // EagerReference.ReproducesTheGoldenQuantiserSteps), from the same codebook state.
  auto snapshot = [](const Codebook& c) {
    return eager::CodebookState{c.weight.clone(), c.cluster_size.clone(), c.embed_avg.clone(), c.embed_prob.clone()};
  };
  eager::CodebookState sh = snapshot(q.shared_codebook()), sp = snapshot(q.specific_codebook(Modality::Audio));
  at::Tensor xf = x.detach().reshape({B * L, 2048}).clone().requires_grad_(true);
  const double te = median_seconds(reps, [&] {
    eager::StepOutput o = eager::quantiser_step(sh, sp, xf, 1024, true, {});
    at::Tensor loss = o.commit + o.z.sum() * 1e-3;
    loss.backward();
  });
  std::printf("eager reference step (libtorch, the reference module's ops): %.4f s = %.0f tokens/s\n", te,
              B * L / te);
  std::printf("RATIO fused / eager reference, same run: %.1fx\n", te / t);
  return 0;
}

CB_REGISTER_BENCH("quant_encode", "assign+pack N×2048 vectors vs FAISS ProductQuantizer (n=, faiss_n=, reps=)",
                  bench_quant_encode);
CB_REGISTER_BENCH("quant_step", "one quantiser training step, 8×197 tokens of 2048-d (batch=, tokens=, reps=)",
                  bench_quant_step);

}  // namespace
}  // namespace cb::bench
