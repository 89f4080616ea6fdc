// imagebind_model.cpp — construction (reference-like random init), loading by state-dict
// name with one complete error report, parameter listing and device/dtype moves of
// ImageBindModel. The forward stages live in imagebind_forward.cpp.
#include "encoders/imagebind/imagebind_model.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <set>

#include "core/error.h"
#include "core/memory_budget.h"
#include "core/shape_str.h"
#include "io/finite_check.h"

namespace cb {

namespace {


bool belongs_to(const std::string& key, Modality m) {
  const std::string n = modality_name(m);
  for (const char* p : {"modality_preprocessors.", "modality_trunks.", "modality_heads.", "modality_postprocessors."}) {
    std::string pre = std::string(p) + n + ".";
    if (key.compare(0, pre.size(), pre) == 0) return true;
  }
  return false;
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

}  // namespace

// ---- construction ---------------------------------------------------------------------------

namespace {

// Refuses a config whose towers cannot be held (inference: parameters and one block's
// activations at batch 1) before anything is allocated.
void check_fits(const ImageBindConfig& cfg, const std::vector<Modality>& which) {
  double bytes = 0;
  std::string dims;
  for (Modality m : which) {
    bytes += estimate_tower_bytes(cfg, m, 1, TowerUse::Inference);
    dims += fmt::format("{}{} width {} × {} blocks", dims.empty() ? "" : ", ", modality_name(m), cfg.at(m).embed_dim,
                        cfg.at(m).num_blocks);
  }
  check_fits_in_memory(uint64_t(std::min(bytes, 1.8e19)), "this ImageBind config", dims);
}

}  // namespace

ImageBindModel::ImageBindModel(const ImageBindConfig& cfg, std::vector<Modality> which, uint64_t seed)
    : cfg_(cfg), which_(std::move(which)) {
  if (which_.empty())
    for (const auto& [m, c] : cfg_.modalities) which_.push_back(m);
  check_fits(cfg_, which_);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  gen_ = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x9E3779B97F4A7C15ULL);
  for (Modality m : which_) {
    const ModalityConfig& c = cfg_.at(m);
    for (const ParamSpec& p : param_specs(cfg_, m)) {
      at::Tensor t = at::empty(p.shape, at::kFloat);
      const std::string& n = p.name;
      const int64_t fan_in = t.dim() >= 2 ? t.numel() / t.size(0) : 1;
      if (n == c.mask_key) {
        t = at::full(p.shape, -std::numeric_limits<float>::infinity()).triu_(1);
      } else if (n == c.logit_scale_key) {
        t.fill_(c.logit_scale_init);
      } else if (ends_with(n, "cls_token") || n == c.pos_embed_key ||
                 (c.stem_kind == StemKind::TokenEmbedding && n == c.stem_weight_key())) {
        t.normal_(0.0, 0.02, gen);  // cls/pos (trunc_normal ±2 ≈ normal at std .02), embeddings
      } else if (n == c.stem_weight_key() || n == c.head_proj_key) {
        double b = 1.0 / std::sqrt(double(fan_in));  // kaiming_uniform(a=√5): U(±1/√fan_in)
        t.uniform_(-b, b, gen);
      } else if (ends_with(n, "in_proj_weight")) {
        double b = std::sqrt(6.0 / double(t.size(0) + t.size(1)));  // xavier_uniform
        t.uniform_(-b, b, gen);
      } else if (ends_with(n, "bias_k") || ends_with(n, "bias_v")) {
        t.normal_(0.0, std::sqrt(2.0 / double(2 * t.size(2))), gen);  // xavier_normal on (1,1,D)
      } else if (t.dim() == 2) {
        t.normal_(0.0, 0.02, gen).clamp_(-2.0, 2.0);  // Linear: trunc_normal(std .02)
      } else if (ends_with(n, ".weight") && t.dim() == 1) {
        t.fill_(1.0);  // LayerNorm gain
      } else {
        t.zero_();  // biases, LN shifts
      }
      params[n] = t;
    }
  }
}

ImageBindModel::ImageBindModel(const ImageBindConfig& cfg, std::vector<Modality> which)
    : cfg_(cfg), which_(std::move(which)) {
  if (which_.empty())
    for (const auto& [m, c] : cfg_.modalities) which_.push_back(m);
  for (Modality m : which_) cfg_.at(m);  // InputError for a tower the config lacks
  check_fits(cfg_, which_);
  gen_ = at::make_generator<at::CPUGeneratorImpl>(0x9E3779B97F4A7C15ULL);
}

// ---- the Bridge interface --------------------------------------------------------------------

InputSpec ImageBindModel::input_spec(Modality m) const {
  const ModalityConfig& mc = cfg_.at(m);
  return InputSpec{m, mc.input_shape, cfg_.inputs};
}

TokenGrid ImageBindModel::token_grid(Modality m) const {
  const ModalityConfig& mc = cfg_.at(m);
  CB_CHECK_INPUT(mc.stem_kind != StemKind::TokenEmbedding, "the text tower has no patch grid");
  // IMU's Linear stem reads (6, T) samples: channels come from the input, not the stem.
  const int64_t channels = mc.stem_kind == StemKind::Linear ? mc.input_shape.at(0) : mc.in_channels;
  return TokenGrid{mc.patch_grid, mc.stride, channels};
}

double ImageBindModel::estimate_bytes(Modality m, int64_t batch, TowerUse use) const {
  return estimate_tower_bytes(cfg_, m, batch, use);
}

NamedTensors ImageBindModel::head_params(Modality m) {
  const ModalityConfig& mc = cfg_.at(m);
  NamedTensors out;
  auto add = [&](const std::string& n) { out.emplace_back(n, params.at(n)); };
  if (mc.num_cls_tokens > 0) add(mc.cls_key());
  add(mc.head_ln_prefix() + ".weight");
  add(mc.head_ln_prefix() + ".bias");
  add(mc.head_proj_key);
  return out;
}

std::vector<LoraTarget> ImageBindModel::lora_targets(Modality m, const std::vector<int64_t>& blocks,
                                                     LoraMode mode) const {
  return imagebind_lora_targets(cfg_.at(m), blocks, mode);
}

std::vector<LoraTarget> imagebind_lora_targets(const ModalityConfig& mc, const std::vector<int64_t>& blocks,
                                               LoraMode mode) {
  const int64_t D = mc.embed_dim, M = mc.mlp_hidden;
  std::vector<LoraTarget> out;
  for (int64_t b : blocks) {
    CB_CHECK_INPUT(b >= 0 && b < mc.num_blocks, "LoRA block {} outside the {} trunk's {} blocks", b, mc.name(),
                   mc.num_blocks);
    const std::string p = mc.block_key(b);
    if (mode != LoraMode::AttnOut) out.push_back({p + "attn.in_proj_weight", 3 * D, D});
    out.push_back({p + "attn.out_proj.weight", D, D});
    if (mode == LoraMode::All) {
      out.push_back({p + "mlp.fc1.weight", M, D});
      out.push_back({p + "mlp.fc2.weight", D, M});
    }
  }
  return out;
}

void ImageBindModel::load(const WeightFile& f) {
  // Zero-copy views of the file's private (copy-on-write) mapping: a page is copied only when
  // training writes it, so frozen towers cost no memory beyond the file's resident pages.
  load(f, f.path());
}

// ---- loading --------------------------------------------------------------------------------

void ImageBindModel::load_impl(const std::vector<std::string>& keys,
                               const std::function<at::Tensor(const std::string&)>& get,
                               const std::string& where) {
  std::set<std::string> present(keys.begin(), keys.end());
  std::vector<std::string> missing, unexpected, misshaped;
  std::map<std::string, at::Tensor> loaded;
  for (Modality m : which_) {
    std::set<std::string> expected;
    for (const ParamSpec& p : param_specs(cfg_, m)) {
      expected.insert(p.name);
      if (!present.count(p.name)) {
        missing.push_back(p.name);
        continue;
      }
      at::Tensor t = get(p.name);
      if (t.sizes() != at::IntArrayRef(p.shape)) {
        misshaped.push_back(fmt::format("{} expected {} found {}", p.name, shape_str(p.shape), shape_str(t.sizes())));
        continue;
      }
      if (t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16 || t.scalar_type() == at::kDouble) {
        t = t.to(at::kFloat);
      } else if (t.scalar_type() != at::kFloat) {
        misshaped.push_back(fmt::format("{} expected a floating dtype found {}", p.name, c10::toString(t.scalar_type())));
        continue;
      }
      check_finite(t, where, p.name);
      loaded[p.name] = t;
    }
    for (const auto& k : keys)
      if (belongs_to(k, m) && !expected.count(k)) unexpected.push_back(k);
  }
  if (!missing.empty() || !unexpected.empty() || !misshaped.empty()) {
    std::string msg = fmt::format("{}: weights do not match the model config:", where);
    auto list = [&](const char* what, const std::vector<std::string>& v) {
      if (v.empty()) return;
      constexpr size_t kShow = 12;  // keep the line readable for a wholly wrong config
      msg += fmt::format(" {} {} [", v.size(), what);
      for (size_t i = 0; i < v.size() && i < kShow; ++i) msg += (i ? "; " : "") + v[i];
      if (v.size() > kShow) msg += fmt::format("; … {} more", v.size() - kShow);
      msg += "]";
    };
    list("missing", missing);
    list("unexpected", unexpected);
    list("mis-shaped", misshaped);
    throw InputError(msg);
  }
  at::Device dev = device();
  at::ScalarType dt = dtype();
  for (auto& [k, t] : loaded) params[k] = (dev.is_cpu() && dt == at::kFloat) ? t : t.to(dev, dt);
}

void ImageBindModel::set_param(const std::string& name, const at::Tensor& t, const std::string& where) {
  auto it = params.find(name);
  CB_CHECK_INPUT(it != params.end(), "{}: '{}' is not a tensor of this model", where, name);
  CB_CHECK_INPUT(it->second.sizes() == t.sizes(), "{}: '{}' expected {} found {}", where, name,
                 shape_str(it->second.sizes()), shape_str(t.sizes()));
  it->second = t.to(it->second.device(), it->second.scalar_type());
}

// ---- parameters -----------------------------------------------------------------------------

const at::Tensor& ImageBindModel::param(const std::string& name) const {
  auto it = params.find(name);
  CB_CHECK(it != params.end(), "ImageBindModel: no tensor '{}' (tower not built?)", name);
  return it->second;
}

std::vector<std::string> ImageBindModel::param_names(Modality m) const {
  CB_CHECK_INPUT(has(m), "the model was built without the '{}' tower", modality_name(m));
  std::vector<std::string> out;
  for (const ParamSpec& p : param_specs(cfg_, m)) out.push_back(p.name);
  return out;
}

NamedTensors ImageBindModel::named_params(Modality m) const {
  NamedTensors out;
  for (const auto& n : param_names(m)) out.emplace_back(n, param(n));
  return out;
}

NamedTensors ImageBindModel::trainable_params(Modality m) {
  const ModalityConfig& mc = cfg_.at(m);
  NamedTensors out;
  for (const auto& n : param_names(m)) {
    at::Tensor& t = params.at(n);
    if (!t.is_floating_point() || n == mc.mask_key || n.find("logit_scale") != std::string::npos) continue;
    t.requires_grad_(true);
    out.emplace_back(n, t);
  }
  return out;
}

int64_t ImageBindModel::num_params(Modality m) const {
  int64_t n = 0;
  for (const auto& name : param_names(m)) n += param(name).numel();
  return n;
}

void ImageBindModel::to(at::Device device, at::ScalarType dtype) {
  for (auto& [k, t] : params) {
    bool keep_grad = t.requires_grad();
    t = t.to(device, dtype);
    if (keep_grad && !t.requires_grad()) t = t.detach().requires_grad_(true);
  }
}

at::Device ImageBindModel::device() const {
  return params.empty() ? at::Device(at::kCPU) : params.begin()->second.device();
}

at::ScalarType ImageBindModel::dtype() const {
  return params.empty() ? at::kFloat : params.begin()->second.scalar_type();
}

void ImageBindModel::seed_dropout(uint64_t seed) { gen_ = at::make_generator<at::CPUGeneratorImpl>(seed); }

}  // namespace cb
