// index_build.cpp — see index_build.h.
#include "index/index_build.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/progress.h"
#include "quant/assign.h"
#include "quant/code_pack.h"
#include "io/safetensors.h"

namespace cb::index {
namespace {

std::vector<std::string> json_strings(const SafetensorsFile& f, const std::string& key, int64_t n) {
  std::string s = f.meta(key);
  if (s.empty()) return {};
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(s);
  } catch (const std::exception& e) {
    fail_input("{}: metadata '{}' is not JSON: {}", f.path(), key, e.what());
  }
  CB_CHECK_INPUT(j.is_array() && int64_t(j.size()) == n, "{}: metadata '{}' must be a JSON array of {} strings",
                 f.path(), key, n);
  std::vector<std::string> out;
  for (const auto& v : j) {
    CB_CHECK_INPUT(v.is_string(), "{}: metadata '{}' must hold strings", f.path(), key);
    out.push_back(v.get<std::string>());
  }
  return out;
}

// Eval-mode quantiser encode (docs/model.md §3.3 steps 1 and 3): x (N, m·c) → (N, m) int64,
// the codevector with the highest cosine to each normalised chunk (ties → lowest index).
at::Tensor encode_chunks(const at::Tensor& x, const at::Tensor& weight /*(K, c)*/) {
  const int64_t c = weight.size(1), N = x.size(0), m = x.size(1) / c;
  at::Tensor u = x.reshape({N * m, c});
  u = (u / u.norm(2, 1, true).clamp_min(1e-12)).contiguous();
  at::Tensor w = (weight / weight.norm(2, 1, true).clamp_min(1e-12)).contiguous();
  return cb::argmax_cosine(u, w).view({N, m});
}

at::Tensor cb_tensor(const Codebook& c) {
  return at::from_blob(const_cast<float*>(c.w.data()), {int64_t(c.rows), int64_t(c.dim)}, at::kFloat);
}

// Decoded concatenation of codevectors for codes (n, m): (n, m·c).
at::Tensor decode_codes(const at::Tensor& codes, const Codebook& c) {
  return cb_tensor(c).index_select(0, codes.reshape(-1)).view({codes.size(0), -1});
}

}  // namespace

Codebook codebook_from_tensor(const at::Tensor& t, const std::string& where) {
  CB_CHECK_INPUT(t.dim() == 2 && t.size(0) >= 1 && t.size(1) >= 1, "{}: codebook must be (K, c), got {}", where,
                 c10::str(t.sizes()));
  at::Tensor w = t.to(at::kFloat).contiguous();
  return Codebook{uint32_t(w.size(0)), uint32_t(w.size(1)),
                  std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + w.numel())};
}

EmbeddingRows read_embeddings(const std::string& path, std::optional<Modality> modality) {
  SafetensorsFile f(path);
  EmbeddingRows r;
  r.path = path;
  at::Tensor e = f.get("embeddings");
  CB_CHECK_INPUT(e.dim() == 2, "{}: 'embeddings' must be (N, D), got {}", path, c10::str(e.sizes()));
  r.emb = e.to(at::kFloat).contiguous();
  CB_CHECK_INPUT(r.emb.isfinite().all().item<bool>(), "{}: 'embeddings' holds non-finite values", path);
  const int64_t n = r.emb.size(0);
  r.ids = json_strings(f, "ids", n);
  if (r.ids.empty())
    for (int64_t i = 0; i < n; ++i) r.ids.push_back("row" + std::to_string(i));
  r.sources = json_strings(f, "sources", n);
  if (modality) {
    r.modalities.assign(n, *modality);
  } else if (!f.meta("modality").empty()) {
    r.modalities.assign(n, parse_modality(f.meta("modality"), path + ": metadata 'modality'"));
  } else {
    auto names = json_strings(f, "modalities", n);
    CB_CHECK_INPUT(!names.empty(), "{}: no modality: give --modality or metadata 'modality'/'modalities'", path);
    for (const auto& s : names) r.modalities.push_back(parse_modality(s, path + ": metadata 'modalities'"));
  }
  r.fingerprint = f.meta("codebook_fingerprint");
  return r;
}

Codebooks read_codebooks(const std::string& path) {
  SafetensorsFile f(path);
  Codebooks c;
  c.shared = codebook_from_tensor(f.get("shared"), path + ": 'shared'");
  for (const auto& k : f.keys()) {
    if (k.rfind("specific.", 0) != 0) continue;
    Modality m = parse_modality(k.substr(9), path + ": key '" + k + "'");
    c.specific[m] = codebook_from_tensor(f.get(k), path + ": '" + k + "'");
  }
  return c;
}

