// pretrain.cpp — see pretrain.h.
#include "train/pretrain.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "data/inputs.h"
#include "core/error.h"
#include "core/json_read.h"
#include "core/memory_budget.h"
#include "io/run_dir.h"
#include "core/progress.h"
#include "data/manifest.h"
#include "encoders/imagebind/imagebind_model.h"
#include "io/mapped_file.h"
#include "train/batch_plan.h"
#include "train/distributed.h"
#include "core/hash.h"
#include "train/schedule.h"

namespace cb {

using json = nlohmann::json;

namespace {

json phase_json(const PretrainPhase& p) {
  return {{"epochs", p.epochs}, {"steps_per_epoch", p.steps_per_epoch}, {"batch_size", p.batch_size}, {"lr", p.lr}};
}

PretrainPhase phase_from(const json& j, PretrainPhase p, const std::string& where, const std::string& name,
                         int min_epochs = 1) {
  CB_CHECK_INPUT(j.is_object(), "{}: key '{}': expected an object", where, name);
  JsonReader r(j, where, name + ".");
  r.positive("lr", p.lr);
  r.integer("epochs", p.epochs, 0, 1000000);
  r.integer("steps_per_epoch", p.steps_per_epoch, 0, 1000000000);
  r.integer("batch_size", p.batch_size, 0, 1 << 20);
  r.reject_unknown();
  CB_CHECK_INPUT(p.epochs >= min_epochs, "{}: key '{}.epochs': expected >= {}", where, name, min_epochs);
  CB_CHECK_INPUT(p.batch_size >= 2, "{}: key '{}.batch_size': expected >= 2", where, name);
  return p;
}

}  // namespace

json PretrainConfig::to_json() const {
  json ms = json::array();
  for (Modality m : modalities) ms.push_back(modality_name(m));
  return {{"bridge", bridge.to_json()},          {"vision_warmup", phase_json(vision_warmup)},
          {"vision_text", phase_json(vision_text)}, {"align", phase_json(align)},
          {"modalities", ms}, {"tau", tau}, {"seed", seed}, {"threads", threads}};
}

PretrainConfig PretrainConfig::from_json(const json& j, const std::string& where) {
  JsonReader r(j, where);
  PretrainConfig c;
  if (const json* b = r.object("bridge")) c.bridge = BridgeSizes::from_json(*b, where);
  if (const json* p = r.object("vision_warmup")) c.vision_warmup = phase_from(*p, c.vision_warmup, where, "vision_warmup", 0);
  if (const json* p = r.object("vision_text")) c.vision_text = phase_from(*p, c.vision_text, where, "vision_text");
  if (const json* p = r.object("align")) c.align = phase_from(*p, c.align, where, "align");
  r.modalities("modalities", c.modalities);
  for (Modality m : c.modalities)
    CB_CHECK_INPUT(!is_bridge(m), "{}: key 'modalities': '{}' is a bridge modality (trained in phase 1)", where,
                   modality_name(m));
  r.positive("tau", c.tau);
  r.seed("seed", c.seed);
  r.integer("threads", c.threads, 0, 1024);
  r.reject_unknown();
  return c;
}

PretrainConfig PretrainConfig::load(const std::string& path) {
  std::ifstream f(path);
  CB_CHECK_INPUT(f.good(), "{}: cannot open config file", path);
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return from_json(json::parse(ss.str()), path);
  } catch (const json::parse_error& e) {
    fail_input("{}: malformed JSON: {}", path, e.what());
  }
}

