// batch_plan.cpp — see batch_plan.h.
#include "train/batch_plan.h"

#include <algorithm>
#include <random>

#include "core/error.h"
#include "data/loader.h"

namespace cb {

std::string fill_template(const std::string& t, const std::string& cls) {
  auto p = t.find("{}");
  return p == std::string::npos ? t + " " + cls : t.substr(0, p) + cls + t.substr(p + 2);
}

BatchPlanner::BatchPlanner(const data::Manifest& m, std::vector<Modality> modalities, const std::string& split,
                           int batch_size, uint64_t seed, int scale_factor)
    : m_(m), mods_(std::move(modalities)), B_(batch_size), seed_(seed) {
  const int K = m.num_classes();
  CB_CHECK_INPUT(K >= 2, "{}: dataset has {} classes; training needs at least 2", m.dir(), K);
  templates_ = m.info().templates;
  if (templates_.empty()) templates_ = {"a photo of a {}.", "a {}.", "the {}."};
  int64_t largest = 0;
  for (Modality mod : mods_) {
    if (mod == Modality::Text) continue;
    auto& bc = by_class_[mod];
    bc.assign(K, {});
    auto items = m.select(mod, split);
    for (const auto* it : items)
      if (it->label() >= 0 && it->label() < K) bc[it->label()].push_back(it);
    for (int k = 0; k < K; ++k)
      CB_CHECK_INPUT(!bc[k].empty(), "{}: no '{}' item of class '{}' in split '{}'", m.dir(), modality_name(mod),
                     m.info().classes[k], split);
    largest = std::max<int64_t>(largest, items.size());
  }
  steps_ = std::max<int64_t>(1, scale_factor * largest / B_);
}

BatchPlan BatchPlanner::plan(int64_t epoch, int64_t step) const {
  const int K = m_.num_classes();
  BatchPlan p;
  // Class stream: permutation r = ⌊i/K⌋ of the epoch, position i mod K.
  for (int64_t i = step * B_; i < (step + 1) * B_; ++i) {
    std::vector<int> perm(K);
    for (int k = 0; k < K; ++k) perm[k] = k;
    std::mt19937_64 g(data::mix_seed(seed_, 1000003ULL * epoch + 7, i / K));
    std::shuffle(perm.begin(), perm.end(), g);
    p.classes.push_back(perm[i % K]);
  }
  std::mt19937_64 g(data::mix_seed(seed_, 2000003ULL * epoch + 11, step));
  for (Modality mod : mods_) {
    if (mod == Modality::Text) {
      for (int c : p.classes)
        p.prompts.push_back(fill_template(templates_[g() % templates_.size()], m_.info().classes[c]));
      continue;
    }
    const auto& bc = by_class_.at(mod);
    auto& v = p.items[mod];
    for (int c : p.classes) v.push_back(bc[c][g() % bc[c].size()]);
  }
  return p;
}

}  // namespace cb
