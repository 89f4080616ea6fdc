// code_index.h — the compressed code index: CodeBind's own discrete codes, packed, with ids
// and metadata, searchable without decoding (index/search.h) and stored in a versioned,
// checksummed, memory-mapped file (index/index_file.cpp, layout in index/index_format.h).
//
// One item = packed shared codes (chunks × shared_bits bits, 160 bytes for 128 × 10 bits),
// optionally packed specific codes (chunks × specific_bits, 128 bytes for 128 × 8 bits),
// a modality, an id, a source string, and optionally its un-quantised float embedding
// (float_dim columns) for re-ranking. The codebooks travel with the index: shared C (K, c)
// and one specific S^M (Ks, c) per modality; their fingerprint guards every query and merge.
//
// The decoded quantised shared embedding of an item is z_c = n(concat_j C[k_j]) (1024-d), and
// concat z = n([concat_j C[k_j]; concat_j S^M[s_j]]) (2048-d) — docs/model.md §3.8.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/modality.h"
#include "index/index_format.h"

namespace cb {
class MappedFile;
}

namespace cb::index {

// A codebook: rows × dim float32, row-major (the raw EMA rows, not normalised).
struct Codebook {
  uint32_t rows = 0, dim = 0;
  std::vector<float> w;  // (rows, dim)
  const float* row(uint32_t k) const { return w.data() + size_t(k) * dim; }
};

// A column of fixed-size elements that is either a view into a mapped file or owned.
template <typename T>
class Column {
 public:
  const T* data() const { return own_ ? vec_.data() : ptr_; }
  size_t size() const { return own_ ? vec_.size() : n_; }
  void view(const T* p, size_t n) { own_ = false, ptr_ = p, n_ = n, vec_.clear(); }
  std::vector<T>& owned() {  // switches to an owned copy (copy-on-write)
    if (!own_) vec_.assign(ptr_, ptr_ + n_), own_ = true, ptr_ = nullptr, n_ = 0;
    return vec_;
  }

 private:
  bool own_ = true;
  const T* ptr_ = nullptr;
  size_t n_ = 0;
  std::vector<T> vec_;
};

// What one append adds: n items.
struct ItemBatch {
  int64_t n = 0;
  const uint8_t* shared_codes = nullptr;    // (n, shared_code_bytes) packed
  const uint8_t* specific_codes = nullptr;  // (n, specific_code_bytes) packed, or null (zeros)
  const float* embeddings = nullptr;        // (n, float_dim) or null (index without floats)
  std::vector<std::string> ids;             // n
  std::vector<Modality> modalities;         // n
  std::vector<std::string> sources;         // n or empty
};

class Index {
 public:
  Index() = default;
  // An empty index over these codebooks: `specific` may be empty (no specific codes); every
  // specific codebook must have the same rows and the shared dim. float_dim 0 = no floats.
  Index(Codebook shared, std::map<Modality, Codebook> specific, uint32_t chunks, uint32_t float_dim);

  // Memory-maps and validates `path` (InputError naming the file on any problem).
  static Index open(const std::string& path);
  // Writes atomically (temp file + rename).
  void save(const std::string& path) const;

  void append(const ItemBatch& b);
  // Removes every item whose id is in `ids`; returns how many were removed.
  int64_t remove(const std::vector<std::string>& ids);
  // Appends all items of `other`; InputError when the codebooks (fingerprint), chunking or
  // stored-embedding width differ.
  void merge(const Index& other);

  int64_t size() const { return static_cast<int64_t>(mods_.size()); }
  uint32_t chunks() const { return chunks_; }
  uint32_t chunk_dim() const { return shared_.dim; }
  uint32_t shared_bits() const { return shared_bits_; }
  uint32_t specific_bits() const { return specific_bits_; }
  uint32_t float_dim() const { return float_dim_; }
  bool has_specific() const { return specific_bits_ > 0; }
  uint64_t fingerprint() const { return fingerprint_; }
  size_t shared_code_bytes() const { return packed_bytes(chunks_, shared_bits_); }
  size_t specific_code_bytes() const { return specific_bits_ ? packed_bytes(chunks_, specific_bits_) : 0; }
  const Codebook& shared_codebook() const { return shared_; }
  const std::map<Modality, Codebook>& specific_codebooks() const { return specific_; }
  const Codebook* specific_codebook(Modality m) const;
  const std::string& path() const { return path_; }  // file it was opened from, or ""

  const uint8_t* shared_codes() const { return shared_codes_.data(); }      // (N, shared_code_bytes)
  const uint8_t* specific_codes() const { return specific_codes_.data(); }  // (N, specific_code_bytes)
  const uint8_t* modalities() const { return mods_.data(); }                // (N) Modality values
  const float* embeddings() const { return floats_.data(); }                // (N, float_dim) or null
  const float* inv_norm_shared() const { return inv_shared_.data(); }       // (N) 1/‖decoded z_c‖
  const float* inv_norm_concat() const { return inv_concat_.data(); }       // (N) 1/‖decoded concat‖
  Modality modality(int64_t i) const { return static_cast<Modality>(mods_.data()[i]); }
  std::string id(int64_t i) const;
  std::string source(int64_t i) const;
  // Row of the item with this id, or -1.
  int64_t find(const std::string& id) const;
  // Items per modality.
  std::map<Modality, int64_t> counts() const;
  // Bytes held per item for search (codes + norms + modality), excluding ids/sources/floats.
  double search_bytes_per_item() const;

  // Decoded quantised embedding of row i: shared (chunks·dim) or concat (2·chunks·dim),
  // L2-normalised — the brute-force reference the search must match.
  std::vector<float> decode(int64_t i, bool concat) const;

 private:
  void compute_norms(int64_t from);
  void check_same_codebooks(const Index& other, const std::string& what) const;

  Codebook shared_;
  std::map<Modality, Codebook> specific_;
  uint32_t chunks_ = 0, shared_bits_ = 0, specific_bits_ = 0, float_dim_ = 0;
  uint64_t fingerprint_ = 0;
  std::string path_;
  std::shared_ptr<MappedFile> file_;
  Column<uint8_t> shared_codes_, specific_codes_, mods_;
  Column<uint64_t> id_off_, src_off_;
  Column<char> id_blob_, src_blob_;
  Column<float> floats_;
  std::vector<float> inv_shared_, inv_concat_;
  mutable std::map<std::string, int64_t> id_map_;  // built lazily by find()
};

// Fingerprint of a set of codebooks, as stored in the file header.
uint64_t codebook_fingerprint(const Codebook& shared, const std::map<Modality, Codebook>& specific);

}  // namespace cb::index
