// imagebind_config.cpp — the Huge preset, the JSON schema reader/writer and the state-dict
// shape listing of an ImageBind-architecture model
// (docs/imagebind.md §1.2, §6.1, §6.3).
#include "encoders/imagebind/imagebind_config.h"

#include <cmath>
#include <fstream>
#include <optional>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/json_read.h"

namespace cb {

const char* stem_kind_name(StemKind k) {
  switch (k) {
    case StemKind::Conv3d: return "conv3d";
    case StemKind::Conv2d: return "conv2d";
    case StemKind::Conv1d: return "conv1d";
    case StemKind::TokenEmbedding: return "token_embedding";
    case StemKind::Linear: return "linear";
  }
  return "?";
}

static StemKind parse_stem_kind(const std::string& s, const std::string& where) {
  for (StemKind k : {StemKind::Conv3d, StemKind::Conv2d, StemKind::Conv1d, StemKind::TokenEmbedding,
                     StemKind::Linear})
    if (s == stem_kind_name(k)) return k;
  fail_input("{}: unknown stem kind '{}' (conv3d, conv2d, conv1d, token_embedding, linear)", where, s);
}

// ---- derived key names ----------------------------------------------------------------------

std::string ModalityConfig::stem_weight_key() const {
  switch (stem_kind) {
    case StemKind::Conv3d: return stem_prefix + ".weight";
    case StemKind::TokenEmbedding: return stem_prefix;
    default: return stem_prefix + ".proj.weight";
  }
}
std::string ModalityConfig::stem_bias_key() const {
  if (!stem_bias) return "";
  return stem_kind == StemKind::Conv3d ? stem_prefix + ".bias" : stem_prefix + ".proj.bias";
}
std::string ModalityConfig::stem_norm_prefix() const {
  if (!stem_ln_eps) return "";
  return stem_prefix + ".norm_layer";
}
std::string ModalityConfig::head_ln_prefix() const {
  // "<P>.<idx>.weight" → "<P>.0"
  std::string s = head_proj_key;
  auto strip_last = [](std::string& x) {
    auto p = x.rfind('.');
    if (p != std::string::npos) x.resize(p);
  };
  strip_last(s);  // drop "weight"
  strip_last(s);  // drop the projection index
  return s + ".0";
}

// ---- Huge preset ------------------------------------------------------------------------------

static ModalityConfig base(Modality m, int64_t d, int64_t blocks, int64_t heads) {
  ModalityConfig c;
  c.modality = m;
  c.embed_dim = d;
  c.num_blocks = blocks;
  c.num_heads = heads;
  c.mlp_hidden = 4 * d;
  const std::string n = modality_name(m);
  c.pos_embed_key = "modality_preprocessors." + n + ".pos_embedding_helper.pos_embed";
  c.head_proj_key = "modality_heads." + n + ".2.weight";
  return c;
}

static void rgbdt(ModalityConfig& c, const std::string& stem, int64_t in_ch, int64_t k, int64_t s, int64_t h,
                  int64_t w) {
  c.stem_kind = StemKind::Conv2d;
  c.stem_prefix = "modality_preprocessors." + c.name() + "." + stem;
  c.in_channels = in_ch;
  c.kernel = {k, k};
  c.stride = {s, s};
  c.stem_ln_eps = 1e-5;
  c.input_shape = {in_ch, h, w};
  c.patch_grid = {(h - k) / s + 1, (w - k) / s + 1};
  c.num_patches = c.patch_grid[0] * c.patch_grid[1];
  c.num_tokens = c.num_patches + 1;
  c.add_bias_kv = true;
  c.logit_scale_key = "modality_postprocessors." + c.name() + ".1.log_logit_scale";
}

ImageBindConfig ImageBindConfig::huge() {
  ImageBindConfig cfg;
  cfg.out_dim = 1024;

  ModalityConfig v = base(Modality::Vision, 1280, 32, 16);
  v.pre_ln_eps = 1e-6;
  v.stem_kind = StemKind::Conv3d;
  v.stem_prefix = "modality_preprocessors.vision.rgbt_stem.proj.1";
  v.in_channels = 3;
  v.kernel = {2, 14, 14};
  v.stride = {2, 14, 14};
  v.video_frames = 2;
  v.input_shape = {3, 224, 224};
  v.patch_grid = {1, 16, 16};
  v.num_patches = 256;
  v.num_tokens = 257;
  cfg.modalities[Modality::Vision] = v;

  ModalityConfig t = base(Modality::Text, 1024, 24, 16);
  t.stem_kind = StemKind::TokenEmbedding;
  t.stem_prefix = "modality_preprocessors.text.token_embedding.weight";
  t.vocab_size = 49408;
  t.context_length = 77;
  t.input_shape = {77};
  t.patch_grid = {77};
  t.num_patches = 77;
  t.num_cls_tokens = 0;
  t.num_tokens = 77;
  t.pos_embed_key = "modality_preprocessors.text.pos_embed";
  t.mask_key = "modality_preprocessors.text.mask";
  t.causal = true;
  t.head_order = HeadOrder::SelectThenLayerNorm;
  t.head_proj_key = "modality_heads.text.proj.1.weight";
  t.logit_scale_key = "modality_postprocessors.text.1.log_logit_scale";
  t.logit_scale_learnable = true;
  t.logit_scale_init = std::log(1.0 / 0.07);
  cfg.modalities[Modality::Text] = t;

  ModalityConfig a = base(Modality::Audio, 768, 12, 12);
  rgbdt(a, "rgbt_stem", 1, 16, 10, 128, 204);
  a.drop_path = 0.1;
  a.logit_scale_init = std::log(20.0);
  cfg.modalities[Modality::Audio] = a;

  ModalityConfig d = base(Modality::Depth, 384, 12, 8);
  rgbdt(d, "depth_stem", 1, 16, 16, 224, 224);
  d.logit_scale_init = std::log(5.0);
  cfg.modalities[Modality::Depth] = d;

  ModalityConfig th = base(Modality::Thermal, 768, 12, 12);
  rgbdt(th, "rgbt_stem", 1, 16, 16, 224, 224);
  th.logit_scale_init = std::log(10.0);
  cfg.modalities[Modality::Thermal] = th;

  ModalityConfig i = base(Modality::Imu, 512, 6, 8);
  i.stem_kind = StemKind::Linear;
  i.stem_prefix = "modality_preprocessors.imu.imu_stem";
  i.in_channels = 6;
  i.kernel = {8};
  i.stride = {8};
  i.stem_ln_eps = 1e-5;
  i.input_shape = {6, 2000};
  i.patch_grid = {250};
  i.num_patches = 250;
  i.num_tokens = 251;
  i.pos_embed_key = "modality_preprocessors.imu.pos_embed";
  i.add_bias_kv = true;
  i.drop_path = 0.7;
  i.head_dropout = 0.5;
  i.head_proj_key = "modality_heads.imu.3.weight";
  i.logit_scale_key = "modality_postprocessors.imu.1.log_logit_scale";
  i.logit_scale_init = std::log(5.0);
  cfg.modalities[Modality::Imu] = i;
  return cfg;
}

ImageBindConfig ImageBindConfig::tiny() {
  ImageBindConfig cfg = huge();
  cfg.out_dim = 16;
  for (auto& [m, c] : cfg.modalities) {
    c.embed_dim = 16;
    c.num_blocks = 2;
    c.num_heads = 2;
    c.mlp_hidden = 64;
  }
  ModalityConfig& v = cfg.modalities[Modality::Vision];
  v.kernel = v.stride = {2, 8, 8};
  v.input_shape = {3, 32, 32};
  v.patch_grid = {1, 4, 4};
  v.num_patches = 16;
  v.num_tokens = 17;
  for (Modality m : {Modality::Depth, Modality::Thermal}) {
    ModalityConfig& c = cfg.modalities[m];
    c.kernel = c.stride = {8, 8};
    c.input_shape = {1, 32, 32};
    c.patch_grid = {4, 4};
    c.num_patches = 16;
    c.num_tokens = 17;
  }
  ModalityConfig& i = cfg.modalities[Modality::Imu];
  i.input_shape = {6, 200};
  i.patch_grid = {25};
  i.num_patches = 25;
  i.num_tokens = 26;
  return cfg;
}

// ---- JSON -------------------------------------------------------------------------------------

namespace {

// Every integer of the schema is a count, size or index: 1 … 2^24 (0 allowed for the two
// that may be zero), checked at full width.
constexpr int64_t kMaxCount = int64_t(1) << 24;
int64_t count(const JsonReader& r, const char* k) {
  const bool may_be_zero = std::string(k) == "select_token" || std::string(k) == "num_cls_tokens";
  return r.required_integer(k, may_be_zero ? 0 : 1, kMaxCount);
}
std::vector<int64_t> counts(const JsonReader& r, const char* k) { return r.required_integers(k, 1, kMaxCount); }

int64_t prod(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (auto x : v) p *= x;
  return p;
}

ModalityConfig parse_modality_config(Modality m, const JsonReader& r) {
  ModalityConfig c;
  c.modality = m;
  c.embed_dim = count(r, "embed_dim");
  c.num_blocks = count(r, "num_blocks");
  c.num_heads = count(r, "num_heads");
  c.mlp_hidden = r.has("mlp_hidden_dim") ? count(r, "mlp_hidden_dim") : 4 * c.embed_dim;
  CB_CHECK_INPUT(c.embed_dim > 0 && c.num_blocks >= 0 && c.num_heads > 0 && c.embed_dim % c.num_heads == 0,
                 "{}: embed_dim {} must be positive and divisible by num_heads {}", r.where(), c.embed_dim,
                 c.num_heads);
  CB_CHECK_INPUT(c.mlp_hidden > 0, "{}: mlp_hidden_dim must be positive", r.where());
  if (r.has("block_layernorm_eps")) c.block_ln_eps = r.required_number("block_layernorm_eps");
  if (r.has("pre_transformer_layernorm_eps")) c.pre_ln_eps = r.required_number("pre_transformer_layernorm_eps");
  c.add_bias_kv = r.flag("add_bias_kv", false);
  c.causal = r.flag("causal_mask", false);
  if (r.has("drop_path_rate_train_only")) c.drop_path = r.required_number("drop_path_rate_train_only");
  if (r.has("input_shape")) c.input_shape = counts(r, "input_shape");

  JsonReader s = r.sub("stem");
  c.stem_kind = parse_stem_kind(s.required_string("kind"), s.where() + ".kind");
  if (c.stem_kind == StemKind::TokenEmbedding) {
    c.stem_prefix = s.required_string("state_dict_key");
    c.vocab_size = count(r, "vocab_size");
    c.context_length = count(r, "context_length");
    c.num_cls_tokens = r.has("num_cls_tokens") ? count(r, "num_cls_tokens") : 0;
    CB_CHECK_INPUT(c.num_cls_tokens == 0, "{}: a token-embedding stem has no cls token", r.where());
    c.num_patches = c.context_length;
    c.patch_grid = {c.context_length};
    if (c.input_shape.empty()) c.input_shape = {c.context_length};
  } else {
    c.stem_prefix = s.required_string("state_dict_prefix");
    c.stem_bias = s.flag("bias", false);
    if (s.has("layernorm_eps")) c.stem_ln_eps = s.required_number("layernorm_eps");
    if (c.stem_kind == StemKind::Linear) {
      c.kernel = {s.has("window") ? count(s, "window") : counts(s, "kernel_size").at(0)};
      c.stride = {s.has("stride") ? counts(s, "stride").at(0) : c.kernel[0]};
      CB_CHECK_INPUT(!c.input_shape.empty(), "{}: missing field 'input_shape'", r.where());
      c.in_channels = c.input_shape[0];
      if (s.has("in_features"))
        CB_CHECK_INPUT(count(s, "in_features") == c.in_channels * c.kernel[0],
                       "{}: in_features {} != channels {} × window {}", s.where(), count(s, "in_features"),
                       c.in_channels, c.kernel[0]);
    } else {
      c.in_channels = count(s, "in_channels");
      c.kernel = counts(s, "kernel_size");
      c.stride = counts(s, "stride");
    }
    size_t rank = c.stem_kind == StemKind::Conv3d ? 3 : c.stem_kind == StemKind::Conv2d ? 2 : 1;
    if (c.kernel.size() == 1 && rank > 1) c.kernel.assign(rank, c.kernel[0]);
    if (c.stride.size() == 1 && rank > 1) c.stride.assign(rank, c.stride[0]);
    CB_CHECK_INPUT(c.kernel.size() == rank && c.stride.size() == rank,
                   "{}: kernel_size/stride must have {} entries for a {} stem", s.where(), rank,
                   stem_kind_name(c.stem_kind));
    for (size_t k = 0; k < rank; ++k)
      CB_CHECK_INPUT(c.kernel[k] > 0 && c.stride[k] > 0, "{}: kernel_size/stride must be positive", s.where());
    if (c.stem_kind == StemKind::Conv3d) {
      c.video_frames = 2;
      if (s.has("pad_im2video")) c.video_frames = count(s.sub("pad_im2video"), "ntimes");
      if (r.has("video_frames")) c.video_frames = count(r, "video_frames");
    }
    c.num_cls_tokens = r.has("num_cls_tokens") ? count(r, "num_cls_tokens") : 1;
    CB_CHECK_INPUT(c.num_cls_tokens == 0 || c.num_cls_tokens == 1, "{}: num_cls_tokens must be 0 or 1",
                   r.where());
    c.patch_grid = counts(r, "patch_grid");
    c.num_patches = prod(c.patch_grid);
    if (r.has("num_patches"))
      CB_CHECK_INPUT(count(r, "num_patches") == c.num_patches, "{}: num_patches {} != product of patch_grid {}",
                     r.where(), count(r, "num_patches"), c.num_patches);
  }
  c.num_tokens = c.num_patches + c.num_cls_tokens;
  if (r.has("num_tokens"))
    CB_CHECK_INPUT(count(r, "num_tokens") == c.num_tokens, "{}: num_tokens {} != patches {} + cls {}", r.where(),
                   count(r, "num_tokens"), c.num_patches, c.num_cls_tokens);
  c.pos_embed_key = r.required_string("pos_embed_key");
  if (c.causal) c.mask_key = r.has("causal_mask_key") ? r.required_string("causal_mask_key") : c.pre_key() + "mask";

  JsonReader h = r.sub("head");
  std::string order = h.has("order") ? h.required_string("order") : "layernorm_all_tokens_then_select";
  if (order == "select_then_layernorm")
    c.head_order = HeadOrder::SelectThenLayerNorm;
  else if (order == "layernorm_all_tokens_then_select")
    c.head_order = HeadOrder::LayerNormAllThenSelect;
  else
    fail_input("{}.order: unknown head order '{}'", h.where(), order);
  if (h.has("layernorm_eps")) c.head_ln_eps = h.required_number("layernorm_eps");
  if (c.head_order == HeadOrder::LayerNormAllThenSelect && h.has("select_token") &&
      h.json().at("select_token").is_number_integer())
    c.select_token = count(h, "select_token");
  if (h.has("dropout_train_only")) c.head_dropout = h.required_number("dropout_train_only");
  c.head_proj_key = h.required_string("proj_key");
  CB_CHECK_INPUT(!h.flag("proj_bias", false), "{}: proj_bias true is not supported", h.where());
  if (h.has("proj_in"))
    CB_CHECK_INPUT(count(h, "proj_in") == c.embed_dim, "{}: proj_in {} != embed_dim {}", h.where(), count(h, "proj_in"),
                   c.embed_dim);

  if (r.has("postprocess")) {
    JsonReader p = r.sub("postprocess");
    if (p.has("normalize_eps")) c.normalize_eps = p.required_number("normalize_eps");
    if (p.has("logit_scale")) {
      JsonReader ls = p.sub("logit_scale");
      c.logit_scale_key = ls.required_string("state_dict_key");
      c.logit_scale_learnable = ls.flag("learnable", false);
      if (ls.has("max")) c.logit_scale_max = ls.required_number("max");
      if (ls.has("constructor_init_value"))
        c.logit_scale_init = std::log(ls.required_number("constructor_init_value"));
      else if (ls.has("log_value"))
        c.logit_scale_init = ls.required_number("log_value");
    }
  }
  return c;
}

nlohmann::json modality_to_json(const ModalityConfig& c, int64_t out_dim) {
  using nlohmann::json;
  json j;
  j["embed_dim"] = c.embed_dim;
  j["num_blocks"] = c.num_blocks;
  j["num_heads"] = c.num_heads;
  j["head_dim"] = c.head_dim();
  j["mlp_hidden_dim"] = c.mlp_hidden;
  j["input_shape"] = c.input_shape;
  json s;
  s["kind"] = stem_kind_name(c.stem_kind);
  if (c.stem_kind == StemKind::TokenEmbedding) {
    s["state_dict_key"] = c.stem_prefix;
    j["vocab_size"] = c.vocab_size;
    j["context_length"] = c.context_length;
  } else {
    s["state_dict_prefix"] = c.stem_prefix;
    s["in_channels"] = c.in_channels;
    s["kernel_size"] = c.kernel;
    s["stride"] = c.stride;
    s["bias"] = c.stem_bias;
    s["layernorm_eps"] = c.stem_ln_eps ? json(*c.stem_ln_eps) : json(nullptr);
    if (c.stem_kind == StemKind::Linear) {
      s["window"] = c.kernel[0];
      s["in_features"] = c.in_channels * c.kernel[0];
    }
    if (c.stem_kind == StemKind::Conv3d) {
      s["pad_im2video"] = {{"time_dim", 2}, {"ntimes", c.video_frames}, {"pad_type", "repeat"}};
      j["video_frames"] = c.video_frames;
    }
    j["patch_grid"] = c.patch_grid;
  }
  j["stem"] = s;
  j["num_patches"] = c.num_patches;
  j["num_cls_tokens"] = c.num_cls_tokens;
  j["num_tokens"] = c.num_tokens;
  j["pos_embed_key"] = c.pos_embed_key;
  j["pre_transformer_layernorm_eps"] = c.pre_ln_eps ? json(*c.pre_ln_eps) : json(nullptr);
  j["add_bias_kv"] = c.add_bias_kv;
  j["causal_mask"] = c.causal;
  if (c.causal) j["causal_mask_key"] = c.mask_key;
  j["block_layernorm_eps"] = c.block_ln_eps;
  j["drop_path_rate_train_only"] = c.drop_path;
  json h;
  h["order"] = c.head_order == HeadOrder::SelectThenLayerNorm ? "select_then_layernorm"
                                                              : "layernorm_all_tokens_then_select";
  h["layernorm_eps"] = c.head_ln_eps;
  if (c.head_order == HeadOrder::SelectThenLayerNorm)
    h["select_token"] = "argmax(token_ids) (first maximum)";
  else
    h["select_token"] = c.select_token;
  h["dropout_train_only"] = c.head_dropout > 0 ? json(c.head_dropout) : json(nullptr);
  h["proj_in"] = c.embed_dim;
  h["proj_out"] = out_dim;
  h["proj_bias"] = false;
  h["proj_key"] = c.head_proj_key;
  j["head"] = h;
  json p;
  p["l2_normalize"] = true;
  p["normalize_eps"] = c.normalize_eps;
  if (c.logit_scale_key.empty()) {
    p["logit_scale"] = nullptr;
  } else {
    p["logit_scale"] = {{"state_dict_key", c.logit_scale_key},
                        {"kind", c.logit_scale_learnable ? "parameter" : "buffer"},
                        {"learnable", c.logit_scale_learnable},
                        {"constructor_init_value", std::exp(c.logit_scale_init)},
                        {"max", c.logit_scale_max}};
  }
  j["postprocess"] = p;
  return j;
}

}  // namespace

ImageBindConfig ImageBindConfig::from_json(const nlohmann::json& j, const std::string& where) {
  CB_CHECK_INPUT(j.is_object(), "{}: a config must be a JSON object", where);
  JsonReader r(j, where);
  if (r.has("schema")) {
    std::string s = r.required_string("schema");
    CB_CHECK_INPUT(s.rfind("imagebind-small-config/", 0) == 0 || s.rfind("imagebind-config/", 0) == 0,
                   "{}: unknown schema '{}' (expected imagebind-small-config/1)", where, s);
  }
  ImageBindConfig cfg;
  cfg.out_dim = count(r, "out_embed_dim");
  CB_CHECK_INPUT(cfg.out_dim > 0, "{}: out_embed_dim must be positive", where);
  double scale_max = r.has("logit_scale_max") ? r.required_number("logit_scale_max") : 100.0;
  if (r.has("inputs")) cfg.inputs = parse_input_scaling(r.required_string("inputs"), where + ".inputs");
  JsonReader mods = r.sub("modalities");
  CB_CHECK_INPUT(!mods.json().empty(), "{}: 'modalities' is empty", where);
  for (auto it = mods.json().begin(); it != mods.json().end(); ++it) {
    Modality m = parse_modality(it.key(), where + ".modalities");
    CB_CHECK_INPUT(it.value().is_object(), "{}.modalities.{}: must be an object", where, it.key());
    ModalityConfig c = parse_modality_config(m, JsonReader(it.value(), where + ".modalities." + it.key()));
    if (!c.logit_scale_key.empty() && !it.value()["postprocess"]["logit_scale"].contains("max"))
      c.logit_scale_max = scale_max;
    cfg.modalities[m] = c;
  }
  return cfg;
}

ImageBindConfig ImageBindConfig::from_file(const std::string& path) {
  std::ifstream f(path);
  CB_CHECK_INPUT(f.good(), "{}: cannot open config file", path);
  nlohmann::json j;
  try {
    f >> j;
  } catch (const std::exception& e) {
    fail_input("{}: invalid JSON: {}", path, e.what());
  }
  return from_json(j, path);
}

ImageBindConfig ImageBindConfig::from_metadata(const std::string& text, const std::string& file,
                                               const std::string& key) {
  CB_CHECK_INPUT(!text.empty(), "{}: the file has no '{}' metadata (not a codebind bridge or run)", file, key);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    fail_input("{}: metadata '{}' is not valid JSON: {}", file, key, e.what());
  }
  return from_json(j, file + " (metadata " + key + ")");
}

