// assign_kernels.h — internal to the assignment (assign.cpp): the c = 8 arg-max kernels.
// Every kernel computes each dot product with the same operation sequence — x0·c0 rounded,
// then fma(x_d, c_d, acc) for d = 1…7 — so all of them (and the scalar routine) see bitwise
// equal similarities and return the same index: the largest dot, ties → lowest index.
#pragma once
#include <cstdint>

namespace cb::detail {

// One row x (8) against the transposed codebook codes_t (8, K) (row stride K).
int64_t argmax8_scalar(const float* x, const float* codes_t, int64_t K);

// AVX2: rows (n, 8); codes (Kp, 8) and codes_t (8, Kp), Kp % 16 == 0 (pad by repeating
// the last code: a repeat never wins over the original's lower index) → out (n).
void argmax8_avx2(const float* rows, int64_t n, const float* codes, const float* codes_t, int64_t Kp,
                  int64_t* out);

// AVX-512: same layouts and padding as AVX2 → out (n).
void argmax8_avx512(const float* rows, int64_t n, const float* codes, const float* codes_t, int64_t Kp,
                    int64_t* out);

}  // namespace cb::detail
