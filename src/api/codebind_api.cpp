// codebind_api.cpp — include/codebind/codebind.h on top of the app layer: Model wraps a run's
// CodeBindModel and input pipeline (app/index_run.h), Index wraps the code index. Every
// internal exception becomes codebind::Error at this boundary, with its message kept.
#include <codebind/codebind.h>

#include "app/embed_split.h"
#include "app/index_run.h"
#include "core/error.h"
#include "core/modality.h"
#include "index/code_index.h"

namespace codebind {

namespace {

// Runs `f`, turning every exception into codebind::Error.
template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(e.what());
  }
}

std::vector<float> row_floats(const at::Tensor& t, int64_t i) {
  if (!t.defined() || t.numel() == 0) return {};
  at::Tensor r = t[i].to(at::kFloat).contiguous();
  return std::vector<float>(r.data_ptr<float>(), r.data_ptr<float>() + r.numel());
}

std::vector<int32_t> row_codes(const at::Tensor& t, int64_t i) {
  if (!t.defined() || t.numel() == 0) return {};
  at::Tensor r = t[i].to(at::kInt).contiguous();
  return std::vector<int32_t>(r.data_ptr<int32_t>(), r.data_ptr<int32_t>() + r.numel());
}

// Embeddings of `ids` (rows in order) → public rows.
std::vector<Embedding> to_rows(const cb::CodeBindEmbedding& e, const std::vector<std::string>& ids,
                               const std::string& modality) {
  std::vector<Embedding> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    Embedding r;
    r.id = ids[i];
    r.modality = modality;
    r.shared = row_floats(e.z_c, int64_t(i));
    r.specific = row_floats(e.z_s, int64_t(i));
    r.shared_codes = row_codes(e.shared_codes, int64_t(i));
    r.specific_codes = row_codes(e.specific_codes, int64_t(i));
    out.push_back(std::move(r));
  }
  return out;
}

constexpr int64_t kBatch = 64;

}  // namespace

const char* version() { return CODEBIND_VERSION; }

// ---- Model ------------------------------------------------------------------------------------

struct Model::Impl {
  cb::RunModel rm;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::open(const std::string& run) {
  return guarded([&] {
    auto impl = std::make_unique<Impl>();
    impl->rm = cb::open_run_model(run);
    impl->rm.model->train(false);
    return Model(std::move(impl));
  });
}

std::vector<std::string> Model::modalities() const {
  std::vector<std::string> out;
  for (cb::Modality m : impl_->rm.model->config().modality_pair) out.emplace_back(cb::modality_name(m));
  return out;
}

int64_t Model::shared_dim() const { return impl_->rm.model->config().shared_dim; }
int64_t Model::specific_dim() const { return impl_->rm.model->config().specific_dim; }

std::vector<Embedding> Model::embed_files(const std::string& modality, const std::vector<std::string>& paths) {
  return guarded([&] {
    const cb::Modality m = cb::parse_modality(modality, "embed_files: modality");
    CB_CHECK_INPUT(m != cb::Modality::Text, "embed_files: texts go through embed_texts");
    return to_rows(cb::embed_inputs(impl_->rm, m, paths, kBatch), paths, modality);
  });
}

std::vector<Embedding> Model::embed_texts(const std::vector<std::string>& texts) {
  return guarded([&] { return to_rows(cb::embed_inputs(impl_->rm, cb::Modality::Text, texts, kBatch), texts, "text"); });
}

// ---- Index ------------------------------------------------------------------------------------

struct Index::Impl {
  cb::index::Index ix;
};

Index::Index(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Index::Index(Index&&) noexcept = default;
Index& Index::operator=(Index&&) noexcept = default;
Index::~Index() = default;

Index Index::build(Model& model, const std::string& data_dir, bool progress) {
  return guarded([&] {
    cb::RunModel& rm = model.impl_->rm;
    cb::attach_codebooks(rm);
    auto impl = std::make_unique<Impl>();
    impl->ix = cb::build_index_from_run(rm, data_dir, progress);
    return Index(std::move(impl));
  });
}

Index Index::open(const std::string& path) {
  return guarded([&] {
    auto impl = std::make_unique<Impl>();
    impl->ix = cb::index::Index::open(path);
    return Index(std::move(impl));
  });
}

void Index::save(const std::string& path) const {
  guarded([&] { impl_->ix.save(path); });
}

int64_t Index::size() const { return impl_->ix.size(); }

namespace {

std::vector<std::vector<Hit>> to_hits(const cb::index::Index& ix, const std::vector<std::vector<cb::index::Hit>>& r) {
  std::vector<std::vector<Hit>> out(r.size());
  for (size_t q = 0; q < r.size(); ++q)
    for (const cb::index::Hit& h : r[q])
      out[q].push_back(Hit{ix.id(h.row), cb::modality_name(ix.modality(h.row)), ix.source(h.row), h.score});
  return out;
}

std::vector<std::vector<Hit>> search(const cb::index::Index& ix, const cb::index::EmbeddingRows& rows, int k) {
  CB_CHECK_INPUT(k > 0, "search: k must be positive, got {}", k);
  cb::index::SearchOptions so;
  so.k = k;
  return to_hits(ix, cb::search_rows(ix, rows, so, /*quantise_queries=*/false));
}

}  // namespace

std::vector<std::vector<Hit>> Index::search_texts(Model& model, const std::vector<std::string>& texts, int k) {
  return guarded([&] {
    cb::RunModel& rm = model.impl_->rm;
    cb::attach_codebooks(rm);
    cb::check_same_model(impl_->ix, rm);
    return search(impl_->ix, cb::embed_texts(rm, texts), k);
  });
}

std::vector<std::vector<Hit>> Index::search_files(Model& model, const std::string& modality,
                                                  const std::vector<std::string>& paths, int k) {
  return guarded([&] {
    cb::RunModel& rm = model.impl_->rm;
    cb::attach_codebooks(rm);
    cb::check_same_model(impl_->ix, rm);
    const cb::Modality m = cb::parse_modality(modality, "search_files: modality");
    return search(impl_->ix, cb::embed_files(rm, m, paths), k);
  });
}

}  // namespace codebind
