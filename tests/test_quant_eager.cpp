// test_quant_eager.cpp — the eager reference quantiser (the benchmarks' baseline) reproduces
// the golden quantiser fixtures: three training steps' indices exactly, commitment losses and
// every codebook state within the fixture tolerances (docs/model.md §9). Without this the benchmark
// ratio would compare two different computations.
#include <gtest/gtest.h>

#include <fstream>

#include "io/safetensors.h"
#include "quant/eager_reference.h"
#include "test_util.h"

namespace cb {
namespace {

eager::CodebookState state(const SafetensorsFile& f, const std::string& p) {
  return {f.get(p + "weight").clone(), f.get(p + "cluster_size").clone(), f.get(p + "embed_avg").clone(),
          f.get(p + "embed_prob").clone()};
}

// Relative error with the fixtures' floor of 1e-3 (docs/model.md §9), as the parity report computes it.
double max_rel(const at::Tensor& got, const at::Tensor& want) {
  return ((got.to(at::kDouble) - want.to(at::kDouble)).abs() / want.to(at::kDouble).abs().clamp_min(1e-3))
      .max()
      .item<double>();
}

TEST(EagerReference, ReproducesTheGoldenQuantiserSteps) {
  CB_REQUIRE_FIXTURES();
  const std::string dir = test::fixtures_dir() + "/codebind/";
  SafetensorsFile f(dir + "quantiser.safetensors");
  const auto man = nlohmann::json::parse(std::ifstream(dir + "manifest.json"));
  const int64_t steps = man.at("batch").at("steps");
  eager::CodebookState shared = state(f, "state0.common."), specific = state(f, "state0.specific.");
  const int64_t shared_width = f.get("step1.q.common").size(1) * shared.weight.size(1);
  ASSERT_GE(steps, 1);
  for (int64_t s = 1; s <= steps; ++s) {
    const std::string p = "step" + std::to_string(s) + ".";
    SCOPED_TRACE(p);
    at::Tensor x = f.get(p + "input");
    at::Tensor flat = x.reshape({-1, x.size(-1)}).clone().requires_grad_(true);
    eager::StepOutput o = eager::quantiser_step(shared, specific, flat, shared_width, true, {});
    EXPECT_TRUE(o.shared_indices.equal(f.get(p + "indices.common").reshape(o.shared_indices.sizes())));
    EXPECT_TRUE(o.specific_indices.equal(f.get(p + "indices.specific").reshape(o.specific_indices.sizes())));
    const double want = f.get(p + "commit.total").item<double>();
    EXPECT_NEAR(o.commit.item<double>(), want, 1e-5 * std::abs(want));
    const std::string st = "state" + std::to_string(s) + ".";
    for (auto [name, cb] : {std::pair<const char*, eager::CodebookState*>{"common.", &shared}, {"specific.", &specific}}) {
      EXPECT_LT((cb->weight - f.get(st + name + "weight")).abs().max().item<double>(), 1e-6) << name;
      EXPECT_LT((cb->embed_prob - f.get(st + name + "embed_prob")).abs().max().item<double>(), 1e-6) << name;
      EXPECT_LT(max_rel(cb->cluster_size, f.get(st + name + "cluster_size")), 1e-6) << name;
      // The (K, c) sums come from a float32 GEMM over B·L·m rows, whose summation order is
      // its own: 2.3e-6 relative off the fixture measured (float64 sums: within 1e-6).
      EXPECT_LT(max_rel(cb->embed_avg, f.get(st + name + "embed_avg")), 1e-5) << name;
    }
    if (f.has(p + "out.concat"))
      EXPECT_LT((o.z - f.get(p + "out.concat").reshape(o.z.sizes())).abs().max().item<double>(), 1e-6);
    // The gradient reaches the input (commitment and straight-through).
    (o.commit + o.z.sum() * 1e-3).backward();
    ASSERT_TRUE(flat.grad().defined());
    EXPECT_GT(flat.grad().abs().sum().item<double>(), 0);
  }
}

}  // namespace
}  // namespace cb
