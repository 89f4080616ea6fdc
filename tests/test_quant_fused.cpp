// test_quant_fused.cpp — the quantiser's fused autograd functions against the plain ATen
// expressions they replace: equal forward values (bitwise) and equal gradients (to rounding),
// including rows whose norm is clamped (zero rows) and both chunk (8) and embedding widths.
#include <torch/torch.h>

#include "quant/commitment.h"
#include "quant/normalize.h"
#include "test_util.h"

namespace cb {
namespace {

at::Tensor plain_normalize(const at::Tensor& x) {
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().p(2).dim(-1).eps(1e-12));
}

TEST(QuantFused, L2NormalizeMatchesFunctionalNormalize) {
  torch::manual_seed(7);
  for (auto shape : {std::vector<int64_t>{33, 16, 8}, std::vector<int64_t>{5, 2048}}) {
    at::Tensor base = torch::randn(shape);
    base.select(0, 1).zero_();  // clamped rows: gradient g / eps, as autograd's
    at::Tensor g = torch::randn(shape);
    at::Tensor x1 = base.clone().requires_grad_(), x2 = base.clone().requires_grad_();
    at::Tensor y1 = l2_normalize(x1), y2 = plain_normalize(x2);
    EXPECT_TRUE(y1.equal(y2));
    (y1 * g).sum().backward();
    (y2 * g).sum().backward();
    EXPECT_TRUE(at::allclose(x1.grad(), x2.grad(), 1e-5, 1e-5)) << (x1.grad() - x2.grad()).abs().max();
  }
}

TEST(QuantFused, CommitmentLossMatchesPlainExpression) {
  torch::manual_seed(8);
  at::Tensor base = torch::randn({40, 16, 8}), q = torch::randn({40, 16, 8});
  at::Tensor u1 = base.clone().requires_grad_(), u2 = base.clone().requires_grad_();
  at::Tensor l1 = commitment_loss(u1, q, 0.25), l2 = 0.25 * (q - u2).pow(2).mean();
  EXPECT_TRUE(l1.equal(l2));
  (l1 * 3).backward();
  (l2 * 3).backward();
  EXPECT_TRUE(at::allclose(u1.grad(), u2.grad(), 1e-6, 1e-7));
}

}  // namespace
}  // namespace cb
