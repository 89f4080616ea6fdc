// index_build.h — turning embeddings into index items and queries: reading an embeddings
// file and a codebook file, quantising (nearest codevector per chunk, docs/model.md §3.3)
// and packing, and forming query vectors (quantised z_c / concat, or raw) for search.
//
// Embeddings file (safetensors): tensor `embeddings` (N, 2048) float (shared half = cols
// [0, 1024), specific half = [1024, 2048)) or (N, 1024) (shared only); optional metadata
// `ids` and `sources` (JSON arrays of N strings), `modality` (one name for every row) or
// `modalities` (JSON array of N names), `codebook_fingerprint` (hex, checked against the index).
// Codebook file (safetensors): `shared` (K, c) and optionally `specific.<modality>` (Ks, c).
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "index/code_index.h"
#include "index/search.h"

namespace cb::index {

struct EmbeddingRows {
  at::Tensor emb;  // (N, D) float32, D = chunks·c or 2·chunks·c
  std::vector<std::string> ids, sources;
  std::vector<Modality> modalities;
  std::string fingerprint;  // hex from metadata, or ""
  std::string path;
};

// Reads an embeddings file; `modality` (if set) overrides the file's modalities.
EmbeddingRows read_embeddings(const std::string& path, std::optional<Modality> modality);

struct Codebooks {
  Codebook shared;
  std::map<Modality, Codebook> specific;
};
Codebooks read_codebooks(const std::string& path);
// A (K, c) tensor (any float dtype) as a Codebook; InputError naming `where` otherwise.
Codebook codebook_from_tensor(const at::Tensor& t, const std::string& where);

// Quantises rows [shared half → shared codes; specific half → the row modality's specific
// codes when the index has one] and appends them, in batches with a progress bar.
void append_embeddings(Index& index, const EmbeddingRows& rows, bool store_floats, bool progress);

// Query vectors (nq, D) for search(): `quantised` = the decoded quantised embedding (what
// evaluation compares), else the raw embedding. D = chunks·c (shared) or 2·chunks·c (concat).
at::Tensor query_vectors(const Index& index, const at::Tensor& emb, Modality modality, SearchMode mode,
                         bool quantised);

}  // namespace cb::index
