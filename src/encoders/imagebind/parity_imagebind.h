// parity_imagebind.h — parity runner for the ImageBind encoder fixtures (fixtures/imagebind): compares this layer's
// outputs with the golden tensors of one fixture group (see app/parity_groups.h).
#pragma once
#include <string>

#include "core/parity.h"

namespace cb {

// Records one ParityCheck per compared tensor of the group folder `dir` into `r`.
void run_imagebind_group(const std::string& dir, ParityReport& r);

}  // namespace cb
