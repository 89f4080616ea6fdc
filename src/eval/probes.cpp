// probes.cpp — linear / kNN probes, ridge / kNN regression and same-attribute retrieval on
// frozen embeddings (probes.h).
#include "eval/probes.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <tuple>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/shape_str.h"

namespace cb::eval {


namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Rows with a usable target: y ≥ 0 (categorical) or finite (continuous).
at::Tensor keep_mask(const at::Tensor& y) {
  return y.is_floating_point() ? at::isfinite(y) : (y >= 0);
}

struct Xy {
  at::Tensor x, y;
};

Xy clean(const at::Tensor& x, const at::Tensor& y, bool categorical, const char* what) {
  CB_CHECK_INPUT(x.defined() && y.defined() && x.dim() == 2 && y.dim() == 1 && x.size(0) == y.size(0),
                 "probe: {} features {} and targets {} must be (N, D) and (N)", what, shape_str(x), shape_str(y));
  at::Tensor xc = x.to(at::kCPU).to(at::kFloat);
  at::Tensor yc = categorical ? y.to(at::kCPU).to(at::kLong) : y.to(at::kCPU).to(at::kDouble);
  at::Tensor m = keep_mask(yc);
  Xy r{xc.index({m}).contiguous(), yc.index({m}).contiguous()};
  CB_CHECK_INPUT(r.x.size(0) > 0, "probe: no {} items with a target", what);
  return r;
}

// Cleaned (train, test) of one probe; their feature widths must agree.
std::pair<Xy, Xy> clean_pair(const at::Tensor& train_x, const at::Tensor& train_y, const at::Tensor& test_x,
                             const at::Tensor& test_y, bool categorical) {
  Xy tr = clean(train_x, train_y, categorical, "train"), te = clean(test_x, test_y, categorical, "test");
  CB_CHECK_INPUT(tr.x.size(1) == te.x.size(1), "probe: train dim {} vs test dim {}", tr.x.size(1), te.x.size(1));
  return {std::move(tr), std::move(te)};
}

// Seeded split of n rows into (fit, val) index tensors.
std::pair<at::Tensor, at::Tensor> holdout(int64_t n, double frac, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  at::Tensor perm = at::randperm(n, gen, at::TensorOptions().dtype(at::kLong));
  int64_t n_val = std::clamp<int64_t>(int64_t(std::llround(double(n) * frac)), 0, n - 1);
  return {std::get<0>(perm.slice(0, n_val).sort()), std::get<0>(perm.slice(0, 0, n_val).sort())};
}

at::Tensor l2n(const at::Tensor& x) { return x / x.norm(2, {1}, true).clamp_min(1e-12); }

// Indices (Nq, k) of the k cosine-nearest reference rows and their similarities.
std::pair<at::Tensor, at::Tensor> knn(const at::Tensor& query, const at::Tensor& ref, int64_t k,
                                      bool exclude_self = false) {
  at::Tensor q = l2n(query), r = l2n(ref);
  std::vector<at::Tensor> idx, val;
  for (int64_t s = 0; s < q.size(0); s += 1024) {
    const int64_t e = std::min<int64_t>(q.size(0), s + 1024);
    at::Tensor sim = at::matmul(q.slice(0, s, e), r.t());  // (b, Nr)
    if (exclude_self) {
      at::Tensor rows = at::arange(s, e, at::kLong);
      sim.index_put_({at::arange(e - s, at::kLong), rows}, -std::numeric_limits<float>::infinity());
    }
    auto tk = at::topk(sim, k, 1, true, true);
    val.push_back(std::get<0>(tk));
    idx.push_back(std::get<1>(tk));
  }
  return {at::cat(idx), at::cat(val)};
}

// Multinomial logistic regression with L2 weight decay, full-batch LBFGS. x standardised.
// Warm start from (W0, b0) when given (the grid is walked from strong to weak decay).
std::pair<at::Tensor, at::Tensor> fit_logistic(const at::Tensor& x, const at::Tensor& y, int64_t C, double wd,
                                               int64_t max_iter, const at::Tensor& W0 = {},
                                               const at::Tensor& b0 = {}) {
  torch::AutoGradMode grad_on(true);  // callers may run under NoGradGuard
  at::Tensor W = (W0.defined() ? W0.clone() : torch::zeros({x.size(1), C})).requires_grad_(true);  // (D, C)
  at::Tensor b = (b0.defined() ? b0.clone() : torch::zeros({C})).requires_grad_(true);              // (C)
  torch::optim::LBFGS opt({W, b}, torch::optim::LBFGSOptions(1.0)
                                      .max_iter(max_iter)
                                      .history_size(20)
                                      .tolerance_grad(1e-6)
                                      .tolerance_change(1e-9)
                                      .line_search_fn("strong_wolfe"));
  auto closure = [&]() -> at::Tensor {
    opt.zero_grad();
    at::Tensor loss = torch::nll_loss(torch::log_softmax(torch::addmm(b, x, W), 1), y) +
                      0.5 * wd * W.pow(2).sum();
    loss.backward();
    return loss;
  };
  opt.step(closure);
  return {W.detach(), b.detach()};
}

double accuracy_of(const at::Tensor& W, const at::Tensor& b, const at::Tensor& x, const at::Tensor& y) {
  at::Tensor pred = at::addmm(b, x, W).argmax(1);
  return (pred == y).to(at::kDouble).mean().item<double>();
}

double mid_of(const std::vector<double>& grid) { return grid.empty() ? 0.0 : grid[grid.size() / 2]; }

}  // namespace

