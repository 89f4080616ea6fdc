// parity_imagebind.cpp — the `imagebind` fixture group of `codebind parity`
// (docs/imagebind.md §8). Builds the model from DIR/config.json, loads DIR/weights.safetensors, and runs
// every case of DIR/manifest.json → cases.<case> on DIR/inputs.safetensors, comparing every
// listed stage with DIR/outputs.safetensors:
//   hidden states (patches … trunk): max |Δ| ≤ 1e-5 · max(1, max |ref|)
//   head, post, final: the applied logit scale divided out, max |Δ| ≤ 1e-5 and cosine ≥ 0.99999
//   eot_index: exact.
// A case <c> with a file DIR/weights_<c>.safetensors runs with those tensors overriding the
// base weights (e.g. `text_scale_clamp`). Nothing here is specific to one fixture set.
#include <filesystem>
#include <fstream>

#include "encoders/imagebind/parity_imagebind.h"
#include "core/error.h"
#include "core/parity.h"
#include "encoders/imagebind/imagebind_model.h"
#include "io/weights.h"

namespace cb {
namespace {

namespace fs = std::filesystem;

constexpr double kHiddenTol = 1e-5;
constexpr double kEmbedAbsTol = 1e-5;
constexpr double kEmbedCosTol = 1e-5;  // 1 − cosine

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  CB_CHECK_INPUT(f.good(), "{}: cannot open", path);
  try {
    return nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    fail_input("{}: invalid JSON: {}", path, e.what());
  }
}

void check_hidden(ParityReport& r, const std::string& name, const at::Tensor& got, const at::Tensor& want) {
  const double scale = want.numel() ? std::max(1.0, want.abs().max().item<double>()) : 1.0;
  r.abs(name, got.detach().to(at::kCPU, at::kFloat), want, kHiddenTol * scale);
}

void check_embedding(ParityReport& r, const std::string& name, const at::Tensor& got, const at::Tensor& want,
                     double scale) {
  at::Tensor g = got.detach().to(at::kCPU, at::kDouble) / scale;
  at::Tensor w = want.to(at::kDouble) / scale;
  r.abs(name, g, w, kEmbedAbsTol);
  ParityCheck c{r.group(), name + ".cos", 0, kEmbedCosTol, "1-cos", false, ""};
  if (g.sizes() != w.sizes()) {
    c.error = INFINITY;
    c.note = "shape mismatch";
  } else if (g.numel() > 0) {
    at::Tensor cos = (g * w).sum(-1) / (g.norm(2, {-1}) * w.norm(2, {-1})).clamp_min(1e-30);
    c.error = (1.0 - cos).max().item<double>();
  }
  c.pass = c.error <= c.tolerance;
  r.add(c);
}

void run_case(ImageBindModel& model, const std::string& case_name, const nlohmann::json& spec,
              const SafetensorsFile& inputs, const SafetensorsFile& outputs, ParityReport& r) {
  const Modality m = parse_modality(spec.at("modality").get<std::string>(), "manifest case " + case_name);
  CB_CHECK_INPUT(model.has(m), "case {}: config.json has no '{}' tower", case_name, modality_name(m));
  const ModalityConfig& mc = model.config().at(m);
  const std::string input_key = spec.value("input_key", case_name);
  at::Tensor input = inputs.get(input_key);
  std::vector<std::string> stages = spec.at("stages").get<std::vector<std::string>>();

  at::NoGradGuard no_grad;
  FlatInput f = model.flatten_clips(m, input);
  at::Tensor stem = model.stem(m, f.x);
  at::Tensor tokens = model.tokens(m, f.x);
  TrunkTrace trace;
  at::Tensor trunk = model.trunk(m, tokens, nullptr, &trace);
  at::Tensor head = model.head(m, trunk, f.x);
  at::Tensor post = model.postprocess(m, head);
  at::Tensor final = model.embed(m, input);
  const double scale = model.logit_scale(m).item<double>();

  for (const std::string& st : stages) {
    const std::string name = case_name + "." + st;
    if (!outputs.has(name)) {
      r.add(ParityCheck{r.group(), name, INFINITY, 0, "missing", false, "listed in the manifest, absent from outputs"});
      continue;
    }
    at::Tensor want = outputs.get(name);
    if (st == "patches") {
      at::Tensor p = f.x.unfold(-1, mc.kernel.at(0), mc.stride.at(0)).permute({0, 2, 1, 3});
      check_hidden(r, name, p.reshape({p.size(0), p.size(1), -1}), want);
    } else if (st == "stem") {
      check_hidden(r, name, stem, want);
    } else if (st == "tokens") {
      check_hidden(r, name, tokens, want);
    } else if (st == "eot_index") {
      r.exact(name, f.x.argmax(-1), want);
    } else if (st == "pre_ln") {
      if (!trace.pre_ln.defined()) {
        r.add(ParityCheck{r.group(), name, INFINITY, 0, "missing", false, "the config has no pre-transformer LN"});
        continue;
      }
      check_hidden(r, name, trace.pre_ln, want);
    } else if (st.rfind("block.", 0) == 0) {
      size_t i = std::stoul(st.substr(6));
      if (i >= trace.blocks.size()) {
        r.add(ParityCheck{r.group(), name, INFINITY, 0, "missing", false, "block index beyond the trunk"});
        continue;
      }
      check_hidden(r, name, trace.blocks[i], want);
    } else if (st == "trunk") {
      check_hidden(r, name, trunk, want);
    } else if (st == "head") {
      check_embedding(r, name, head, want, 1.0);
    } else if (st == "post") {
      check_embedding(r, name, post, want, scale);
    } else if (st == "final") {
      check_embedding(r, name, final, want, scale);
    } else {
      r.add(ParityCheck{r.group(), name, INFINITY, 0, "unknown", false, "unknown stage name"});
    }
  }
}

}  // namespace

