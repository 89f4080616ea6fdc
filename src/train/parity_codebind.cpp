// parity_codebind.cpp — the `codebind/` fixture group: the quantiser's training steps, text
// step, evaluation, re-seeding and the loss functions against the reference's golden values
// (docs/model.md §9). Sizes, steps, modalities and temperatures are
// read from the fixture set itself, so any set with this layout can be checked.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "train/parity_codebind.h"
#include "core/error.h"
#include "core/parity.h"
#include "io/safetensors.h"
#include "quant/multimodal_quantiser.h"
#include "train/losses.h"

namespace cb {
namespace {

constexpr double kTolState = 1e-6, kTolLoss = 1e-5;

void compare_state(ParityReport& r, const std::string& tag, const Codebook& cb, const SafetensorsFile& f,
                   const std::string& prefix) {
  if (!f.has(prefix + "weight")) return;
  r.abs(tag + ".weight", cb.weight, f.get(prefix + "weight"), kTolState);
  r.rel(tag + ".cluster_size", cb.cluster_size, f.get(prefix + "cluster_size"), kTolState, 1e-3);
  r.rel(tag + ".embed_avg", cb.embed_avg, f.get(prefix + "embed_avg"), kTolState, 1e-3);
  r.abs(tag + ".embed_prob", cb.embed_prob, f.get(prefix + "embed_prob"), kTolState);
}

void load_state(Codebook& cb, const SafetensorsFile& f, const std::string& prefix) {
  std::map<std::string, at::Tensor> t;
  for (const char* k : {"weight", "cluster_size", "embed_avg", "embed_prob"}) t[prefix + k] = f.get(prefix + k);
  cb.load_state(t, prefix);
  cb.initted = true;
}

double scalar(const SafetensorsFile& f, const std::string& k) { return f.get(k).item<double>(); }

void run_quantiser(const std::string& dir, const nlohmann::json& man, ParityReport& r) {
  SafetensorsFile f(dir + "/quantiser.safetensors");
  const auto& qc = man.at("quantiser_config");
  QuantiserConfig cfg;
  cfg.shared_codebook_size = qc.at("shared_codebook")[0];
  cfg.codevector_dim = qc.at("shared_codebook")[1];
  cfg.specific_codebook_size = qc.at("specific_codebook")[0];
  CB_CHECK_INPUT(int64_t(qc.at("specific_codebook")[1]) == cfg.codevector_dim,
                 "{}/manifest.json: shared and specific codevectors differ in length", dir);
  cfg.decay = qc.value("decay", 0.99);
  cfg.eps = qc.value("laplace_eps", 1e-5);
  cfg.beta = qc.value("beta", 0.25);
  Modality X = parse_modality(qc.at("specific_modality").get<std::string>(), dir + "/manifest.json");
  cfg.specific_modalities = {X};
  cfg.reseed = false;  // the step cases use anchor 'none'
  const int64_t steps = man.at("batch").at("steps");
  const int64_t L = man.at("batch").at("L");
  {
    // Widths follow from the step input: (B, L, d_c + d_s) with d_c = m_c·c (128 shared chunks in the fixtures).
    at::Tensor x = f.get("step1.input");
    at::Tensor qcm = f.get("step1.q.common");
    cfg.shared_width = qcm.size(1) * cfg.codevector_dim;
    cfg.specific_width = x.size(-1) - cfg.shared_width;
  }
  MultimodalQuantiser mvq(cfg);
  load_state(mvq.shared_codebook(), f, "state0.common.");
  load_state(mvq.specific_codebook(X), f, "state0.specific.");
  for (int64_t s = 1; s <= steps; ++s) {
    const std::string p = "step" + std::to_string(s) + ".";
    at::Tensor x = f.get(p + "input");
    QuantiserOutput o = mvq.forward(x, X, /*training=*/true, L);
    r.exact(p + "indices.common", o.shared_indices, f.get(p + "indices.common"));
    r.exact(p + "indices.specific", o.specific_indices, f.get(p + "indices.specific"));
    r.scalar_rel(p + "commit.total", o.commit.item<double>(), scalar(f, p + "commit.total"), kTolLoss);
    if (f.has(p + "out.common")) {
      r.abs(p + "out.common", o.z_c, f.get(p + "out.common"), kTolState);
      r.abs(p + "out.specific", o.z_s, f.get(p + "out.specific"), kTolState);
      r.abs(p + "out.concat", o.z, f.get(p + "out.concat"), kTolState);
    }
    compare_state(r, "state" + std::to_string(s) + ".common", mvq.shared_codebook(), f,
                  "state" + std::to_string(s) + ".common.");
    compare_state(r, "state" + std::to_string(s) + ".specific", mvq.specific_codebook(X), f,
                  "state" + std::to_string(s) + ".specific.");
  }
  // Per-codebook q and commit, checked on a fresh replay through Codebook::forward.
  {
    QuantiserConfig c2 = cfg;
    MultimodalQuantiser replay(c2);
    load_state(replay.shared_codebook(), f, "state0.common.");
    load_state(replay.specific_codebook(X), f, "state0.specific.");
    for (int64_t s = 1; s <= steps; ++s) {
      const std::string p = "step" + std::to_string(s) + ".";
      at::Tensor x = f.get(p + "input");
      const int64_t n0 = x.numel() / x.size(-1);
      at::Tensor flat = x.reshape({n0, x.size(-1)});
      CodebookOutput oc = replay.shared_codebook().forward(
          flat.narrow(1, 0, cfg.shared_width).reshape({n0, cfg.shared_chunks(), cfg.shared_chunk_dim()}), true, L);
      CodebookOutput os = replay.specific_codebook(X).forward(
          flat.narrow(1, cfg.shared_width, cfg.specific_width)
              .reshape({n0, cfg.specific_chunks(), cfg.specific_chunk_dim()}),
          true, L);
      r.abs(p + "q.common", oc.q, f.get(p + "q.common"), kTolState);
      r.abs(p + "q.specific", os.q, f.get(p + "q.specific"), kTolState);
      r.scalar_rel(p + "commit.common", oc.commit.item<double>(), scalar(f, p + "commit.common"), kTolLoss);
      r.scalar_rel(p + "commit.specific", os.commit.item<double>(), scalar(f, p + "commit.specific"), kTolLoss);
    }
  }
  // Text step: shared codebook only; the specific codebook is untouched.
  if (f.has("text_step.input")) {
    at::Tensor spec_before = mvq.specific_codebook(X).weight.clone();
    at::Tensor shared_before = mvq.shared_codebook().weight.clone();
    QuantiserOutput o = mvq.forward(f.get("text_step.input"), Modality::Text, true, 1);
    r.exact("text_step.indices.common", o.shared_indices, f.get("text_step.indices.common"));
    // STE output value = the pre-update codevector rows of the assigned codes.
    r.abs("text_step.q.common", shared_before.index_select(0, o.shared_indices.reshape({-1})).view_as(o.shared_unit),
          f.get("text_step.q.common"), kTolState);
    r.scalar_rel("text_step.commit.total", o.commit.item<double>(), scalar(f, "text_step.commit.total"), kTolLoss);
    r.abs("text_step.out.common", o.z_c, f.get("text_step.out.common"), kTolState);
    compare_state(r, "state4.common", mvq.shared_codebook(), f, "state4.common.");
    r.abs("text_step.specific_untouched", mvq.specific_codebook(X).weight, spec_before, 0);
  }
  // Evaluation mode: no state change.
  if (f.has("eval.input")) {
    at::Tensor before = mvq.shared_codebook().weight.clone();
    QuantiserOutput o = mvq.forward(f.get("eval.input"), X, false, 1);
    r.abs("eval.out.common", o.z_c, f.get("eval.out.common"), kTolState);
    r.abs("eval.out.specific", o.z_s, f.get("eval.out.specific"), kTolState);
    r.abs("eval.out.concat", o.z, f.get("eval.out.concat"), kTolState);
    r.exact("eval.indices.common", o.shared_indices, f.get("eval.indices.common"));
    r.exact("eval.indices.specific", o.specific_indices, f.get("eval.indices.specific"));
    r.abs("eval.state_unchanged", mvq.shared_codebook().weight, before, 0);
  }
  if (f.has("eval_text.input")) {
    QuantiserOutput o = mvq.forward(f.get("eval_text.input"), Modality::Text, false, 1);
    r.abs("eval_text.out.common", o.z_c, f.get("eval_text.out.common"), kTolState);
    r.exact("eval_text.indices.common", o.shared_indices, f.get("eval_text.indices.common"));
  }
  // Re-seeding weight α and the usage EMA.
  for (const std::string cbname : {"common", "specific"}) {
    const std::string p = "reseed." + cbname + ".";
    if (!f.has(p + "alpha")) continue;
    at::Tensor bins = f.get(p + "bin_count");
    CodebookConfig cc;
    cc.num_codes = bins.size(0);
    cc.code_dim = cbname == "common" ? cfg.shared_chunk_dim() : cfg.specific_chunk_dim();
    cc.decay = cfg.decay;
    Codebook cb(cc);
    cb.embed_prob = f.get(p + "embed_prob_before").clone();
    cb.update_usage(at::repeat_interleave(at::arange(cc.num_codes), bins));
    r.abs(p + "embed_prob_after", cb.embed_prob, f.get(p + "embed_prob_after"), kTolState);
    r.abs(p + "alpha", cb.reseed_alpha(), f.get(p + "alpha"), kTolState);
  }
  // One full update with the 'random' anchor and exactly K chunks (deterministic re-seed).
  for (const std::string cbname : {"common", "specific"}) {
    const std::string p = "random_anchor." + cbname + ".";
    if (!f.has(p + "input")) continue;
    at::Tensor w = f.get(p + "before.weight");
    CodebookConfig cc;
    cc.num_codes = w.size(0);
    cc.code_dim = w.size(1);
    cc.decay = cfg.decay;
    cc.eps = cfg.eps;
    cc.beta = cfg.beta;
    cc.reseed = true;
    Codebook cb(cc);
    load_state(cb, f, p + "before.");
    CodebookOutput o = cb.forward(f.get(p + "input"), true, 1);
    r.exact(p + "indices", o.indices, f.get(p + "indices"));
    r.abs(p + "q", o.q, f.get(p + "q"), kTolState);
    r.scalar_rel(p + "commit", o.commit.item<double>(), scalar(f, p + "commit"), kTolLoss);
    compare_state(r, p + "after", cb, f, p + "after.");
  }
}

void run_losses(const std::string& dir, const nlohmann::json& man, ParityReport& r) {
  SafetensorsFile f(dir + "/losses.safetensors");
  std::regex pair_re(R"(infonce\.tau([0-9.eE+-]+)\.pair\.([a-z]+)_([a-z]+))");
  std::map<std::string, std::vector<double>> per_tau;
  for (const auto& k : f.keys()) {
    std::smatch m;
    if (!std::regex_match(k, m, pair_re)) continue;
    double tau = std::stod(m[1]);
    double got = info_nce(f.get("infonce." + m[2].str()), f.get("infonce." + m[3].str()), tau).item<double>();
    r.scalar_rel(k, got, scalar(f, k), kTolLoss);
    per_tau[m[1]].push_back(got);
  }
  for (const auto& [tau, v] : per_tau) {
    const std::string k = "infonce.tau" + tau + ".total_3pairs";
    if (!f.has(k)) continue;
    double mean = 0;
    for (double x : v) mean += x;
    r.scalar_rel(k, mean / v.size(), scalar(f, k), kTolLoss);
  }
  // Orthogonality and uniformity per non-text modality, and their means.
  for (const std::string kind : {"orth", "uniform"}) {
    std::vector<double> vals;
    for (const auto& k : f.keys()) {
      std::smatch m;
      std::regex re(kind + R"(\.([a-z]+)\.value)");
      if (!std::regex_match(k, m, re)) continue;
      const std::string mod = m[1];
      double got = kind == "orth"
                       ? orthogonality_loss(f.get("orth." + mod + ".common"), f.get("orth." + mod + ".specific"))
                             .item<double>()
                       : uniformity_loss(f.get("uniform." + mod + ".specific").select(1, 0)).item<double>();
      r.scalar_rel(k, got, scalar(f, k), kTolLoss);
      vals.push_back(got);
    }
    if (f.has(kind + ".total") && !vals.empty()) {
      double mean = 0;
      for (double x : vals) mean += x;
      r.scalar_rel(kind + ".total", mean / vals.size(), scalar(f, kind + ".total"), kTolLoss);
    }
  }
  // Logged-only terms.
  if (f.has("cm.total")) {
    const auto& pairs = man.at("losses").at("code_matching").at("pairs");
    double sum = 0;
    for (const auto& pj : pairs) {
      std::string pr = pj.get<std::string>();
      auto us = pr.find('_');
      sum += code_matching_loss(f.get("cm." + pr.substr(0, us) + ".dist"), f.get("cm." + pr.substr(us + 1) + ".dist"))
                 .item<double>();
    }
    r.scalar_rel("cm.total", sum / pairs.size(), scalar(f, "cm.total"), kTolLoss);
  }
  if (f.has("cctr.value"))
    r.scalar_rel("cctr.value", codevector_contrastive(f.get("cctr.dist")).item<double>(), scalar(f, "cctr.value"),
                 kTolLoss);
  const std::string qpath = dir + "/quantiser.safetensors";
  if (std::filesystem::exists(qpath)) {
    SafetensorsFile q(qpath);
    for (const std::string cbname : {"common", "specific"}) {
      const std::string k = "cuni." + cbname + ".value";
      if (f.has(k) && q.has("state0." + cbname + ".weight"))
        r.scalar_rel(k, codevector_uniformity(q.get("state0." + cbname + ".weight")).item<double>(), scalar(f, k),
                     kTolLoss);
    }
  }
}

}  // namespace

void run_codebind_group(const std::string& dir, ParityReport& r) {
  std::ifstream in(dir + "/manifest.json");
  CB_CHECK_INPUT(in.good(), "{}/manifest.json: cannot open", dir);
  nlohmann::json man;
  try {
    man = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    fail_input("{}/manifest.json: invalid JSON: {}", dir, e.what());
  }
  run_quantiser(dir, man, r);
  run_losses(dir, man, r);
}



}  // namespace cb
