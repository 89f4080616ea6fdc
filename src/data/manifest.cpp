// manifest.cpp — reading and validating dataset.json + items.jsonl (see manifest.h).
#include "data/manifest.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/json_read.h"

namespace fs = std::filesystem;

namespace cb::data {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  CB_CHECK_INPUT(f.good(), "{}: cannot open", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

DatasetInfo parse_info(const std::string& where, const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    fail_input("{}: not valid JSON: {}", where, e.what());
  }
  CB_CHECK_INPUT(j.is_object(), "{}: expected a JSON object", where);
  DatasetInfo info;
  CB_CHECK_INPUT(j.contains("version"), "{}: missing integer 'version'", where);
  info.version = static_cast<int>(json_integer(j["version"], where, "version", 1, 1000));
  CB_CHECK_INPUT(info.version == 1, "{}: unsupported version {} (expected 1)", where, info.version);
  if (j.contains("name")) {
    CB_CHECK_INPUT(j["name"].is_string(), "{}: 'name' must be a string", where);
    info.name = j["name"].get<std::string>();
  }
  CB_CHECK_INPUT(j.contains("classes") && j["classes"].is_array() && !j["classes"].empty(),
                 "{}: 'classes' must be a non-empty array of names", where);
  std::set<std::string> seen;
  for (const auto& c : j["classes"]) {
    CB_CHECK_INPUT(c.is_string(), "{}: 'classes' entries must be strings", where);
    CB_CHECK_INPUT(seen.insert(c.get<std::string>()).second, "{}: duplicate class '{}'", where, c.get<std::string>());
    info.classes.push_back(c.get<std::string>());
  }
  CB_CHECK_INPUT(j.contains("modalities") && j["modalities"].is_array() && !j["modalities"].empty(),
                 "{}: 'modalities' must be a non-empty array", where);
  for (const auto& m : j["modalities"]) {
    CB_CHECK_INPUT(m.is_string(), "{}: 'modalities' entries must be strings", where);
    info.modalities.push_back(parse_modality(m.get<std::string>(), where + ": modalities"));
  }
  if (j.contains("templates")) {
    CB_CHECK_INPUT(j["templates"].is_array(), "{}: 'templates' must be an array of strings", where);
    for (const auto& t : j["templates"]) {
      CB_CHECK_INPUT(t.is_string(), "{}: 'templates' entries must be strings", where);
      CB_CHECK_INPUT(t.get<std::string>().find("{}") != std::string::npos,
                     "{}: template '{}' has no '{{}}' placeholder", where, t.get<std::string>());
      info.templates.push_back(t.get<std::string>());
    }
  }
  return info;
}

bool is_split(const std::string& s) { return s == "train" || s == "val" || s == "test"; }

}  // namespace

Manifest Manifest::load(const std::string& dir) {
  const std::string dj = (fs::path(dir) / "dataset.json").string();
  const std::string ij = (fs::path(dir) / "items.jsonl").string();
  CB_CHECK_INPUT(fs::is_directory(dir), "{}: not a directory", dir);
  CB_CHECK_INPUT(fs::exists(dj), "{}: missing (every dataset needs dataset.json)", dj);
  CB_CHECK_INPUT(fs::exists(ij), "{}: missing (every dataset needs items.jsonl)", ij);
  return parse(dir, read_text(dj), read_text(ij), true);
}

