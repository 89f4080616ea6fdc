// probe.h — `data check --probe`: linear probes (softmax regression, libtorch) on simple raw
// features, showing the class and the private factors of each modality are learnable above
// chance. Train split → test split (val when test is empty).
#pragma once
#include <string>
#include <vector>

#include "data/manifest.h"

namespace cb::data {

// One line per (modality, target): "vision class: acc 0.912 (chance 0.100; 5000 train, 1000 test; features …)".
std::vector<std::string> run_probes(const Manifest& m, int steps = 300);

}  // namespace cb::data
