// embedding_set.h — the embeddings of one split of a run, as the trainer hands them to the
// evaluator: per modality the item ids, labels, groups, private attributes and the shared /
// specific / concat embeddings plus their code indices; the zero-shot text classifier.
// Saved as one safetensors file per split (`RUN/embeddings_<split>.safetensors`) so that
// evaluation can be rerun without the model.
//
// File layout: tensors "<modality>.shared" (N,1024) f32, "<modality>.specific" (N,1024),
// "<modality>.concat" (N,2048), "<modality>.labels" (N) or (N,C) i64, "<modality>.shared_codes"
// (N,m) i64, "<modality>.specific_codes" (N,m) i64 (each optional except shared and labels),
// "text_classifier" (D,C) f32 (optional); metadata "codebind.embedding_set" = JSON
// {"version":1, "split", "classes", "meta", "modalities": {name: {"ids", "groups", "attrs"}}}.
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cb::eval {

struct ModalityEmbeddings {
  std::vector<std::string> ids;        // N item ids (manifest "id")
  std::vector<std::string> groups;     // N manifest groups ("" = none); may be empty = no groups
  std::vector<nlohmann::json> attrs;   // N attrs objects (may be empty = no attributes)
  at::Tensor labels;                   // (N) int64 class id (−1 = none) or (N, C) int64 multi-hot
  at::Tensor shared;                   // (N, 1024) float: quantised shared z_c, L2-normalised
  at::Tensor specific;                 // (N, 1024) float or undefined (text, baseline)
  at::Tensor concat;                   // (N, 2048) float or undefined
  // The same halves before quantisation (CLS of the encoder output, each half L2-normalised),
  // for probing what the quantiser keeps; undefined for the baseline and without VQ.
  at::Tensor shared_raw;               // (N, 1024) float or undefined
  at::Tensor specific_raw;             // (N, 1024) float or undefined
  at::Tensor shared_codes;             // (N, m) int64 shared-codebook ids per chunk, or undefined
  at::Tensor specific_codes;           // (N, m) int64 specific-codebook ids per chunk, or undefined
  int64_t size() const { return shared.defined() ? shared.size(0) : 0; }
  bool multi_label() const { return labels.defined() && labels.dim() == 2; }
};

struct EmbeddingSet {
  std::string split;                                  // "train" | "val" | "test"
  std::vector<std::string> classes;                   // class names (manifest order)
  std::map<std::string, ModalityEmbeddings> modalities;  // key = modality name ("vision", …)
  at::Tensor text_classifier;                         // (D, C) unit columns, or undefined
  // Free-form run information: e.g. {"shared_codebook_size":1024, "specific_codebook_size":256,
  // "model":"codebind"|"baseline"}. Read by evaluate_embeddings for codebook sizes.
  nlohmann::json meta = nlohmann::json::object();

  // Checks every modality's tensor shapes against its N and the list sizes; throws InputError
  // naming `where`, the modality and the field.
  void validate(const std::string& where = "embedding set") const;
};

// Writes `set` atomically to `path` (safetensors, layout above).
void save_embedding_set(const std::string& path, const EmbeddingSet& set);
// Reads a file written by save_embedding_set (tensors are copied out of the mapping).
// Throws InputError naming the file and the key on any problem.
EmbeddingSet load_embedding_set(const std::string& path);

// "RUN/embeddings_<split>.safetensors"
std::string embedding_set_path(const std::string& run_dir, const std::string& split);

}  // namespace cb::eval
