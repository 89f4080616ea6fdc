// embed_split.cpp — see embed_split.h.
#include "app/embed_split.h"

#include "core/error.h"
#include "core/precision.h"
#include "core/progress.h"
#include "train/batch_plan.h"

namespace cb {

namespace F = torch::nn::functional;

namespace {

constexpr int64_t kChunk = 64;

std::vector<std::string> class_templates(const data::Manifest& man) {
  auto t = man.info().templates;
  if (t.empty()) t = {"a photo of a {}.", "a {}.", "the {}."};
  return t;
}

// Fills ids/labels/groups/attrs of one modality.
void fill_meta(eval::ModalityEmbeddings& me, const std::vector<const data::Item*>& items) {
  std::vector<int64_t> labels;
  bool any_group = false;
  for (const auto* it : items) {
    me.ids.push_back(it->id);
    me.groups.push_back(it->group);
    any_group |= !it->group.empty();
    me.attrs.push_back(it->attrs);
    labels.push_back(it->label());
  }
  if (!any_group) me.groups.clear();
  me.labels = torch::tensor(labels, torch::kLong);
}

std::vector<Modality> eval_modalities(const data::Manifest& man, const std::vector<Modality>& have) {
  std::vector<Modality> r;
  for (Modality m : man.info().modalities)
    if (std::find(have.begin(), have.end(), m) != have.end()) r.push_back(m);
  return r;
}

}  // namespace

at::Tensor items_input(const InputPipeline& inputs, Modality m, const std::vector<const data::Item*>& items) {
  if (m != Modality::Text) return inputs.batch(items);
  std::vector<std::string> texts;
  for (const auto* it : items) texts.push_back(it->text);
  return inputs.tokenize(texts);
}

CodeBindEmbedding embed_batch_codebind(CodeBindModel& model, Modality m, const at::Tensor& input) {
  torch::NoGradGuard ng;
  model.train(false);
  Encoded enc;
  {
    PrecisionScope precision(model.inference_dtype());  // the encoder (bridge + heads) only
    enc = model.encode(m, input, /*cls_only=*/true);
  }
  enc.e = enc.e.to(at::kFloat);  // the quantiser and the normalisation run in fp32
  QuantiserOutput q = model.quantise(m, enc, false);
  auto first = [](const at::Tensor& t) { return t.defined() && t.dim() == 3 ? t.select(1, 0) : t; };
  auto unit = [](const at::Tensor& t) { return F::normalize(t, F::NormalizeFuncOptions().dim(-1)); };
  const int64_t B = enc.batch;
  CodeBindEmbedding r;
  r.z_c = unit(first(q.z_c));
  r.raw = unit(first(enc.e));
  const int64_t dc = model.config().shared_dim;
  if (m != Modality::Text && r.raw.size(-1) > dc)
    r.shared_raw = unit(r.raw.slice(-1, 0, dc)), r.specific_raw = unit(r.raw.slice(-1, dc));
  if (m != Modality::Text && model.config().specific_dim > 0) r.z_s = unit(first(q.z_s)), r.z = unit(first(q.z));
  if (q.shared_indices.defined()) r.shared_codes = first(q.shared_indices).reshape({B, -1}).to(torch::kLong);
  if (q.specific_indices.defined() && q.specific_indices.numel() > 0)
    r.specific_codes = first(q.specific_indices).reshape({B, -1}).to(torch::kLong);
  return r;
}

eval::EmbeddingSet embed_split_codebind(CodeBindModel& model, const data::Manifest& man, const InputPipeline& inputs,
                                        const std::string& split, bool quiet) {
  torch::NoGradGuard ng;
  model.train(false);
  const ModelConfig& cfg = model.config();
  eval::EmbeddingSet set;
  set.split = split;
  set.classes = man.info().classes;
  set.meta = {{"model", "codebind"},
              {"shared_codebook_size", cfg.quantiser.shared_codebook_size},
              {"specific_codebook_size", cfg.quantiser.specific_codebook_size}};
  for (Modality m : eval_modalities(man, cfg.modality_pair)) {
    auto items = man.select(m, split);
    if (items.empty()) continue;
    eval::ModalityEmbeddings me;
    fill_meta(me, items);
    std::vector<at::Tensor> zc, zs, z, cc, sc, rc, rs;
    ProgressBar bar(std::string("embed ") + modality_name(m) + " " + split, static_cast<int64_t>(items.size()), !quiet);
    for (size_t i = 0; i < items.size(); i += kChunk) {
      std::vector<const data::Item*> chunk(items.begin() + i, items.begin() + std::min(items.size(), i + kChunk));
      CodeBindEmbedding e = embed_batch_codebind(model, m, items_input(inputs, m, chunk));
      zc.push_back(e.z_c);
      if (e.z.defined()) zs.push_back(e.z_s), z.push_back(e.z);
      if (e.specific_raw.defined()) rc.push_back(e.shared_raw), rs.push_back(e.specific_raw);
      if (e.shared_codes.defined()) cc.push_back(e.shared_codes);
      if (e.specific_codes.defined()) sc.push_back(e.specific_codes);
      bar.tick(static_cast<int64_t>(chunk.size()));
    }
    me.shared = torch::cat(zc);
    if (!zs.empty()) me.specific = torch::cat(zs), me.concat = torch::cat(z);
    if (!rs.empty()) me.shared_raw = torch::cat(rc), me.specific_raw = torch::cat(rs);
    if (!cc.empty()) me.shared_codes = torch::cat(cc).to(torch::kLong);
    if (!sc.empty()) me.specific_codes = torch::cat(sc).to(torch::kLong);
    set.modalities[modality_name(m)] = std::move(me);
  }
  if (cfg.has(Modality::Text)) {
    const auto tmpl = class_templates(man);
    std::vector<at::Tensor> cols;
    for (const auto& cls : man.info().classes) {
      std::vector<std::string> prompts;
      for (const auto& t : tmpl) prompts.push_back(fill_template(t, cls));
      Encoded enc = model.encode(Modality::Text, inputs.tokenize(prompts));
      QuantiserOutput q = model.quantise(Modality::Text, enc, false);
      auto e = F::normalize(q.z_c, F::NormalizeFuncOptions().dim(-1)).mean(0);
      cols.push_back(F::normalize(e, F::NormalizeFuncOptions().dim(0)));
    }
    set.text_classifier = torch::stack(cols, 1);  // (D, C)
  }
  set.validate("codebind embeddings");
  return set;
}

eval::EmbeddingSet embed_split_baseline(const Bridge& bridge, const data::Manifest& man,
                                        const InputPipeline& inputs, const std::string& split,
                                        const std::vector<Modality>& modalities, bool quiet, at::ScalarType dtype) {
  torch::NoGradGuard ng;
  eval::EmbeddingSet set;
  set.split = split;
  set.classes = man.info().classes;
  set.meta = {{"model", "baseline"}};
  auto embed = [&](Modality m, const at::Tensor& in) {
    at::Tensor h;
    {
      PrecisionScope precision(dtype);
      h = bridge.head_embedding(m, in);
    }
    return F::normalize(h.to(at::kFloat), F::NormalizeFuncOptions().dim(-1));
  };
  for (Modality m : eval_modalities(man, modalities)) {
    auto items = man.select(m, split);
    if (items.empty()) continue;
    eval::ModalityEmbeddings me;
    fill_meta(me, items);
    std::vector<at::Tensor> zc;
    ProgressBar bar(std::string("embed ") + modality_name(m) + " " + split + " (baseline)",
                    static_cast<int64_t>(items.size()), !quiet);
    for (size_t i = 0; i < items.size(); i += kChunk) {
      std::vector<const data::Item*> chunk(items.begin() + i, items.begin() + std::min(items.size(), i + kChunk));
      zc.push_back(embed(m, items_input(inputs, m, chunk)));
      bar.tick(static_cast<int64_t>(chunk.size()));
    }
    me.shared = torch::cat(zc);
    set.modalities[modality_name(m)] = std::move(me);
  }
  if (std::find(modalities.begin(), modalities.end(), Modality::Text) != modalities.end()) {
    const auto tmpl = class_templates(man);
    std::vector<at::Tensor> cols;
    for (const auto& cls : man.info().classes) {
      std::vector<std::string> prompts;
      for (const auto& t : tmpl) prompts.push_back(fill_template(t, cls));
      auto e = embed(Modality::Text, inputs.tokenize(prompts)).mean(0);
      cols.push_back(F::normalize(e, F::NormalizeFuncOptions().dim(0)));
    }
    set.text_classifier = torch::stack(cols, 1);
  }
  set.validate("baseline embeddings");
  return set;
}

}  // namespace cb
