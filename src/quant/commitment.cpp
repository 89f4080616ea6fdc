// commitment.cpp — see commitment.h.
#include "quant/commitment.h"

#include <torch/torch.h>

namespace cb {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct Commitment : torch::autograd::Function<Commitment> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& unit, const at::Tensor& q, double beta) {
    at::Tensor diff = q - unit;
    ctx->save_for_backward({diff});
    ctx->saved_data["scale"] = -2.0 * beta / double(diff.numel());
    return beta * diff.pow(2).mean();
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    at::Tensor diff = ctx->get_saved_variables()[0];
    const double scale = ctx->saved_data["scale"].toDouble();
    return {diff * (grads[0] * scale), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor commitment_loss(const at::Tensor& unit, const at::Tensor& q, double beta) {
  return Commitment::apply(unit, q.detach(), beta);
}

}  // namespace cb
