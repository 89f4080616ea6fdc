// supervised_ceiling.h — how much class information one tower can pull out of a dataset when it
// is given the labels: the tower (from a bridge's weights, or from scratch) plus a linear
// classifier on its L2-normalised head embedding, trained with cross-entropy on the train split,
// scored on val and test every few steps. The test accuracy at the best val step is the
// "supervised ceiling": an alignment recipe that trains the same tower on the same items
// without labels is not expected to beat it, so a zero-shot target above it asks for more data
// or a bigger tower, not a better recipe (docs/cli/ceiling.md).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/modality.h"

namespace cb {

struct CeilingOptions {
  Modality modality = Modality::Imu;
  bool from_scratch = false;  // true: random init of the same architecture; false: the bridge's weights
  bool freeze_tower = false;  // true: train the classifier only (a linear probe)
  int steps = 1500;
  int eval_every = 50;
  int64_t batch = 40;
  double lr = 1e-3;
  double weight_decay = 1e-4;
  double logit_scale = 10.0;  // logits = scale · ê · Wᵀ (ê the unit head embedding)
  uint64_t seed = 1;
  bool quiet = false;
};

struct CeilingPoint {
  int step = 0;       // optimiser steps done
  double loss = 0;    // cross-entropy of that step's batch
  double val = 0;     // top-1 accuracy (%) on the val split
  double test = 0;    // top-1 accuracy (%) on the test split
};

struct CeilingResult {
  std::vector<CeilingPoint> curve;
  double first_loss = 0;         // step 1's loss: ln(classes), as the classifier starts at zero
  int best_step = 0;             // the first step with the highest val accuracy
  double best_val = 0, test_at_best_val = 0, max_test = 0;
  int64_t train_items = 0, val_items = 0, test_items = 0;
};

// bridge: a bridge safetensors file (metadata "imagebind_config"; pretrain RUN/bridge.safetensors)
// whose architecture is used, and whose weights are used unless opt.from_scratch.
// Throws cb::InputError for a text modality, a tower the bridge lacks, or a split with no items.
CeilingResult supervised_ceiling(const std::string& bridge, const std::string& data_dir, const CeilingOptions& opt);

}  // namespace cb
