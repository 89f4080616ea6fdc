// trainer.cpp — see trainer.h.
#include "train/trainer.h"

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include <fmt/ranges.h>

#include <set>

#include "core/error.h"
#include "core/hash.h"
#include "core/memory_budget.h"
#include "core/precision.h"
#include "core/progress.h"
#include "io/mapped_file.h"
#include "train/losses.h"

namespace cb {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string resolve_bridge_path(const std::string& arg) {
  if (fs::is_directory(arg)) {
    const std::string p = arg + "/bridge.safetensors";
    CB_CHECK_INPUT(fs::exists(p), "{}: no bridge.safetensors in this directory (run `codebind pretrain` first)", arg);
    return p;
  }
  CB_CHECK_INPUT(fs::exists(arg), "{}: bridge file not found", arg);
  return arg;
}

namespace {

std::string modality_list(const std::vector<Modality>& ms) {
  std::string s;
  for (Modality m : ms) s += (s.empty() ? "" : ",") + std::string(modality_name(m));
  return s;
}

// Bytes a training step needs (see estimate_tower_bytes): every tower of the run, each
// reconstruction decoder (12·w² per layer, trained: ×4; activations 16·B·T·w per layer), the
// codebooks.
double estimate_train_bytes(const TrainConfig& cfg, const Bridge& bridge) {
  double bytes = 0;
  const double w = cfg.model.decoder_width, L = cfg.model.decoder_depth, B = cfg.optim.batch_size;
  for (Modality m : cfg.model.modality_pair) {
    if (!bridge.has(m)) continue;
    // A frozen bridge tower runs forward only; LoRA / headtune keep activations for the
    // backward into the CLS token and adapters but no weight gradients; fulltune trains all.
    const TowerUse use = cfg.optim.freeze_bridge_heads && is_bridge(m)   ? TowerUse::Inference
                         : cfg.model.train_mode == TrainMode::FullTune ? TowerUse::FullTune
                                                                        : TowerUse::Backward;
    bytes += bridge.estimate_bytes(m, cfg.optim.batch_size, use);
    if (cfg.model.reconstructs(m)) {
      double tokens = 1;  // the cls token and the patch grid
      for (int64_t g : bridge.token_grid(m).grid) tokens *= double(g);
      tokens += 1;
      bytes += 4.0 * (4.0 * 12.0 * w * w * L + 16.0 * B * tokens * w * L);
    }
  }
  const double c = cfg.model.quantiser.codevector_dim;
  bytes += 4.0 * 3.0 * c * (cfg.model.quantiser.shared_codebook_size + cfg.model.quantiser.specific_codebook_size * double(kModalityCount));
  return bytes;
}

}  // namespace

Trainer::Trainer(const TrainConfig& cfg, const TrainOptions& opt)
    : cfg_(cfg), opt_(opt), dp_(DataParallel::join(DistEnv::from_env(), opt.dist_timeout_s)) {
  CB_CHECK_INPUT(!(opt_.resume && opt_.force), "--resume and --force contradict each other: continue or replace {}",
                 opt_.out_dir);
  if (dp_.active()) {
    if (!dp_.is_main()) opt_.quiet = true;  // one progress bar: rank 0's
    dp_.check_same("config", fnv1a64(cfg_.to_json().dump()));
    dp_.check_same("--resume / --force / --bridge-cache choice",
                   fnv1a64(fmt::format("{}|{}|{}", opt_.resume, opt_.force, opt_.bridge_cache)));
    dp_.check_same("dataset manifest (dataset.json, items.jsonl)", dataset_fingerprint(opt_.data_dir));
    dp_.check_same("bridge file", file_fingerprint(resolve_bridge_path(opt_.bridge)));
    CB_CHECK_INPUT(cfg_.optim.batch_size % dp_.world_size() == 0, "{}: batch_size {} is not divisible by the {} "
                   "processes (batch_size is the global batch; each process takes batch_size / processes rows)",
                   opt_.out_dir, cfg_.optim.batch_size, dp_.world_size());
  }
  man_ = std::make_unique<data::Manifest>(data::Manifest::load(opt_.data_dir));
  for (Modality m : cfg_.model.modality_pair) {
    if (m == Modality::Text) continue;
    const auto& ms = man_->info().modalities;
    CB_CHECK_INPUT(std::find(ms.begin(), ms.end(), m) != ms.end(),
                   "{}: modality '{}' of config key 'modality_pair' is not in the dataset", opt_.data_dir,
                   modality_name(m));
  }
  const std::string bridge_path = resolve_bridge_path(opt_.bridge);
  WeightFile bridge(bridge_path);  // .safetensors (converted, pretrain) or a published .pth
  bridge.verify_checksum();
  std::string kind;
  const nlohmann::json bridge_cfg = bridge_config_of(bridge, &kind);
  const std::unique_ptr<Bridge> shape_only = make_bridge(kind, bridge_cfg, {}, bridge_path);  // nothing allocated
  for (Modality m : cfg_.model.modality_pair)
    CB_CHECK_INPUT(shape_only->has(m), "{}: the bridge has no '{}' tower, which config key 'modality_pair' trains (its "
                   "towers: {})", bridge_path, modality_name(m), modality_list(shape_only->modalities()));
  check_fits_in_memory(uint64_t(std::min(estimate_train_bytes(cfg_, *shape_only), 1.8e19)), "training with this config",
                       fmt::format("batch {}, towers {}, decoder width {} × depth {}", cfg_.optim.batch_size,
                                   modality_list(cfg_.model.modality_pair), cfg_.model.decoder_width, cfg_.model.decoder_depth));
  // The batches (checked before anything is written).
  const Pairing pairing = resolve_pairing(cfg_.optim.pairing, *man_, cfg_.model.modality_pair, "train");
  planner_ = std::make_unique<BatchPlanner>(*man_, cfg_.model.modality_pair, "train", cfg_.optim.batch_size, cfg_.run.seed,
                                            cfg_.optim.scale_factor, pairing);
  // The run's input pipeline: its specs are the bridge's architecture (no weights needed).
  inputs_ = std::make_unique<InputPipeline>(*shape_only);
  if (pairing == Pairing::Group && cfg_.model.has(Modality::Text))
    for (const data::Item* cap : planner_->captions()) inputs_->check_text_fits(*cap);
  if (pairing == Pairing::Group && !opt_.quiet)
    fmt::print(stderr, "train: instance pairing by group ({} groups skipped: an item of a run modality missing)\n",
               planner_->skipped_groups());
  // Every check passed: only now is the run directory created (or refused) and locked, by
  // rank 0 alone; the other ranks wait for it and never write there.
  if (dp_.is_main()) {
    run_dir_ = std::make_unique<RunDir>(opt_.out_dir, opt_.resume  ? RunDirMode::Resume
                                                      : opt_.force ? RunDirMode::Replace
                                                                   : RunDirMode::Fresh);
    for (const std::string& t : run_dir_->removed_temporaries())
      spdlog::warn("{}: removed {}, left by an interrupted write", opt_.out_dir, t);
  }
  dp_.barrier();
  torch::manual_seed(cfg_.run.seed);
  model_ = std::make_unique<CodeBindModel>(cfg_.model, bridge, cfg_.run.seed);
  if (dp_.active()) {
    model_->quantiser().set_communicator(dp_.communicator());  // one codebook (unless per_rank_codebooks)
    model_->bridge().seed_dropout(cfg_.run.seed * 1000003ull + uint64_t(dp_.rank()));  // each rank its own masks
  }
  std::vector<ParamGroup> groups;
  for (auto& [name, ts] : model_->trainable_groups(cfg_.optim.freeze_bridge_heads)) {
    ParamGroup g;
    g.name = name;
    g.base_lr = g.lr = name == "new" ? cfg_.optim.lr_new : cfg_.optim.lr;
    g.params = ts;
    groups.push_back(g);
  }
  adam_ = std::make_unique<AdamW>(groups, 0.9, 0.95, 1e-8, 1e-4);
  if (opt_.overlap_gradients) dp_.overlap_gradients(adam_->parameters());
  open_bridge_caches();
  if (dp_.is_main()) write_file_atomic(opt_.out_dir + "/config.json", cfg_.to_json().dump(2));
}

Trainer::~Trainer() = default;

void Trainer::open_bridge_caches() {
  std::string dir = resolve_bridge_cache_dir(opt_.bridge_cache, opt_.data_dir, opt_.out_dir);
  // Several processes: one cache per rank (each fills its own as its rows need entries).
  if (!dir.empty() && dp_.active()) dir += "/rank-" + std::to_string(dp_.rank());
  std::vector<std::string> why_not;
  frozen_towers_ = cacheable_towers(cfg_.model, cfg_.optim.freeze_bridge_heads, model_->bridge(), &why_not);
  const PrecisionChoice prec =
      choose_precision(opt_.dtype, at::Device(at::kCPU), "--dtype", model_->bridge().widest_tower());
  frozen_dtype_ = prec.dtype;
  // The rule is a CPU-feature test: processes on different kinds of CPU may resolve it differently.
  dp_.check_same("--dtype choice (the frozen towers' type)", fnv1a64(precision_name(frozen_dtype_)));
  if (!opt_.quiet && !frozen_towers_.empty()) fmt::print(stderr, "train: frozen bridge towers run in {}\n", prec.why);
  if (dir.empty()) return;
  for (Modality m : frozen_towers_) {
    caches_[m] = std::make_unique<FrozenTowerCache>(model_->bridge(), m, *inputs_, dir, frozen_dtype_);
    if (!opt_.quiet)
      fmt::print(stderr, "train: frozen {} tower read from the bridge cache {} ({} entries)\n", modality_name(m),
                 caches_[m]->path(), caches_[m]->entries());
  }
  if (!opt_.quiet)
    for (const std::string& w : why_not) fmt::print(stderr, "train: bridge cache not used for {}\n", w);
}

FrozenTowerCache* Trainer::bridge_cache(Modality m) const {
  auto it = caches_.find(m);
  return it == caches_.end() ? nullptr : it->second.get();
}

void Trainer::flush_bridge_caches() {
  for (auto& [m, c] : caches_) c->flush();
}

std::map<std::string, double> Trainer::train_step(const BatchPlan& global_plan) {
  model_->train(true);
  const BatchPlan plan = dp_.shard(global_plan);  // this rank's rows (all of them when alone)
  const double W = dp_.world_size();
  // 1. encode every modality of the pair.
  std::map<Modality, Encoded> enc;
  std::map<Modality, at::Tensor> input;
  for (Modality m : cfg_.model.modality_pair) {
    FrozenTowerCache* cache = bridge_cache(m);
    const bool frozen = std::find(frozen_towers_.begin(), frozen_towers_.end(), m) != frozen_towers_.end();
    if (frozen && m == Modality::Text) {  // cached or computed as the cache would
      enc[m] = model_->encode_pooled_text(cache ? cache->pooled_text(plan.prompts)
                                                : frozen_pooled_text(model_->bridge(), inputs_->tokenize(plan.prompts),
                                                                     frozen_dtype_));
      continue;
    }
    if (m != Modality::Text && (!cache || cfg_.model.reconstructs(m)))
      input[m] = inputs_->batch(plan.items.at(m));  // the decoder's target needs the input too
    if (cache) {
      int64_t clips = 1;
      at::Tensor z = cache->trunk_output(plan.items.at(m), &clips);  // (B·S, L, D)
      enc[m] = model_->encode_trunk_output(m, z, int64_t(plan.items.at(m).size()), clips);
      continue;
    }
    if (frozen && m != Modality::Text) {  // cache off: the same forward, every step
      const FlatInput fi = model_->bridge().flatten_clips(m, input[m]);
      enc[m] = model_->encode_trunk_output(m, frozen_trunk_output(model_->bridge(), m, input[m], frozen_dtype_),
                                           fi.batch, fi.clips);
      continue;
    }
    if (m == Modality::Text) input[m] = inputs_->tokenize(plan.prompts);
    enc[m] = model_->encode(m, input[m]);
  }
  // 2. quantise: text first, then the others in config order.
  std::vector<Modality> order;
  if (cfg_.model.has(Modality::Text)) order.push_back(Modality::Text);
  for (Modality m : cfg_.model.modality_pair)
    if (m != Modality::Text) order.push_back(m);
  std::map<Modality, QuantiserOutput> q;
  for (Modality m : order) q.emplace(m, model_->quantise(m, enc[m], true));
  auto cls = [&](Modality m) { return q.at(m).z_c.dim() == 3 ? q.at(m).z_c.select(1, 0) : q.at(m).z_c; };
  // 3. pairs: (anchor, X) for every anchor and target, plus (vision, text).
  std::vector<std::pair<Modality, Modality>> pairs;
  for (Modality x : cfg_.model.targets()) {
    if (x == Modality::Text) continue;
    for (Modality a : {Modality::Vision, Modality::Text})
      if (cfg_.model.has(a)) pairs.emplace_back(a, x);
  }
  if (cfg_.model.has(Modality::Vision) && cfg_.model.has(Modality::Text)) pairs.emplace_back(Modality::Vision, Modality::Text);
  // Terms that compare the items of a batch with each other (InfoNCE, uniformity, code
  // matching) see the global batch: their inputs are all-gathered in one collective, with
  // the gradient of each rank's own rows routed back to it. The per-item means (commitment,
  // orthogonality, reconstruction) see this rank's rows and are divided by W for backward.
  const auto nt = cfg_.model.non_text();
  const int64_t spec_chunk = cfg_.model.quantiser.standard_vq || !cfg_.model.quantiser.use_vq ? cfg_.model.specific_dim
                                                                                 : cfg_.model.quantiser.codevector_dim;
  const int64_t cm_chunk = cfg_.model.quantiser.standard_vq ? cfg_.model.shared_dim : cfg_.model.quantiser.codevector_dim;
  std::vector<at::Tensor> local;  // (B/W, …) each
  auto gather_later = [&](const at::Tensor& t) { local.push_back(t); return local.size() - 1; };
  std::map<Modality, size_t> cls_at, uni_at, unit_at;
  for (Modality m : order) cls_at[m] = gather_later(cls(m));
  if (cfg_.model.specific_dim > 0)
    for (Modality m : nt)
      uni_at[m] = gather_later(cfg_.optim.uniformity_on_raw
                                   ? specific_cls_unit(enc[m].e.select(1, 0), cfg_.model.shared_dim, spec_chunk)
                                   : q.at(m).z_s.select(1, 0));
  if (cfg_.model.quantiser.use_vq)
    for (Modality m : order) {  // the unit CLS chunks (B, m_c, c) of the shared half
      auto e = enc[m].e.dim() == 3 ? enc[m].e.select(1, 0) : enc[m].e;  // (B, d)
      auto u = torch::nn::functional::normalize(e.slice(-1, 0, cfg_.model.shared_dim).reshape({e.size(0), -1, cm_chunk}),
                                                torch::nn::functional::NormalizeFuncOptions().dim(-1));
      unit_at[m] = gather_later(cfg_.optim.code_matching == CodeMatchingMode::Reference ? u.detach() : u);
    }
  const std::vector<at::Tensor> global = dp_.all_gather_many(local);  // (B, …) each
  at::Tensor l_align = torch::zeros({});
  for (auto [a, b] : pairs) l_align = l_align + info_nce(global[cls_at.at(a)], global[cls_at.at(b)], cfg_.optim.tau);
  l_align = l_align / double(std::max<size_t>(1, pairs.size()));
  // 4. commitment, orthogonality, uniformity, reconstruction.
  at::Tensor l_vq = torch::zeros({}), l_orth = torch::zeros({}), l_uni = torch::zeros({}), l_rec = torch::zeros({});
  for (Modality m : order) l_vq = l_vq + q.at(m).commit;
  if (cfg_.model.specific_dim > 0) {
    for (Modality m : nt) {
      l_orth = l_orth + orthogonality_loss(q.at(m).z_c, q.at(m).z_s);
      l_uni = l_uni + uniformity_loss(global[uni_at.at(m)]);
    }
    l_orth = l_orth / double(nt.size());
    l_uni = l_uni / double(nt.size());
  }
  for (Modality m : nt) {
    if (!model_->has_decoder(m)) continue;
    auto& dec = model_->decoder(m);
    auto pred = dec->forward(q.at(m).z, enc[m].trunk, enc[m].pos_embed.detach());
    auto target = reconstruction_target(input[m], dec->cfg.geometry);
    l_rec = l_rec + torch::mse_loss(pred, target);
  }
  // 5. code matching (paper: gradient through the unit CLS chunks; reference: detached) and
  //    the codevector uniformity of the shared codebook (logged, no gradient).
  at::Tensor l_cm = torch::zeros({}), l_reg = torch::zeros({});
  if (cfg_.model.quantiser.use_vq) {
    at::Tensor codebook = model_->shared_codebook();
    std::map<Modality, at::Tensor> sims;
    for (Modality m : order) sims[m] = chunk_similarity(global[unit_at.at(m)], codebook);
    for (auto [a, b] : pairs) l_cm = l_cm + code_matching_loss(sims[a], sims[b]);
    l_cm = l_cm / double(std::max<size_t>(1, pairs.size()));
    torch::NoGradGuard ng;
    auto Ch = torch::nn::functional::normalize(codebook, torch::nn::functional::NormalizeFuncOptions().dim(-1));
    l_reg = uniformity_loss(Ch);
  }
  std::map<std::string, at::Tensor> terms{{"info_nce", l_align},  {"loss_vq", l_vq},         {"loss_vq_reg", l_reg},
                                          {"loss_cmcm", l_cm},    {"loss_modal_decomp", l_orth}, {"loss_uniform", l_uni},
                                          {"loss_rec", l_rec}};
  const std::set<std::string> local_terms{"loss_vq", "loss_modal_decomp", "loss_rec"};
  std::map<std::string, double> raw;
  for (auto& [n, t] : terms) raw[n] = t.item<double>();
  raw = dp_.mean(raw);  // global terms are equal on every rank; local ones become the global mean
  for (auto& [n, v] : raw)
    if (!std::isfinite(v))
      fail_input("training stopped: loss '{}' became {} at epoch {} step {} (global step {}); {}", n, v, state_.epoch,
                 state_.step_in_epoch, state_.global_step, stop_note(plan));
  std::map<std::string, double> w;
  if (cfg_.optim.adaptive_balancing) {
    w = balancer_.update(raw);
  } else {
    w = {{"info_nce", 1.0}, {"loss_vq", cfg_.optim.w_vq},     {"loss_vq_reg", cfg_.optim.w_reg}, {"loss_cmcm", cfg_.optim.w_cm},
         {"loss_modal_decomp", cfg_.optim.w_orth}, {"loss_uniform", cfg_.optim.w_uni}, {"loss_rec", cfg_.optim.w_recon}};
  }
  at::Tensor total = torch::zeros({});
  double loss = 0;
  for (auto& [n, t] : terms) {
    total = total + (local_terms.count(n) ? w.at(n) / W : w.at(n)) * t;
    loss += w.at(n) * raw.at(n);
  }
  adam_->zero_grad();
  if (opt_.overlap_gradients) dp_.before_backward();
  total.backward();
  if (opt_.overlap_gradients) dp_.after_backward();               // Σ over ranks, started during backward
  else dp_.allreduce_gradients(adam_->parameters());  // Σ over ranks, after backward
  // Either way every .grad now holds the gradient of the global batch.
  raw["grad_norm"] = adam_->clip_grad_norm(1.0);
  adam_->step();
  raw["loss"] = loss;
  CB_CHECK_INPUT(std::isfinite(raw["loss"]), "training stopped: total loss became {} at global step {}; {}", raw["loss"],
                 state_.global_step, stop_note(plan));
  return raw;
}

std::string Trainer::stop_note(const BatchPlan& plan) const {
  std::vector<std::string> ids;
  for (const auto& [m, items] : plan.items)
    for (const data::Item* it : items) ids.push_back(it->id);
  constexpr size_t kShow = 8;
  std::string batch = fmt::format("{}", fmt::join(ids.begin(), ids.begin() + std::min(ids.size(), kShow), ", "));
  if (ids.size() > kShow) batch += fmt::format(", … {} more", ids.size() - kShow);
  const std::string ck = checkpoint_path();
  const std::string disk = fs::exists(ck) ? fmt::format("the last checkpoint, {}, is unchanged (--resume continues "
                                                        "from it)", ck)
                                          : fmt::format("no checkpoint has been written in {} yet", opt_.out_dir);
  return fmt::format("the batch held items {}; {}", batch, disk);
}

void Trainer::save_checkpoint_now() {
  flush_bridge_caches();
  if (!dp_.is_main()) return;  // rank 0 writes the run directory
  NamedTensors extra;
  adam_->save_state(extra);
  state_.balancer = cfg_.optim.adaptive_balancing ? balancer_.state() : json();
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  auto rng = gen.get_state();
  save_checkpoint(checkpoint_path(), model_->state_tensors(), extra, rng, state_, cfg_.to_json());
}

void Trainer::restore(const std::string& path) {
  LoadedCheckpoint c = load_checkpoint(path);
  CB_CHECK_INPUT(c.config == cfg_.to_json(), "{}: the checkpoint was written with a different config; resume with the "
                 "run's own config.json", path);
  c.restore_model(model_->state_tensors());
  model_->after_restore();
  adam_->load_state(*c.file);
  state_ = c.state;
  if (cfg_.optim.adaptive_balancing && !state_.balancer.is_null()) balancer_.load_state(state_.balancer);
  if (c.rng_state.defined()) {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    gen.set_state(c.rng_state);
  }
}

NamedTensors Trainer::trainable_tensors() const {
  NamedTensors out;
  for (const ParamGroup& g : adam_->groups()) out.insert(out.end(), g.params.begin(), g.params.end());
  return out;
}

std::string Trainer::run() {
  const std::string metrics_path = opt_.out_dir + "/metrics.jsonl";
  const bool main = dp_.is_main();
  if (dp_.active()) dp_.check_same("presence of RUN/checkpoint.safetensors", fs::exists(checkpoint_path()));
  if (opt_.resume && fs::exists(checkpoint_path())) {
    restore(checkpoint_path());
  }
  if (dp_.active()) {
    // Fresh or resumed, every rank must start from the same trainable state.
    dp_.check_same("initial trainable parameters", tensors_fingerprint(trainable_tensors()));
  }
  if (!main) {
    // Only rank 0 writes metrics; the others only train.
  } else if (opt_.resume && fs::exists(checkpoint_path())) {
    // Keep only the metric lines of the steps the checkpoint contains.
    std::ifstream in(metrics_path);
    std::stringstream kept;
    std::string line;
    while (std::getline(in, line)) {
      try {
        if (json::parse(line).value("global_step", int64_t(0)) <= state_.global_step) kept << line << "\n";
      } catch (...) {
      }
    }
    write_file_atomic(metrics_path, kept.str());
    if (!opt_.quiet)
      fmt::print(stderr, "resuming from {} (epoch {}, step {})\n", checkpoint_path(), state_.epoch, state_.step_in_epoch);
  } else {
    CB_CHECK_INPUT(!opt_.resume || !fs::exists(metrics_path), "{}: --resume given but no checkpoint found",
                   opt_.out_dir);
    write_file_atomic(metrics_path, "");
  }
  std::ofstream metrics;
  if (main) metrics.open(metrics_path, std::ios::app);
  const int64_t steps =
      cfg_.optim.max_steps_per_epoch > 0 ? std::min<int64_t>(cfg_.optim.max_steps_per_epoch, planner_->steps_per_epoch())
                                   : planner_->steps_per_epoch();
  ProgressBar bar("train " + cfg_.run.name, steps * cfg_.optim.epochs, !opt_.quiet);
  bar.tick(state_.epoch * steps + state_.step_in_epoch);
  for (; state_.epoch < cfg_.optim.epochs; ++state_.epoch, state_.step_in_epoch = 0) {
    adam_->set_epoch(state_.epoch, cfg_.optim.epochs, cfg_.optim.lr / 50);
    for (; state_.step_in_epoch < steps;) {
      if (opt_.stop_after >= 0 && state_.global_step >= opt_.stop_after) return "";
      if (opt_.hang_at_step == state_.global_step && opt_.hang_rank == dp_.rank())
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(60));  // testing: a rank that stops answering
      const auto t0 = std::chrono::steady_clock::now();
      const double reduce0 = dp_.allreduce_seconds(), coll0 = dp_.collective_seconds();
      const int64_t n0 = dp_.collectives();
      auto raw = train_step(planner_->plan(state_.epoch, state_.step_in_epoch));
      raw["step_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (dp_.active()) {
        raw["allreduce_seconds"] = dp_.allreduce_seconds() - reduce0;  // the gradients'
        raw["collective_seconds"] = dp_.collective_seconds() - coll0;  // every collective of the step
        raw["collectives"] = double(dp_.collectives() - n0);
      }
      if (dp_.active() && opt_.check_sync) {
        NamedTensors codebooks;
        model_->quantiser().save(codebooks);
        const bool params = dp_.all_same(tensors_fingerprint(trainable_tensors()));
        const bool books = dp_.all_same(tensors_fingerprint(codebooks));
        raw["ranks_params_in_sync"] = params;
        raw["ranks_codebooks_in_sync"] = books;
        CB_CHECK(params && (books || cfg_.model.quantiser.per_rank_codebooks), "--check-sync: after global step {} the "
                 "ranks hold different {}", state_.global_step + 1, params ? "codebooks" : "trainable parameters");
      }
      ++state_.step_in_epoch;
      ++state_.global_step;
      json line = {{"epoch", state_.epoch}, {"step", state_.step_in_epoch}, {"global_step", state_.global_step}};
      for (auto& [n, v] : raw) line[n] = v;
      for (auto& g : adam_->groups()) line["lr_" + g.name] = g.lr;
      if (main) {
        metrics << line.dump() << "\n";
        metrics.flush();
      }
      bar.tick(1, fmt::format("loss {:.3f} nce {:.3f} rec {:.3f} orth {:.3f}", raw["loss"], raw["info_nce"],
                              raw["loss_rec"], raw["loss_modal_decomp"]));
      if (cfg_.run.checkpoint_every > 0 && state_.global_step % cfg_.run.checkpoint_every == 0 && state_.step_in_epoch < steps)
        save_checkpoint_now();
    }
    // Epoch end: checkpoint positioned at the start of the next epoch.
    state_.epoch++;
    state_.step_in_epoch = 0;
    save_checkpoint_now();
    state_.epoch--;
  }
  bar.finish();
  const std::string path = opt_.out_dir + "/model.safetensors";
  model_->train(false);
  if (main) model_->save(path, {{"config", cfg_.to_json().dump()}});
  flush_bridge_caches();
  dp_.barrier();  // nobody leaves while another rank still needs it
  return path;
}

}  // namespace cb
