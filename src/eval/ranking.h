// ranking.h — shared internals of the ranking metrics (zero-shot mAP, retrieval): the
// scikit-learn average precision of one ranked list. Internal to src/eval.
#pragma once
#include <cstdint>
#include <vector>

namespace cb::eval::detail {

// scores and targets of one list (same length). AP = Σ_n (R_n − R_{n−1}) P_n over distinct
// score thresholds in decreasing order; NaN when there is no positive.
double average_precision(const std::vector<double>& scores, const std::vector<uint8_t>& targets);

}  // namespace cb::eval::detail
