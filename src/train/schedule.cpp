// schedule.cpp — see schedule.h.
#include "train/schedule.h"

#include <cmath>

#include "core/error.h"

namespace cb {

double cosine_lr(double base, double eta_min, int epoch, int epochs) {
  const double pi = std::acos(-1.0);
  return eta_min + (base - eta_min) * (1 + std::cos(pi * epoch / std::max(1, epochs))) / 2;
}

AdamW::AdamW(std::vector<ParamGroup> groups, double beta1, double beta2, double eps, double weight_decay)
    : groups_(std::move(groups)), b1_(beta1), b2_(beta2), eps_(eps), wd_(weight_decay) {
  torch::NoGradGuard ng;
  for (auto& g : groups_) {
    g.lr = g.base_lr;
    for (auto& [n, p] : g.params) {
      CB_CHECK(!m_.count(n), "AdamW: parameter '{}' listed twice", n);
      m_[n] = torch::zeros_like(p);
      v_[n] = torch::zeros_like(p);
    }
  }
}

std::vector<torch::Tensor> AdamW::parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& g : groups_)
    for (const auto& [name, p] : g.params) out.push_back(p);
  return out;
}

void AdamW::zero_grad() {
  for (auto& g : groups_)
    for (auto& [n, p] : g.params)
      if (p.grad().defined()) p.mutable_grad().zero_();
}

double AdamW::clip_grad_norm(double max_norm) {
  torch::NoGradGuard ng;
  double sq = 0;
  for (auto& g : groups_)
    for (auto& [n, p] : g.params)
      if (p.grad().defined()) sq += p.grad().pow(2).sum().item<double>();
  const double norm = std::sqrt(sq);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1)
    for (auto& g : groups_)
      for (auto& [n, p] : g.params)
        if (p.grad().defined()) p.mutable_grad().mul_(coef);
  return norm;
}

void AdamW::step() {
  torch::NoGradGuard ng;
  ++t_;
  const double bc1 = 1 - std::pow(b1_, double(t_)), bc2 = 1 - std::pow(b2_, double(t_));
  for (auto& g : groups_) {
    for (auto& [n, p] : g.params) {
      if (!p.grad().defined()) continue;
      auto& m = m_[n];
      auto& v = v_[n];
      const auto& gr = p.grad();
      p.mul_(1 - g.lr * wd_);
      m.mul_(b1_).add_(gr, 1 - b1_);
      v.mul_(b2_).addcmul_(gr, gr, 1 - b2_);
      auto denom = (v.sqrt() / std::sqrt(bc2)).add_(eps_);
      p.addcdiv_(m, denom, -g.lr / bc1);
    }
  }
}

void AdamW::set_epoch(int epoch, int epochs, double eta_min) {
  for (auto& g : groups_) g.lr = cosine_lr(g.base_lr, eta_min, epoch, epochs);
}

void AdamW::save_state(NamedTensors& out) const {
  for (const auto& [n, t] : m_) out.emplace_back("adam.m." + n, t);
  for (const auto& [n, t] : v_) out.emplace_back("adam.v." + n, t);
  out.emplace_back("adam.step", torch::tensor({t_}, torch::kInt64));
}

void AdamW::load_state(const SafetensorsFile& f) {
  torch::NoGradGuard ng;
  for (auto& [n, t] : m_) t.copy_(f.get("adam.m." + n, t.sizes()));
  for (auto& [n, t] : v_) t.copy_(f.get("adam.v." + n, t.sizes()));
  t_ = f.get("adam.step").item<int64_t>();
}

}  // namespace cb
