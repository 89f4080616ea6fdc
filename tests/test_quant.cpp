// test_quant.cpp — the compositional quantiser: golden parity, hand-computed EMA / re-seed /
// k-means cases, straight-through gradients, the fused assignment kernel, code packing,
// save/load, and codebook synchronisation across two processes.
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "app/parity_groups.h"
#include "quant/assign.h"
#include "quant/code_pack.h"
#include "quant/multimodal_quantiser.h"
#include "quant/normalize.h"
#include "test_util.h"

namespace cb {
namespace {

TEST(QuantParity, CodebindFixtureGroupPasses) {
  CB_REQUIRE_FIXTURES();
  ParityReport r = run_parity_group("codebind", test::fixtures_dir());
  EXPECT_GT(r.checks().size(), 20u);
  for (const auto& c : r.checks()) EXPECT_TRUE(c.pass) << c.name << " " << c.error << " " << c.note;
}

TEST(Codebook, EmaToyCaseByHand) {
  // K = 2, c = 2: two unit vectors both assigned to code 0.
  CodebookConfig cc;
  cc.num_codes = 2;
  cc.code_dim = 2;
  cc.reseed = false;
  Codebook cb(cc);
  cb.weight = torch::tensor({{1.f, 0.f}, {-1.f, 0.f}});
  cb.cluster_size = torch::tensor({1.f, 1.f});
  cb.embed_avg = cb.weight.clone();
  cb.initted = true;
  at::Tensor x = torch::tensor({{1.f, 0.f}, {0.6f, 0.8f}}).view({1, 2, 2});
  CodebookOutput o = cb.forward(x, true, 1);
  EXPECT_EQ(o.indices[0][0].item<int64_t>(), 0);
  EXPECT_EQ(o.indices[0][1].item<int64_t>(), 0);
  // cluster_size = 0.99·[1,1] + 0.01·[2,0] = [1.01, 0.99]
  EXPECT_NEAR(cb.cluster_size[0].item<float>(), 1.01f, 1e-6);
  EXPECT_NEAR(cb.cluster_size[1].item<float>(), 0.99f, 1e-6);
  // embed_avg[0] = 0.99·(1,0) + 0.01·(1.6, 0.8) = (1.006, 0.008)
  EXPECT_NEAR(cb.embed_avg[0][0].item<float>(), 1.006f, 1e-6);
  EXPECT_NEAR(cb.embed_avg[0][1].item<float>(), 0.008f, 1e-6);
  // weight[0] = embed_avg[0] / ((1.01 + 1e-5)/(2 + 2e-5)·2)
  double n = 2.0, smooth = (1.01 + 1e-5) / (n + 2e-5) * n;
  EXPECT_NEAR(cb.weight[0][0].item<float>(), 1.006 / smooth, 1e-6);
  // Commitment: β · mean over the 4 elements of (w0 − x)²: only the second chunk differs.
  double want = 0.25 * ((1 - 0.6) * (1 - 0.6) + 0.8 * 0.8) / 4.0;
  EXPECT_NEAR(o.commit.item<double>(), want, 1e-6);
}

TEST(Codebook, ReseedAlphaValues) {
  CodebookConfig cc;
  cc.num_codes = 1024;
  Codebook cb(cc);
  cb.embed_prob = at::zeros({1024});
  cb.embed_prob[1] = 1.0f / 1024;
  cb.embed_prob[2] = float(6.92e-4 / 1024);
  at::Tensor a = cb.reseed_alpha();
  EXPECT_NEAR(a[0].item<double>(), std::exp(-0.001), 1e-6);  // never used → ≈ 0.999
  EXPECT_LT(a[1].item<double>(), 1e-30);                      // average usage → 0
  EXPECT_NEAR(a[2].item<double>(), 0.5, 0.01);               // the α = 0.5 threshold
}

TEST(Codebook, KmeansWithExactlyKDistinctSamplesReturnsThem) {
  CodebookConfig cc;
  cc.num_codes = 64;
  cc.code_dim = 8;
  Codebook cb(cc);
  at::Tensor s = torch::nn::functional::normalize(torch::randn({64, 8}),
                                                  torch::nn::functional::NormalizeFuncOptions().dim(1));
  cb.kmeans_init(s);
  // Every sample is a code (order may differ): the nearest code of each sample is itself.
  at::Tensor sim = at::mm(s, cb.weight.t());
  EXPECT_NEAR(std::get<0>(sim.max(1)).min().item<float>(), 1.0f, 1e-5);
  EXPECT_EQ(cb.cluster_size.sum().item<float>(), 64.f);
  // Quantising the samples then costs nothing (commitment ≈ 0).
  CodebookOutput o = cb.forward(s.view({8, 8, 8}), false, 1);
  EXPECT_LT(o.commit.item<double>(), 1e-10);
}

TEST(Codebook, StraightThroughGradientEqualsOutputGradient) {
  CodebookConfig cc;
  cc.num_codes = 16;
  cc.code_dim = 4;
  Codebook cb(cc);
  cb.initted = true;
  at::Tensor x = torch::randn({3, 5, 4}, torch::requires_grad());
  CodebookOutput o = cb.forward(x, false, 1);
  at::Tensor g = torch::randn_like(o.q);
  // ∂L/∂û equals ∂L/∂q̃ for L = <g, q̃>.
  at::Tensor du = torch::autograd::grad({(o.q * g).sum()}, {o.unit}, {}, true)[0];
  EXPECT_TRUE(at::allclose(du, g, 1e-6, 1e-6));
  // And the gradient reaches the raw input through the chunk normalisation.
  at::Tensor dx = torch::autograd::grad({(o.q * g).sum()}, {x})[0];
  EXPECT_GT(dx.abs().sum().item<double>(), 0);
}

TEST(Codebook, EvalModeChangesNothing) {
  CodebookConfig cc;
  cc.num_codes = 32;
  Codebook cb(cc);
  cb.initted = true;
  at::Tensor w = cb.weight.clone(), p = cb.embed_prob.clone();
  cb.forward(torch::randn({4, 16, 8}), false, 1);
  EXPECT_TRUE(cb.weight.equal(w));
  EXPECT_TRUE(cb.embed_prob.equal(p));
}

TEST(Assign, FusedKernelMatchesReference) {
  for (int64_t K : {16, 256, 1024}) {
    at::Tensor rows = torch::nn::functional::normalize(torch::randn({1003, 8}),
                                                       torch::nn::functional::NormalizeFuncOptions().dim(1));
    at::Tensor codes = torch::nn::functional::normalize(torch::randn({K, 8}),
                                                        torch::nn::functional::NormalizeFuncOptions().dim(1));
    at::Tensor b = argmax_cosine_reference(rows, codes);
    for (AssignKernel k : available_assign_kernels()) {
      at::Tensor a = argmax_cosine(rows, codes, k);
      // Disagreements are allowed only on near-ties (last-bit differences of the dot product).
      at::Tensor sims = at::mm(rows, codes.t());
      at::Tensor sa = sims.gather(1, a.unsqueeze(1)), sb = sims.gather(1, b.unsqueeze(1));
      EXPECT_LT((sa - sb).abs().max().item<float>(), 1e-6) << "K=" << K << " kernel " << assign_kernel_name(k);
      EXPECT_GT(a.eq(b).to(at::kFloat).mean().item<float>(), 0.999f);
    }
  }
  // Ties go to the lowest index.
  at::Tensor codes = torch::zeros({32, 8});
  codes.index_put_({at::indexing::Slice(), 0}, 1.0f);
  at::Tensor rows = torch::zeros({9, 8});
  rows.index_put_({at::indexing::Slice(), 0}, 1.0f);
  for (AssignKernel k : available_assign_kernels())
    EXPECT_TRUE(argmax_cosine(rows, codes, k).eq(0).all().item<bool>()) << assign_kernel_name(k);
}

TEST(CodePack, RoundTripExact) {
  for (int bits : {8, 10, 3, 16}) {
    for (int64_t m : {128, 7, 1}) {
      at::Tensor idx = at::randint(0, int64_t(1) << bits, {33, m}, at::kLong);
      at::Tensor packed = pack_codes(idx, bits);
      EXPECT_EQ(packed.size(1), (m * bits + 7) / 8);
      EXPECT_TRUE(unpack_codes(packed, m, bits).equal(idx)) << bits << " " << m;
    }
  }
  // 128 ten-bit codes are 160 bytes; the layout is LSB first.
  at::Tensor one = at::zeros({1, 128}, at::kLong);
  one[0][0] = 1;
  one[0][1] = 1;
  at::Tensor p = pack_codes(one, 10);
  EXPECT_EQ(p.size(1), 160);
  EXPECT_EQ(p[0][0].item<int>(), 1);
  EXPECT_EQ(p[0][1].item<int>(), 1 << 2);  // code 1 starts at bit 10
  EXPECT_THROW(pack_codes(at::full({1, 2}, 1024, at::kLong), 10), InputError);
  EXPECT_THROW(unpack_codes(at::zeros({1, 5}, at::kByte), 128, 10), InputError);
}

TEST(MultimodalQuantiser, ShapesSaveLoadAndEncodeDecode) {
  QuantiserConfig qc;
  qc.specific_modalities = {Modality::Audio};
  MultimodalQuantiser q(qc);
  at::Tensor x = torch::randn({2, 5, 2048});
  QuantiserOutput o = q.forward(x, Modality::Audio, true, 5);
  EXPECT_EQ(o.z_c.sizes(), (at::IntArrayRef{2, 5, 1024}));
  EXPECT_EQ(o.z_s.sizes(), (at::IntArrayRef{2, 5, 1024}));
  EXPECT_EQ(o.z.sizes(), (at::IntArrayRef{2, 5, 2048}));
  EXPECT_EQ(o.shared_indices.sizes(), (at::IntArrayRef{2, 5, 128}));
  EXPECT_NEAR(o.z.norm(2, -1).mean().item<float>(), 1.0f, 1e-5);
  QuantiserOutput t = q.forward(torch::randn({3, 1024}), Modality::Text, true, 1);
  EXPECT_FALSE(t.z_s.defined());
  EXPECT_THROW(q.forward(torch::randn({3, 2048}), Modality::Depth, true, 1), InputError);
  // Eval output equals decode(encode(x)).
  at::Tensor e = torch::randn({4, 2048});
  QuantiserOutput oe = q.forward(e, Modality::Audio, false, 1);
  auto [si, pi] = q.encode(e, Modality::Audio);
  EXPECT_TRUE(si.equal(oe.shared_indices));
  EXPECT_TRUE(at::allclose(q.decode_shared(si), oe.z_c, 1e-6, 1e-6));
  EXPECT_TRUE(at::allclose(q.decode_specific(pi, Modality::Audio), oe.z_s, 1e-6, 1e-6));
  // Save → load round trip reproduces the codebooks exactly.
  test::TempDir tmp;
  NamedTensors nt;
  q.save(nt);
  save_safetensors(tmp.file("q.safetensors"), nt);
  MultimodalQuantiser q2(qc);
  q2.load(SafetensorsFile(tmp.file("q.safetensors")));
  EXPECT_TRUE(q2.shared_codebook().weight.equal(q.shared_codebook().weight));
  EXPECT_TRUE(q2.specific_codebook(Modality::Audio).embed_avg.equal(q.specific_codebook(Modality::Audio).embed_avg));
  EXPECT_EQ(q2.shared_fingerprint(), q.shared_fingerprint());
}

TEST(MultimodalQuantiser, AblationConfigs) {
  QuantiserConfig sv;  // standard VQ: one codevector per half
  sv.standard_vq = true;
  sv.shared_codebook_size = 64;
  sv.specific_codebook_size = 16;
  sv.specific_modalities = {Modality::Depth};
  MultimodalQuantiser q(sv);
  QuantiserOutput o = q.forward(torch::randn({4, 3, 2048}), Modality::Depth, true, 3);
  EXPECT_EQ(o.shared_indices.sizes(), (at::IntArrayRef{4, 3, 1}));
  QuantiserConfig only;  // codebook only: no specific half
  only.specific_width = 0;
  only.specific_modalities = {Modality::Depth};
  MultimodalQuantiser q2(only);
  EXPECT_EQ(q2.forward(torch::randn({2, 1024}), Modality::Depth, true, 1).z.size(-1), 1024);
  QuantiserConfig sep;
  sep.separate_codebooks = true;
  sep.specific_modalities = {Modality::Depth, Modality::Vision};
  MultimodalQuantiser q3(sep);
  EXPECT_NE(&q3.shared_codebook(Modality::Depth), &q3.shared_codebook(Modality::Text));
  EXPECT_THROW(QuantiserConfig::from_json({{"bogus", 1}}, "cfg.json"), InputError);
  EXPECT_THROW(QuantiserConfig::from_json({{"shared_width", 1001}}, "cfg.json"), InputError);  // layout: not JSON
  EXPECT_THROW(QuantiserConfig::from_json({{"kmeans_iters", -1}}, "cfg.json"), InputError);
  QuantiserConfig back = QuantiserConfig::from_json(sep.to_json(), "x");
  EXPECT_EQ(back.to_json(), sep.to_json());
}

// ---- two processes on loopback --------------------------------------------------------
// The worker runs only when spawned by DistributedCodebooksMatchSingleProcess.
QuantiserConfig dist_config(bool per_rank) {
  QuantiserConfig qc;
  qc.shared_codebook_size = 64;
  qc.specific_codebook_size = 32;
  qc.specific_modalities = {Modality::Audio};
  qc.per_rank_codebooks = per_rank;
  qc.seed = 7;
  return qc;
}
at::Tensor dist_batch(int step, int shard) {
  at::Generator g = at::detail::createCPUGenerator(1000 + step * 10 + shard);
  return at::randn({2, 3, 2048}, g, at::TensorOptions());
}
constexpr int kDistSteps = 4;

TEST(QuantDist, Worker) {
  const char* rank_s = std::getenv("CB_DIST_RANK");
  if (!rank_s) GTEST_SKIP() << "spawned by QuantDist.CodebooksMatchSingleProcess";
  int rank = std::atoi(rank_s);
  bool per_rank = std::getenv("CB_DIST_PER_RANK") != nullptr;
  MultimodalQuantiser q(dist_config(per_rank));
  auto comm = make_gloo_communicator(std::getenv("CB_DIST_STORE"), rank, 2);
  q.set_communicator(comm);
  for (int s = 0; s < kDistSteps; ++s) q.forward(dist_batch(s, rank), Modality::Audio, true, 3);
  comm->barrier();  // nobody leaves while the other still talks
  NamedTensors nt;
  q.save(nt);
  save_safetensors(std::string(std::getenv("CB_DIST_OUT")) + "/rank" + std::to_string(rank) + ".safetensors", nt);
}

void spawn_pair(const std::string& dir, bool per_rank) {
  std::vector<std::thread> ts;
  std::vector<int> rcs(2, -1);
  for (int r = 0; r < 2; ++r) {
    ts.emplace_back([&, r] {
      std::string cmd = "CB_DIST_RANK=" + std::to_string(r) + " CB_DIST_STORE=" + dir + "/store" +
                        (per_rank ? "p" : "s") + " CB_DIST_OUT=" + dir + (per_rank ? " CB_DIST_PER_RANK=1" : "") +
                        " OMP_NUM_THREADS=1 /proc/" + std::to_string(getpid()) +
                        "/exe --gtest_filter=QuantDist.Worker > " + dir + "/log" + std::to_string(r) + " 2>&1";
      rcs[r] = std::system(cmd.c_str());
    });
  }
  for (auto& t : ts) t.join();
  for (int r = 0; r < 2; ++r) {
    if (rcs[r] != 0) {
      std::ifstream log(dir + "/log" + std::to_string(r));
      std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
      FAIL() << "worker " << r << " failed (" << rcs[r] << "):\n" << text;
    }
  }
}

TEST(QuantDist, CodebooksMatchSingleProcess) {
  test::TempDir tmp;
  spawn_pair(tmp.str(), false);
  auto a = load_safetensors(tmp.file("rank0.safetensors"));
  auto b = load_safetensors(tmp.file("rank1.safetensors"));
  // A single process that sees both shards concatenated (rank order) each step.
  MultimodalQuantiser single(dist_config(false));
  for (int s = 0; s < kDistSteps; ++s)
    single.forward(at::cat({dist_batch(s, 0), dist_batch(s, 1)}, 0), Modality::Audio, true, 3);
  NamedTensors nt;
  single.save(nt);
  for (auto& [k, t] : nt) {
    ASSERT_TRUE(a.count(k)) << k;
    EXPECT_TRUE(a[k].equal(b[k])) << "ranks differ on " << k;
    EXPECT_TRUE(at::allclose(a[k].to(at::kFloat), t.to(at::kFloat), 1e-5, 1e-5)) << "single process differs on " << k;
  }
  // The reference behaviour (per-rank codebooks) lets the ranks diverge.
  test::TempDir tmp2;
  spawn_pair(tmp2.str(), true);
  auto c = load_safetensors(tmp2.file("rank0.safetensors"));
  auto d = load_safetensors(tmp2.file("rank1.safetensors"));
  ASSERT_TRUE(c.count("quant.shared.weight") && d.count("quant.shared.weight"));
  EXPECT_FALSE(c["quant.shared.weight"].equal(d["quant.shared.weight"]));
}

}  // namespace
}  // namespace cb

namespace cb {

// encode() normalises and assigns in blocks: the result must equal normalising everything
// first and assigning once (the same per-row arithmetic), across block boundaries.
TEST(Codebook, BlockedEncodeEqualsWholeNormaliseThenAssign) {
  torch::manual_seed(9);
  CodebookConfig cc;
  cc.num_codes = 256;
  cc.code_dim = 8;
  Codebook book(cc);
  book.initted = true;
  at::Tensor chunks = torch::randn({70000, 3, 8});  // 210000 rows: several blocks, a partial last one
  chunks[5].zero_();
  at::Tensor whole = l2_normalize(chunks).reshape({-1, 8}).contiguous();
  EXPECT_TRUE(l2_normalize(chunks.narrow(0, 1000, 500)).equal(whole.view({70000, 3, 8}).narrow(0, 1000, 500)))
      << "normalising a block must give the same bits as normalising the whole";
  at::Tensor want = argmax_cosine(whole, book.normalized_weight().contiguous()).view({70000, 3});
  EXPECT_TRUE(book.encode(chunks).equal(want));
}

}  // namespace cb
