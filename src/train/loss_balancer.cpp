// loss_balancer.cpp — see loss_balancer.h (docs/model.md §6.5).
#include "train/loss_balancer.h"

#include <cmath>

#include "core/error.h"

namespace cb {

double LossBalancer::target_ratio(const std::string& n) {
  if (n == "loss_vq") return 0.01;
  if (n == "loss_cmcm" || n == "loss_vq_reg" || n == "loss_modal_decomp") return 0.1;
  return 1.0;  // loss_uniform and everything else
}

double LossBalancer::weight(const std::string& name) const {
  auto it = w_.find(name);
  return it == w_.end() ? 1.0 : it->second;
}

void LossBalancer::recompute(const std::map<std::string, double>& raw) {
  for (const auto& [n, v] : raw) {
    if (is_fixed(n)) {
      w_[n] = 1.0;
      continue;
    }
    double w = target_ratio(n) * r_align_ / (r_.at(n) + 1e-8);
    if (n == "loss_vq") w = std::min(w, 10000.0);
    w_[n] = w;
  }
}

const std::map<std::string, double>& LossBalancer::update(const std::map<std::string, double>& raw) {
  auto it = raw.find("info_nce");
  CB_CHECK(it != raw.end(), "loss balancer: info_nce missing");
  ++t_;
  if (!initialised_) {
    r_align_ = it->second;
    for (const auto& [n, v] : raw) r_[n] = std::fabs(v);
    recompute(raw);
    initialised_ = true;
    t_last_ = t_;
    return w_;
  }
  if (t_ - t_last_ >= interval_) {
    r_align_ = 0.9 * r_align_ + 0.1 * it->second;
    for (const auto& [n, v] : raw) {
      if (n == "info_nce") continue;
      auto r = r_.find(n);
      r_[n] = r == r_.end() ? std::fabs(v) : 0.9 * r->second + 0.1 * std::fabs(v);
    }
    recompute(raw);
    const double pi = std::acos(-1.0);
    interval_ = static_cast<int64_t>(std::floor(10 + 90 * std::sin(std::min(1.0, t_ / 40000.0) * pi / 2)));
    t_last_ = t_;
  }
  for (const auto& [n, v] : raw)
    if (!w_.count(n)) w_[n] = is_fixed(n) ? 1.0 : 1.0;
  return w_;
}

nlohmann::json LossBalancer::state() const {
  return {{"t", t_}, {"t_last", t_last_}, {"interval", interval_}, {"initialised", initialised_},
          {"r_align", r_align_}, {"r", r_}, {"w", w_}};
}

void LossBalancer::load_state(const nlohmann::json& j) {
  t_ = j.at("t").get<int64_t>();
  t_last_ = j.at("t_last").get<int64_t>();
  interval_ = j.at("interval").get<int64_t>();
  initialised_ = j.at("initialised").get<bool>();
  r_align_ = j.at("r_align").get<double>();
  r_ = j.at("r").get<std::map<std::string, double>>();
  w_ = j.at("w").get<std::map<std::string, double>>();
}

}  // namespace cb
