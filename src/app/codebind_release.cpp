// codebind_release.cpp — see codebind_release.h; docs/cli/convert.md ("Official CodeBind
// release checkpoints") has the layout, the mapping table and what is ignored and why.
#include "app/codebind_release.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "core/error.h"
#include "core/shape_str.h"
#include "encoders/bridge.h"
#include "io/finite_check.h"
#include "io/mapped_file.h"
#include "io/run_dir.h"
#include "io/weights.h"
#include "train/train_config.h"

namespace cb {

namespace fs = std::filesystem;

namespace {

// The per-modality modules the release saves (save_checkpoint in the release's main.py).
const std::vector<std::string> kModules = {"preprocessors", "heads",   "postprocessors", "postprocessors_new",
                                           "heads_mvq",     "mvq_adapter", "trunks",     "decoder_trunk",
                                           "decoder_head"};
// The release's decoder attention is built with its class defaults: 8 heads (not in the weights).
constexpr int kReleaseDecoderHeads = 8;

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}
bool starts_with(const std::string& s, const std::string& pre) { return s.rfind(pre, 0) == 0; }

// The release's files for one postfix: module → modality → path, LoRA per modality, the quantiser.
struct ReleaseFiles {
  std::string dir, postfix;
  std::map<std::string, std::map<Modality, std::string>> module;
  std::map<Modality, std::string> lora;
  std::string quantiser;

  std::string path(const std::string& name) const { return (fs::path(dir) / name).string(); }
  std::string module_path(const std::string& mod, Modality m) const {
    return path("imagebind-" + mod + "-" + modality_name(m) + postfix + ".pth");
  }
  std::string lora_path(Modality m) const {
    return path(std::string("imagebind-lora-") + modality_name(m) + postfix + ".safetensors");
  }
  std::string quantiser_path() const { return path("imagebind-vector_quantise-" + postfix + ".pth"); }
  bool has(const std::string& mod, Modality m) const {
    auto it = module.find(mod);
    return it != module.end() && it->second.count(m) > 0;
  }
  // The file of a module the import cannot do without.
  const std::string& require(const std::string& mod, Modality m, const char* what) const {
    CB_CHECK_INPUT(has(mod, m), "{}: missing file (the '{}' {}, which the import needs)", module_path(mod, m),
                   modality_name(m), what);
    return module.at(mod).at(m);
  }
  // Every modality with a per-module file (vision and text included).
  std::set<Modality> modalities() const {
    std::set<Modality> out;
    for (const auto& [mod, files] : module)
      for (const auto& [m, p] : files) out.insert(m);
    for (const auto& [m, p] : lora) out.insert(m);
    return out;
  }
};

ReleaseFiles scan_release(const std::string& dir, const std::string& postfix) {
  CB_CHECK_INPUT(fs::is_directory(dir), "{}: not a directory (--codebind-release names a release checkpoint folder)",
                 dir);
  CB_CHECK_INPUT(postfix == "_best" || postfix == "_last", "--postfix: expected _best or _last, found '{}'", postfix);
  const std::string other = postfix == "_best" ? "_last" : "_best";
  ReleaseFiles r;
  r.dir = dir;
  r.postfix = postfix;
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) entries.push_back(e.path());
  std::sort(entries.begin(), entries.end());
  for (const fs::path& p : entries) {
    const std::string name = p.filename().string(), path = p.string();
    if (!starts_with(name, "imagebind-")) continue;  // logs, configs: not checkpoint files
    const std::string ext = p.extension().string();
    CB_CHECK_INPUT(ext == ".pth" || ext == ".safetensors",
                   "{}: not a release checkpoint file (expected .pth or .safetensors)", path);
    std::string base = name.substr(10, name.size() - 10 - ext.size());
    if (ends_with(base, other)) continue;  // the other checkpoint of the pair
    CB_CHECK_INPUT(ends_with(base, postfix),
                   "{}: file name not in the release layout imagebind-<module>-<modality>{}.pth", path, postfix);
    base.resize(base.size() - postfix.size());
    if (base == "vector_quantise-") {
      CB_CHECK_INPUT(ext == ".pth", "{}: the quantiser is a .pth file", path);
      r.quantiser = path;
      continue;
    }
    const size_t dash = base.find('-');
    CB_CHECK_INPUT(dash != std::string::npos && dash > 0,
                   "{}: file name not in the release layout imagebind-<module>-<modality>{}.pth", path, postfix);
    const std::string mod = base.substr(0, dash);
    const Modality m = parse_modality(base.substr(dash + 1), path + " (modality in the file name)");
    if (mod == "lora") {
      CB_CHECK_INPUT(ext == ".safetensors", "{}: LoRA weights are a .safetensors file", path);
      r.lora[m] = path;
      continue;
    }
    CB_CHECK_INPUT(std::find(kModules.begin(), kModules.end(), mod) != kModules.end(),
                   "{}: unknown release module '{}' (known: preprocessors, heads, postprocessors, postprocessors_new, "
                   "heads_mvq, mvq_adapter, trunks, decoder_trunk, decoder_head, lora, vector_quantise)",
                   path, mod);
    CB_CHECK_INPUT(ext == ".pth", "{}: module files are .pth (torch.save) files", path);
    r.module[mod][m] = path;
  }
  return r;
}