at::Tensor class_info_nce(const at::Tensor& a, const at::Tensor& b, const at::Tensor& labels, double tau) {
  auto an = torch::nn::functional::normalize(a, torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto bn = torch::nn::functional::normalize(b, torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto logits = an.matmul(bn.t()) / tau;                               // (B, B)
  auto same = labels.view({-1, 1}).eq(labels.view({1, -1})).to(a.scalar_type());
  auto target = same / same.sum(1, true);                              // rows sum to 1 (symmetric)
  auto l1 = -(target * torch::log_softmax(logits, 1)).sum(1).mean();
  auto l2 = -(target * torch::log_softmax(logits.t(), 1)).sum(1).mean();
  return (l1 + l2) / 2;
}

bool ended_at_chance(const std::vector<double>& losses, double chance) {
  if (losses.empty()) return false;
  const size_t n = std::min<size_t>(50, losses.size());
  double sum = 0;
  for (size_t i = losses.size() - n; i < losses.size(); ++i) sum += losses[i];
  return sum / double(n) > 0.95 * chance;
}

namespace {

struct PhaseRun {
  std::string label;
  std::vector<Modality> mods;  // [anchor, learner]; [vision] for the supervised warm-up
  bool anchor_frozen;
  PretrainPhase ph;
  bool supervised = false;     // warm-up: cross-entropy of a linear classifier, no pairing
};

}  // namespace

std::string run_pretrain(const PretrainConfig& cfg, const std::string& data_dir, const std::string& out_dir,
                         bool quiet, bool replace, double dist_timeout_s) {
  data::Manifest man = data::Manifest::load(data_dir);
  ImageBindConfig ib = small_bridge_config(cfg.bridge);
  std::vector<Modality> towers{Modality::Vision, Modality::Text};
  for (Modality m : cfg.modalities) {
    bool present = std::find(man.info().modalities.begin(), man.info().modalities.end(), m) != man.info().modalities.end();
    CB_CHECK_INPUT(present, "{}: modality '{}' (pretrain config key 'modalities') is not in the dataset", data_dir,
                   modality_name(m));
    towers.push_back(m);
  }
  {
    const int batch = std::max({cfg.vision_warmup.batch_size, cfg.vision_text.batch_size, cfg.align.batch_size});
    double need = 0;
    for (Modality m : towers) need += estimate_tower_bytes(ib, m, batch, TowerUse::FullTune);
    check_fits_in_memory(uint64_t(std::min(need, 1.8e19)), "pre-training with this config",
                         fmt::format("bridge width {} × {} blocks, image {} px, batch {}", cfg.bridge.width,
                                     cfg.bridge.blocks, cfg.bridge.image_size, batch));
  }
  // Several processes (train/distributed.h): every rank encodes its rows of each global
  // batch, the loss sees the gathered batch, gradients are summed; rank 0 writes RUN.
  const DataParallel dp = DataParallel::join(DistEnv::from_env(), dist_timeout_s);
  if (dp.active()) {
    quiet = quiet || !dp.is_main();
    dp.check_same("pretrain config", fnv1a64(cfg.to_json().dump()));
    dp.check_same("dataset manifest (dataset.json, items.jsonl)", dataset_fingerprint(data_dir));
    for (const PretrainPhase* ph : {&cfg.vision_warmup, &cfg.vision_text, &cfg.align})
      CB_CHECK_INPUT(ph->batch_size % dp.world_size() == 0, "pretrain: batch_size {} is not divisible by the {} "
                     "processes (batch_size is the global batch)", ph->batch_size, dp.world_size());
  }
  std::unique_ptr<RunDir> run_dir;
  if (dp.is_main())
    run_dir = std::make_unique<RunDir>(out_dir, replace ? RunDirMode::Replace : RunDirMode::Fresh);  // checks done
  dp.barrier();
  torch::manual_seed(cfg.seed);
  ImageBindModel model(ib, towers, cfg.seed);
  if (dp.active()) model.seed_dropout(cfg.seed * 1000003ull + uint64_t(dp.rank()));
  for (auto& [n, t] : model.params) t = t.detach().clone();  // own the memory; leaves
  InputPipeline inputs(model);
  std::ofstream metrics;
  if (dp.is_main()) {
    metrics.open(out_dir + "/metrics.jsonl");
    write_file_atomic(out_dir + "/pretrain_config.json", cfg.to_json().dump(2));
  }

  std::vector<PhaseRun> phases;
  if (cfg.vision_warmup.epochs > 0)
    phases.push_back({"pretrain vision warm-up", {Modality::Vision}, false, cfg.vision_warmup, true});
  phases.push_back({"pretrain vision+text", {Modality::Vision, Modality::Text}, false, cfg.vision_text});
  for (Modality m : cfg.modalities)
    phases.push_back({std::string("pretrain ") + modality_name(m) + "→vision", {Modality::Vision, m}, true, cfg.align});

  int64_t global = 0;
  for (const auto& ph : phases) {
    const Modality anchor = ph.mods[0], learner = ph.mods.back();
    // Trainable: the learner's tower (and the anchor's in phase 1).
    for (auto& [n, t] : model.params) t.requires_grad_(false);
    std::vector<std::pair<std::string, torch::Tensor>> params;
    for (Modality m : ph.mods) {
      if (m == anchor && ph.anchor_frozen) continue;
      for (auto& nt : model.trainable_params(m)) params.push_back(std::move(nt));
    }
    // Warm-up classifier (C, out), zero-initialised, discarded after the phase.
    torch::Tensor classifier = torch::zeros({man.num_classes(), ib.out_dim}, torch::requires_grad(ph.supervised));
    if (ph.supervised) params.emplace_back("warmup_classifier", classifier);
    AdamW opt({ParamGroup{"tower", ph.ph.lr, ph.ph.lr, params}}, 0.9, 0.95, 1e-8, 1e-4);
    BatchPlanner planner(man, ph.mods, "train", ph.ph.batch_size, cfg.seed + global, 1);
    const int64_t steps = ph.ph.steps_per_epoch > 0 ? ph.ph.steps_per_epoch : planner.steps_per_epoch();
    ProgressBar bar(ph.label, steps * ph.ph.epochs, !quiet);
    std::vector<double> phase_losses;
    model.train(true);
    for (int e = 0; e < ph.ph.epochs; ++e) {
      opt.set_epoch(e, ph.ph.epochs, ph.ph.lr / 50);
      for (int64_t s = 0; s < steps; ++s) {
        const BatchPlan global_plan = planner.plan(e, s);
        const BatchPlan p = dp.shard(global_plan);
        auto labels = torch::tensor(std::vector<int64_t>(global_plan.classes.begin(), global_plan.classes.end()));
        auto in_a = inputs.batch(p.items.at(anchor));
        at::Tensor e_a, loss;
        if (ph.anchor_frozen) {
          torch::NoGradGuard ng;
          e_a = model.head_embedding(anchor, in_a);
        } else {
          e_a = model.head_embedding(anchor, in_a);
        }
        e_a = dp.all_gather(e_a);  // (B, out) of every rank
        if (ph.supervised) {
          loss = torch::cross_entropy_loss(e_a.matmul(classifier.t()), labels);
        } else {
          auto in_b = learner == Modality::Text ? inputs.tokenize(p.prompts) : inputs.batch(p.items.at(learner));
          loss = class_info_nce(dp.all_gather(model.head_embedding(learner, in_b)), e_a, labels, cfg.tau);
        }
        const double lv = loss.item<double>();
        phase_losses.push_back(lv);
        CB_CHECK_INPUT(std::isfinite(lv), "{}: loss became {} at step {} of '{}' (lower the learning rate)", out_dir, lv,
                       s, ph.label);
        opt.zero_grad();
        loss.backward();
        // The classifier sees the gathered rows on every rank: its gradient is already the
        // full one, so it is averaged rather than summed (divided by W before the sum).
        if (ph.supervised && dp.active()) classifier.mutable_grad().div_(dp.world_size());
        dp.allreduce_gradients(opt.parameters());
        const double grad_norm = opt.clip_grad_norm(1.0);
        opt.step();
        ++global;
        metrics << json{{"phase", ph.label}, {"epoch", e}, {"step", s}, {"global_step", global}, {"loss", lv},
                        {"grad_norm", grad_norm}, {"lr", opt.groups()[0].lr}}
                       .dump()
                << "\n";
        bar.tick(1, fmt::format("loss {:.3f}", lv));
      }
      metrics.flush();
    }
    bar.finish();
    const double chance = std::log(double(ph.supervised ? man.num_classes() : ph.ph.batch_size));
    if (ended_at_chance(phase_losses, chance))
      fmt::print(stderr,
                 "warning: phase '{}' ended at loss {:.3f}, the chance level ({:.3f}): it did not learn; give it more "
                 "steps or another lr (docs/cli/pretrain.md)\n",
                 ph.label, phase_losses.back(), chance);
  }
  model.train(false);
  NamedTensors out;
  for (Modality m : towers)
    for (const auto& n : model.param_names(m)) out.emplace_back(n, model.params.at(n).detach());
  // The stored config lists only the towers that were trained, so reloading the bridge does
  // not ask for weights of modalities this run never had.
  for (auto it = ib.modalities.begin(); it != ib.modalities.end();)
    it = std::find(towers.begin(), towers.end(), it->first) == towers.end() ? ib.modalities.erase(it) : std::next(it);
  const std::string path = out_dir + "/bridge.safetensors";
  if (dp.is_main())
    save_safetensors(path, out,
                     {{"imagebind_config", ib.to_json().dump()}, {"pretrain_config", cfg.to_json().dump()},
                      {"format", "imagebind"}});
  dp.barrier();
  return path;
}

}  // namespace cb