std::vector<std::pair<std::string, ImageBindConfig>> ImageBindConfig::presets() {
  return {{"huge", huge()}, {"tiny", tiny()}};
}

namespace {

// The preset whose towers match the file's tensors (names and shapes), restricted to the
// towers whose stem weight the file has; nullopt when none matches.
std::optional<ImageBindConfig> preset_of(const WeightFile& f) {
  for (auto [name, cfg] : ImageBindConfig::presets()) {
    ImageBindConfig c = cfg;
    for (auto it = c.modalities.begin(); it != c.modalities.end();)
      it = f.has(it->second.stem_weight_key()) ? std::next(it) : c.modalities.erase(it);
    if (c.modalities.empty()) continue;
    bool all = true;
    for (const auto& [m, mc] : c.modalities)
      for (const ParamSpec& p : param_specs(c, m))
        if (!f.has(p.name) || f.get(p.name).sizes() != at::IntArrayRef(p.shape)) all = false;
    if (all) {
      spdlog::info("{}: no architecture in the metadata; the tensors are ImageBind-{}'s ({} towers)", f.path(), name,
                   c.modalities.size());
      return c;
    }
  }
  return std::nullopt;
}

}  // namespace

ImageBindConfig ImageBindConfig::of_file(const WeightFile& f) {
  if (f.meta("imagebind_config").empty()) {
    if (!f.meta("config").empty()) return from_metadata(f.meta("config"), f.path(), "config");
    if (auto p = preset_of(f)) return *p;
    fail_input("{}: no ImageBind architecture: the file has no 'imagebind_config' or 'config' metadata and its "
               "tensors are not those of a built-in preset (huge, tiny); give it one with `codebind convert {} "
               "OUT.safetensors --config huge|FILE.json`",
               f.path(), f.path());
  }
  ImageBindConfig cfg = from_metadata(f.meta("imagebind_config"), f.path());
  // Files written before the config carried "inputs": every bridge then came from `pretrain`
  // (its own file, or inside a CodeBind model trained on it) and used standardised inputs.
  const bool legacy = !f.meta("pretrain_config").empty() || f.meta("format") == "codebind-model-1";
  if (legacy && !nlohmann::json::parse(f.meta("imagebind_config")).contains("inputs"))  // parsed above: valid
    cfg.inputs = InputScaling::Standardised;
  return cfg;
}