// One release tensor and the name it takes in our model.
struct Entry {
  std::string file, key;  // where it came from
  std::string name;       // CodeBindModel::state_tensors() name
  at::Tensor value;
};

[[noreturn]] void unknown_key(const std::string& file, const std::string& key, const std::string& expected) {
  fail_input("{}: unknown key '{}' (expected {})", file, key, expected);
}

// Release heads_mvq-<m> → specific.<m>: LayerNorm "0.*" and the Linear, "1.weight" ("2.weight"
// for imu, whose head has a Dropout at index 1).
std::string specific_name(Modality m, const std::string& key) {
  const std::string p = std::string("specific.") + modality_name(m) + ".";
  if (key == "0.weight" || key == "0.bias") return p + key;
  if (key == (m == Modality::Imu ? "2.weight" : "1.weight")) return p + "1.weight";
  return "";
}

// Release decoder_trunk-<m> → decoder.<m> (the input-projection, shared-position-embedding decoder).
std::string decoder_trunk_name(const std::string& key) {
  static const std::vector<std::pair<std::string, std::string>> fixed = {{"decoder_input_proj.", "decoder_input_proj."},
                                                                         {"input_proj_norm.", "decoder_input_norm."},
                                                                         {"decoder_embed.", "decoder_embed."},
                                                                         {"norm.", "decoder_norm."}};
  for (const auto& [from, to] : fixed)
    for (const char* leaf : {"weight", "bias"})
      if (key == from + leaf) return to + leaf;
  static const std::regex block(R"(decoder_blocks\.(\d+)\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.(weight|bias))");
  std::smatch mm;
  if (!std::regex_match(key, mm, block)) return "";
  std::string part = mm[2];
  std::replace(part.begin(), part.end(), '.', '_');  // attn.qkv → attn_qkv, mlp.fc1 → mlp_fc1
  return "decoder_blocks." + mm[1].str() + "." + part + "." + mm[3].str();
}

// Release lora-<m> "blocks.<i>.attn.in_proj_lora_down" → "lora.modality_trunks.<m>.blocks.<i>.attn.in_proj_weight_lora_down".
std::string lora_name(Modality m, const std::string& key) {
  static const std::regex re(R"(blocks\.(\d+)\.(attn\.in_proj|attn\.out_proj|mlp\.fc1|mlp\.fc2)_lora_(down|up))");
  std::smatch mm;
  if (!std::regex_match(key, mm, re)) return "";
  const std::string part = mm[2];
  const std::string weight = part == "attn.in_proj" ? "attn.in_proj_weight" : part + ".weight";
  return std::string("lora.modality_trunks.") + modality_name(m) + ".blocks." + mm[1].str() + "." + weight + "_lora_" +
         mm[3].str();
}

