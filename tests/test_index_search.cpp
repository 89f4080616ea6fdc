// test_index_search.cpp — the code index's top-k equals brute-force cosine search over the
// decoded quantised embeddings (every kernel this CPU has), in shared and concat modes, for
// 10-bit, 8-bit and non-power-of-two codebooks, on random and on clustered (sensor-suite-like)
// codes; the quantised first pass prunes; re-ranking equals exact float search.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "core/error.h"
#include "test_index_util.h"
#include "test_util.h"

namespace cb::index {
namespace {
using itest::decode_ref;
using itest::expect_topk;
using itest::normalised;
using itest::random_codebook;
using itest::random_items;

std::vector<Kernel> kernels() { return available_kernels(); }

TEST(IndexSearch, ListsTheKernelsThisHostRuns) {
  std::string names;
  for (Kernel k : kernels()) names += std::string(" ") + kernel_name(k);
  std::printf("[ kernels  ] index scan kernels exercised on this host:%s (dispatcher picks %s)\n", names.c_str(),
              kernel_name(Kernel::Auto));
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  const std::vector<Kernel> ks = kernels();
  EXPECT_EQ(std::count(ks.begin(), ks.end(), Kernel::Avx512), avx512 ? 1 : 0);
  EXPECT_EQ(std::count(ks.begin(), ks.end(), Kernel::Avx2), __builtin_cpu_supports("avx2") ? 1 : 0);
}

std::vector<float> random_queries(int64_t nq, int64_t d, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> n;
  std::vector<float> q(nq * d);
  for (float& v : q) v = n(g);
  return q;
}

void check_shared(uint32_t K, uint32_t m, uint32_t c, int64_t N, int k) {
  Index ix(random_codebook(K, c, 1), {}, m, 0);
  std::vector<uint8_t> sc, pc;
  std::vector<float> fl;
  ix.append(random_items(ix, N, {Modality::Vision, Modality::Text, Modality::Audio}, 2, sc, pc, fl));
  const int64_t nq = 13, d = int64_t(m) * c;  // 13: not a multiple of the lane count
  auto q = random_queries(nq, d, 3);
  std::vector<std::pair<int64_t, std::vector<double>>> all, audio;
  for (int64_t r = 0; r < N; ++r) {
    all.push_back({r, decode_ref(ix, r, false)});
    if (ix.modality(r) == Modality::Audio) audio.push_back(all.back());
  }
  for (Kernel kern : kernels()) {
    SCOPED_TRACE(kernel_name(kern));
    SearchOptions o;
    o.k = k;
    o.kernel = kern;
    auto res = search(ix, q.data(), nq, d, Modality::Text, o);
    ASSERT_EQ(res.size(), size_t(nq));
    for (int64_t i = 0; i < nq; ++i) expect_topk(res[i], normalised(&q[i * d], d), all, k);
    o.only_modality = static_cast<int>(Modality::Audio);
    res = search(ix, q.data(), nq, d, Modality::Text, o);
    for (int64_t i = 0; i < nq; ++i) expect_topk(res[i], normalised(&q[i * d], d), audio, k);
  }
}

TEST(IndexSearch, SharedMatchesBruteForce10Bit) { check_shared(1024, 128, 8, 1500, 10); }
TEST(IndexSearch, SharedMatchesBruteForceGenericBits) { check_shared(300, 12, 4, 700, 7); }
TEST(IndexSearch, SharedMatchesBruteForce8Bit) { check_shared(256, 32, 8, 600, 5); }
TEST(IndexSearch, SharedMatchesBruteForceManyBlocks) { check_shared(1024, 16, 8, 20000, 10); }  // > 2 blocks
TEST(IndexSearch, KLargerThanDatabase) { check_shared(1024, 16, 8, 5, 10); }

// Sensor-suite-like codes: items are mutations of a few prototypes (classes), so many items
// share most codes and scores crowd together near the k-th — the case where the quantised
// first pass must hand every contender to the exact re-scoring. Queries are noisy prototypes.
TEST(IndexSearch, ClusteredCodesMatchBruteForce) {
  const uint32_t m = 128, c = 8, K = 1024;
  Index ix(random_codebook(K, c, 40), {}, m, 0);
  std::mt19937_64 g(41);
  const int64_t N = 2500, P = 12;
  at::Tensor proto = at::randint(K, {P, int64_t(m)}, at::kLong);
  at::Tensor codes = proto.index_select(0, at::arange(N) % P).clone();
  for (int64_t i = 0; i < N; ++i)
    for (int t = 0; t < 6; ++t) codes[i][int64_t(g() % m)] = int64_t(g() % K);  // ~5% of chunks differ
  at::Tensor packed = cb::pack_codes(codes, ix.shared_bits());
  ItemBatch b;
  b.n = N;
  b.shared_codes = packed.data_ptr<uint8_t>();
  for (int64_t i = 0; i < N; ++i) b.ids.push_back("c" + std::to_string(i)), b.modalities.push_back(Modality::Imu);
  ix.append(b);
  std::vector<std::pair<int64_t, std::vector<double>>> all;
  for (int64_t r = 0; r < N; ++r) all.push_back({r, decode_ref(ix, r, false)});
  const int64_t nq = 20, d = int64_t(m) * c;
  auto noise = random_queries(nq, d, 42);
  std::vector<float> q(nq * d);
  for (int64_t i = 0; i < nq; ++i) {
    auto z = ix.decode(i % P, false);  // rows 0..P-1 are one of each prototype
    for (int64_t j = 0; j < d; ++j) q[i * d + j] = z[j] + 0.02f * (i / P) * noise[i * d + j];
  }
  for (Kernel kern : kernels()) {
    SCOPED_TRACE(kernel_name(kern));
    SearchOptions o;
    o.k = 10;
    o.kernel = kern;
    auto res = search(ix, q.data(), nq, d, Modality::Imu, o);
    for (int64_t i = 0; i < nq; ++i) expect_topk(res[i], normalised(&q[i * d], d), all, 10);
  }
}

// The quantised first pass really prunes: on random codes only a small share of the database
// is re-scored exactly.
TEST(IndexSearch, FirstPassPrunes) {
  Index ix(random_codebook(1024, 8, 50), {}, 128, 0);
  std::vector<uint8_t> sc, pc;
  std::vector<float> fl;
  const int64_t N = 6000, nq = 16, d = 1024;
  ix.append(random_items(ix, N, {Modality::Vision}, 51, sc, pc, fl));
  auto q = random_queries(nq, d, 52);
  int64_t rescored = 0;
  SearchOptions o;
  o.rescored = &rescored;
  search(ix, q.data(), nq, d, Modality::Text, o);
  EXPECT_GT(rescored, 0);
  EXPECT_LT(rescored, N * nq / 10) << "re-scored " << rescored << " of " << N * nq;
}

TEST(IndexSearch, QuantisedQueryFindsItself) {
  // An item's own decoded embedding as the query must rank it first with cosine 1.
  Index ix(random_codebook(1024, 8, 4), {}, 128, 0);
  std::vector<uint8_t> sc, pc;
  std::vector<float> fl;
  ix.append(random_items(ix, 400, {Modality::Depth}, 5, sc, pc, fl));
  for (int64_t r : {0, 17, 399}) {
    auto z = ix.decode(r, false);
    auto res = search(ix, z.data(), 1, int64_t(z.size()), Modality::Depth, SearchOptions{});
    ASSERT_FALSE(res[0].empty());
    EXPECT_EQ(res[0][0].row, r);
    EXPECT_NEAR(res[0][0].score, 1.0f, 1e-5);
  }
}

TEST(IndexSearch, ConcatMatchesBruteForceWithinModality) {
  std::map<Modality, Codebook> spec;
  spec[Modality::Vision] = random_codebook(256, 8, 11);
  spec[Modality::Depth] = random_codebook(256, 8, 12);
  Index ix(random_codebook(1024, 8, 10), spec, 64, 0);
  std::vector<uint8_t> sc, pc;
  std::vector<float> fl;
  ix.append(random_items(ix, 900, {Modality::Vision, Modality::Depth, Modality::Text}, 13, sc, pc, fl));
  const int64_t nq = 9, d = 2 * 64 * 8;
  auto q = random_queries(nq, d, 14);
  std::vector<std::pair<int64_t, std::vector<double>>> depth;
  for (int64_t r = 0; r < ix.size(); ++r)
    if (ix.modality(r) == Modality::Depth) depth.push_back({r, decode_ref(ix, r, true)});
  for (Kernel kern : kernels()) {
    SCOPED_TRACE(kernel_name(kern));
    SearchOptions o;
    o.k = 10;
    o.mode = SearchMode::Concat;
    o.kernel = kern;
    auto res = search(ix, q.data(), nq, d, Modality::Depth, o);
    for (int64_t i = 0; i < nq; ++i) expect_topk(res[i], normalised(&q[i * d], d), depth, 10);
  }
  // Text has no specific codebook: concat falls back to shared over every item.
  SearchOptions o;
  o.mode = SearchMode::Concat;
  auto res = search(ix, q.data(), 1, d, Modality::Text, o);
  std::vector<std::pair<int64_t, std::vector<double>>> all;
  for (int64_t r = 0; r < ix.size(); ++r) all.push_back({r, decode_ref(ix, r, false)});
  expect_topk(res[0], normalised(q.data(), 64 * 8), all, 10);
  // Concat needs the specific half of the query.
  EXPECT_THROW(search(ix, q.data(), 1, 64 * 8, Modality::Depth, o), InputError);
}

TEST(IndexSearch, RerankEqualsExactFloatSearch) {
  Index ix(random_codebook(1024, 8, 20), {}, 32, 2 * 32 * 8);
  std::vector<uint8_t> sc, pc;
  std::vector<float> fl;
  ix.append(random_items(ix, 300, {Modality::Vision}, 21, sc, pc, fl));
  const int64_t d = 32 * 8;
  auto q = random_queries(3, d, 22);
  SearchOptions o;
  o.k = 5;
  o.rerank = 300;  // every item is a candidate → exact float search on the shared half
  auto res = search(ix, q.data(), 3, d, Modality::Text, o);
  std::vector<std::pair<int64_t, std::vector<double>>> floats;
  for (int64_t r = 0; r < ix.size(); ++r) floats.push_back({r, normalised(&fl[r * 2 * d], d)});
  for (int i = 0; i < 3; ++i) expect_topk(res[i], normalised(&q[i * d], d), floats, 5);
}

TEST(IndexSearch, RejectsBadQueries) {
  Index ix(random_codebook(1024, 8, 30), {}, 16, 0);
  std::vector<float> q(16 * 8, 1.f);
  SearchOptions o;
  o.k = 0;
  EXPECT_THROW(search(ix, q.data(), 1, 128, Modality::Text, o), InputError);
  EXPECT_THROW(search(ix, q.data(), 1, 100, Modality::Text, SearchOptions{}), InputError);
  auto res = search(ix, q.data(), 1, 128, Modality::Text, SearchOptions{});  // empty index
  EXPECT_TRUE(res[0].empty());
}

}  // namespace
}  // namespace cb::index
