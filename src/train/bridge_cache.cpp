// bridge_cache.cpp — see bridge_cache.h.
#include "train/bridge_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include <torch/torch.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/precision.h"
#include "io/safetensors.h"

namespace cb {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCacheFormat = "codebind-bridge-cache-1";

std::string hex64(uint64_t h) { return fmt::format("{:016x}", h); }

// Key of an item: its id, media path, size and modification time (inline text: the text).
std::string item_key(const data::Item& it) {
  uint64_t h = fnv1a64(it.id);
  h = fnv1a64(std::string_view("\0", 1), h);
  if (it.file.empty()) return hex64(fnv1a64(it.text, h));
  h = fnv1a64(it.file, h);
  struct stat st {};
  if (::stat(it.file.c_str(), &st) == 0) {
    const int64_t stamp[3] = {int64_t(st.st_size), int64_t(st.st_mtim.tv_sec), int64_t(st.st_mtim.tv_nsec)};
    h = fnv1a64(reinterpret_cast<const uint8_t*>(stamp), sizeof stamp, h);
  }
  return hex64(h);
}

std::string text_key(const std::string& text) { return hex64(fnv1a64(text, fnv1a64(std::string_view("text:")))); }

}  // namespace

at::Tensor frozen_trunk_output(const Bridge& bridge, Modality m, const at::Tensor& input, at::ScalarType dtype) {
  at::NoGradGuard no_grad;
  PrecisionScope precision(dtype);
  return bridge.trunk(m, bridge.tokens(m, input), nullptr).to(at::kFloat);  // (B·S, L, D)
}

at::Tensor frozen_pooled_text(const Bridge& bridge, const at::Tensor& tokens, at::ScalarType dtype) {
  at::NoGradGuard no_grad;
  PrecisionScope precision(dtype);
  return bridge.head_embedding(Modality::Text, tokens).to(at::kFloat);  // (B, d_c)
}

std::string FrozenTowerCache::fingerprint(const Bridge& bridge, Modality m, at::ScalarType dtype) {
  uint64_t h = fnv1a64(std::string_view(kCacheFormat));
  if (dtype != at::kFloat) h = fnv1a64(precision_name(dtype), h);  // fp32 files of older runs stay valid
  h = fnv1a64(bridge.kind(), h);
  h = fnv1a64(bridge.config_json().dump(), h);
  h = fnv1a64(modality_name(m), h);
  const InputSpec spec = bridge.input_spec(m);
  h = fnv1a64(reinterpret_cast<const uint8_t*>(spec.shape.data()), spec.shape.size() * sizeof(int64_t), h);
  h = fnv1a64(input_scaling_name(spec.scaling), h);
  for (const auto& [name, t] : bridge.named_params(m)) {
    h = fnv1a64(name, h);
    const at::Tensor c = t.detach().to(at::kCPU).contiguous();
    h = fnv1a64(reinterpret_cast<const uint8_t*>(c.sizes().data()), c.dim() * sizeof(int64_t), h);
    h = fnv1a64(static_cast<const uint8_t*>(c.data_ptr()), size_t(c.numel()) * c.element_size(), h);
  }
  return hex64(h);
}

FrozenTowerCache::FrozenTowerCache(const Bridge& bridge, Modality m, const InputPipeline& inputs, const std::string& dir,
                                   at::ScalarType dtype)
    : bridge_(bridge), m_(m), inputs_(inputs), dtype_(dtype), fingerprint_(fingerprint(bridge, m, dtype)) {
  path_ = (fs::path(dir) / fmt::format("bridge-{}-{}.safetensors", modality_name(m), fingerprint_)).string();
  if (!fs::exists(path_)) return;
  try {  // a cache is derived data: a damaged one is rebuilt, never trusted and never fatal
    SafetensorsFile f(path_);
    f.verify_checksum();
    CB_CHECK_INPUT(f.meta("fingerprint") == fingerprint_ && f.meta("format") == kCacheFormat,
                   "{}: fingerprint {} in the file, {} expected", path_, f.meta("fingerprint"), fingerprint_);
    for (const std::string& k : f.keys()) entries_.emplace(k, f.get(k));
  } catch (const InputError& e) {
    spdlog::warn("bridge cache ignored and rebuilt: {}", e.what());
    entries_.clear();
  }
}