at::Tensor standardise(const at::Tensor& x, const at::Tensor& ref) {
  at::Tensor mean = ref.mean(0, true);
  at::Tensor std = ref.size(0) > 1 ? ref.std(0, /*unbiased=*/false, true).clamp_min(1e-6) : at::ones_like(mean);
  return (x - mean) / std;
}

// Predictions = mean + A_te (AᵀA + αN I)⁻¹ Aᵀ (t − mean) for standardised features
// A (N, D). One eigendecomposition serves the whole grid, of whichever Gram matrix is smaller:
// primal AᵀA = V Λ Vᵀ (D × D) or dual A Aᵀ = U Λ Uᵀ (N × N) — the two give identical
// predictions; with N = 5000 items of 256-d the primal one is ~8000× less work.
std::vector<double> ridge_r2_grid(const at::Tensor& xtr, const at::Tensor& ttr, const at::Tensor& xte,
                                  const at::Tensor& tte, const std::vector<double>& alphas, bool dual) {
  at::Tensor a = standardise(xtr, xtr).to(at::kDouble), c = standardise(xte, xtr).to(at::kDouble);  // (N, D), (Nt, D)
  const double mean = ttr.mean().item<double>();
  const int64_t N = a.size(0), D = a.size(1);
  at::Tensor r = ttr.to(at::kDouble).sub(mean).unsqueeze(1);                        // (N, 1)
  at::Tensor lam, proj_te, rhs;  // prediction(α) = mean + proj_te · (rhs / (lam + αN))
  if (!dual && D <= N) {
    auto [l, V] = at::linalg_eigh(at::matmul(a.t(), a));                          // (D), (D, D)
    lam = l;
    proj_te = at::matmul(c, V);                                                     // (Nt, D)
    rhs = at::matmul(V.t(), at::matmul(a.t(), r));                                  // (D, 1)
  } else {
    auto [l, U] = at::linalg_eigh(at::matmul(a, a.t()));                          // (N), (N, N)
    lam = l;
    proj_te = at::matmul(at::matmul(c, a.t()), U);                                  // (Nt, N)
    rhs = at::matmul(U.t(), r);                                                     // (N, 1)
  }
  lam = lam.clamp_min(0.0);
  std::vector<double> out;
  for (double alpha : alphas) {
    at::Tensor coef = rhs / (lam + alpha * double(N)).unsqueeze(1);
    out.push_back(r2_score(at::matmul(proj_te, coef).squeeze(1) + mean, tte));
  }
  return out;
}

