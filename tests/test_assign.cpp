// test_assign.cpp — the fused c = 8 assignment kernel against a plain scalar arg-max that
// uses the same operation order (x0·c0, then fma for d = 1…7; strict >, so ties → lowest
// index): results must be identical, for any K (not only multiples of the 16-code block),
// any N (not only multiples of the 8-row group), exact ties within and across blocks, zero
// rows and coarse inputs where many dots tie.
#include <torch/torch.h>

#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <cmath>
#include <thread>

#include "core/threads.h"
#include "quant/assign.h"
#include "test_util.h"

namespace cb {
namespace {

at::Tensor unit_rows(const at::Tensor& x) {
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(1));
}

// rows (N, 8), codes (K, 8) → (N) int64, computed one dot at a time.
at::Tensor scalar_argmax(const at::Tensor& rows_in, const at::Tensor& codes_in) {
  at::Tensor rows = rows_in.contiguous(), codes = codes_in.contiguous();
  const int64_t n = rows.size(0), K = codes.size(0);
  at::Tensor out = at::empty({n}, at::kLong);
  const float* x = rows.data_ptr<float>();
  const float* c = codes.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    float bv = -FLT_MAX;
    int64_t bi = 0;
    for (int64_t k = 0; k < K; ++k) {
      float acc = x[i * 8] * c[k * 8];
      for (int d = 1; d < 8; ++d) acc = std::fma(x[i * 8 + d], c[k * 8 + d], acc);
      if (acc > bv) {
        bv = acc;
        bi = k;
      }
    }
    out[i] = bi;
  }
  return out;
}

// Every kernel this CPU runs (not only the one the dispatcher picks) against the scalar
// loop above; the kernels exercised are printed so a log says which variants this host ran.
void expect_same(const at::Tensor& rows, const at::Tensor& codes, const std::string& what) {
  const at::Tensor want = scalar_argmax(rows, codes);
  for (AssignKernel k : available_assign_kernels()) {
    at::Tensor got = argmax_cosine(rows, codes, k);
    EXPECT_TRUE(got.equal(want)) << what << ": " << got.ne(want).sum().item<int64_t>() << " of " << rows.size(0)
                                 << " rows differ (kernel " << assign_kernel_name(k) << ")";
  }
  EXPECT_TRUE(argmax_cosine(rows, codes).equal(want)) << what << " (dispatcher: " << assign_kernel_name() << ")";
}

TEST(AssignKernel, ListsTheKernelsThisHostRuns) {
  std::string names;
  for (AssignKernel k : available_assign_kernels()) names += std::string(" ") + assign_kernel_name(k);
  std::printf("[ kernels  ] assignment kernels exercised on this host:%s (dispatcher picks %s)\n", names.c_str(),
              assign_kernel_name());
  const auto ks = available_assign_kernels();
  EXPECT_EQ(ks.front(), AssignKernel::Scalar);
  if (best_assign_kernel() != AssignKernel::Torch)  // torch only when forced by $CODEBIND_ASSIGN_KERNEL
    EXPECT_NE(std::find(ks.begin(), ks.end(), best_assign_kernel()), ks.end());
  EXPECT_EQ(std::count(ks.begin(), ks.end(), AssignKernel::Avx512), __builtin_cpu_supports("avx512f") ? 1 : 0);
}

TEST(AssignKernel, MatchesScalarForAnyKAndN) {
  torch::manual_seed(3);
  for (int64_t K : {1, 5, 16, 17, 31, 100, 256, 1000, 1024})
    for (int64_t N : {1, 7, 8, 9, 1003})
      expect_same(unit_rows(torch::randn({N, 8})), unit_rows(torch::randn({K, 8})),
                  "K=" + std::to_string(K) + " N=" + std::to_string(N));
}

TEST(AssignKernel, ExactTiesGoToTheLowestIndex) {
  torch::manual_seed(4);
  for (int64_t K : {24, 200, 1024}) {
    at::Tensor codes = unit_rows(torch::randn({K, 8}));
    // Duplicates of earlier codes later in the book: in the same 16-code block and in later ones.
    for (int64_t j = 0; j + 3 < K; j += 5) codes[K - 1 - j % (K / 2)] = codes[j / 2].clone();
    codes[K - 1] = codes[0].clone();
    // Rows equal to codes (their duplicate must lose), plus random rows.
    at::Tensor rows = at::cat({codes.index_select(0, torch::randint(0, K, {300}, at::kLong)),
                               unit_rows(torch::randn({301, 8}))});
    expect_same(rows, codes, "duplicates K=" + std::to_string(K));
  }
}

TEST(AssignKernel, CoarseValuesAndZeroRows) {
  torch::manual_seed(5);
  // Entries in {-1, 0, 1}: many rows see several equal maxima spread over the codebook.
  at::Tensor codes = torch::randint(-1, 2, {1000, 8}).to(at::kFloat);
  at::Tensor rows = torch::randint(-1, 2, {517, 8}).to(at::kFloat);
  expect_same(rows, codes, "coarse");
  expect_same(torch::zeros({11, 8}), codes, "zero rows");  // all dots 0 → code 0
  for (AssignKernel k : available_assign_kernels())
    EXPECT_TRUE(argmax_cosine(torch::zeros({11, 8}), codes, k).eq(0).all().item<bool>()) << assign_kernel_name(k);
}

}  // namespace
}  // namespace cb

// The assignment kernel, normalisation and packing split rows with at::parallel_for, which
// runs serially unless the library is compiled with OpenMP (found in the quiet-machine
// benchmark: the 2-thread kernel ran at the 1-thread rate). Guard the build flag.

TEST(Threads, ParallelForInTheLibraryUsesSeveralThreads) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core: nothing to check";
  const int before = cb::thread_count();
  cb::configure_threads(2);
  EXPECT_EQ(cb::parallel_for_width(8), 2);
  cb::configure_threads(1);
  EXPECT_EQ(cb::parallel_for_width(8), 1);
  cb::configure_threads(before);
}
