// finite_check.h — weights and checkpoint tensors must hold finite numbers: a NaN or Inf in a
// loaded tensor would otherwise flow silently into every embedding (exit 0, all-NaN output)
// or into a resumed training run. Every model and checkpoint loader calls this per tensor.
#pragma once
#include <ATen/ATen.h>

#include <string>

namespace cb {

// Number of NaN (and, unless allow_inf, ±Inf) values in a floating tensor (0 for integer and
// bool tensors).
int64_t count_non_finite(const at::Tensor& t, bool allow_inf = false);

// InputError "FILE: tensor 'KEY' holds N NaN/Inf values of M: the file is damaged or was
// saved from a diverged run" when t has any. Attention masks legitimately hold −Inf: a key
// ending in "mask" (ImageBind's text causal mask) or allow_inf permits ±Inf (NaN never).
void check_finite(const at::Tensor& t, const std::string& file, const std::string& key, bool allow_inf = false);

}  // namespace cb
