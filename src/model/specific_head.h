// specific_head.h — the new per-modality "specific" head of CodeBind (docs/model.md §2.2):
// LN(D_M, eps 1e-6) → Linear(D_M → d_s, no bias), applied to every trunk token, PyTorch
// default initialisation (LN ones/zeros; Linear Kaiming-uniform a=√5, i.e. U(±1/√D_M)).
// Parameter names follow the ImageBind head layout: "0.weight", "0.bias", "1.weight".
#pragma once
#include <torch/torch.h>

namespace cb {

struct SpecificHeadImpl : torch::nn::Module {
  SpecificHeadImpl(int64_t in_dim, int64_t out_dim)
      : norm(register_module("0", torch::nn::LayerNorm(torch::nn::LayerNormOptions({in_dim}).eps(1e-6)))),
        proj(register_module("1", torch::nn::Linear(torch::nn::LinearOptions(in_dim, out_dim).bias(false)))) {}

  // (B, L, D_M) → (B, L, d_s)
  torch::Tensor forward(const torch::Tensor& z) { return proj->forward(norm->forward(z)); }

  torch::nn::LayerNorm norm;
  torch::nn::Linear proj;
};
TORCH_MODULE(SpecificHead);

}  // namespace cb