std::vector<at::Tensor> FrozenTowerCache::lookup(
    const std::vector<std::string>& keys,
    const std::function<std::vector<at::Tensor>(const std::vector<size_t>&)>& compute) {
  std::vector<at::Tensor> out(keys.size());
  std::vector<size_t> missing;
  std::set<std::string> queued;  // a key twice in one batch is computed once
  for (size_t i = 0; i < keys.size(); ++i) {
    if (auto e = entries_.find(keys[i]); e != entries_.end()) {
      out[i] = e->second;
      ++hits_;
    } else if (queued.insert(keys[i]).second) {
      missing.push_back(i);
    }
  }
  if (!missing.empty()) {
    torch::NoGradGuard ng;
    const std::vector<at::Tensor> got = compute(missing);
    for (size_t j = 0; j < missing.size(); ++j) entries_[keys[missing[j]]] = got[j].contiguous().clone();
    misses_ += int64_t(missing.size());
    dirty_ = true;
    for (size_t i = 0; i < keys.size(); ++i)
      if (!out[i].defined()) out[i] = entries_.at(keys[i]);
  }
  return out;
}

at::Tensor FrozenTowerCache::trunk_output(const std::vector<const data::Item*>& items, int64_t* clips) {
  CB_CHECK(m_ != Modality::Text, "trunk_output: text is cached as pooled embeddings");
  std::vector<std::string> keys;
  for (const data::Item* it : items) keys.push_back(item_key(*it));
  auto per_item = lookup(keys, [&](const std::vector<size_t>& idx) {
    std::vector<const data::Item*> sub;
    for (size_t i : idx) sub.push_back(items[i]);
    const at::Tensor input = inputs_.batch(sub);
    const FlatInput fi = bridge_.flatten_clips(m_, input);
    const at::Tensor z = frozen_trunk_output(bridge_, m_, input, dtype_);  // (B·S, L, D)
    const at::Tensor zs = z.view({fi.batch, fi.clips, z.size(1), z.size(2)});
    std::vector<at::Tensor> r;
    for (int64_t b = 0; b < fi.batch; ++b) r.push_back(zs[b]);  // (S, L, D)
    return r;
  });
  *clips = per_item.front().size(0);
  return torch::cat(per_item, 0);  // (B·S, L, D)
}

at::Tensor FrozenTowerCache::pooled_text(const std::vector<std::string>& texts) {
  CB_CHECK(m_ == Modality::Text, "pooled_text: {} is cached as trunk outputs", modality_name(m_));
  std::vector<std::string> keys;
  for (const std::string& t : texts) keys.push_back(text_key(t));
  auto per_text = lookup(keys, [&](const std::vector<size_t>& idx) {
    std::vector<std::string> sub;
    for (size_t i : idx) sub.push_back(texts[i]);
    const at::Tensor pooled = frozen_pooled_text(bridge_, inputs_.tokenize(sub), dtype_);  // (B, d_c)
    std::vector<at::Tensor> r;
    for (int64_t b = 0; b < pooled.size(0); ++b) r.push_back(pooled[b]);
    return r;
  });
  return torch::stack(per_text, 0);  // (B, d_c)
}

void FrozenTowerCache::flush() {
  if (!dirty_) return;
  try {  // the cache only saves time: a full disk or a read-only directory costs a warning
    fs::create_directories(fs::path(path_).parent_path());
    NamedTensors ts(entries_.begin(), entries_.end());
    save_safetensors(path_, ts, {{"format", kCacheFormat}, {"fingerprint", fingerprint_}, {"modality", modality_name(m_)}});
  } catch (const std::exception& e) {
    spdlog::warn("bridge cache not written ({}): {}", path_, e.what());
  }
  dirty_ = false;
}

std::vector<Modality> cacheable_towers(const ModelConfig& model, bool freeze_bridge_heads, const Bridge& bridge,
                                       std::vector<std::string>* why_not) {
  std::vector<Modality> out;
  for (Modality m : model.modality_pair) {
    if (!is_bridge(m)) continue;
    std::string why;
    if (!freeze_bridge_heads)
      why = "its head and pooling token train (set freeze_bridge_heads: true to freeze the bridge)";
    else if (bridge.stochastic_in_training(m))
      why = "its forward is random in training (drop-path or dropout)";
    if (why.empty())
      out.push_back(m);
    else if (why_not)
      why_not->push_back(fmt::format("{}: {}", modality_name(m), why));
  }
  return out;
}

std::string resolve_bridge_cache_dir(const std::string& option, const std::string& data_dir, const std::string& run_dir) {
  if (option == "off") return "";
  if (option != "auto") return option;
  const fs::path d = fs::path(data_dir) / ".codebind-cache";
  if (fs::is_directory(d) ? ::access(d.c_str(), W_OK) == 0 : ::access(data_dir.c_str(), W_OK) == 0) return d.string();
  return (fs::path(run_dir) / "bridge-cache").string();
}

}  // namespace cb