// Release vector_quantise "mvq_dict.<book>.{embedding.weight, …}" → "quant.<shared|specific_<m>>.<field>".
std::string quantiser_name(const std::string& file, const std::string& key) {
  static const std::regex re(
      R"(mvq_dict\.([a-z]+)\.(embedding\.weight|embedding\.cluster_size|embedding\.embed_avg|embed_prob|initted))");
  std::smatch mm;
  if (!std::regex_match(key, mm, re)) return "";
  const std::string book = mm[1];
  std::string field = mm[2];
  if (starts_with(field, "embedding.")) field = field.substr(10);
  if (book == "common") return "quant.shared." + field;
  const Modality m = parse_modality(book, file + ": codebook '" + book + "' of key '" + key + "'");
  return std::string("quant.specific_") + modality_name(m) + "." + field;
}

class Importer {
 public:
  Importer(const ReleaseFiles& rf) : rf_(rf) {}

  void run(const std::string& bridge_path) {
    // ---- which modalities, which train mode, which files must exist ----
    const std::set<Modality> present = rf_.modalities();
    for (Modality m : kAllModalities)
      if (present.count(m) && !is_bridge(m)) targets_.push_back(m);
    CB_CHECK_INPUT(!targets_.empty(),
                   "{}: no per-modality module files of a target modality (imagebind-<module>-<modality>{}.pth) found",
                   rf_.dir, rf_.postfix);
    for (Modality m : targets_) {
      rf_.require("preprocessors", m, "preprocessor (stem, cls token, position embedding)");
      rf_.require("heads", m, "shared head");
      rf_.require("postprocessors", m, "postprocessor (logit scale)");
      rf_.require("heads_mvq", m, "specific head");
    }
    CB_CHECK_INPUT(!rf_.quantiser.empty(), "{}: missing file (the multimodal quantiser, which the import needs)",
                   rf_.quantiser_path());
    for (const auto& [m, p] : rf_.lora)
      CB_CHECK_INPUT(!is_bridge(m), "{}: LoRA on the {} trunk is not supported: our model adapts only the target "
                     "trunks", p, modality_name(m));
    cfg_.train_mode = !rf_.lora.empty() ? TrainMode::Lora
                      : std::any_of(targets_.begin(), targets_.end(), [&](Modality m) { return rf_.has("trunks", m); })
                          ? TrainMode::FullTune
                          : TrainMode::HeadTune;
    if (cfg_.train_mode == TrainMode::Lora)
      for (Modality m : targets_)
        CB_CHECK_INPUT(rf_.lora.count(m), "{}: missing file (the release has LoRA weights for other modalities but "
                       "none for '{}')", rf_.lora_path(m), modality_name(m));
    cfg_.modality_pair = targets_;
    cfg_.modality_pair.push_back(Modality::Vision);
    cfg_.modality_pair.push_back(Modality::Text);

    // ---- the bridge the release was trained on ----
    WeightFile bridge(bridge_path);
    bridge.verify_checksum();
    std::string kind;
    const nlohmann::json bcfg = bridge_config_of(bridge, &kind);
    CB_CHECK_INPUT(kind == "imagebind", "{}: a '{}' bridge; CodeBind releases are trained on ImageBind (bridge/release "
                   "mismatch)", bridge_path, kind);
    const std::unique_ptr<Bridge> shape = make_bridge(kind, bcfg, {}, bridge_path);  // nothing allocated
    for (Modality m : cfg_.modality_pair)
      CB_CHECK_INPUT(shape->has(m), "{}: the bridge has no '{}' tower but the release {} holds '{}' modules "
                     "(bridge/release mismatch)", bridge_path, modality_name(m), rf_.dir, modality_name(m));

    // ---- every release tensor, under our names ----
    read_modules();
    read_lora();
    read_quantiser();
    infer_config(*shape);

    // ---- the model: bridge from --bridge, then every release tensor ----
    model_ = std::make_unique<CodeBindModel>(cfg_, bridge, TrainConfig().run.seed);
    copy_into_model(bridge_path);
  }

  ReleaseImport result() {
    ReleaseImport r;
    r.model = std::move(model_);
    r.files = files_;
    r.notes = notes_;
    r.imported = int64_t(entries_.size());
    return r;
  }

 private:
  void note(const std::string& s) { notes_.push_back(s); }

  WeightFile& open(const std::string& path) {
    files_.push_back(path);
    open_.push_back(std::make_unique<WeightFile>(path));
    return *open_.back();
  }

