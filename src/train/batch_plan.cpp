// batch_plan.cpp — see batch_plan.h.
#include "train/batch_plan.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "core/error.h"
#include "data/loader.h"

namespace cb {

std::string fill_template(const std::string& t, const std::string& cls) {
  auto p = t.find("{}");
  return p == std::string::npos ? t + " " + cls : t.substr(0, p) + cls + t.substr(p + 2);
}

Pairing resolve_pairing(const std::string& name, const data::Manifest& m, const std::vector<Modality>& modalities,
                        const std::string& split) {
  if (name == "class") return Pairing::Class;
  if (name == "group") return Pairing::Group;
  CB_CHECK_INPUT(name == "auto", "pairing '{}': expected auto, class or group", name);
  // Group pairing when at least one group holds an item of every non-text modality of the run
  // (groups binding other modalities, e.g. vision–depth scenes in a vision–imu run, do not).
  std::map<std::string, size_t> covered;  // group → how many of the run's modalities it holds
  size_t need = 0;
  for (Modality mod : modalities) {
    if (mod == Modality::Text) continue;
    ++need;
    std::set<std::string> groups;
    for (const data::Item* it : m.select(mod, split))
      if (!it->group.empty()) groups.insert(it->group);
    for (const std::string& g : groups) ++covered[g];
  }
  for (const auto& [g, n] : covered)
    if (n == need) return Pairing::Group;
  return Pairing::Class;
}

BatchPlanner::BatchPlanner(const data::Manifest& m, std::vector<Modality> modalities, const std::string& split,
                           int batch_size, uint64_t seed, int scale_factor, Pairing pairing)
    : m_(m), mods_(std::move(modalities)), B_(batch_size), seed_(seed), pairing_(pairing) {
  templates_ = m.info().templates;
  if (templates_.empty()) templates_ = {"a photo of a {}.", "a {}.", "the {}."};
  if (pairing_ == Pairing::Group) {
    init_groups(split, scale_factor);
    return;
  }
  const int K = m.num_classes();
  CB_CHECK_INPUT(K >= 2, "{}: dataset has {} classes; training needs at least 2", m.dir(), K);
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

void BatchPlanner::init_groups(const std::string& split, int scale_factor) {
  std::map<std::string, Group> all;
  for (Modality mod : mods_) {
    for (const data::Item* it : m_.select(mod, split)) {
      if (it->group.empty()) continue;
      Group& g = all[it->group];
      g.id = it->group;
      if (g.label < 0 && it->label() >= 0) g.label = it->label();
      g.items[mod].push_back(it);
    }
  }
  const bool text = std::find(mods_.begin(), mods_.end(), Modality::Text) != mods_.end();
  for (auto& [id, g] : all) {
    bool ok = true;
    for (Modality mod : mods_)
      if (mod != Modality::Text && !g.items.count(mod)) ok = false;
    if (text && !g.items.count(Modality::Text) && g.label < 0) ok = false;  // neither a caption nor a class prompt
    if (ok) groups_.push_back(std::move(g));
    else ++skipped_groups_;
  }
  std::string names;
  for (Modality mod : mods_) names += (names.empty() ? "" : ", ") + std::string(modality_name(mod));
  CB_CHECK_INPUT(!groups_.empty(), "{}: no group in split '{}' has an item of every modality of the run ({}{}); "
                 "instance pairing needs them (or set \"pairing\": \"class\")",
                 m_.dir(), split, names, text ? "; text: a caption or a class label" : "");
  CB_CHECK_INPUT(int64_t(groups_.size()) >= B_, "{}: {} complete groups in split '{}' but batch_size {}: a batch "
                 "would hold one instance twice", m_.dir(), groups_.size(), split, B_);
  steps_ = std::max<int64_t>(1, int64_t(scale_factor) * int64_t(groups_.size()) / B_);
}

std::vector<const data::Item*> BatchPlanner::captions() const {
  std::vector<const data::Item*> out;
  for (const Group& g : groups_)
    if (auto it = g.items.find(Modality::Text); it != g.items.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  return out;
}

BatchPlan BatchPlanner::plan_groups(int64_t epoch, int64_t step) const {
  const int64_t G = int64_t(groups_.size());
  BatchPlan p;
  std::mt19937_64 g(data::mix_seed(seed_, 2000003ULL * epoch + 11, step));
  std::vector<int64_t> perm(static_cast<size_t>(G));
  int64_t perm_round = -1;
  for (int64_t i = step * B_; i < (step + 1) * B_; ++i) {
    if (i / G != perm_round) {  // permutation r = ⌊i/G⌋ of the epoch, position i mod G
      perm_round = i / G;
      for (int64_t k = 0; k < G; ++k) perm[size_t(k)] = k;
      std::mt19937_64 pg(data::mix_seed(seed_, 3000017ULL * epoch + 13, uint64_t(perm_round)));
      std::shuffle(perm.begin(), perm.end(), pg);
    }
    const Group& grp = groups_[size_t(perm[size_t(i % G)])];
    p.groups.push_back(grp.id);
    p.classes.push_back(grp.label);
    for (Modality mod : mods_) {
      auto it = grp.items.find(mod);
      if (mod == Modality::Text) {
        if (it != grp.items.end()) p.prompts.push_back(it->second[g() % it->second.size()]->text);  // a caption
        else p.prompts.push_back(fill_template(templates_[g() % templates_.size()], m_.info().classes[grp.label]));
        continue;
      }
      p.items[mod].push_back(it->second[g() % it->second.size()]);
    }
  }
  return p;
}

BatchPlan BatchPlanner::plan(int64_t epoch, int64_t step) const {
  if (pairing_ == Pairing::Group) return plan_groups(epoch, step);
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
