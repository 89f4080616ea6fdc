// embed.h — `codebind embed`: embeddings of files, tensors or texts, written as one
// safetensors file (one row per input, input names in the metadata). With --weights: the
// ImageBind embedding (only the requested modality's tower is read, memory-mapped; the
// reference multi-clip preprocessing). With --run: what a trained CodeBind model gives at
// inference (embed_run.cpp). See docs/cli/embed.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cb {

// Everything `codebind embed` takes; see its --help.
struct EmbedOptions {
  std::string weights, run, config, modality, out = "embeddings.safetensors", device = "cpu", dtype = "auto", vocab;
  std::vector<std::string> inputs, texts;
  int64_t batch = 8;
  bool batched = false;
  bool force = false;  // replace an existing --out
};

// Embeds the inputs and writes `o.out`; returns the number of embeddings written. Dispatches
// to run_embed_codebind when o.run is set.
size_t run_embed(const EmbedOptions& o);

// CodeBind codes for files or texts through a trained run (RUN/model.safetensors): CLS only,
// decoder unused, inputs through the run's bridge InputPipeline (exactly as `codebind eval`).
// Writes "embeddings" (N, d_c + d_s) quantised z (z_c for text / no specific half; what
// `codebind index add` reads), "shared"/"specific" quantised halves, "shared_raw"/
// "specific_raw", "shared_codes"/"specific_codes" (N, chunks) int64 and their bit-packed
// rows "shared_codes_packed"/"specific_codes_packed" (uint8, as the index stores them);
// metadata ids, sources, modality, run, codebook_fingerprint (runs with a chunked shared
// codebook). Returns the number of rows.
size_t run_embed_codebind(const EmbedOptions& o);

}  // namespace cb
