// manifest.h — the dataset manifest (docs/cli/data.md): `DIR/dataset.json` + `DIR/items.jsonl`,
// the one input format of every trainer and evaluator.
//
//   dataset.json : {"version":1, "name":…, "classes":[…], "modalities":[…], "templates":[…]?}
//   items.jsonl  : one object per line: {"id", "modality", "split": train|val|test,
//                  "label": int | "labels": [int…], "file": "relative/path" | "text": "…",
//                  "group": "…"?, "attrs": {name: string (categorical) | number (continuous)}}
//
// Manifest::load validates the structure (every error is one line naming dataset.json or
// items.jsonl:LINE). Whether the referenced files decode is checked by check_dataset().
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/modality.h"

namespace cb::data {

struct DatasetInfo {
  int version = 1;
  std::string name;
  std::vector<std::string> classes;
  std::vector<Modality> modalities;
  std::vector<std::string> templates;  // zero-shot prompt templates with one "{}" (may be empty)
};

struct Item {
  std::string id;
  Modality modality = Modality::Vision;
  std::string split;        // "train" | "val" | "test"
  std::vector<int> labels;  // one entry for single-label items
  std::string file;         // absolute path ("" for inline text)
  std::string text;         // inline text ("" for file items)
  std::string group;        // "" = no group (pairs are drawn by class)
  nlohmann::json attrs = nlohmann::json::object();  // private factors
  int line = 0;             // 1-based line in items.jsonl
  int label() const { return labels.empty() ? -1 : labels.front(); }
};

class Manifest {
 public:
  // Reads and validates DIR/dataset.json and DIR/items.jsonl. Throws cb::InputError naming
  // "DIR/dataset.json" or "DIR/items.jsonl:LINE" (malformed JSON, unknown modality, modality
  // not declared, bad split, label out of range, missing file/text, duplicate id, missing file
  // on disk, empty split of a declared modality is NOT an error here, see check_dataset).
  static Manifest load(const std::string& dir);
  // Same, from strings (tests); `dir` resolves relative file paths; files are not stat'ed.
  static Manifest parse(const std::string& dir, const std::string& dataset_json, const std::string& items_jsonl,
                        bool check_files_exist = false);

  const DatasetInfo& info() const { return info_; }
  const std::string& dir() const { return dir_; }
  const std::vector<Item>& items() const { return items_; }
  int num_classes() const { return static_cast<int>(info_.classes.size()); }
  // Items of one modality and split, in file order. split "" = every split.
  std::vector<const Item*> select(Modality m, const std::string& split) const;
  // Splits present for a modality ("train","val","test" order).
  std::vector<std::string> splits(Modality m) const;
  const Item* find(const std::string& id) const;
  // Path of items.jsonl and "items.jsonl:LINE" for messages.
  std::string where(const Item& it) const;

 private:
  std::string dir_;
  DatasetInfo info_;
  std::vector<Item> items_;
  std::map<std::string, size_t> by_id_;
};

// Summary printed by `codebind data check`.
struct CheckSummary {
  std::string name;
  int64_t items = 0;
  // counts[modality][split][class] = number of items
  std::map<std::string, std::map<std::string, std::vector<int64_t>>> counts;
  // attrs[modality][attr][value] = count; continuous attributes are summarised as min/max/mean
  std::map<std::string, std::map<std::string, std::map<std::string, int64_t>>> attr_values;
  std::map<std::string, std::map<std::string, std::array<double, 3>>> attr_ranges;  // min,max,mean
  std::vector<std::string> errors;  // every problem found, "file:line: message"
  std::vector<std::string> probe;   // probe result lines (--probe)
  bool ok() const { return errors.empty(); }
  std::string to_text() const;      // human-readable summary (stdout)
  std::string errors_text() const;  // one "error: …" line per problem (stderr)
};

// Validates a whole dataset: the manifest, that every file exists and decodes through the
// trainer's readers with the right shape for its modality, no empty split among
// train/val/test for a declared modality. Collects all errors (does not stop at the first
// file error; a structural manifest error stops). With `probe`, also trains linear probes on
// raw features (class and private factors per modality) and fills `probe`.
CheckSummary check_dataset(const std::string& dir, bool probe, int max_errors = 50);

}  // namespace cb::data
