// probes.h — private-detail probes on frozen embeddings: linear probe (multinomial logistic
// regression, LBFGS) and kNN probe (cosine, majority vote) for categorical attributes; ridge
// regression (closed form) and kNN regression (R²) for continuous ones; same-attribute
// retrieval (precision@k). Features are standardised with train statistics. Hyper-parameters
// (weight decay / ridge alpha) are chosen on a seeded hold-out of the train split (logistic
// grid walked from strong to weak decay with warm starts; ties keep the stronger), then the
// probe is refitted on the whole train split. Deterministic given the seed.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace cb::eval {

struct ProbeOptions {
  uint64_t seed = 0;
  std::vector<double> weight_decays = {0.0, 1e-4, 1e-3, 1e-2, 1e-1};  // logistic L2 grid
  std::vector<double> ridge_alphas = {1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0};  // ridge grid (× N)
  double val_fraction = 0.2;  // hold-out of train used to choose the regulariser
  int64_t max_iter = 100;     // LBFGS iterations per fit
  int64_t knn_k = 10;         // neighbours for kNN probes
};

struct ProbeResult {
  double score = 0.0;    // accuracy (categorical) or R² (continuous) on the test split
  double chosen = 0.0;   // the chosen weight decay / ridge alpha (NaN for kNN)
  int64_t n_train = 0, n_test = 0;
};

// Standardise columns of `x` with mean/std of `ref` (std clamped ≥ 1e-6). (N, D) → (N, D).
at::Tensor standardise(const at::Tensor& x, const at::Tensor& ref);

// Linear probe accuracy. train_x (N, D) float, train_y (N) int64 in [0, C); test likewise.
// Items with y < 0 are dropped. Throws InputError on empty train/test or shape mismatch.
ProbeResult linear_probe(const at::Tensor& train_x, const at::Tensor& train_y,
                         const at::Tensor& test_x, const at::Tensor& test_y,
                         const ProbeOptions& opt = {});

// kNN probe accuracy: cosine similarity, k nearest train items, majority vote (ties → the
// class whose summed similarity is highest, then the lower class id).
ProbeResult knn_probe(const at::Tensor& train_x, const at::Tensor& train_y,
                      const at::Tensor& test_x, const at::Tensor& test_y,
                      const ProbeOptions& opt = {});

// Ridge R² on (test_x, test_t) for every alpha of `alphas` (penalty α·N), fitted in closed
// form on standardised (train_x, train_t) with an unpenalised intercept. Uses the D × D
// (primal) Gram matrix when D ≤ N, else the N × N (dual) one; `dual` forces the latter (tests).
std::vector<double> ridge_r2_grid(const at::Tensor& train_x, const at::Tensor& train_t, const at::Tensor& test_x,
                                  const at::Tensor& test_t, const std::vector<double>& alphas, bool dual = false);

// Ridge regression R² (closed form on standardised features, intercept = train mean).
// train_t / test_t: (N) float targets (NaN = missing, dropped).
ProbeResult ridge_probe(const at::Tensor& train_x, const at::Tensor& train_t,
                        const at::Tensor& test_x, const at::Tensor& test_t,
                        const ProbeOptions& opt = {});

// kNN regression R²: mean target of the k cosine-nearest train items.
ProbeResult knn_regression_probe(const at::Tensor& train_x, const at::Tensor& train_t,
                                 const at::Tensor& test_x, const at::Tensor& test_t,
                                 const ProbeOptions& opt = {});

// Coefficient of determination, scikit-learn definition: 1 − SS_res/SS_tot; 1 for a perfect
// prediction, 0 for predicting the mean; when SS_tot = 0: 1 if perfect else 0.
double r2_score(const at::Tensor& pred, const at::Tensor& target);

// Same-attribute retrieval within one set: for each item with value ≥ 0, the fraction of its k
// cosine-nearest other items (itself excluded) sharing its value; mean over items.
// x (N, D), values (N) int64 (−1 = missing).
double same_attribute_precision_at_k(const at::Tensor& x, const at::Tensor& values, int64_t k);

}  // namespace cb::eval
