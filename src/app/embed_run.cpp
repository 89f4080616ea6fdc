// embed_run.cpp — `codebind embed --run`: CodeBind codes for any file or text, through a
// trained run's model and its bridge's input pipeline (see embed.h, docs/cli/embed.md).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/embed.h"
#include "app/embed_split.h"
#include "app/index_run.h"
#include "core/error.h"
#include "core/progress.h"
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
  const Modality m = texts ? Modality::Text : parse_modality(o.modality.empty() ? "?" : o.modality, "--modality");
  CB_CHECK_INPUT(!texts || o.modality.empty() || o.modality == "text", "embed --run: --text needs --modality text");
  check_output_file(o.out, o.force);  // before any work: a refusal writes nothing

  RunModel rm = open_run_model(o.run);
  CB_CHECK_INPUT(rm.model->config().has(m), "{}: the run has no '{}' tower (it has {})", o.run, modality_name(m),
                 [&] {
                   std::string s;
                   for (Modality x : rm.model->config().modality_pair) s += (s.empty() ? "" : ", ") + std::string(modality_name(x));
                   return s;
                 }());
  std::string fingerprint;
  try {
    attach_codebooks(rm);
    fingerprint = fmt::format("{:016x}", rm.fingerprint);
  } catch (const InputError&) {
    // An ablation run without a chunked shared codebook: codes exist, the index cannot use them.
  }

  const std::vector<std::string>& names = texts ? o.texts : o.inputs;
  const std::vector<data::Item> items = texts ? std::vector<data::Item>{} : query_items(m, o.inputs);
  std::vector<CodeBindEmbedding> parts;
  ProgressBar bar("embed " + std::string(modality_name(m)) + " (codebind)", int64_t(names.size()));
  for (size_t i = 0; i < names.size(); i += size_t(o.batch)) {
    const size_t j = std::min(names.size(), i + size_t(o.batch));
    at::Tensor input;
    if (texts) {
      input = rm.inputs->tokenize(std::vector<std::string>(o.texts.begin() + i, o.texts.begin() + j));
    } else {
      std::vector<const data::Item*> chunk;
      for (size_t k = i; k < j; ++k) chunk.push_back(&items[k]);
      input = items_input(*rm.inputs, m, chunk);
    }
    parts.push_back(embed_batch_codebind(*rm.model, m, input));
    bar.tick(int64_t(j - i));
  }
  bar.finish();

  auto cat = [&](at::Tensor CodeBindEmbedding::*f) {
    std::vector<at::Tensor> ts;
    for (const auto& p : parts)
      if ((p.*f).defined()) ts.push_back(p.*f);
    return ts.size() == parts.size() && !ts.empty() ? at::cat(ts).contiguous() : at::Tensor();
  };
  NamedTensors out;
  const at::Tensor z = cat(&CodeBindEmbedding::z), z_c = cat(&CodeBindEmbedding::z_c);
  out.emplace_back("embeddings", z.defined() ? z : z_c);
  out.emplace_back("shared", z_c);
  if (at::Tensor t = cat(&CodeBindEmbedding::z_s); t.defined()) out.emplace_back("specific", t);
  if (at::Tensor t = cat(&CodeBindEmbedding::shared_raw); t.defined()) out.emplace_back("shared_raw", t);
  if (at::Tensor t = cat(&CodeBindEmbedding::specific_raw); t.defined()) out.emplace_back("specific_raw", t);
  const auto& q = rm.model->config().quantiser;
  if (at::Tensor c = cat(&CodeBindEmbedding::shared_codes); c.defined()) {
    out.emplace_back("shared_codes", c);
    out.emplace_back("shared_codes_packed", pack_codes(c, bits_for_codes(q.shared_codebook_size)));
  }
  if (at::Tensor c = cat(&CodeBindEmbedding::specific_codes); c.defined()) {
    out.emplace_back("specific_codes", c);
    out.emplace_back("specific_codes_packed", pack_codes(c, bits_for_codes(q.specific_codebook_size)));
  }
  nlohmann::json ids = names, sources = nlohmann::json::array();
  for (size_t k = 0; k < names.size(); ++k) sources.push_back(texts ? names[k] : items[k].file);
  std::map<std::string, std::string> meta = {{"format", "codebind-embeddings-1"},
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
