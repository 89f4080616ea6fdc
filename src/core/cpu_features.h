// cpu_features.h — what this CPU can run, for the run-time kernel choices (quantiser
// assignment, index scan, bf16 advice) and for `codebind --version` / benchmark headers,
// which name the CPU and the kernels a figure was measured with.
#pragma once
#include <string>

namespace cb {

// "model name" from /proc/cpuinfo (or "unknown CPU").
std::string cpu_model();

// The SIMD features the project's kernels care about that this CPU has, space-separated,
// e.g. "avx2 fma avx512f avx512bw avx512vl avx512vnni avx512bf16".
std::string cpu_simd_features();

// True when the CPU has the AVX-512 subset (F, BW, VL, DQ) that oneDNN's bf16 kernels need;
// without it libtorch's CPU bf16 matrix products fall back to a slow scalar path.
bool cpu_has_avx512_core();

// True when the CPU computes bf16 dot products natively (AVX512-BF16).
bool cpu_has_avx512_bf16();

}  // namespace cb
