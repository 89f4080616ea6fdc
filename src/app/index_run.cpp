// index_run.cpp — see index_run.h.
#include "app/index_run.h"

#include <filesystem>
#include <map>

#include <spdlog/spdlog.h>

#include "app/embed_split.h"
#include "core/error.h"
#include "core/precision.h"
#include "core/progress.h"
#include "data/manifest.h"
#include "index/search.h"
#include "quant/code_pack.h"

namespace cb {

using namespace cb::index;  // the code index this file fills and searches
namespace {

constexpr int64_t kBatch = 64;  // items per forward pass

std::string modality_list(const std::vector<Modality>& ms) {
  std::string s;
  for (Modality m : ms) s += (s.empty() ? "" : ", ") + std::string(modality_name(m));
  return s;
}

at::Tensor pack_or_zeros(const at::Tensor& codes, int64_t n, uint32_t chunks, uint32_t bits) {
  return cb::pack_codes(codes.defined() ? codes : at::zeros({n, int64_t(chunks)}, at::kLong), bits);
}

}  // namespace

RunModel open_run_model(const std::string& run, const std::string& dtype) {
  const bool file = std::filesystem::is_regular_file(run);
  const std::string path = file ? run : run + "/model.safetensors";
  CB_CHECK_INPUT(std::filesystem::exists(path), "{}: not found (is {} a CodeBind training run?)", path, run);
  RunModel rm;
  rm.run_dir = file ? std::filesystem::path(run).parent_path().string() : run;
  rm.model = CodeBindModel::load(path);
  rm.inputs = std::make_unique<InputPipeline>(rm.model->bridge(), false);
  const PrecisionChoice prec = choose_precision(dtype, at::Device(at::kCPU), "--dtype", rm.model->bridge().widest_tower());
  rm.model->set_inference_dtype(prec.dtype);
  spdlog::debug("{}: {}", run, prec.why);
  return rm;
}

std::string index_refusal(const ModelConfig& cfg) {
  const auto& q = cfg.quantiser;
  if (!(q.use_vq && !q.standard_vq && !q.separate_codebooks))
    return fmt::format("the code index needs one shared codebook of chunks; this run is a {} ablation",
                       !q.use_vq ? "no-VQ" : q.standard_vq ? "standard-VQ" : "separate-codebooks");
  if (cfg.specific_dim != 0 && cfg.specific_dim != cfg.shared_dim)
    return fmt::format("the code index needs the specific half as wide as the shared half ({} vs {})",
                       cfg.specific_dim, cfg.shared_dim);
  return "";
}

void attach_codebooks(RunModel& rm) {
  if (rm.codebooks.shared.rows > 0) return;  // already attached
  const std::string path = rm.run_dir + "/model.safetensors";
  const ModelConfig& cfg = rm.model->config();
  const std::string refusal = index_refusal(cfg);
  CB_CHECK_INPUT(refusal.empty(), "{}: {}", path, refusal);
  auto& mvq = rm.model->quantiser();
  rm.codebooks.shared = codebook_from_tensor(mvq.shared_codebook().weight.detach().cpu(), path + ": shared codebook");
  for (Modality m : cfg.modality_pair)
    if (mvq.has_specific(m))
      rm.codebooks.specific[m] = codebook_from_tensor(mvq.specific_codebook(m).weight.detach().cpu(),
                                                      path + ": specific codebook");
  rm.fingerprint = codebook_fingerprint(rm.codebooks.shared, rm.codebooks.specific);
}

RunModel load_run_model(const std::string& run_dir) {
  RunModel rm = open_run_model(run_dir);
  attach_codebooks(rm);
  return rm;
}

std::vector<data::Item> query_items(Modality m, const std::vector<std::string>& paths) {
  std::vector<data::Item> items(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    CB_CHECK_INPUT(std::filesystem::exists(paths[i]), "{}: query file not found", paths[i]);
    items[i].id = paths[i];
    items[i].modality = m;
    items[i].file = std::filesystem::absolute(paths[i]).string();
  }
  return items;
}

std::vector<std::vector<Hit>> search_rows(const Index& ix, const EmbeddingRows& rows, const SearchOptions& so,
                                          bool quantise_queries) {
  // Queries of one modality per search call (concat uses that modality's codebook).
  std::map<Modality, std::vector<int64_t>> by_mod;
  for (int64_t i = 0; i < rows.emb.size(0); ++i) by_mod[rows.modalities[i]].push_back(i);
  std::vector<std::vector<Hit>> hits(rows.emb.size(0));
  for (const auto& [m, sel] : by_mod) {
    at::Tensor e = rows.emb.index_select(0, at::tensor(sel, at::kLong));
    at::Tensor q = query_vectors(ix, e, m, so.mode, quantise_queries);
    auto r = search(ix, q.data_ptr<float>(), q.size(0), q.size(1), m, so);
    for (size_t i = 0; i < sel.size(); ++i) hits[sel[i]] = std::move(r[i]);
  }
  return hits;
}

void check_same_model(const Index& ix, const RunModel& rm) {
  CB_CHECK_INPUT(rm.fingerprint == ix.fingerprint(),
                 "{}: the index was built with codebooks {:016x} but the model of {} has {:016x}: its codes are not "
                 "comparable (build the index with this run, or query with the run that built it)",
                 ix.path().empty() ? "index" : ix.path(), ix.fingerprint(), rm.run_dir, rm.fingerprint);
}

Index build_index_from_run(RunModel& rm, const std::string& data_dir, bool progress, at::Tensor* raw_shared) {
  data::Manifest man = data::Manifest::load(data_dir);
  const ModelConfig& cfg = rm.model->config();
  const uint32_t chunks = uint32_t(cfg.shared_dim / cfg.quantiser.codevector_dim);
  Index ix(rm.codebooks.shared, rm.codebooks.specific, chunks, 0);
  std::vector<std::pair<Modality, std::vector<const data::Item*>>> work;
  int64_t total = 0;
  for (Modality m : man.info().modalities) {
    if (!cfg.has(m)) continue;
    std::vector<const data::Item*> items;
    for (const auto& split : man.splits(m))
      for (const data::Item* it : man.select(m, split)) items.push_back(it);
    total += int64_t(items.size());
    if (!items.empty()) work.push_back({m, std::move(items)});
  }
  CB_CHECK_INPUT(total > 0, "{}: no items of the run's modalities", data_dir);
  ProgressBar bar("index build", total, progress);
  std::vector<at::Tensor> raws;
  const int64_t dc = cfg.shared_dim;
  for (const auto& [m, items] : work)
    for (size_t i = 0; i < items.size(); i += kBatch) {
      std::vector<const data::Item*> chunk(items.begin() + i, items.begin() + std::min(items.size(), i + kBatch));
      const int64_t n = int64_t(chunk.size());
      CodeBindEmbedding e = embed_batch_codebind(*rm.model, m, items_input(*rm.inputs, m, chunk));
      CB_CHECK_INPUT(e.shared_codes.defined() && e.shared_codes.size(1) == chunks,
                     "{}: the model gave no {}-chunk shared codes for {}", rm.run_dir, chunks, modality_name(m));
      at::Tensor sc = pack_or_zeros(e.shared_codes, n, chunks, ix.shared_bits()), pc;
      ItemBatch b;
      b.n = n;
      b.shared_codes = sc.data_ptr<uint8_t>();
      if (ix.has_specific()) {
        // Text (and any modality without a specific codebook) stores zero specific codes.
        at::Tensor codes = ix.specific_codebook(m) ? e.specific_codes : at::Tensor();
        pc = pack_or_zeros(codes, n, chunks, ix.specific_bits());
        b.specific_codes = pc.data_ptr<uint8_t>();
      }
      for (const data::Item* it : chunk) {
        b.ids.push_back(it->id);
        b.modalities.push_back(m);
        b.sources.push_back(it->file.empty() ? it->text : it->file);
      }
      ix.append(b);
      if (raw_shared) {
        at::Tensor h = e.raw.narrow(1, 0, dc);
        raws.push_back(h / h.norm(2, 1, true).clamp_min(1e-12));
      }
      bar.tick(n);
    }
  bar.finish();
  if (raw_shared) *raw_shared = at::cat(raws).contiguous();
  return ix;
}

CodeBindEmbedding embed_inputs(RunModel& rm, Modality m, const std::vector<std::string>& inputs, int64_t batch,
                               bool progress) {
  CB_CHECK_INPUT(batch > 0, "batch must be positive, got {}", batch);
  CB_CHECK_INPUT(rm.model->config().has(m), "{}: the run has no '{}' tower (it has {})", rm.run_dir, modality_name(m),
                 modality_list(rm.model->config().modality_pair));
  const bool text = m == Modality::Text;
  const std::vector<data::Item> items = text ? std::vector<data::Item>{} : query_items(m, inputs);
  std::vector<CodeBindEmbedding> parts;
  ProgressBar bar("embed " + std::string(modality_name(m)) + " (codebind)", int64_t(inputs.size()), progress);
  for (size_t i = 0; i < inputs.size(); i += size_t(batch)) {
    const size_t j = std::min(inputs.size(), i + size_t(batch));
    at::Tensor x;
    if (text) {
      x = rm.inputs->tokenize(std::vector<std::string>(inputs.begin() + i, inputs.begin() + j));
    } else {
      std::vector<const data::Item*> chunk;
      for (size_t k = i; k < j; ++k) chunk.push_back(&items[k]);
      x = items_input(*rm.inputs, m, chunk);
    }
    parts.push_back(embed_batch_codebind(*rm.model, m, x));
    bar.tick(int64_t(j - i));
  }
  bar.finish();
  // Each field: the batches' rows concatenated, or undefined when the modality has none.
  auto cat = [&](at::Tensor CodeBindEmbedding::*f) {
    std::vector<at::Tensor> ts;
    for (const auto& p : parts)
      if ((p.*f).defined()) ts.push_back(p.*f);
    return ts.size() == parts.size() && !ts.empty() ? at::cat(ts).contiguous() : at::Tensor();
  };
  CodeBindEmbedding all;
  for (auto f : {&CodeBindEmbedding::z_c, &CodeBindEmbedding::z_s, &CodeBindEmbedding::z,
                 &CodeBindEmbedding::shared_codes, &CodeBindEmbedding::specific_codes, &CodeBindEmbedding::raw,
                 &CodeBindEmbedding::shared_raw, &CodeBindEmbedding::specific_raw})
    all.*f = cat(f);
  return all;
}

EmbeddingRows embed_texts(RunModel& rm, const std::vector<std::string>& texts) {
  EmbeddingRows r;
  r.path = rm.run_dir + " (text queries)";
  r.emb = embed_inputs(rm, Modality::Text, texts, int64_t(std::max<size_t>(1, texts.size()))).z_c;  // one batch
  r.ids = texts;
  r.modalities.assign(texts.size(), Modality::Text);
  return r;
}

EmbeddingRows embed_files(RunModel& rm, Modality m, const std::vector<std::string>& paths) {
  CB_CHECK_INPUT(m != Modality::Text, "index search: give text queries with --text");
  const CodeBindEmbedding e = embed_inputs(rm, m, paths, kBatch);
  EmbeddingRows r;
  r.path = rm.run_dir + " (" + std::string(modality_name(m)) + " queries)";
  r.emb = e.z.defined() ? e.z : e.z_c;
  r.ids = paths;
  r.modalities.assign(paths.size(), m);
  return r;
}

}  // namespace cb
