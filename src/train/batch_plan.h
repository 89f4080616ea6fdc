// batch_plan.h — which items make up training batch (epoch, step): ImageBind-style binding
// by class (docs/model.md §6.6; the manifest's `group` is not used here).
//
// The classes of a batch are consecutive entries of a stream of seeded class permutations, so
// a batch of B ≤ #classes holds B distinct classes (no false negatives in InfoNCE). For every
// modality of the run one training item of that class is drawn; text is a class prompt (a
// random template filled with the class name). Everything depends only on (seed, epoch,
// step), so a resumed run sees exactly the batches of an uninterrupted one.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/modality.h"
#include "data/manifest.h"

namespace cb {

struct BatchPlan {
  std::vector<int> classes;                                      // (B)
  std::map<Modality, std::vector<const data::Item*>> items;      // non-text modalities, B each
  std::vector<std::string> prompts;                              // text, B (when text is in the run)
};

class BatchPlanner {
 public:
  // `modalities`: every modality of the run (text handled by prompts). Throws InputError
  // naming the dataset when a modality has no training item of some class.
  BatchPlanner(const data::Manifest& m, std::vector<Modality> modalities, const std::string& split, int batch_size,
               uint64_t seed, int scale_factor = 1);
  // Steps per epoch: scale_factor × (largest per-modality item count) / B, at least 1.
  int64_t steps_per_epoch() const { return steps_; }
  BatchPlan plan(int64_t epoch, int64_t step) const;
  const std::vector<std::string>& templates() const { return templates_; }

 private:
  const data::Manifest& m_;
  std::vector<Modality> mods_;
  int B_;
  uint64_t seed_;
  int64_t steps_ = 1;
  std::vector<std::string> templates_;
  std::map<Modality, std::vector<std::vector<const data::Item*>>> by_class_;
};

// Fills "{}" in a template with a class name.
std::string fill_template(const std::string& tmpl, const std::string& cls);

}  // namespace cb
