// index_run.h — a trained CodeBind run (RUN/model.safetensors) as the code index's source of
// items and queries: the index gets the model's own codes and codebooks (no re-quantisation),
// queries are texts or raw files embedded by the model's encoders and quantiser
// (app/embed_split.h), exactly as evaluation embeds them.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "app/embed_split.h"
#include "model/codebind_model.h"
#include "data/inputs.h"
#include "index/code_index.h"
#include "index/index_build.h"
#include "index/search.h"

namespace cb {

struct RunModel {
  std::string run_dir;
  std::unique_ptr<CodeBindModel> model;
  std::unique_ptr<InputPipeline> inputs;
  index::Codebooks codebooks;       // the model's shared and specific codebooks, as the index stores them
  uint64_t fingerprint = 0;  // codebook_fingerprint(codebooks)
};

// Loads a run's model (RUN or RUN/model.safetensors) and its input pipeline; no codebooks. The
// model's encoder runs in `dtype` (auto|fp32|bf16, core/precision.h): every caller on one host
// gets the same type, so embed --run, eval, the index and the API agree on codes.
RunModel open_run_model(const std::string& run, const std::string& dtype = "auto");
// Why a model's codes cannot go into the code index ("" when they can): the no-VQ,
// standard-VQ and separate-codebook ablations, or halves of different widths.
std::string index_refusal(const ModelConfig& cfg);
// Fills rm.codebooks and rm.fingerprint once (no-op when attached); InputError naming the run
// with index_refusal's reason.
void attach_codebooks(RunModel& rm);
// open_run_model + attach_codebooks.
RunModel load_run_model(const std::string& run_dir);

// InputError when `ix` was built with other codebooks than the run's model.
void check_same_model(const index::Index& ix, const RunModel& rm);

// Embeds every item of every split of the dataset at data_dir (the model's modalities) and
// returns an index of their codes (ids = manifest ids, sources = file paths or texts). When
// `raw_shared` is given it receives the items' un-quantised shared halves (N, d_c), L2-
// normalised, in index order (the float baseline of benchmarks).
index::Index build_index_from_run(RunModel& rm, const std::string& data_dir, bool progress,
                           at::Tensor* raw_shared = nullptr);

// Query embeddings through the model: texts → (n, d_c) z_c with modality text; raw files of
// modality m → (n, d_c + d_s) z (its first half is ∝ z_c) or (n, d_c) when m has no specific
// part. ids = the texts / paths. Already quantised: search them as given (query "raw").
index::EmbeddingRows embed_texts(RunModel& rm, const std::vector<std::string>& texts);
index::EmbeddingRows embed_files(RunModel& rm, Modality m, const std::vector<std::string>& paths);

// Files of modality m, or texts when m is text, through the run's model (CLS only, inputs
// through its bridge's pipeline, exactly as evaluation embeds them), `batch` per forward pass:
// every field of CodeBindEmbedding with the batches' rows concatenated (undefined when the
// modality has none). InputError for a tower the run lacks or a missing file.
CodeBindEmbedding embed_inputs(RunModel& rm, Modality m, const std::vector<std::string>& inputs, int64_t batch,
                               bool progress = false);

// Query files as manifest items of modality m (ids = the paths); InputError for a missing file.
std::vector<data::Item> query_items(Modality m, const std::vector<std::string>& paths);

// The k best rows per query row; `quantise_queries` snaps float queries to the index's
// codebooks first (model queries are quantised already).
std::vector<std::vector<index::Hit>> search_rows(const index::Index& ix, const index::EmbeddingRows& rows, const index::SearchOptions& so,
                                          bool quantise_queries);

}  // namespace cb