Manifest Manifest::parse(const std::string& dir, const std::string& dataset_json, const std::string& items_jsonl,
                         bool check_files_exist) {
  Manifest m;
  m.dir_ = fs::absolute(dir).lexically_normal().string();
  const std::string dj = (fs::path(dir) / "dataset.json").string();
  const std::string ij = (fs::path(dir) / "items.jsonl").string();
  m.info_ = parse_info(dj, dataset_json);
  const int ncls = static_cast<int>(m.info_.classes.size());
  std::set<Modality> declared(m.info_.modalities.begin(), m.info_.modalities.end());

  std::istringstream in(items_jsonl);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string w = fmt::format("{}:{}", ij, lineno);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      fail_input("{}: malformed JSON line: {}", w, e.what());
    }
    CB_CHECK_INPUT(j.is_object(), "{}: expected a JSON object", w);
    Item it;
    it.line = lineno;
    CB_CHECK_INPUT(j.contains("id") && j["id"].is_string() && !j["id"].get<std::string>().empty(),
                   "{}: missing string 'id'", w);
    it.id = j["id"].get<std::string>();
    CB_CHECK_INPUT(j.contains("modality") && j["modality"].is_string(), "{}: item '{}': missing string 'modality'",
                   w, it.id);
    it.modality = parse_modality(j["modality"].get<std::string>(), w + ": item '" + it.id + "'");
    CB_CHECK_INPUT(declared.count(it.modality), "{}: item '{}': modality '{}' is not listed in dataset.json", w,
                   it.id, modality_name(it.modality));
    CB_CHECK_INPUT(j.contains("split") && j["split"].is_string() && is_split(j["split"].get<std::string>()),
                   "{}: item '{}': 'split' must be \"train\", \"val\" or \"test\"", w, it.id);
    it.split = j["split"].get<std::string>();
    if (j.contains("label")) {
      CB_CHECK_INPUT(!j.contains("labels"), "{}: item '{}': give 'label' or 'labels', not both", w, it.id);
      it.labels.push_back(static_cast<int>(json_integer(j["label"], w + ": item '" + it.id + "'", "label", 0, ncls - 1)));
    } else if (j.contains("labels")) {
      CB_CHECK_INPUT(j["labels"].is_array() && !j["labels"].empty(),
                     "{}: item '{}': 'labels' must be a non-empty array", w, it.id);
      for (const auto& l : j["labels"]) {
        it.labels.push_back(static_cast<int>(json_integer(l, w + ": item '" + it.id + "'", "labels", 0, ncls - 1)));
      }
    } else {
      fail_input("{}: item '{}': missing 'label' or 'labels'", w, it.id);
    }
    for (int l : it.labels)
      CB_CHECK_INPUT(l >= 0 && l < ncls, "{}: item '{}': label {} out of range [0, {})", w, it.id, l, ncls);
    const bool has_file = j.contains("file"), has_text = j.contains("text");
    CB_CHECK_INPUT(has_file != has_text, "{}: item '{}': give exactly one of 'file' or 'text'", w, it.id);
    if (has_text) {
      CB_CHECK_INPUT(j["text"].is_string(), "{}: item '{}': 'text' must be a string", w, it.id);
      CB_CHECK_INPUT(it.modality == Modality::Text, "{}: item '{}': inline 'text' is only for modality text", w,
                     it.id);
      it.text = j["text"].get<std::string>();
    } else {
      CB_CHECK_INPUT(j["file"].is_string() && !j["file"].get<std::string>().empty(),
                     "{}: item '{}': 'file' must be a non-empty string", w, it.id);
      fs::path p(j["file"].get<std::string>());
      it.file = (p.is_absolute() ? p : fs::path(m.dir_) / p).lexically_normal().string();
      if (check_files_exist)
        CB_CHECK_INPUT(fs::is_regular_file(it.file), "{}: item '{}': file not found: {}", w, it.id, it.file);
    }
    if (j.contains("group")) {
      CB_CHECK_INPUT(j["group"].is_string(), "{}: item '{}': 'group' must be a string", w, it.id);
      it.group = j["group"].get<std::string>();
    }
    if (j.contains("attrs")) {
      CB_CHECK_INPUT(j["attrs"].is_object(), "{}: item '{}': 'attrs' must be an object", w, it.id);
      for (auto a = j["attrs"].begin(); a != j["attrs"].end(); ++a)
        CB_CHECK_INPUT(a.value().is_string() || a.value().is_number(),
                       "{}: item '{}': attribute '{}' must be a string or a number", w, it.id, a.key());
      it.attrs = j["attrs"];
    }
    CB_CHECK_INPUT(m.by_id_.emplace(it.id, m.items_.size()).second, "{}: duplicate item id '{}'", w, it.id);
    m.items_.push_back(std::move(it));
  }
  CB_CHECK_INPUT(!m.items_.empty(), "{}: no items", ij);
  return m;
}

std::vector<const Item*> Manifest::select(Modality mod, const std::string& split) const {
  std::vector<const Item*> out;
  for (const auto& it : items_)
    if (it.modality == mod && (split.empty() || it.split == split)) out.push_back(&it);
  return out;
}

std::vector<std::string> Manifest::splits(Modality mod) const {
  std::vector<std::string> out;
  for (const char* s : {"train", "val", "test"})
    for (const auto& it : items_)
      if (it.modality == mod && it.split == s) {
        out.push_back(s);
        break;
      }
  return out;
}

const Item* Manifest::find(const std::string& id) const {
  auto f = by_id_.find(id);
  return f == by_id_.end() ? nullptr : &items_[f->second];
}

std::string Manifest::where(const Item& it) const {
  return fmt::format("{}:{}", (fs::path(dir_) / "items.jsonl").string(), it.line);
}

}  // namespace cb::data