ProbeResult linear_probe(const at::Tensor& train_x, const at::Tensor& train_y, const at::Tensor& test_x,
                         const at::Tensor& test_y, const ProbeOptions& opt) {
  auto [tr, te] = clean_pair(train_x, train_y, test_x, test_y, true);
  const int64_t C = std::max(tr.y.max().item<int64_t>(), te.y.max().item<int64_t>()) + 1;
  ProbeResult r;
  r.n_train = tr.x.size(0);
  r.n_test = te.x.size(0);
  r.chosen = mid_of(opt.weight_decays);
  auto [fit, val] = holdout(r.n_train, opt.val_fraction, opt.seed);
  if (opt.weight_decays.size() > 1 && val.numel() >= 2 && fit.numel() >= 2) {
    at::Tensor fx = tr.x.index_select(0, fit), fy = tr.y.index_select(0, fit);
    at::Tensor vx = standardise(tr.x.index_select(0, val), fx), vy = tr.y.index_select(0, val);
    at::Tensor fxs = standardise(fx, fx);
    std::vector<double> grid = opt.weight_decays;
    std::sort(grid.begin(), grid.end(), std::greater<double>());
    double best = -1;
    at::Tensor W, b;
    for (double wd : grid) {
      std::tie(W, b) = fit_logistic(fxs, fy, C, wd, opt.max_iter, W, b);
      const double acc = accuracy_of(W, b, vx, vy);
      if (acc > best + 1e-12) best = acc, r.chosen = wd;  // ties keep the stronger decay
    }
  }
  auto [W, b] = fit_logistic(standardise(tr.x, tr.x), tr.y, C, r.chosen, opt.max_iter);
  r.score = accuracy_of(W, b, standardise(te.x, tr.x), te.y);
  return r;
}

ProbeResult knn_probe(const at::Tensor& train_x, const at::Tensor& train_y, const at::Tensor& test_x,
                      const at::Tensor& test_y, const ProbeOptions& opt) {
  auto [tr, te] = clean_pair(train_x, train_y, test_x, test_y, true);
  const int64_t k = std::clamp<int64_t>(opt.knn_k, 1, tr.x.size(0));
  auto [idx, sim] = knn(te.x, tr.x, k);
  at::Tensor nb = tr.y.index_select(0, idx.reshape(-1)).reshape(idx.sizes());  // (Nt, k)
  const int64_t C = std::max(tr.y.max().item<int64_t>(), te.y.max().item<int64_t>()) + 1;
  auto L = nb.accessor<int64_t, 2>();
  at::Tensor simd = sim.to(at::kDouble).contiguous();
  auto S = simd.accessor<double, 2>();
  auto Y = te.y.accessor<int64_t, 1>();
  int64_t hits = 0;
  std::vector<int64_t> votes(C);
  std::vector<double> mass(C);
  for (int64_t i = 0; i < nb.size(0); ++i) {
    std::fill(votes.begin(), votes.end(), 0);
    std::fill(mass.begin(), mass.end(), 0.0);
    for (int64_t j = 0; j < k; ++j) votes[L[i][j]] += 1, mass[L[i][j]] += S[i][j];
    int64_t best = 0;
    for (int64_t c = 1; c < C; ++c)
      if (votes[c] > votes[best] || (votes[c] == votes[best] && mass[c] > mass[best])) best = c;
    hits += best == Y[i];
  }
  ProbeResult r;
  r.score = double(hits) / double(nb.size(0));
  r.chosen = kNaN;
  r.n_train = tr.x.size(0);
  r.n_test = te.x.size(0);
  return r;
}

