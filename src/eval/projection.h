// projection.h — 2-D PCA of embeddings for the scatter plots of the report.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>

namespace cb::eval {

// Projects rows of x (N, D) onto their first two principal components → (N, 2) float.
// Centred; computed by seeded randomised subspace iteration (exact up to float error for the
// top-2 components when N, D are small, where a full SVD is used). Sign convention: each
// component's largest-magnitude loading is positive, so the result is deterministic.
at::Tensor pca_2d(const at::Tensor& x, uint64_t seed = 0);

}  // namespace cb::eval
