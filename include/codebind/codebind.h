// codebind.h — the library API of codebind: load a trained CodeBind model, embed files and
// texts of any of its modalities into shared / specific embeddings and their codes, and build,
// save, open and search a compressed code index. No libtorch types cross this header; link
// `codebind::codebind` (find_package(codebind)) and include <codebind/codebind.h>.
//
//   codebind::Model model = codebind::Model::open("runs/codebind");      // a `codebind train` run
//   auto e = model.embed_files("audio", {"dog.wav"});                     // e[0].shared, .shared_codes …
//   codebind::Index ix = codebind::Index::build(model, "data/");          // every item of a manifest
//   for (const codebind::Hit& h : ix.search_texts(model, {"a dog barking"}, 5)[0]) …
//
// Every function throws codebind::Error with a message naming the file and the problem.
// docs/api.md documents each call; examples/embed_and_search.cpp uses all of them.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace codebind {

// A bad input (missing file, wrong modality, malformed data) or an internal failure.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The library's version, e.g. "0.1.0".
const char* version();

// One embedded input.
struct Embedding {
  std::string id;        // the path or the text
  std::string modality;  // "vision", "audio", "depth", "thermal", "imu", "text", …
  // The shared half z_c (d_c floats, quantised, unit length): comparable across modalities.
  std::vector<float> shared;
  // The modality-specific half z_s (d_s floats, quantised); empty for text and for models
  // without a specific half.
  std::vector<float> specific;
  // One codebook index per 8-d chunk of each half (the compressed representation).
  std::vector<int32_t> shared_codes;
  std::vector<int32_t> specific_codes;
};

struct Hit {
  std::string id;        // the manifest id of the item
  std::string modality;
  std::string source;    // its file path (or its text)
  float score = 0;       // cosine similarity of the shared embeddings
};

class Index;

// A trained CodeBind model (RUN/model.safetensors of `codebind train`), with its bridge's
// input pipeline: files are decoded and preprocessed exactly as in training and evaluation.
class Model {
 public:
  // `run` is a run directory or its model.safetensors.
  static Model open(const std::string& run);
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  std::vector<std::string> modalities() const;  // the towers the model was trained with
  int64_t shared_dim() const;                   // d_c
  int64_t specific_dim() const;                 // d_s (0: no specific half)

  // Files of one modality (PNG/JPEG images, WAV audio, .npy depth/thermal/IMU, …).
  std::vector<Embedding> embed_files(const std::string& modality, const std::vector<std::string>& paths);
  std::vector<Embedding> embed_texts(const std::vector<std::string>& texts);

 private:
  friend class Index;
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A compressed code index (the format of `codebind index`).
class Index {
 public:
  // Embeds every item of the manifest at data_dir (dataset.json + items.jsonl) with `model`.
  static Index build(Model& model, const std::string& data_dir, bool progress = false);
  static Index open(const std::string& path);
  Index(Index&&) noexcept;
  Index& operator=(Index&&) noexcept;
  ~Index();

  void save(const std::string& path) const;
  int64_t size() const;

  // The k nearest items for each query (one result list per query, best first). Queries are
  // embedded by `model`, which must be the model that built the index.
  std::vector<std::vector<Hit>> search_texts(Model& model, const std::vector<std::string>& texts, int k = 10);
  std::vector<std::vector<Hit>> search_files(Model& model, const std::string& modality,
                                             const std::vector<std::string>& paths, int k = 10);

 private:
  struct Impl;
  explicit Index(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace codebind
