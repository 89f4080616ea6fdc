// parity_groups.cpp — see parity_groups.h.
#include "app/parity_groups.h"

#include <utility>

#include "core/error.h"
#include "encoders/imagebind/parity_imagebind.h"
#include "preprocess/parity_preprocess.h"
#include "train/parity_codebind.h"

namespace cb {
namespace {
const std::vector<std::pair<std::string, ParityRunner>>& table() {
  static const std::vector<std::pair<std::string, ParityRunner>> t{
      {"preprocess", run_preprocess_parity}, {"imagebind", run_imagebind_group}, {"codebind", run_codebind_group}};
  return t;
}
}  // namespace

std::vector<std::string> parity_groups() {
  std::vector<std::string> out;
  for (const auto& [name, runner] : table()) out.push_back(name);
  return out;
}

ParityReport run_parity_group(const std::string& group, const std::string& fixtures_dir) {
  for (const auto& [name, runner] : table())
    if (name == group) return run_parity_runner(group, runner, fixtures_dir);
  fail_input("unknown parity group '{}' (known: preprocess, imagebind, codebind)", group);
}

}  // namespace cb
