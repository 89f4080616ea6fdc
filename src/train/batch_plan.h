// batch_plan.h — which items make up training batch (epoch, step); row b of every modality is
// one "positive" for InfoNCE. Two bindings (docs/model.md §6.6):
//
// Pairing::Class — ImageBind-style binding by class. The classes of a batch are consecutive
// entries of a stream of seeded class permutations, so a batch of B ≤ #classes holds B
// distinct classes (no false negatives). For every modality one training item of that class
// is drawn; text is a class prompt (a random template filled with the class name).
//
// Pairing::Group — instance pairs, as the paper trains (RGB-D frames, RGB-thermal pairs,
// audio-caption clips): the manifest's `group` ties items of several modalities to one
// instance. Row b is one group: its item of every modality of the run, and for text the
// group's own text item (a caption) or, for a labelled group without one, a class prompt.
// Groups are drawn from a stream of seeded permutations of the groups that have every
// modality; groups missing one are counted and skipped (InputError when none is left).
//
// Everything depends only on (seed, epoch, step), so a resumed run sees exactly the batches
// of an uninterrupted one.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/modality.h"
#include "data/manifest.h"

namespace cb {

enum class Pairing { Class, Group };

// "auto" → Group when some group of `split` holds an item of every non-text modality of
// `modalities` (a caption or a class prompt is the text side), else Class.
Pairing resolve_pairing(const std::string& name, const data::Manifest& m, const std::vector<Modality>& modalities,
                        const std::string& split);

struct BatchPlan {
  std::vector<int> classes;                                      // (B); -1 for an unlabelled group
  std::vector<std::string> groups;                               // (B) group ids (Pairing::Group)
  std::map<Modality, std::vector<const data::Item*>> items;      // non-text modalities, B each
  std::vector<std::string> prompts;                              // text, B (when text is in the run)
};

class BatchPlanner {
 public:
  // `modalities`: every modality of the run (text handled by prompts). Throws InputError
  // naming the dataset when a modality has no training item of some class.
  BatchPlanner(const data::Manifest& m, std::vector<Modality> modalities, const std::string& split, int batch_size,
               uint64_t seed, int scale_factor = 1, Pairing pairing = Pairing::Class);
  // Steps per epoch: scale_factor × (largest per-modality item count, or the group count) / B,
  // at least 1.
  int64_t steps_per_epoch() const { return steps_; }
  BatchPlan plan(int64_t epoch, int64_t step) const;
  const std::vector<std::string>& templates() const { return templates_; }
  Pairing pairing() const { return pairing_; }
  // Pairing::Group: every caption (text item) of the usable groups.
  std::vector<const data::Item*> captions() const;
  int64_t skipped_groups() const { return skipped_groups_; }

 private:
  const data::Manifest& m_;
  std::vector<Modality> mods_;
  int B_;
  uint64_t seed_;
  int64_t steps_ = 1;
  std::vector<std::string> templates_;
  std::map<Modality, std::vector<std::vector<const data::Item*>>> by_class_;
  // Pairing::Group: one entry per usable group, sorted by id.
  struct Group {
    std::string id;
    int label = -1;
    std::map<Modality, std::vector<const data::Item*>> items;  // every non-text modality; text captions (maybe none)
  };
  Pairing pairing_ = Pairing::Class;
  std::vector<Group> groups_;
  int64_t skipped_groups_ = 0;
  void init_groups(const std::string& split, int scale_factor);
  BatchPlan plan_groups(int64_t epoch, int64_t step) const;
};

// Fills "{}" in a template with a class name.
std::string fill_template(const std::string& tmpl, const std::string& cls);

}  // namespace cb
