// embed.h — `codebind embed`: ImageBind embeddings of files, tensors or texts, written as one
// safetensors file (one row per input, input names in the metadata). Only the requested
// modality's tower is read from the weights (memory-mapped). See docs/cli/embed.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cb {

// Everything `codebind embed` takes; see its --help.
struct EmbedOptions {
  std::string weights, config, modality, out = "embeddings.safetensors", device = "cpu", dtype = "fp32", vocab;
  std::vector<std::string> inputs, texts;
  int64_t batch = 8;
  bool batched = false;
  bool force = false;  // replace an existing --out
};

// Embeds the inputs and writes `o.out`; returns the number of embeddings written.
size_t run_embed(const EmbedOptions& o);

}  // namespace cb
