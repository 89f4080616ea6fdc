// parity_groups.h — the golden-fixture groups `codebind parity` and the tests run, in order:
// preprocess (preprocess/), imagebind (encoders/), codebind (quant/ + train/ losses).
#pragma once
#include <string>
#include <vector>

#include "core/parity.h"

namespace cb {

// Group names in run order.
std::vector<std::string> parity_groups();
// Runs one group on `fixtures_dir/group` (InputError for an unknown group name).
ParityReport run_parity_group(const std::string& group, const std::string& fixtures_dir);

}  // namespace cb
