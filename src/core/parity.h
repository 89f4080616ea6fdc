// parity.h — golden-fixture checks shared by `codebind parity DIR` and the test suite.
//
// A fixture directory has one sub-folder per group (codebind/, imagebind/, preprocess/).
// Each group has a runner in the layer it checks; the runner records one ParityCheck per
// compared tensor/value.
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

namespace cb {

struct ParityCheck {
  std::string group;
  std::string name;
  double error = 0;      // max abs error (or relative, see `metric`)
  double tolerance = 0;  // pass when error <= tolerance
  std::string metric;    // "abs", "rel", "exact", "cos"
  bool pass = false;
  std::string note;      // e.g. the reason for a failure
};

class ParityReport {
 public:
  explicit ParityReport(std::string group) : group_(std::move(group)) {}
  // max |a-b| <= tol (shapes must match; a shape mismatch is a failure with a note).
  void abs(const std::string& name, const at::Tensor& got, const at::Tensor& want, double tol);
  // max |a-b| / max(|b|, floor) <= tol, element-wise relative with an absolute floor.
  void rel(const std::string& name, const at::Tensor& got, const at::Tensor& want, double tol,
           double floor = 1e-12);
  // Exact equality (integer tensors, ids, indices).
  void exact(const std::string& name, const at::Tensor& got, const at::Tensor& want);
  // Scalars.
  void scalar_rel(const std::string& name, double got, double want, double tol);
  void add(ParityCheck c);
  const std::vector<ParityCheck>& checks() const { return checks_; }
  const std::string& group() const { return group_; }

 private:
  std::string group_;
  std::vector<ParityCheck> checks_;
};

using ParityRunner = std::function<void(const std::string& group_dir, ParityReport& report)>;

// Runs `runner` on `fixtures_dir/group`; a missing folder yields zero checks. Exceptions
// inside the runner become one failed check naming the error. The table of groups lives in
// the application layer (app/parity_groups.h), which is the only layer that sees them all.
ParityReport run_parity_runner(const std::string& group, const ParityRunner& runner, const std::string& fixtures_dir);

}  // namespace cb