  void add(const std::string& file, const std::string& key, const std::string& name, const at::Tensor& v) {
    entries_.push_back({file, key, name, v});
  }

  void read_modules() {
    for (const auto& [mod, files] : rf_.module)
      for (const auto& [m, path] : files) {
        if (mod == "decoder_trunk" || mod == "decoder_head") continue;  // read_decoder, pairwise
        WeightFile& f = open(path);
        const std::string mn = modality_name(m);
        if (mod == "preprocessors" || mod == "heads" || mod == "postprocessors" || mod == "trunks") {
          // ImageBind's own sub-module state dicts: the bridge's keys with the ModuleDict prefix.
          for (const std::string& k : f.keys()) add(path, k, "modality_" + mod + "." + mn + "." + k, f.get(k));
        } else if (mod == "postprocessors_new") {
          for (const std::string& k : f.keys())
            if (k != "log_logit_scale") unknown_key(path, k, "only 'log_logit_scale'");
          if (!f.keys().empty())
            note(fmt::format("{}: log_logit_scale ignored: the release's outer logit scale multiplies logits in its "
                             "training loss only; our embeddings are unscaled and training uses the InfoNCE tau",
                             path));
        } else if (mod == "mvq_adapter") {
          note(fmt::format("{}: {} tensors ignored: the released model never builds an mvq_adapter, so no forward "
                           "pass uses them", path, f.keys().size()));
        } else if (mod == "heads_mvq" && m == Modality::Text) {
          for (const std::string& k : f.keys())
            if (k != "proj.0.weight" && k != "proj.0.bias" && k != "proj.1.weight")
              unknown_key(path, k, "proj.0.weight, proj.0.bias, proj.1.weight");
          if (f.has("proj.1.weight")) {
            const int64_t width = f.get("proj.1.weight").size(0);
            CB_CHECK_INPUT(width == 0, "{}: a text specific head of width {} is not supported: our text embedding is "
                           "shared only (the released config sets the text specific width to 0)", path, width);
          }
          note(fmt::format("{}: ignored: the text specific head has width 0 (the text forward never uses it)", path));
        } else if (mod == "heads_mvq") {
          for (const std::string& k : f.keys()) {
            const std::string n = specific_name(m, k);
            if (n.empty()) unknown_key(path, k, m == Modality::Imu ? "0.weight, 0.bias, 2.weight" : "0.weight, 0.bias, 1.weight");
            add(path, k, n, f.get(k));
          }
        }
      }
    if (rf_.module.count("decoder_trunk"))
      for (const auto& [m, path] : rf_.module.at("decoder_trunk")) read_decoder(m);
    if (rf_.module.count("decoder_head"))
      for (const auto& [m, path] : rf_.module.at("decoder_head"))
        CB_CHECK_INPUT(rf_.has("decoder_trunk", m), "{}: missing file (the '{}' decoder head is there, its decoder "
                       "trunk is not)", rf_.module_path("decoder_trunk", m), modality_name(m));
  }

  void read_decoder(Modality m) {
    const std::string mn = modality_name(m);
    CB_CHECK_INPUT(m != Modality::Text, "{}: a text decoder does not exist in CodeBind", rf_.module_path("decoder_trunk", m));
    const std::string& tpath = rf_.module.at("decoder_trunk").at(m);
    const std::string& hpath = rf_.require("decoder_head", m, "decoder head, whose decoder trunk is there");
    WeightFile& t = open(tpath);
    WeightFile& h = open(hpath);
    if (t.has("pos_embed") || !t.has("decoder_input_proj.weight")) {
      note(fmt::format("{}: the {} decoder is not imported: it was trained without input projection / with its own "
                       "position embedding (decoder input_projection false), which our decoder does not have; "
                       "inference does not use the decoder", tpath, mn));
      return;
    }
    const std::string p = "decoder." + mn + ".";
    for (const std::string& k : t.keys()) {
      const std::string n = decoder_trunk_name(k);
      if (n.empty())
        unknown_key(tpath, k, "decoder_input_proj.*, input_proj_norm.*, decoder_embed.*, decoder_blocks.<i>.{norm1, "
                              "attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}.*, norm.*");
      add(tpath, k, p + n, t.get(k));
    }
    int64_t unused = 0;
    for (const std::string& k : h.keys()) {
      if (k == "deconv.weight" || k == "deconv.bias") {
        add(hpath, k, p + "decoder_pred." + k.substr(7), h.get(k));
      } else if (starts_with(k, "hid_conv.") || starts_with(k, "out_conv.")) {
        ++unused;
      } else {
        unknown_key(hpath, k, "deconv.*, hid_conv.*, out_conv.*");
      }
    }
    if (unused)
      note(fmt::format("{}: {} hid_conv/out_conv tensors ignored: the release's decoder head builds them but its "
                       "forward uses only the transposed convolution", hpath, unused));
    decoders_.push_back(m);
  }

