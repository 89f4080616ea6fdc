// cmd_index.cpp — `codebind index build|add|search|info|delete|merge`: the compressed code
// index on the command line (docs/cli/index.md). Items come from a trained run over a dataset
// or from embeddings + codebook files; queries from texts or raw files through a run's model,
// or from an embeddings file.
#include <filesystem>

#include "cli/command.h"
#include "io/run_dir.h"
#include "core/error.h"
#include "index/code_index.h"
#include "index/index_build.h"
#include "app/index_run.h"
#include "index/search.h"

namespace {
using namespace cb::index;
using cb::RunModel, cb::load_run_model, cb::build_index_from_run, cb::check_same_model, cb::embed_texts,
    cb::embed_files, cb::search_rows;

std::optional<cb::Modality> opt_modality(const std::string& s, const std::string& where) {
  if (s.empty()) return std::nullopt;
  return cb::parse_modality(s, where);
}

void print_info(const Index& ix) {
  fmt::print("index {}\n", ix.path().empty() ? "(in memory)" : ix.path());
  fmt::print("  items {}\n", ix.size());
  for (const auto& [m, n] : ix.counts()) fmt::print("    {:<8} {}\n", cb::modality_name(m), n);
  fmt::print("  shared codebook {} x {} ({} chunks, {}-bit codes, {} B/item)\n", ix.shared_codebook().rows,
             ix.chunk_dim(), ix.chunks(), ix.shared_bits(), ix.shared_code_bytes());
  if (ix.has_specific()) {
    std::string mods;
    for (const auto& [m, c] : ix.specific_codebooks()) mods += std::string(mods.empty() ? "" : ",") + cb::modality_name(m);
    fmt::print("  specific codebooks {} x {} for {} ({}-bit codes, {} B/item)\n",
               ix.specific_codebooks().begin()->second.rows, ix.chunk_dim(), mods, ix.specific_bits(),
               ix.specific_code_bytes());
  } else {
    fmt::print("  specific codes: none\n");
  }
  fmt::print("  float embeddings: {}\n", ix.float_dim() ? std::to_string(ix.float_dim()) + " columns" : "none");
  fmt::print("  codebook fingerprint {:016x}\n", ix.fingerprint());
}

cb::cli::Runner setup_index(CLI::App* app) {
  app->require_subcommand(1);
  struct Opts {
    std::string index, out, embeddings, codebook, modality, mode = "shared", query = "quantised", only, run, data;
    std::vector<std::string> inputs, ids, texts;
    int k = 10, rerank = 0;
    bool store_floats = false, json = false, quiet = false, force = false;
  };
  auto o = std::make_shared<Opts>();
  auto* build = app->add_subcommand("build", "build an index from a trained run over a dataset, or from embeddings");
  build->add_option("--embeddings", o->embeddings, "embeddings .safetensors (see docs/cli/index.md)");
  build->add_option("--codebook", o->codebook, "codebook .safetensors: shared (K,c), specific.<modality> (Ks,c)");
  build->add_option("--modality", o->modality, "modality of every row (overrides the file's metadata)");
  build->add_option("--out", o->out, "index file to write")->required();
  build->add_flag("--store-floats", o->store_floats, "also store the float embeddings (for --rerank)");
  build->add_option("--run", o->run, "trained CodeBind run folder (RUN/model.safetensors): its codes and codebooks");
  build->add_option("--data", o->data, "dataset folder (with --run): every item of the run's modalities, all splits");
  build->add_flag("--quiet", o->quiet, "no progress bar");
  build->add_flag("--force", o->force, "replace an existing --out file");

  auto* add = app->add_subcommand("add", "append embeddings to an index (quantised with its codebooks)");
  add->add_option("--index", o->index, "index file")->required();
  add->add_option("--embeddings", o->embeddings, "embeddings .safetensors")->required();
  add->add_option("--modality", o->modality, "modality of every row");
  add->add_option("--out", o->out, "write here instead of replacing --index");
  add->add_flag("--quiet", o->quiet, "no progress bar");
  add->add_flag("--force", o->force, "replace an existing --out file");

  auto* search = app->add_subcommand("search", "top-k search");
  search->add_option("--index", o->index, "index file")->required();
  search->add_option("--embeddings", o->embeddings, "query embeddings .safetensors");
  search->add_option("--text", o->texts, "text query, embedded with --run's model (repeatable)");
  search->add_option("--modality", o->modality, "modality of the queries (raw files; default for --embeddings: "
                                                "the file's metadata)");
  search->add_option("inputs", o->inputs, "raw query files of --modality, embedded with --run's model");
  search->add_option("--run", o->run, "trained CodeBind run whose model embeds --text / raw-file queries");
  search->add_option("-k", o->k, "results per query")->check(CLI::Range(1, 100000));
  search->add_option("--mode", o->mode, "shared (cross-modal) or concat (same-modality, shared+specific)")
      ->check(CLI::IsMember({"shared", "concat"}));
  search->add_option("--query", o->query, "quantised (z_c, as in evaluation) or raw embedding")
      ->check(CLI::IsMember({"quantised", "raw"}));
  search->add_option("--only", o->only, "return only items of this modality");
  search->add_option("--rerank", o->rerank, "re-rank this many code candidates with stored floats");
  search->add_option("--codebook", o->codebook, "codebook file the queries were made with (refused if it differs)");
  search->add_flag("--json", o->json, "one JSON object per query");

  auto* info = app->add_subcommand("info", "counts per modality, codebooks, fingerprint");
  info->add_option("--index", o->index, "index file")->required();

  auto* del = app->add_subcommand("delete", "delete items by id");
  del->add_option("--index", o->index, "index file")->required();
  del->add_option("--id", o->ids, "ids to delete")->required();
  del->add_option("--out", o->out, "write here instead of replacing --index");
  del->add_flag("--force", o->force, "replace an existing --out file");

  auto* merge = app->add_subcommand("merge", "merge index files built on the same codebooks");
  merge->add_option("inputs", o->inputs, "index files")->required()->expected(2, -1);
  merge->add_option("--out", o->out, "merged index file")->required();
  merge->add_flag("--force", o->force, "replace an existing --out file");

  return [=]() -> int {
    // One policy for files we write: an existing --out is replaced only with --force.
    const bool writes_out = build->parsed() || merge->parsed() || ((add->parsed() || del->parsed()) && !o->out.empty());
    if (writes_out) cb::check_output_file(o->out, o->force);
    if (build->parsed()) {
      if (!o->run.empty() || !o->data.empty()) {
        CB_CHECK_INPUT(!o->run.empty() && !o->data.empty(), "index build: --run RUN and --data DIR go together");
        CB_CHECK_INPUT(o->embeddings.empty() && o->codebook.empty() && !o->store_floats,
                       "index build: --run/--data builds from the model's own codes; drop --embeddings, --codebook "
                       "and --store-floats");
        RunModel rm = load_run_model(o->run);
        Index ix = build_index_from_run(rm, o->data, !o->quiet);
        ix.save(o->out);
        fmt::print("index build: {} items → {} (fingerprint {:016x})\n", ix.size(), o->out, ix.fingerprint());
        return 0;
      }
      CB_CHECK_INPUT(!o->embeddings.empty() && !o->codebook.empty(),
                     "index build: give --run RUN --data DIR, or --embeddings FILE and --codebook FILE");
      Codebooks cbs = read_codebooks(o->codebook);
      EmbeddingRows rows = read_embeddings(o->embeddings, opt_modality(o->modality, "--modality"));
      const uint32_t c = cbs.shared.dim;
      const int64_t D = rows.emb.size(1);
      const int64_t half = cbs.specific.empty() ? D : D / 2;
      CB_CHECK_INPUT(half % c == 0, "{}: {} columns do not split into {}-wide chunks", rows.path, half, c);
      Index ix(cbs.shared, cbs.specific, uint32_t(half / c), o->store_floats ? uint32_t(D) : 0);
      append_embeddings(ix, rows, o->store_floats, !o->quiet);
      ix.save(o->out);
      fmt::print("index build: {} items → {} (fingerprint {:016x})\n", ix.size(), o->out, ix.fingerprint());
      return 0;
    }
    if (add->parsed()) {
      Index ix = Index::open(o->index);
      EmbeddingRows rows = read_embeddings(o->embeddings, opt_modality(o->modality, "--modality"));
      append_embeddings(ix, rows, ix.float_dim() > 0, !o->quiet);
      const std::string out = o->out.empty() ? o->index : o->out;
      ix.save(out);
      fmt::print("index add: {} items added, {} in {}\n", rows.emb.size(0), ix.size(), out);
      return 0;
    }
    if (search->parsed()) {
      const int sources = int(!o->texts.empty()) + int(!o->inputs.empty()) + int(!o->embeddings.empty());
      CB_CHECK_INPUT(sources == 1, "index search: give exactly one of --text \"…\", --modality M INPUT…, "
                                   "--embeddings FILE");
      for (const std::string& t : o->texts)
        CB_CHECK_INPUT(t.find_first_not_of(" \t\r\n") != std::string::npos,
                       "index search: --text \"{}\" is empty: nothing to search for", t);
      Index ix = Index::open(o->index);
      EmbeddingRows rows;
      bool model_queries = o->embeddings.empty();
      if (model_queries) {
        CB_CHECK_INPUT(!o->run.empty(), "index search: --text and raw-file queries need --run RUN (the trained run "
                                        "whose model built the index)");
        CB_CHECK_INPUT(!o->inputs.empty() || o->modality.empty() || o->modality == "text",
                       "index search: --modality {} needs input files", o->modality);
        CB_CHECK_INPUT(o->inputs.empty() || !o->modality.empty(), "index search: raw query files need --modality M");
        RunModel rm = load_run_model(o->run);
        check_same_model(ix, rm);
        rows = !o->texts.empty() ? embed_texts(rm, o->texts)
                                 : embed_files(rm, cb::parse_modality(o->modality, "--modality"), o->inputs);
      } else {
        rows = read_embeddings(o->embeddings, opt_modality(o->modality, "--modality"));
      }
      if (!o->codebook.empty()) {
        Codebooks q = read_codebooks(o->codebook);
        uint64_t fp = codebook_fingerprint(q.shared, q.specific);
        CB_CHECK_INPUT(fp == ix.fingerprint(),
                       "{}: the query codebook {} has fingerprint {:016x}, the index {:016x}: the queries come from "
                       "a different model",
                       o->index, o->codebook, fp, ix.fingerprint());
      }
      if (!rows.fingerprint.empty())
        CB_CHECK_INPUT(rows.fingerprint == fmt::format("{:016x}", ix.fingerprint()),
                       "{}: queries were made with codebook {} but the index {} uses {:016x}", rows.path,
                       rows.fingerprint, o->index, ix.fingerprint());
      SearchOptions so;
      so.k = o->k;
      so.mode = o->mode == "concat" ? SearchMode::Concat : SearchMode::Shared;
      so.rerank = o->rerank;
      if (!o->only.empty()) so.only_modality = static_cast<int>(cb::parse_modality(o->only, "--only"));
      // Model queries are already the quantised embeddings evaluation compares.
      const bool quant = o->query == "quantised" && !model_queries;
      const std::vector<std::vector<Hit>> hits = search_rows(ix, rows, so, quant);
      for (size_t q = 0; q < hits.size(); ++q) {
        if (o->json) {
          nlohmann::json j;
          j["query"] = rows.ids[q];
          j["hits"] = nlohmann::json::array();
          for (const Hit& h : hits[q])
            j["hits"].push_back({{"id", ix.id(h.row)}, {"score", h.score},
                                 {"modality", cb::modality_name(ix.modality(h.row))}, {"source", ix.source(h.row)}});
          fmt::print("{}\n", j.dump());
        } else {
          fmt::print("query {}\n", rows.ids[q]);
          for (size_t i = 0; i < hits[q].size(); ++i) {
            const Hit& h = hits[q][i];
            fmt::print("  {:>3} {:.6f} {} {} {}\n", i + 1, h.score, cb::modality_name(ix.modality(h.row)),
                       ix.id(h.row), ix.source(h.row));
          }
        }
      }
      return 0;
    }
    if (info->parsed()) {
      print_info(Index::open(o->index));
      return 0;
    }
    if (del->parsed()) {
      Index ix = Index::open(o->index);
      int64_t n = ix.remove(o->ids);
      const std::string out = o->out.empty() ? o->index : o->out;
      ix.save(out);
      fmt::print("index delete: {} of {} ids removed, {} items left in {}\n", n, o->ids.size(), ix.size(), out);
      return 0;
    }
    if (merge->parsed()) {
      Index ix = Index::open(o->inputs[0]);
      for (size_t i = 1; i < o->inputs.size(); ++i) ix.merge(Index::open(o->inputs[i]));
      ix.save(o->out);
      fmt::print("index merge: {} items → {}\n", ix.size(), o->out);
      return 0;
    }
    return 2;
  };
}

CB_REGISTER_COMMAND("index", "compressed code index: build, add, search, info, delete, merge", setup_index);

}  // namespace
