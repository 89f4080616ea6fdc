// embed_split.h — embeds every item of one split of a manifest dataset into an
// eval::EmbeddingSet, with a CodeBind model (quantised shared / specific / concat CLS
// embeddings and codes; docs/model.md §7.1) or with the plain bridge (the hard-alignment baseline:
// the L2-normalised head output as the "shared" embedding, no specific part). Also builds the
// template-averaged zero-shot text classifier (docs/model.md §7.2).
#pragma once
#include <string>

#include "model/codebind_model.h"
#include "data/inputs.h"
#include "data/manifest.h"
#include "eval/embedding_set.h"

namespace cb {

// One batch through a CodeBind model in eval mode (the encoder in model.inference_dtype()), CLS token only: L2-normalised z_c (B, d_c)
// and, for non-text modalities with a specific part, z_s (B, d_s) and z (B, d_c+d_s); codes
// (B, m) int64 (undefined without VQ / specific part); `raw` the un-quantised encoder output
// (B, d_c+d_s) or text (B, d_c), L2-normalised; `shared_raw` (B, d_c) / `specific_raw` (B, d_s)
// its two halves, each L2-normalised (non-text modalities with a specific part only).
struct CodeBindEmbedding {
  at::Tensor z_c, z_s, z, shared_codes, specific_codes, raw, shared_raw, specific_raw;
};
CodeBindEmbedding embed_batch_codebind(CodeBindModel& model, Modality m, const at::Tensor& input);

// Network input for items of one modality: decoded files, or tokenised inline texts.
at::Tensor items_input(const InputPipeline& inputs, Modality m, const std::vector<const data::Item*>& items);

eval::EmbeddingSet embed_split_codebind(CodeBindModel& model, const data::Manifest& man, const InputPipeline& inputs,
                                        const std::string& split, bool quiet = false);

// `modalities`: the towers to evaluate (text included when present).
eval::EmbeddingSet embed_split_baseline(const Bridge& bridge, const data::Manifest& man,
                                        const InputPipeline& inputs, const std::string& split,
                                        const std::vector<Modality>& modalities, bool quiet = false,
                                        at::ScalarType dtype = at::kFloat);

}  // namespace cb