ProbeResult ridge_probe(const at::Tensor& train_x, const at::Tensor& train_t, const at::Tensor& test_x,
                        const at::Tensor& test_t, const ProbeOptions& opt) {
  auto [tr, te] = clean_pair(train_x, train_t, test_x, test_t, false);
  ProbeResult r;
  r.n_train = tr.x.size(0);
  r.n_test = te.x.size(0);
  r.chosen = mid_of(opt.ridge_alphas);
  auto [fit, val] = holdout(r.n_train, opt.val_fraction, opt.seed);
  if (opt.ridge_alphas.size() > 1 && val.numel() >= 2 && fit.numel() >= 2) {
    const std::vector<double> scores = ridge_r2_grid(tr.x.index_select(0, fit), tr.y.index_select(0, fit),
                                                     tr.x.index_select(0, val), tr.y.index_select(0, val),
                                                     opt.ridge_alphas);
    double best = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < scores.size(); ++i)
      if (scores[i] > best + 1e-12) best = scores[i], r.chosen = opt.ridge_alphas[i];
  }
  r.score = ridge_r2_grid(tr.x, tr.y, te.x, te.y, {r.chosen}).front();
  return r;
}

ProbeResult knn_regression_probe(const at::Tensor& train_x, const at::Tensor& train_t, const at::Tensor& test_x,
                                 const at::Tensor& test_t, const ProbeOptions& opt) {
  auto [tr, te] = clean_pair(train_x, train_t, test_x, test_t, false);
  const int64_t k = std::clamp<int64_t>(opt.knn_k, 1, tr.x.size(0));
  at::Tensor idx = knn(te.x, tr.x, k).first;                                     // (Nt, k)
  at::Tensor pred = tr.y.index_select(0, idx.reshape(-1)).reshape(idx.sizes()).mean(1);  // (Nt)
  ProbeResult r;
  r.score = r2_score(pred, te.y);
  r.chosen = kNaN;
  r.n_train = tr.x.size(0);
  r.n_test = te.x.size(0);
  return r;
}

double r2_score(const at::Tensor& pred, const at::Tensor& target) {
  CB_CHECK_INPUT(pred.numel() == target.numel() && pred.numel() > 0, "r2: {} predictions for {} targets",
                 pred.numel(), target.numel());
  at::Tensor p = pred.reshape(-1).to(at::kCPU).to(at::kDouble), t = target.reshape(-1).to(at::kCPU).to(at::kDouble);
  const double ss_res = (t - p).pow(2).sum().item<double>();
  const double ss_tot = (t - t.mean()).pow(2).sum().item<double>();
  if (ss_tot == 0.0) return ss_res == 0.0 ? 1.0 : 0.0;
  return 1.0 - ss_res / ss_tot;
}

double same_attribute_precision_at_k(const at::Tensor& x, const at::Tensor& values, int64_t k) {
  CB_CHECK_INPUT(x.dim() == 2 && values.dim() == 1 && x.size(0) == values.size(0),
                 "attribute retrieval: features {} and values {} must be (N, D) and (N)", shape_str(x),
                 shape_str(values));
  const int64_t N = x.size(0);
  if (N < 2) return kNaN;
  k = std::clamp<int64_t>(k, 1, N - 1);
  at::Tensor xc = x.to(at::kCPU).to(at::kFloat), v = values.to(at::kCPU).to(at::kLong);
  at::Tensor idx = knn(xc, xc, k, /*exclude_self=*/true).first;                   // (N, k)
  at::Tensor same = v.index_select(0, idx.reshape(-1)).reshape(idx.sizes()) == v.unsqueeze(1);  // (N, k)
  at::Tensor q = v >= 0;
  if (q.sum().item<int64_t>() == 0) return kNaN;
  return same.index({q}).to(at::kDouble).mean().item<double>();
}

}  // namespace cb::eval
