// loss_balancer.h — adaptive loss balancing (docs/model.md §6.5), torch-free.
//
// Weights w_i = f_i · r_align / (r_i + 1e-8) keep each auxiliary loss at a fixed fraction f_i
// of the alignment loss; r are EMAs (0.9) of |L_i| sampled only on update steps, every
// I = ⌊10 + 90·sin(min(1, t/40000)·π/2)⌋ steps. info_nce and loss_rec keep weight 1; w for
// loss_vq is capped at 10 000. The first batch initialises r from the raw losses.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace cb {

class LossBalancer {
 public:
  // Names (the reference code's): info_nce, loss_vq, loss_vq_reg, loss_cmcm, loss_modal_decomp,
  // loss_uniform, loss_rec. Unknown names get target ratio 1.
  static double target_ratio(const std::string& name);
  static bool is_fixed(const std::string& name) { return name == "info_nce" || name == "loss_rec"; }

  // Feeds the raw (unweighted) losses of one training batch (must contain "info_nce"),
  // advances the step counter and returns the weights in force for this batch.
  const std::map<std::string, double>& update(const std::map<std::string, double>& raw);
  const std::map<std::string, double>& weights() const { return w_; }
  double weight(const std::string& name) const;

  int64_t step() const { return t_; }
  int64_t interval() const { return interval_; }

  nlohmann::json state() const;
  void load_state(const nlohmann::json& j);

 private:
  void recompute(const std::map<std::string, double>& raw);

  int64_t t_ = 0, t_last_ = 0, interval_ = 10;
  bool initialised_ = false;
  double r_align_ = 0;
  std::map<std::string, double> r_, w_;
};

}  // namespace cb
