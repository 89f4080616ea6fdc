// supervised_ceiling.cpp — see supervised_ceiling.h.
#include "app/supervised_ceiling.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <random>

#include "data/inputs.h"
#include "core/error.h"
#include "core/progress.h"
#include "data/manifest.h"
#include "encoders/imagebind/imagebind_model.h"
#include "eval/zero_shot.h"
#include "io/safetensors.h"
#include "train/schedule.h"

namespace cb {

namespace {

namespace F = torch::nn::functional;

// (B, out_dim) unit head embeddings of the tower.
at::Tensor unit_embedding(const ImageBindModel& model, Modality m, const at::Tensor& x) {
  return F::normalize(model.head_embedding(m, x), F::NormalizeFuncOptions().dim(1));
}

// Top-1 accuracy (%) of the classifier W (C, out_dim) on `items`, in eval mode, 64 at a time.
double accuracy(ImageBindModel& model, const InputPipeline& inputs, Modality m, const at::Tensor& W,
                const std::vector<const data::Item*>& items) {
  torch::NoGradGuard no_grad;
  model.train(false);
  std::vector<at::Tensor> logits;
  std::vector<int64_t> labels;
  for (size_t i = 0; i < items.size(); i += 64) {
    std::vector<const data::Item*> chunk(items.begin() + i, items.begin() + std::min(items.size(), i + 64));
    logits.push_back(unit_embedding(model, m, inputs.batch(chunk)).matmul(W.t()));  // (b, C)
    for (const auto* it : chunk) labels.push_back(it->label());
  }
  model.train(true);
  return 100.0 * eval::topk_from_logits(at::cat(logits), torch::tensor(labels), 1);
}

}  // namespace

CeilingResult supervised_ceiling(const std::string& bridge, const std::string& data_dir, const CeilingOptions& opt) {
  const Modality m = opt.modality;
  CB_CHECK_INPUT(m != Modality::Text, "ceiling: text has no tower of its own to probe here (text items are prompts)");
  CB_CHECK_INPUT(opt.steps > 0 && opt.eval_every > 0 && opt.batch > 0 && opt.lr > 0,
                 "ceiling: steps, eval-every, batch and lr must be positive");
  const data::Manifest man = data::Manifest::load(data_dir);
  WeightFile file(bridge);
  const ImageBindConfig ib = ImageBindConfig::of_file(file);
  CB_CHECK_INPUT(ib.has(m), "{}: the bridge has no '{}' tower", bridge, modality_name(m));

  CeilingResult res;
  const auto train = man.select(m, "train"), val = man.select(m, "val"), test = man.select(m, "test");
  res.train_items = static_cast<int64_t>(train.size());
  res.val_items = static_cast<int64_t>(val.size());
  res.test_items = static_cast<int64_t>(test.size());
  for (const auto& [split, n] : {std::pair{"train", res.train_items}, {"val", res.val_items}, {"test", res.test_items}})
    CB_CHECK_INPUT(n > 0, "{}: no '{}' items in the {} split (ceiling needs train, val and test)", data_dir,
                   modality_name(m), split);

  torch::manual_seed(static_cast<int64_t>(opt.seed));
  ImageBindModel model(ib, {m}, static_cast<int64_t>(opt.seed));
  if (!opt.from_scratch) model.load(file, bridge);
  for (auto& [n, t] : model.params) t = t.detach().clone();  // own the memory (trained in place)
  std::vector<std::pair<std::string, torch::Tensor>> params;
  if (!opt.freeze_tower)
    for (auto& nt : model.trainable_params(m)) params.push_back(std::move(nt));
  at::Tensor W = torch::zeros({man.num_classes(), ib.out_dim}, torch::requires_grad(true));  // (C, out_dim)
  params.emplace_back("classifier", W);
  AdamW adam({ParamGroup{"all", opt.lr, opt.lr, params}}, 0.9, 0.95, 1e-8, opt.weight_decay);
  InputPipeline inputs(model);

  std::mt19937_64 rng(opt.seed);
  std::uniform_int_distribution<size_t> pick(0, train.size() - 1);
  model.train(true);  // drop-path as the tower's config says
  ProgressBar bar(fmt::format("ceiling {}", modality_name(m)), opt.steps, !opt.quiet);
  for (int step = 1; step <= opt.steps; ++step) {
    std::vector<const data::Item*> batch;
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < opt.batch; ++i) {
      batch.push_back(train[pick(rng)]);
      labels.push_back(batch.back()->label());
    }
    const at::Tensor logits = unit_embedding(model, m, inputs.batch(batch)).matmul(W.t()) * opt.logit_scale;
    const at::Tensor loss = torch::cross_entropy_loss(logits, torch::tensor(labels));  // ()
    adam.zero_grad();
    loss.backward();
    adam.clip_grad_norm(1.0);
    adam.step();
    const double l = loss.item<double>();
    CB_CHECK_INPUT(std::isfinite(l), "ceiling: the loss became {} at step {} (lower --lr)", l, step);
    if (step == 1) res.first_loss = l;
    if (step % opt.eval_every == 0 || step == opt.steps) {
      CeilingPoint p{step, l, accuracy(model, inputs, m, W, val), accuracy(model, inputs, m, W, test)};
      if (p.val > res.best_val || res.curve.empty()) res.best_val = p.val, res.best_step = step, res.test_at_best_val = p.test;
      res.max_test = std::max(res.max_test, p.test);
      res.curve.push_back(p);
      bar.set_postfix(fmt::format("loss {:.3f} val {:.1f} test {:.1f}", l, p.val, p.test));
    }
    bar.tick(1);
  }
  bar.finish();
  return res;
}

}  // namespace cb
