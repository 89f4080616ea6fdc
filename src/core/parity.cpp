// parity.cpp — see parity.h.
#include "core/parity.h"

#include <filesystem>

#include "core/error.h"

namespace cb {
namespace {
bool same_shape(const at::Tensor& a, const at::Tensor& b) { return a.sizes() == b.sizes(); }
}  // namespace

void ParityReport::add(ParityCheck c) {
  c.group = group_;
  checks_.push_back(std::move(c));
}

void ParityReport::abs(const std::string& name, const at::Tensor& got, const at::Tensor& want, double tol) {
  ParityCheck c{group_, name, 0, tol, "abs", false, ""};
  if (!same_shape(got, want)) {
    c.error = INFINITY;
    c.note = fmt::format("shape {} vs expected {}", c10::str(got.sizes()), c10::str(want.sizes()));
  } else if (got.numel() > 0) {
    c.error = (got.to(at::kDouble) - want.to(at::kDouble)).abs().max().item<double>();
  }
  c.pass = c.error <= tol;
  add(c);
}

void ParityReport::rel(const std::string& name, const at::Tensor& got, const at::Tensor& want, double tol,
                       double floor) {
  ParityCheck c{group_, name, 0, tol, "rel", false, ""};
  if (!same_shape(got, want)) {
    c.error = INFINITY;
    c.note = fmt::format("shape {} vs expected {}", c10::str(got.sizes()), c10::str(want.sizes()));
  } else if (got.numel() > 0) {
    auto w = want.to(at::kDouble);
    c.error = ((got.to(at::kDouble) - w).abs() / w.abs().clamp_min(floor)).max().item<double>();
  }
  c.pass = c.error <= tol;
  add(c);
}

void ParityReport::exact(const std::string& name, const at::Tensor& got, const at::Tensor& want) {
  ParityCheck c{group_, name, 0, 0, "exact", false, ""};
  if (!same_shape(got, want)) {
    c.error = INFINITY;
    c.note = fmt::format("shape {} vs expected {}", c10::str(got.sizes()), c10::str(want.sizes()));
  } else {
    c.error = got.numel() == 0 ? 0 : got.to(at::kLong).ne(want.to(at::kLong)).sum().item<int64_t>();
    if (c.error > 0) c.note = fmt::format("{} mismatching elements", int64_t(c.error));
  }
  c.pass = c.error == 0;
  add(c);
}

void ParityReport::scalar_rel(const std::string& name, double got, double want, double tol) {
  ParityCheck c{group_, name, 0, tol, "rel", false, ""};
  c.error = std::abs(got - want) / std::max(std::abs(want), 1e-30);
  c.pass = c.error <= tol;
  c.note = fmt::format("got {:.8g} want {:.8g}", got, want);
  add(c);
}

ParityReport run_parity_runner(const std::string& group, const ParityRunner& runner, const std::string& fixtures_dir) {
  ParityReport report(group);
  std::string dir = (std::filesystem::path(fixtures_dir) / group).string();
  if (!std::filesystem::is_directory(dir)) return report;
  try {
    runner(dir, report);
  } catch (const std::exception& e) {
    report.add(ParityCheck{group, "(runner)", INFINITY, 0, "error", false, e.what()});
  }
  return report;
}

}  // namespace cb
