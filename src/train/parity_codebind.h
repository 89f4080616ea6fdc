// parity_codebind.h — parity runner for the CodeBind quantiser and loss fixtures (fixtures/codebind): compares this layer's
// outputs with the golden tensors of one fixture group (see app/parity_groups.h).
#pragma once
#include <string>

#include "core/parity.h"

namespace cb {

// Records one ParityCheck per compared tensor of the group folder `dir` into `r`.
void run_codebind_group(const std::string& dir, ParityReport& r);

}  // namespace cb
