// evaluate.cpp — evaluate_embeddings: the full metrics.json of a run from its saved
// embeddings (evaluate.h). Each section is one function; the metric code lives in
// zero_shot / retrieval / probes / codebook_stats.
#include "eval/evaluate.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"
#include "eval/codebook_stats.h"
#include "eval/retrieval.h"
#include "eval/zero_shot.h"

namespace cb::eval {

using nlohmann::json;

namespace {

// NaN becomes JSON null (nlohmann does so too; explicit for clarity).
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json retrieval_json(const RetrievalMetrics& m) {
  json j = json::object();
  for (size_t i = 0; i < m.ks.size(); ++i) j["r" + std::to_string(m.ks[i])] = num(m.recall[i]);
  j["map"] = num(m.map);
  j["n"] = m.n_queries;
  return j;
}

json zero_shot_section(const EmbeddingSet& test, const std::vector<std::string>& mods) {
  json out = json::object();
  if (!test.text_classifier.defined()) return out;
  for (const auto& name : mods) {
    if (name == "text") continue;  // text is the classifier's own modality
    const ModalityEmbeddings& m = test.modalities.at(name);
    if (m.size() == 0) continue;
    if (m.multi_label()) {
      out[name] = {{"map", num(multilabel_map(multilabel_scores(m.shared, test.text_classifier), m.labels))},
                   {"n", m.size()}};
      continue;
    }
    TopK r = topk_accuracy(m.shared, test.text_classifier, m.labels);
    out[name] = {{"top1", num(r.top1)}, {"top5", num(r.top5)}, {"k5", r.k5}, {"n", r.n}};
  }
  return out;
}

bool is_trained(const std::vector<std::pair<std::string, std::string>>& pairs, const std::string& a,
                const std::string& b) {
  for (const auto& [x, y] : pairs)
    if ((x == a && y == b) || (x == b && y == a)) return true;
  return false;
}

json retrieval_section(const EmbeddingSet& test, const std::vector<std::string>& mods, const EvalOptions& opt) {
  json out = json::object();
  for (const auto& a : mods)
    for (const auto& b : mods) {
      if (a == b) continue;
      const ModalityEmbeddings& qa = test.modalities.at(a);
      const ModalityEmbeddings& gb = test.modalities.at(b);
      if (qa.size() == 0 || gb.size() == 0) continue;
      json e = json::object();
      at::Tensor sim = cosine_similarity_matrix(qa.shared, gb.shared);  // (Q, G)
      if (qa.labels.dim() == gb.labels.dim()) {
        at::Tensor rel = label_relevance(qa.labels, gb.labels);          // (Q, G)
        e["class"] = retrieval_json(retrieval_metrics(sim, rel, opt.recall_ks));
        // Chance Recall@1 of a random ranking: mean fraction of relevant gallery items.
        at::Tensor frac = rel.to(at::kDouble).mean(1);
        at::Tensor has = rel.any(1);
        e["class"]["chance_r1"] =
            has.any().item<bool>() ? num(frac.index({has}).mean().item<double>()) : json(nullptr);
      }
      if (!qa.groups.empty() && !gb.groups.empty()) {
        at::Tensor rel = group_relevance(qa.groups, gb.groups);
        if (rel.any().item<bool>()) {
          e["paired"] = retrieval_json(retrieval_metrics(sim, rel, opt.recall_ks));
          at::Tensor has = rel.any(1);
          e["paired"]["chance_r1"] = num(rel.to(at::kDouble).mean(1).index({has}).mean().item<double>());
        }
      }
      if (!opt.trained_pairs.empty()) e["emergent"] = !is_trained(opt.trained_pairs, a, b);
      out[a + "->" + b] = e;
    }
  return out;
}

// ---- probes ------------------------------------------------------------------------------

enum class AttrType { Categorical, Continuous, Mixed };

AttrType attr_type(const std::vector<const std::vector<json>*>& lists, const std::string& key) {
  bool any_num = false, any_cat = false;
  for (const auto* l : lists)
    for (const json& a : *l) {
      if (!a.is_object() || !a.contains(key) || a[key].is_null()) continue;
      const json& v = a[key];
      if (v.is_number() && !v.is_boolean()) any_num = true; else any_cat = true;
    }
  if (any_num && any_cat) return AttrType::Mixed;
  return any_num ? AttrType::Continuous : AttrType::Categorical;
}

std::string cat_value(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// (N) int64 ids into `vocab` (−1 = missing).
at::Tensor encode_categorical(const std::vector<json>& attrs, int64_t n, const std::string& key,
                              const std::vector<std::string>& vocab) {
  at::Tensor out = at::full({n}, -1, at::kLong);
  auto o = out.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n && size_t(i) < attrs.size(); ++i) {
    const json& a = attrs[i];
    if (!a.is_object() || !a.contains(key) || a[key].is_null()) continue;
    o[i] = std::lower_bound(vocab.begin(), vocab.end(), cat_value(a[key])) - vocab.begin();
  }
  return out;
}

at::Tensor encode_continuous(const std::vector<json>& attrs, int64_t n, const std::string& key) {
  at::Tensor out = at::full({n}, std::nan(""), at::kDouble);
  auto o = out.accessor<double, 1>();
  for (int64_t i = 0; i < n && size_t(i) < attrs.size(); ++i) {
    const json& a = attrs[i];
    if (a.is_object() && a.contains(key) && a[key].is_number()) o[i] = a[key].get<double>();
  }
  return out;
}

json probe_attribute(const ModalityEmbeddings& tr, const ModalityEmbeddings& te, const std::string& key,
                     const EvalOptions& opt) {
  const AttrType type = attr_type({&tr.attrs, &te.attrs}, key);
  json out = json::object();
  if (type == AttrType::Mixed) return {{"type", "mixed"}, {"skipped", "values mix numbers and strings"}};
  const std::vector<std::pair<std::string, const at::Tensor ModalityEmbeddings::*>> kinds = {
      {"specific", &ModalityEmbeddings::specific},
      {"shared", &ModalityEmbeddings::shared},
      {"concat", &ModalityEmbeddings::concat},
      {"specific_raw", &ModalityEmbeddings::specific_raw},
      {"shared_raw", &ModalityEmbeddings::shared_raw}};
  if (type == AttrType::Categorical) {
    std::set<std::string> values;
    for (const auto* l : {&tr.attrs, &te.attrs})
      for (const json& a : *l)
        if (a.is_object() && a.contains(key) && !a[key].is_null()) values.insert(cat_value(a[key]));
    const std::vector<std::string> vocab(values.begin(), values.end());
    at::Tensor ytr = encode_categorical(tr.attrs, tr.size(), key, vocab);
    at::Tensor yte = encode_categorical(te.attrs, te.size(), key, vocab);
    const int64_t ntr = (ytr >= 0).sum().item<int64_t>(), nte = (yte >= 0).sum().item<int64_t>();
    out = {{"type", "categorical"}, {"n_values", vocab.size()}, {"n_train", ntr}, {"n_test", nte}};
    if (ntr == 0 || nte == 0 || vocab.size() < 2) return out;
    at::Tensor counts = at::bincount(yte.index({yte >= 0}), {}, int64_t(vocab.size()));
    out["majority"] = counts.max().item<double>() / double(nte);
    for (const auto& [kname, field] : kinds) {
      const at::Tensor& xtr = tr.*field;
      const at::Tensor& xte = te.*field;
      if (!xtr.defined() || !xte.defined()) continue;
      out[kname] = {{"linear_acc", num(linear_probe(xtr, ytr, xte, yte, opt.probe).score)},
                    {"knn_acc", num(knn_probe(xtr, ytr, xte, yte, opt.probe).score)},
                    {"p@" + std::to_string(opt.attr_retrieval_k),
                     num(same_attribute_precision_at_k(xte, yte, opt.attr_retrieval_k))}};
    }
    return out;
  }
  at::Tensor ttr = encode_continuous(tr.attrs, tr.size(), key), tte = encode_continuous(te.attrs, te.size(), key);
  const int64_t ntr = at::isfinite(ttr).sum().item<int64_t>(), nte = at::isfinite(tte).sum().item<int64_t>();
  out = {{"type", "continuous"}, {"n_train", ntr}, {"n_test", nte}};
  if (ntr < 2 || nte == 0) return out;
  for (const auto& [kname, field] : kinds) {
    const at::Tensor& xtr = tr.*field;
    const at::Tensor& xte = te.*field;
    if (!xtr.defined() || !xte.defined()) continue;
    out[kname] = {{"linear_r2", num(ridge_probe(xtr, ttr, xte, tte, opt.probe).score)},
                  {"knn_r2", num(knn_regression_probe(xtr, ttr, xte, tte, opt.probe).score)}};
  }
  return out;
}

json probes_section(const EmbeddingSet& train, const EmbeddingSet& test, const std::vector<std::string>& mods,
                    const EvalOptions& opt) {
  json out = json::object();
  for (const auto& name : mods) {
    auto it = train.modalities.find(name);
    if (it == train.modalities.end()) continue;
    const ModalityEmbeddings &tr = it->second, &te = test.modalities.at(name);
    std::set<std::string> keys;
    for (const json& a : te.attrs)
      if (a.is_object())
        for (const auto& [k, v] : a.items()) keys.insert(k);
    if (keys.empty() || tr.size() == 0 || te.size() == 0) continue;
    json m = json::object();
    for (const auto& k : keys) m[k] = probe_attribute(tr, te, k, opt);
    out[name] = m;
  }
  return out;
}

// ---- codebook ----------------------------------------------------------------------------

int64_t codebook_size(int64_t opt_k, const json& meta, const char* key, const std::vector<at::Tensor>& codes) {
  if (opt_k > 0) return opt_k;
  if (meta.is_object() && meta.contains(key) && meta[key].is_number_integer()) return meta[key].get<int64_t>();
  int64_t mx = -1;
  for (const auto& c : codes)
    if (c.numel() > 0) mx = std::max(mx, c.max().item<int64_t>());
  return mx + 1;
}

json usage_json(const CodebookUsage& u, int64_t K) {
  return {{"K", K}, {"used", u.used}, {"dead", u.dead}, {"perplexity", num(u.perplexity)}, {"total", u.total}};
}

json codebook_section(const EmbeddingSet& test, const std::vector<std::string>& mods, const EvalOptions& opt) {
  json out = json::object();
  std::vector<at::Tensor> shared_codes;
  for (const auto& name : mods) {
    const auto& m = test.modalities.at(name);
    if (m.shared_codes.defined()) shared_codes.push_back(m.shared_codes.to(at::kCPU).to(at::kLong));
  }
  if (!shared_codes.empty()) {
    const int64_t K = codebook_size(opt.shared_codebook_size, test.meta, "shared_codebook_size", shared_codes);
    json s = json::object();
    for (const auto& name : mods) {
      const auto& m = test.modalities.at(name);
      if (m.shared_codes.defined()) s[name] = usage_json(codebook_usage(m.shared_codes, K), K);
    }
    std::vector<at::Tensor> flat;
    for (const auto& c : shared_codes) flat.push_back(c.reshape(-1));
    s["all"] = usage_json(codebook_usage(at::cat(flat), K), K);
    out["shared"] = s;
    json ov = json::object();
    for (size_t i = 0; i < mods.size(); ++i)
      for (size_t j = i + 1; j < mods.size(); ++j) {
        const auto& a = test.modalities.at(mods[i]);
        const auto& b = test.modalities.at(mods[j]);
        if (!a.shared_codes.defined() || !b.shared_codes.defined() || a.multi_label() || b.multi_label()) continue;
        ov[mods[i] + "|" + mods[j]] = num(shared_code_overlap(a.shared_codes, a.labels, b.shared_codes, b.labels, K));
      }
    if (!ov.empty()) out["shared_overlap"] = ov;
  }
  json sp = json::object();
  for (const auto& name : mods) {
    const auto& m = test.modalities.at(name);
    if (!m.specific_codes.defined()) continue;
    const int64_t K = codebook_size(opt.specific_codebook_size, test.meta, "specific_codebook_size",
                                    {m.specific_codes.to(at::kCPU).to(at::kLong)});
    sp[name] = usage_json(codebook_usage(m.specific_codes, K), K);
  }
  if (!sp.empty()) out["specific"] = sp;
  return out;
}

}  // namespace

json evaluate_embeddings(const EmbeddingSet& train, const EmbeddingSet& test, const EvalOptions& opt) {
  test.validate("test embeddings");
  train.validate("train embeddings");
  std::vector<std::string> mods = opt.modalities;
  if (mods.empty())
    for (const auto& [name, m] : test.modalities) mods.push_back(name);
  for (const auto& name : mods)
    CB_CHECK_INPUT(test.modalities.count(name), "evaluate: modality '{}' is not in the {} embeddings", name,
                   test.split.empty() ? "test" : test.split);
  at::NoGradGuard no_grad;
  json out = {{"split", test.split}, {"classes", test.classes.size()}};
  if (opt.zero_shot) out["zero_shot"] = zero_shot_section(test, mods);
  if (opt.retrieval) out["retrieval"] = retrieval_section(test, mods, opt);
  if (opt.probes) out["probes"] = probes_section(train, test, mods, opt);
  if (opt.codebook) out["codebook"] = codebook_section(test, mods, opt);
  return out;
}

}  // namespace cb::eval