void append_embeddings(Index& ix, const EmbeddingRows& rows, bool store_floats, bool progress) {
  const int64_t half = int64_t(ix.chunks()) * ix.chunk_dim(), n = rows.emb.size(0), D = rows.emb.size(1);
  CB_CHECK_INPUT(D == half || D == 2 * half, "{}: embeddings have {} columns, the index expects {} or {}", rows.path,
                 D, half, 2 * half);
  if (!rows.fingerprint.empty())
    CB_CHECK_INPUT(rows.fingerprint == fmt::format("{:016x}", ix.fingerprint()),
                   "{}: embeddings were made with codebook {} but the index uses {:016x}", rows.path,
                   rows.fingerprint, ix.fingerprint());
  CB_CHECK_INPUT(!store_floats || ix.float_dim() == uint32_t(D) || ix.float_dim() == 0,
                 "{}: index stores {}-wide floats, embeddings have {}", rows.path, ix.float_dim(), D);
  const at::Tensor shared_w = cb_tensor(ix.shared_codebook());
  ProgressBar bar("index", n, progress);
  const int64_t batch = 4096;
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t nb = std::min(batch, n - b0);
    at::Tensor e = rows.emb.narrow(0, b0, nb);
    at::Tensor sc = cb::pack_codes(encode_chunks(e.narrow(1, 0, half), shared_w), ix.shared_bits());
    at::Tensor pc;
    if (ix.has_specific()) {
      at::Tensor codes = at::zeros({nb, int64_t(ix.chunks())}, at::kLong);
      if (D == 2 * half)
        for (const auto& [m, cbk] : ix.specific_codebooks()) {
          std::vector<int64_t> sel;
          for (int64_t i = 0; i < nb; ++i)
            if (rows.modalities[b0 + i] == m) sel.push_back(i);
          if (sel.empty()) continue;
          at::Tensor idx = at::tensor(sel, at::kLong);
          codes.index_copy_(0, idx, encode_chunks(e.index_select(0, idx).narrow(1, half, half), cb_tensor(cbk)));
        }
      pc = cb::pack_codes(codes, ix.specific_bits());
    }
    ItemBatch ib;
    ib.n = nb;
    ib.shared_codes = sc.data_ptr<uint8_t>();
    ib.specific_codes = pc.defined() ? pc.data_ptr<uint8_t>() : nullptr;
    at::Tensor ef = e.contiguous();
    ib.embeddings = ix.float_dim() ? ef.data_ptr<float>() : nullptr;
    ib.ids.assign(rows.ids.begin() + b0, rows.ids.begin() + b0 + nb);
    ib.modalities.assign(rows.modalities.begin() + b0, rows.modalities.begin() + b0 + nb);
    if (!rows.sources.empty()) ib.sources.assign(rows.sources.begin() + b0, rows.sources.begin() + b0 + nb);
    for (const auto& id : ib.ids)
      CB_CHECK_INPUT(ix.find(id) < 0, "{}: id '{}' is already in the index", rows.path, id);
    ix.append(ib);
    bar.tick(nb);
  }
  bar.finish();
}

at::Tensor query_vectors(const Index& ix, const at::Tensor& emb, Modality modality, SearchMode mode,
                         bool quantised) {
  const int64_t half = int64_t(ix.chunks()) * ix.chunk_dim();
  CB_CHECK_INPUT(emb.dim() == 2 && (emb.size(1) == half || emb.size(1) == 2 * half),
                 "query embeddings must be (n, {}) or (n, {}), got {}", half, 2 * half, c10::str(emb.sizes()));
  const Codebook* spec = ix.specific_codebook(modality);
  const bool concat = mode == SearchMode::Concat && spec != nullptr;
  CB_CHECK_INPUT(!concat || emb.size(1) == 2 * half, "concat search needs {}-wide query embeddings", 2 * half);
  at::Tensor e = emb.to(at::kFloat);
  if (!quantised) return concat ? e.contiguous() : e.narrow(1, 0, half).contiguous();
  at::Tensor zc = decode_codes(encode_chunks(e.narrow(1, 0, half), cb_tensor(ix.shared_codebook())),
                               ix.shared_codebook());
  if (!concat) return (zc / zc.norm(2, 1, true).clamp_min(1e-12)).contiguous();
  at::Tensor zs = decode_codes(encode_chunks(e.narrow(1, half, half), cb_tensor(*spec)), *spec);
  at::Tensor z = at::cat({zc, zs}, 1);
  return (z / z.norm(2, 1, true).clamp_min(1e-12)).contiguous();
}

}  // namespace cb::index
