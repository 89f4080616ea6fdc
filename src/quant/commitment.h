// commitment.h — the commitment loss β · mean((sg(q) − û)²) of docs/model.md §3.7 (q: gathered code
// rows, no gradient; û: unit chunks). Forward with the same ATen ops as the plain expression
// (bitwise equal value); backward in one pass, ∂/∂û = −2β/numel · g · (q − û).
#pragma once
#include <ATen/ATen.h>

namespace cb {

// unit (…) with gradient, q (…) same shape (its gradient is not taken) → () loss.
at::Tensor commitment_loss(const at::Tensor& unit, const at::Tensor& q, double beta);

}  // namespace cb
