// finite_check.h — weights and checkpoint tensors must hold finite numbers: a NaN or Inf in a
// loaded tensor would otherwise flow silently into every embedding (exit 0, all-NaN output)
// or into a resumed training run. Every model and checkpoint loader calls this per tensor.
#pragma once
#include <ATen/ATen.h>

#include <string>

namespace cb {

// Number of NaN / ±Inf values in a floating tensor (0 for integer and bool tensors).
int64_t count_non_finite(const at::Tensor& t);

// InputError "FILE: tensor 'KEY' holds N NaN/Inf values of M: the file is damaged or was
// saved from a diverged run" when t has any.
void check_finite(const at::Tensor& t, const std::string& file, const std::string& key);

}  // namespace cb