void run_imagebind_group(const std::string& dir, ParityReport& r) {
  const ImageBindConfig cfg = ImageBindConfig::from_file((fs::path(dir) / "config.json").string());
  const nlohmann::json manifest = read_json((fs::path(dir) / "manifest.json").string());
  const SafetensorsFile inputs((fs::path(dir) / "inputs.safetensors").string());
  const SafetensorsFile outputs((fs::path(dir) / "outputs.safetensors").string());
  const std::string weights_path = (fs::path(dir) / "weights.safetensors").string();
  const SafetensorsFile weights(weights_path);

  ImageBindModel model(cfg, {}, 0);
  model.load(weights, weights_path);
  r.add(ParityCheck{r.group(), "weights.safetensors loaded", 0, 0, "exact", true,
                    fmt::format("{} tensors", weights.keys().size())});
  // The same state_dict written by torch.save: loads through the native .pth reader to
  // bit-identical tensors.
  const fs::path pth_path = fs::path(dir) / "weights.pth";
  if (fs::exists(pth_path)) {
    const WeightFile pth(pth_path.string());
    ImageBindModel from_pth(cfg, {}, 0);
    from_pth.load(pth, pth_path.string());
    double worst = 0;
    for (const auto& [k, t] : model.params) {
      auto it = from_pth.params.find(k);
      worst = it == from_pth.params.end() ? INFINITY
                                          : std::max(worst, (it->second - t).abs().max().item<double>());
    }
    r.add(ParityCheck{r.group(), "weights.pth == weights.safetensors", worst, 0, "abs", worst == 0,
                      fmt::format("{} tensors", from_pth.params.size())});
  }

  CB_CHECK_INPUT(manifest.contains("cases") && manifest["cases"].is_object(), "{}/manifest.json: no 'cases' object",
                 dir);
  for (auto it = manifest["cases"].begin(); it != manifest["cases"].end(); ++it) {
    const std::string case_name = it.key();
    const fs::path override_path = fs::path(dir) / ("weights_" + case_name + ".safetensors");
    try {
      if (fs::exists(override_path)) {
        // Override some tensors for this case only, then restore them.
        SafetensorsFile ov(override_path.string());
        std::map<std::string, at::Tensor> saved;
        for (const auto& k : ov.keys()) {
          saved[k] = model.param(k);
          model.set_param(k, ov.get(k), override_path.string());
        }
        run_case(model, case_name, it.value(), inputs, outputs, r);
        for (auto& [k, t] : saved) model.params[k] = t;
      } else {
        run_case(model, case_name, it.value(), inputs, outputs, r);
      }
    } catch (const std::exception& e) {
      r.add(ParityCheck{r.group(), case_name, INFINITY, 0, "error", false, e.what()});
    }
  }
}



}  // namespace cb
