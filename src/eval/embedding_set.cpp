// embedding_set.cpp — validation and safetensors save/load of EmbeddingSet (embedding_set.h).
#include "eval/embedding_set.h"

#include "core/error.h"
#include "core/shape_str.h"
#include "io/safetensors.h"

namespace cb::eval {

using nlohmann::json;

namespace {

constexpr const char* kMetaKey = "codebind.embedding_set";

void check_rows(const at::Tensor& t, int64_t n, int64_t dims, const std::string& where, const std::string& mod,
                const char* field) {
  if (!t.defined()) return;
  CB_CHECK_INPUT(t.dim() == dims && t.size(0) == n, "{}: modality '{}' field '{}' has shape {}, expected {} rows ({}-D)",
                 where, mod, field, shape_str(t), n, dims);
}

}  // namespace

void EmbeddingSet::validate(const std::string& where) const {
  for (const auto& [name, m] : modalities) {
    CB_CHECK_INPUT(m.shared.defined() && m.shared.dim() == 2,
                   "{}: modality '{}' has no (N, D) shared embedding (found {})", where, name, shape_str(m.shared));
    const int64_t n = m.shared.size(0);
    CB_CHECK_INPUT(m.labels.defined() && (m.labels.dim() == 1 || m.labels.dim() == 2) && m.labels.size(0) == n,
                   "{}: modality '{}' labels have shape {}, expected ({}) or ({}, C)", where, name,
                   shape_str(m.labels), n, n);
    check_rows(m.specific, n, 2, where, name, "specific");
    check_rows(m.concat, n, 2, where, name, "concat");
    check_rows(m.shared_raw, n, 2, where, name, "shared_raw");
    check_rows(m.specific_raw, n, 2, where, name, "specific_raw");
    check_rows(m.shared_codes, n, 2, where, name, "shared_codes");
    check_rows(m.specific_codes, n, 2, where, name, "specific_codes");
    CB_CHECK_INPUT(m.ids.size() == size_t(n), "{}: modality '{}' has {} ids for {} embeddings", where, name,
                   m.ids.size(), n);
    CB_CHECK_INPUT(m.groups.empty() || m.groups.size() == size_t(n), "{}: modality '{}' has {} groups for {} items",
                   where, name, m.groups.size(), n);
    CB_CHECK_INPUT(m.attrs.empty() || m.attrs.size() == size_t(n), "{}: modality '{}' has {} attrs for {} items",
                   where, name, m.attrs.size(), n);
  }
  if (text_classifier.defined()) {
    CB_CHECK_INPUT(text_classifier.dim() == 2, "{}: text_classifier must be (D, C), found {}", where,
                   shape_str(text_classifier));
    CB_CHECK_INPUT(classes.empty() || text_classifier.size(1) == int64_t(classes.size()),
                   "{}: text_classifier has {} columns for {} classes", where, text_classifier.size(1), classes.size());
  }
}

void save_embedding_set(const std::string& path, const EmbeddingSet& set) {
  set.validate(path);
  NamedTensors tensors;
  json head = {{"version", 1}, {"split", set.split}, {"classes", set.classes}, {"meta", set.meta}};
  json mods = json::object();
  auto add = [&](const std::string& key, const at::Tensor& t, bool is_float) {
    if (!t.defined()) return;
    tensors.emplace_back(key, (is_float ? t.to(at::kFloat) : t.to(at::kLong)).to(at::kCPU).contiguous());
  };
  for (const auto& [name, m] : set.modalities) {
    add(name + ".shared", m.shared, true);
    add(name + ".specific", m.specific, true);
    add(name + ".concat", m.concat, true);
    add(name + ".shared_raw", m.shared_raw, true);
    add(name + ".specific_raw", m.specific_raw, true);
    add(name + ".labels", m.labels, false);
    add(name + ".shared_codes", m.shared_codes, false);
    add(name + ".specific_codes", m.specific_codes, false);
    mods[name] = {{"ids", m.ids}, {"groups", m.groups}, {"attrs", m.attrs}};
  }
  add("text_classifier", set.text_classifier, true);
  head["modalities"] = mods;
  save_safetensors(path, tensors, {{kMetaKey, head.dump()}});
}

EmbeddingSet load_embedding_set(const std::string& path) {
  SafetensorsFile f(path);
  const std::string raw = f.meta(kMetaKey);
  CB_CHECK_INPUT(!raw.empty(), "{}: not an embedding set (metadata key '{}' missing)", path, kMetaKey);
  json head;
  try {
    head = json::parse(raw);
  } catch (const std::exception& e) {
    fail_input("{}: metadata '{}' is not valid JSON: {}", path, kMetaKey, e.what());
  }
  EmbeddingSet set;
  try {
    CB_CHECK_INPUT(head.value("version", 0) == 1, "{}: unsupported embedding set version {}", path,
                   head.value("version", 0));
    set.split = head.value("split", "");
    set.classes = head.value("classes", std::vector<std::string>{});
    set.meta = head.value("meta", json::object());
    for (const auto& [name, mj] : head.at("modalities").items()) {
      ModalityEmbeddings m;
      auto get = [&](const char* field, bool required) -> at::Tensor {
        const std::string key = name + "." + field;
        if (!f.has(key)) {
          CB_CHECK_INPUT(!required, "{}: tensor '{}' missing", path, key);
          return {};
        }
        return f.get(key).clone();
      };
      m.shared = get("shared", true);
      m.specific = get("specific", false);
      m.concat = get("concat", false);
      m.shared_raw = get("shared_raw", false);
      m.specific_raw = get("specific_raw", false);
      m.labels = get("labels", true);
      m.shared_codes = get("shared_codes", false);
      m.specific_codes = get("specific_codes", false);
      m.ids = mj.at("ids").get<std::vector<std::string>>();
      m.groups = mj.value("groups", std::vector<std::string>{});
      for (const auto& a : mj.value("attrs", json::array())) m.attrs.push_back(a);
      set.modalities.emplace(name, std::move(m));
    }
  } catch (const json::exception& e) {
    fail_input("{}: malformed embedding-set metadata: {}", path, e.what());
  }
  if (f.has("text_classifier")) set.text_classifier = f.get("text_classifier").clone();
  set.validate(path);
  return set;
}

std::string embedding_set_path(const std::string& run_dir, const std::string& split) {
  return run_dir + "/embeddings_" + split + ".safetensors";
}

}  // namespace cb::eval