ImageBindConfig ImageBindConfig::from_arg(const std::string& huge_or_path) {
  for (auto& [name, cfg] : presets())
    if (huge_or_path == name) return cfg;
  return from_file(huge_or_path);
}

nlohmann::json ImageBindConfig::to_json() const {
  nlohmann::json j;
  j["schema"] = "imagebind-small-config/1";
  j["out_embed_dim"] = out_dim;
  j["logit_scale_max"] = 100.0;
  j["inputs"] = input_scaling_name(inputs);
  nlohmann::json mods = nlohmann::json::object();
  for (const auto& [m, c] : modalities) mods[modality_name(m)] = modality_to_json(c, out_dim);
  j["modalities"] = mods;
  return j;
}

const ModalityConfig& ImageBindConfig::at(Modality m) const {
  auto it = modalities.find(m);
  CB_CHECK_INPUT(it != modalities.end(), "the model config has no '{}' tower", modality_name(m));
  return it->second;
}

// ---- shape listing --------------------------------------------------------------------------

std::vector<ParamSpec> param_specs(const ImageBindConfig& cfg, Modality m) {
  const ModalityConfig& c = cfg.at(m);
  const int64_t D = c.embed_dim, M = c.mlp_hidden;
  std::vector<ParamSpec> out;
  auto add = [&](const std::string& n, std::vector<int64_t> s, bool buf = false) {
    out.push_back({n, std::move(s), buf});
  };
  const std::string pre = c.pre_key();
  // Preprocessor, in the reference's registration order.
  std::vector<int64_t> w_shape;
  switch (c.stem_kind) {
    case StemKind::Conv3d: w_shape = {D, c.in_channels, c.kernel[0], c.kernel[1], c.kernel[2]}; break;
    case StemKind::Conv2d: w_shape = {D, c.in_channels, c.kernel[0], c.kernel[1]}; break;
    case StemKind::Conv1d: w_shape = {D, c.in_channels, c.kernel[0]}; break;
    case StemKind::Linear: w_shape = {D, c.in_channels * c.kernel[0]}; break;
    case StemKind::TokenEmbedding: w_shape = {c.vocab_size, D}; break;
  }
  auto stem = [&]() {
    add(c.stem_weight_key(), w_shape);
    if (c.stem_bias) add(c.stem_bias_key(), {D});
    if (c.stem_ln_eps) {
      add(c.stem_norm_prefix() + ".weight", {D});
      add(c.stem_norm_prefix() + ".bias", {D});
    }
  };
  if (c.stem_kind == StemKind::TokenEmbedding) {
    add(c.pos_embed_key, {1, c.num_tokens, D});
    if (c.causal) add(c.mask_key, {c.num_tokens, c.num_tokens}, true);
    stem();
  } else if (c.stem_kind == StemKind::Linear) {
    add(c.pos_embed_key, {1, c.num_tokens, D});
    if (c.num_cls_tokens) add(c.cls_key(), {1, c.num_cls_tokens, D});
    stem();
  } else {
    if (c.num_cls_tokens) add(c.cls_key(), {1, c.num_cls_tokens, D});
    stem();
    add(c.pos_embed_key, {1, c.num_tokens, D});
  }
  // Trunk.
  if (c.pre_ln_eps) {
    add(c.pre_ln_prefix() + ".weight", {D});
    add(c.pre_ln_prefix() + ".bias", {D});
  }
  for (int64_t i = 0; i < c.num_blocks; ++i) {
    const std::string b = c.block_key(i);
    add(b + "attn.in_proj_weight", {3 * D, D});
    add(b + "attn.in_proj_bias", {3 * D});
    if (c.add_bias_kv) {
      add(b + "attn.bias_k", {1, 1, D});
      add(b + "attn.bias_v", {1, 1, D});
    }
    add(b + "attn.out_proj.weight", {D, D});
    add(b + "attn.out_proj.bias", {D});
    add(b + "norm_1.weight", {D});
    add(b + "norm_1.bias", {D});
    add(b + "mlp.fc1.weight", {M, D});
    add(b + "mlp.fc1.bias", {M});
    add(b + "mlp.fc2.weight", {D, M});
    add(b + "mlp.fc2.bias", {D});
    add(b + "norm_2.weight", {D});
    add(b + "norm_2.bias", {D});
  }
  // Head and postprocessor.
  add(c.head_ln_prefix() + ".weight", {D});
  add(c.head_ln_prefix() + ".bias", {D});
  add(c.head_proj_key, {cfg.out_dim, D});
  if (!c.logit_scale_key.empty()) add(c.logit_scale_key, {}, !c.logit_scale_learnable);
  return out;
}

double estimate_tower_bytes(const ImageBindConfig& cfg, Modality m, int64_t batch, TowerUse use) {
  const ModalityConfig& mc = cfg.at(m);
  double params = 0, tokens = 1;
  for (const ParamSpec& p : param_specs(cfg, m)) {
    double n = 1;
    for (int64_t d : p.shape) n *= double(d);
    params += n;
    if (p.name == mc.pos_embed_key && p.shape.size() >= 2) tokens = double(p.shape[p.shape.size() - 2]);
  }
  const double B = double(batch), T = tokens, D = double(mc.embed_dim), H = double(std::max<int64_t>(1, mc.num_heads));
  const double per_block = B * H * T * T * 2 + 16 * B * T * D;  // floats kept per block
  const double acts = per_block * (use == TowerUse::Inference ? 1.0 : double(mc.num_blocks));
  return 4.0 * (params * (use == TowerUse::FullTune ? 4.0 : 1.0) + acts);
}

}  // namespace cb
