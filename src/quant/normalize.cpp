// normalize.cpp — see normalize.h.
#include "quant/normalize.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace cb {
namespace {

constexpr double kEps = 1e-12;

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct L2Normalize : torch::autograd::Function<L2Normalize> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x) {
    at::Tensor norm = x.norm(2, {-1}, true);      // (…, 1)
    at::Tensor y = x / norm.clamp_min(kEps).expand_as(x);
    ctx->save_for_backward({y, norm});
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &y = saved[0], &norm = saved[1];
    at::Tensor g = grads[0];
    if (!g.device().is_cpu() || g.scalar_type() != at::kFloat || y.scalar_type() != at::kFloat) {
      at::Tensor s = (g * y).sum(-1, true);
      return {at::where(norm >= kEps, (g - y * s) / norm, g / kEps)};
    }
    g = g.contiguous();
    at::Tensor yc = y.contiguous(), nc = norm.contiguous();
    at::Tensor gx = at::empty_like(yc);
    const int64_t D = yc.size(-1), rows = D > 0 ? yc.numel() / D : 0;
    const float *gp = g.data_ptr<float>(), *yp = yc.data_ptr<float>(), *np = nc.data_ptr<float>();
    float* out = gx.data_ptr<float>();
    at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(D, 1)), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const float *gr = gp + r * D, *yr = yp + r * D;
        float* o = out + r * D;
        if (np[r] >= kEps) {
          float s = 0;
          for (int64_t j = 0; j < D; ++j) s += gr[j] * yr[j];
          const float inv = 1.0f / np[r];
          for (int64_t j = 0; j < D; ++j) o[j] = (gr[j] - yr[j] * s) * inv;
        } else {
          for (int64_t j = 0; j < D; ++j) o[j] = float(gr[j] / kEps);
        }
      }
    });
    return {gx};
  }
};

}  // namespace

at::Tensor l2_normalize(const at::Tensor& x) { return L2Normalize::apply(x); }

}  // namespace cb
