// finite_check.cpp — see finite_check.h. float32 (nearly every weight) is scanned by bit
// pattern without a temporary; other floating types go through at::isfinite.
#include "io/finite_check.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <cstring>

#include "core/error.h"

namespace cb {

int64_t count_non_finite(const at::Tensor& t_in, bool allow_inf) {
  if (!t_in.is_floating_point() || t_in.numel() == 0) return 0;
  if (t_in.scalar_type() != at::kFloat || !t_in.device().is_cpu())
    return allow_inf ? at::isnan(t_in).sum().item<int64_t>() : t_in.numel() - at::isfinite(t_in).sum().item<int64_t>();
  const at::Tensor t = t_in.contiguous();
  const uint32_t* p = reinterpret_cast<const uint32_t*>(t.data_ptr<float>());
  std::atomic<int64_t> bad{0};
  at::parallel_for(0, t.numel(), 1 << 16, [&](int64_t b, int64_t e) {
    int64_t n = 0;
    // Exponent all ones: Inf (mantissa 0) or NaN (mantissa ≠ 0).
    if (allow_inf)
      for (int64_t i = b; i < e; ++i) n += (p[i] & 0x7fffffffu) > 0x7f800000u;
    else
      for (int64_t i = b; i < e; ++i) n += (p[i] & 0x7f800000u) == 0x7f800000u;
    bad += n;
  });
  return bad.load();
}

void check_finite(const at::Tensor& t, const std::string& file, const std::string& key, bool allow_inf) {
  allow_inf = allow_inf || (key.size() >= 4 && key.compare(key.size() - 4, 4, "mask") == 0);
  const int64_t bad = count_non_finite(t, allow_inf);
  CB_CHECK_INPUT(bad == 0, "{}: tensor '{}' holds {} {} values of {}: the file is damaged or was saved from a "
                 "diverged run", file, key, bad, allow_inf ? "NaN" : "NaN/Inf", t.numel());
}

}  // namespace cb
