// embed_split.h — embeds every item of one split of a manifest dataset into an
// eval::EmbeddingSet, with a CodeBind model (quantised shared / specific / concat CLS
// embeddings and codes; spec §12.1) or with the plain bridge (the hard-alignment baseline:
// the L2-normalised head output as the "shared" embedding, no specific part). Also builds the
// template-averaged zero-shot text classifier (spec §12.2).
#pragma once
#include <string>

#include "codebind/codebind_model.h"
#include "codebind/inputs.h"
#include "data/manifest.h"
#include "eval/embedding_set.h"

namespace cb {

eval::EmbeddingSet embed_split_codebind(CodeBindModel& model, const data::Manifest& man, const InputPipeline& inputs,
                                        const std::string& split, bool quiet = false);

// `modalities`: the towers to evaluate (text included when present).
eval::EmbeddingSet embed_split_baseline(const ImageBindModel& bridge, const data::Manifest& man,
                                        const InputPipeline& inputs, const std::string& split,
                                        const std::vector<Modality>& modalities, bool quiet = false);

}  // namespace cb
