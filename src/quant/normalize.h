// normalize.h — L2 normalisation along the last dimension, x / max(‖x‖, 1e-12), as the
// quantiser uses it for chunks (…, 8) and for whole embeddings (…, 2048). The forward runs
// the same ATen ops as torch::nn::functional::normalize (bitwise equal values); the backward
// is one fused pass, gx = (g − y·⟨g, y⟩) / ‖x‖ (g / 1e-12 where the norm was clamped),
// instead of autograd's chain of div / norm / expand / clamp nodes.
#pragma once
#include <ATen/ATen.h>

namespace cb {

at::Tensor l2_normalize(const at::Tensor& x);

}  // namespace cb
