// schedule.h — the optimiser of docs/model.md §6.4: AdamW (β 0.9, 0.95, eps 1e-8, weight decay 1e-4
// on every group), two learning-rate groups (lr for pre-existing parameters, lr_new for new
// modules), cosine annealing per epoch to lr/50 (the same absolute floor for both groups),
// global gradient-norm clipping at 1.0.
//
// Written out (not torch::optim) so that the moments have stable names for checkpoints and a
// resumed run continues bit-identically.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "io/safetensors.h"

namespace cb {

// lr of epoch e (0-based) for base lr `base`, floor `eta_min`, T_max = epochs.
double cosine_lr(double base, double eta_min, int epoch, int epochs);

struct ParamGroup {
  std::string name;
  double base_lr = 0, lr = 0;
  std::vector<std::pair<std::string, torch::Tensor>> params;  // (name, leaf tensor)
};

class AdamW {
 public:
  AdamW(std::vector<ParamGroup> groups, double beta1 = 0.9, double beta2 = 0.95, double eps = 1e-8,
        double weight_decay = 1e-4);

  void zero_grad();
  // Clips the global L2 norm of all gradients to max_norm; returns the norm before clipping.
  double clip_grad_norm(double max_norm);
  void step();
  // Sets every group's lr for epoch e: cosine from base_lr to eta_min (= lr_min_abs).
  void set_epoch(int epoch, int epochs, double eta_min);

  std::vector<ParamGroup>& groups() { return groups_; }
  // Every parameter of every group, in group order.
  std::vector<torch::Tensor> parameters() const;
  int64_t steps() const { return t_; }

  // Moments as named tensors ("adam.m.<param>", "adam.v.<param>") + the step count.
  void save_state(NamedTensors& out) const;
  void load_state(const SafetensorsFile& f);

 private:
  std::vector<ParamGroup> groups_;
  double b1_, b2_, eps_, wd_;
  int64_t t_ = 0;
  std::map<std::string, torch::Tensor> m_, v_;
};

}  // namespace cb