  void read_lora() {
    for (const auto& [m, path] : rf_.lora) {
      WeightFile& f = open(path);
      for (const std::string& k : f.keys()) {
        const std::string n = lora_name(m, k);
        if (n.empty())
          unknown_key(path, k, "blocks.<i>.{attn.in_proj, attn.out_proj, mlp.fc1, mlp.fc2}_lora_{down, up}");
        add(path, k, n, f.get(k));
      }
    }
  }

  void read_quantiser() {
    WeightFile& f = open(rf_.quantiser);
    for (const std::string& k : f.keys()) {
      const std::string n = quantiser_name(rf_.quantiser, k);
      if (n.empty())
        unknown_key(rf_.quantiser, k, "mvq_dict.<common|modality>.{embedding.weight, embedding.cluster_size, "
                                      "embedding.embed_avg, embed_prob, initted}");
      add(rf_.quantiser, k, n, f.get(k));
    }
  }

  const Entry* find(const std::string& name) const {
    for (const Entry& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }

  // The model config from the tensors' shapes (everything else: our defaults = the release's).
  void infer_config(const Bridge& shape) {
    cfg_.shared_dim = int(shape.out_dim());
    // Specific width d_s: the first target's specific Linear (D_M → d_s).
    const Modality t0 = targets_.front();
    const Entry* spec = find(std::string("specific.") + modality_name(t0) + ".1.weight");
    CB_CHECK_INPUT(spec && spec->value.dim() == 2, "{}: no specific-head Linear '{}' (d_s × D_M)",
                   rf_.module_path("heads_mvq", t0), t0 == Modality::Imu ? "2.weight" : "1.weight");
    cfg_.specific_dim = int(spec->value.size(0));
    // LoRA rank r (down is r × in) and the adapted blocks (union over the target trunks).
    std::set<int> blocks;
    static const std::regex block(R"(\.blocks\.(\d+)\.)");
    for (const Entry& e : entries_) {
      if (!starts_with(e.name, "lora.")) continue;
      std::smatch mm;
      if (std::regex_search(e.name, mm, block)) blocks.insert(std::stoi(mm[1]));
    }
    for (const Entry& e : entries_)  // the rank: the first down matrix
      if (starts_with(e.name, "lora.") && ends_with(e.name, "_lora_down") && e.value.dim() == 2) {
        cfg_.lora_rank = int(e.value.size(0));
        break;
      }
    cfg_.lora_blocks.assign(blocks.begin(), blocks.end());
    if (cfg_.train_mode == TrainMode::Lora)
      CB_CHECK_INPUT(!blocks.empty() && cfg_.lora_rank >= 1, "{}: no LoRA tensors", rf_.lora.begin()->second);
    // Decoders: width W (decoder_embed is W × D_M), depth (blocks), heads (the release's fixed 8).
    cfg_.recon.clear();
    for (Modality m : decoders_) {
      const std::string p = std::string("decoder.") + modality_name(m) + ".";
      const std::string tpath = rf_.module_path("decoder_trunk", m), hpath = rf_.module_path("decoder_head", m);
      const Entry* embed = find(p + "decoder_embed.weight");
      CB_CHECK_INPUT(embed && embed->value.dim() == 2, "{}: no 'decoder_embed.weight' (W × D_M)", tpath);
      std::set<int> depth;
      static const std::regex dblock(R"(decoder_blocks\.(\d+)\.)");
      for (const Entry& e : entries_) {
        std::smatch mm;
        if (starts_with(e.name, p) && std::regex_search(e.name, mm, dblock)) depth.insert(std::stoi(mm[1]));
      }
      const int width = int(embed->value.size(0));
      if (!cfg_.recon.empty())
        CB_CHECK_INPUT(width == cfg_.decoder_width && int(depth.size()) == cfg_.decoder_depth,
                       "{}: decoder width {} × depth {} differs from the other decoders' {} × {}; our decoders share "
                       "one size", tpath, width, depth.size(), cfg_.decoder_width, cfg_.decoder_depth);
      // The head must be our transposed convolution (kernel = stride from the token grid).
      const DecoderGeometry g = decoder_geometry(shape.token_grid(m));
      std::vector<int64_t> expected{width, g.out_channels};
      expected.insert(expected.end(), g.kernel.begin(), g.kernel.end());
      const Entry* pred = find(p + "decoder_pred.weight");
      CB_CHECK_INPUT(pred, "{}: no 'deconv.weight' (the transposed convolution)", hpath);
      if (pred->value.sizes() != at::IntArrayRef(expected)) {
        note(fmt::format("{}: the {} decoder is not imported: its transposed convolution {} differs from ours {} "
                         "(the release's kernel/stride for this tower are not kernel = stride = patch/2); inference "
                         "does not use the decoder", hpath, modality_name(m), shape_str(pred->value),
                         shape_str(at::IntArrayRef(expected))));
        drop(p);
        continue;
      }
      cfg_.decoder_width = width;
      cfg_.decoder_depth = int(depth.size());
      cfg_.decoder_heads = kReleaseDecoderHeads;
      cfg_.recon.push_back(m);
    }
    cfg_.use_decoder = !cfg_.recon.empty();
    if (!cfg_.use_decoder) cfg_.decoder_heads = kReleaseDecoderHeads;
    // Quantiser: shared codebook K_c × c, specific codebooks K_s × c.
    const Entry* shared = find("quant.shared.weight");
    CB_CHECK_INPUT(shared && shared->value.dim() == 2, "{}: no shared codebook 'mvq_dict.common.embedding.weight' (K × c)",
                   rf_.quantiser);
    cfg_.quantiser.shared_codebook_size = shared->value.size(0);
    cfg_.quantiser.codevector_dim = shared->value.size(1);
    const Entry* specific = find(std::string("quant.specific_") + modality_name(t0) + ".weight");
    CB_CHECK_INPUT(specific && specific->value.dim() == 2, "{}: no specific codebook 'mvq_dict.{}.embedding.weight' "
                   "(K × c)", rf_.quantiser, modality_name(t0));
    CB_CHECK_INPUT(specific->value.size(1) == cfg_.quantiser.codevector_dim,
                   "{}: key 'mvq_dict.{}.embedding.weight' has codevectors of {} but the shared codebook's are {}; our "
                   "quantiser uses one codevector length", rf_.quantiser, modality_name(t0), specific->value.size(1),
                   cfg_.quantiser.codevector_dim);
    cfg_.quantiser.specific_codebook_size = specific->value.size(0);
    cfg_.validate(rf_.dir + " (the model config inferred from the release's shapes)");
  }

  // Forgets every entry under `prefix` (a decoder that is not imported).
  void drop(const std::string& prefix) {
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                  [&](const Entry& e) { return starts_with(e.name, prefix); }),
                   entries_.end());
  }

  // The release file a tensor of ours comes from (for "no tensor for …" errors).
  std::string source_of(const std::string& name) const {
    for (Modality m : cfg_.modality_pair) {
      const std::string mn = modality_name(m);
      if (starts_with(name, "specific." + mn + ".")) return rf_.module_path("heads_mvq", m);
      if (starts_with(name, "decoder." + mn + ".decoder_pred.")) return rf_.module_path("decoder_head", m);
      if (starts_with(name, "decoder." + mn + ".")) return rf_.module_path("decoder_trunk", m);
    }
    return rf_.quantiser_path();
  }

  void copy_into_model(const std::string& bridge_path) {
    std::set<std::string> bridge_names;
    for (Modality m : cfg_.modality_pair)
      for (const auto& [n, t] : model_->bridge().named_params(m)) bridge_names.insert(n);
    NamedTensors state = model_->state_tensors();  // aliases the live tensors (quantiser flags: snapshots)
    std::map<std::string, at::Tensor> ours(state.begin(), state.end());
    std::set<std::string> assigned;
    torch::NoGradGuard ng;
    for (const Entry& e : entries_) {
      const bool is_bridge_key = bridge_names.count(e.name) > 0 || starts_with(e.name, "modality_");
      auto it = ours.find(e.name);
      if (it == ours.end()) {
        if (is_bridge_key)
          fail_input("{}: unknown key '{}': the bridge {} has no tensor '{}' (bridge/release mismatch)", e.file, e.key,
                     bridge_path, e.name);
        fail_input("{}: unknown key '{}': our model has no tensor '{}'", e.file, e.key, e.name);
      }
      at::Tensor& t = it->second;
      if (e.value.sizes() != t.sizes())
        fail_input("{}: key '{}' has shape {}, expected {} ({} '{}'{})", e.file, e.key, shape_str(e.value), shape_str(t),
                   is_bridge_key ? "the bridge's" : "our", e.name, is_bridge_key ? "; bridge/release mismatch" : "");
      if (!is_bridge_key) check_finite(e.value, e.file, e.key);
      CB_CHECK_INPUT(assigned.insert(e.name).second, "{}: key '{}' sets '{}' a second time", e.file, e.key, e.name);
      t.copy_(e.value);
    }
    int64_t zeroed = 0;
    bool vision_init = false;
    for (const auto& [n, t] : state) {
      if (bridge_names.count(n) || assigned.count(n)) continue;
      if (starts_with(n, "lora.")) {  // an adapter the release's lora_module_mode / blocks did not create
        const_cast<at::Tensor&>(t).zero_();
        ++zeroed;
      } else if (starts_with(n, "quant.") && ends_with(n, ".rng")) {
        // our re-seeding generator state: the release keeps none
      } else if (starts_with(n, "specific.vision.") && !rf_.has("heads_mvq", Modality::Vision)) {
        vision_init = true;
      } else {
        fail_input("{}: missing key: the release holds no tensor for our '{}'", source_of(n), n);
      }
    }
    if (zeroed)
      note(fmt::format("{} LoRA matrices the release does not hold (its lora_module_mode adapts fewer matrices or "
                       "blocks) set to zero: they add nothing", zeroed));
    if (vision_init)
      note(fmt::format("{}: absent (vision was not trained), so the vision specific head keeps its seeded "
                       "initialisation, as in the release, which builds it fresh", rf_.module_path("heads_mvq", Modality::Vision)));
    model_->after_restore();
  }

  const ReleaseFiles& rf_;
  ModelConfig cfg_;
  std::vector<Modality> targets_, decoders_;
  std::vector<std::unique_ptr<WeightFile>> open_;
  std::vector<Entry> entries_;
  std::vector<std::string> files_, notes_;
  std::unique_ptr<CodeBindModel> model_;
};

}  // namespace

ReleaseImport read_codebind_release(const std::string& dir, const std::string& bridge, const std::string& postfix) {
  const ReleaseFiles rf = scan_release(dir, postfix);
  Importer im(rf);
  im.run(bridge);
  return im.result();
}

ReleaseImport import_codebind_release(const std::string& dir, const std::string& bridge, const std::string& postfix,
                                      const std::string& out, bool force) {
  CB_CHECK_INPUT(!out.empty(), "--out: the run folder to write is required");
  ReleaseImport r = read_codebind_release(dir, bridge, postfix);
  // Everything read and checked: only now is RUN created (or refused).
  RunDir run(out, force ? RunDirMode::Replace : RunDirMode::Fresh);
  TrainConfig tc;
  tc.model = r.model->config();
  tc.run.name = "codebind-release";
  const std::string source = fs::absolute(dir).lexically_normal().string() + " (" + postfix + ")";
  write_file_atomic(out + "/config.json", tc.to_json().dump(2));
  r.model->save(out + "/model.safetensors", {{"config", tc.to_json().dump()}, {"codebind_release", source}});
  return r;
}

}  // namespace cb
