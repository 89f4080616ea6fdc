// embed_run.cpp — `codebind embed --run`: CodeBind codes for any file or text, through a
// trained run's model and its bridge's input pipeline (see embed.h, docs/cli/embed.md).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "app/embed.h"
#include "app/embed_split.h"
#include "app/index_run.h"
#include "core/error.h"
#include "core/precision.h"
#include "io/run_dir.h"
#include "io/safetensors.h"
#include "quant/code_pack.h"

namespace cb {

size_t run_embed_codebind(const EmbedOptions& o) {
  CB_CHECK_INPUT(o.batch > 0, "--batch must be positive");
  CB_CHECK_INPUT(o.device == "cpu", "embed --run: only --device cpu so far");
  CB_CHECK_INPUT(o.config.empty(), "embed --run: the run's model carries its own config (drop --config)");
  const bool texts = !o.texts.empty();
  CB_CHECK_INPUT(texts != !o.inputs.empty(), "embed --run: give files or --text \"…\", not both or neither");
  CB_CHECK_INPUT(texts || !o.modality.empty(), "embed --run: files need --modality M");
  const Modality m = texts ? Modality::Text : parse_modality(o.modality, "--modality");
  CB_CHECK_INPUT(!texts || o.modality.empty() || o.modality == "text", "embed --run: --text needs --modality text");
  check_output_file(o.out, o.force);  // before any work: a refusal writes nothing

  RunModel rm = open_run_model(o.run, o.dtype);
  std::string fingerprint;  // only a run whose codes the index can hold gets one
  if (index_refusal(rm.model->config()).empty()) {
    attach_codebooks(rm);
    fingerprint = fmt::format("{:016x}", rm.fingerprint);
  }
  const std::vector<std::string>& names = texts ? o.texts : o.inputs;
  const CodeBindEmbedding e = embed_inputs(rm, m, names, o.batch, /*progress=*/true);

  NamedTensors out;
  out.emplace_back("embeddings", e.z.defined() ? e.z : e.z_c);
  out.emplace_back("shared", e.z_c);
  if (e.z_s.defined()) out.emplace_back("specific", e.z_s);
  if (e.shared_raw.defined()) out.emplace_back("shared_raw", e.shared_raw);
  if (e.specific_raw.defined()) out.emplace_back("specific_raw", e.specific_raw);
  const auto& q = rm.model->config().quantiser;
  if (e.shared_codes.defined()) {
    out.emplace_back("shared_codes", e.shared_codes);
    out.emplace_back("shared_codes_packed", pack_codes(e.shared_codes, bits_for_codes(q.shared_codebook_size)));
  }
  if (e.specific_codes.defined()) {
    out.emplace_back("specific_codes", e.specific_codes);
    out.emplace_back("specific_codes_packed", pack_codes(e.specific_codes, bits_for_codes(q.specific_codebook_size)));
  }
  nlohmann::json ids = names, sources = nlohmann::json::array();
  for (const std::string& n : names) sources.push_back(texts ? n : std::filesystem::absolute(n).string());
  std::map<std::string, std::string> meta = {{"format", "codebind-embeddings-1"},
                                             {"dtype", precision_name(rm.model->inference_dtype())},
                                             {"modality", modality_name(m)},
                                             {"ids", ids.dump()},
                                             {"sources", sources.dump()},
                                             {"run", o.run}};
  if (!fingerprint.empty()) meta["codebook_fingerprint"] = fingerprint;
  save_safetensors(o.out, out, meta);
  fmt::print("wrote {} {} CodeBind embeddings ({}-d, codes of {} chunks) to {}\n", names.size(), modality_name(m),
             out.front().second.size(1), rm.model->config().shared_dim / q.codevector_dim, o.out);
  return names.size();
}

}  // namespace cb
