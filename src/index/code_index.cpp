// code_index.cpp — Index: construction, append, delete by id, merge, norms, decoding
// (file reading/writing lives in index_file.cpp).
#include "index/code_index.h"

#include <cmath>
#include <cstring>
#include <unordered_set>

#include "core/error.h"
#include "io/mapped_file.h"

namespace cb::index {

uint64_t codebook_fingerprint(const Codebook& shared, const std::map<Modality, Codebook>& specific) {
  uint64_t h = fnv1a64(reinterpret_cast<const uint8_t*>(shared.w.data()), shared.w.size() * 4);
  for (const auto& [m, cbk] : specific) {
    uint32_t hdr[2] = {static_cast<uint32_t>(m), cbk.rows};
    h = fnv1a64(reinterpret_cast<const uint8_t*>(hdr), 8, h);
    h = fnv1a64(reinterpret_cast<const uint8_t*>(cbk.w.data()), cbk.w.size() * 4, h);
  }
  return h;
}

Index::Index(Codebook shared, std::map<Modality, Codebook> specific, uint32_t chunks, uint32_t float_dim)
    : shared_(std::move(shared)), specific_(std::move(specific)), chunks_(chunks), float_dim_(float_dim) {
  CB_CHECK_INPUT(shared_.rows >= 1 && shared_.rows <= 65536 && shared_.dim >= 1 &&
                     shared_.w.size() == size_t(shared_.rows) * shared_.dim,
                 "index: shared codebook must be (K, c) with 1 ≤ K ≤ 65536, got {} × {}", shared_.rows, shared_.dim);
  CB_CHECK_INPUT(chunks_ >= 1 && chunks_ <= 4096, "index: {} chunks out of range", chunks_);
  for (float v : shared_.w) CB_CHECK_INPUT(std::isfinite(v), "index: non-finite value in the shared codebook");
  shared_bits_ = bits_for(shared_.rows);
  uint32_t ks = 0;
  for (const auto& [m, c] : specific_) {
    CB_CHECK_INPUT(c.dim == shared_.dim && c.w.size() == size_t(c.rows) * c.dim && c.rows >= 1 && c.rows <= 65536,
                   "index: specific codebook of {} must be (Ks, {}), got {} × {}", modality_name(m), shared_.dim,
                   c.rows, c.dim);
    CB_CHECK_INPUT(ks == 0 || ks == c.rows, "index: specific codebooks differ in size ({} vs {})", ks, c.rows);
    for (float v : c.w)
      CB_CHECK_INPUT(std::isfinite(v), "index: non-finite value in the specific codebook of {}", modality_name(m));
    ks = c.rows;
  }
  specific_bits_ = ks ? bits_for(ks) : 0;
  fingerprint_ = codebook_fingerprint(shared_, specific_);
  id_off_.owned().push_back(0);
  src_off_.owned().push_back(0);
}

const Codebook* Index::specific_codebook(Modality m) const {
  auto it = specific_.find(m);
  return it == specific_.end() ? nullptr : &it->second;
}

std::string Index::id(int64_t i) const {
  const uint64_t* o = id_off_.data();
  return std::string(id_blob_.data() + o[i], id_blob_.data() + o[i + 1]);
}
std::string Index::source(int64_t i) const {
  const uint64_t* o = src_off_.data();
  return std::string(src_blob_.data() + o[i], src_blob_.data() + o[i + 1]);
}

int64_t Index::find(const std::string& id) const {
  if (id_map_.size() != static_cast<size_t>(size())) {
    id_map_.clear();
    for (int64_t i = 0; i < size(); ++i) id_map_.emplace(this->id(i), i);
  }
  auto it = id_map_.find(id);
  return it == id_map_.end() ? -1 : it->second;
}

std::map<Modality, int64_t> Index::counts() const {
  std::map<Modality, int64_t> c;
  for (int64_t i = 0; i < size(); ++i) c[modality(i)]++;
  return c;
}

double Index::search_bytes_per_item() const {
  return double(shared_code_bytes() + specific_code_bytes()) + 1.0 /*modality*/ + 4.0 /*inv norm shared*/ +
         (has_specific() ? 4.0 : 0.0);
}

void Index::compute_norms(int64_t from) {
  const int64_t n = size();
  std::vector<float> sq_shared(shared_.rows);
  for (uint32_t k = 0; k < shared_.rows; ++k) {
    double s = 0;
    for (uint32_t d = 0; d < shared_.dim; ++d) s += double(shared_.row(k)[d]) * shared_.row(k)[d];
    sq_shared[k] = float(s);
  }
  std::map<Modality, std::vector<float>> sq_spec;
  for (const auto& [m, c] : specific_) {
    auto& v = sq_spec[m];
    v.resize(c.rows);
    for (uint32_t k = 0; k < c.rows; ++k) {
      double s = 0;
      for (uint32_t d = 0; d < c.dim; ++d) s += double(c.row(k)[d]) * c.row(k)[d];
      v[k] = float(s);
    }
  }
  inv_shared_.resize(n);
  inv_concat_.resize(has_specific() ? n : 0);
  const size_t sb = shared_code_bytes(), pb = specific_code_bytes();
  for (int64_t i = from; i < n; ++i) {
    const uint8_t* row = shared_codes() + i * sb;
    double s = 0;
    for (uint32_t j = 0; j < chunks_; ++j) s += sq_shared[read_code(row, j, shared_bits_)];
    inv_shared_[i] = s > 0 ? float(1.0 / std::sqrt(s)) : 0.f;
    if (has_specific()) {
      auto it = sq_spec.find(modality(i));
      if (it != sq_spec.end()) {
        const uint8_t* sr = specific_codes() + i * pb;
        for (uint32_t j = 0; j < chunks_; ++j) s += it->second[read_code(sr, j, specific_bits_)];
      }
      inv_concat_[i] = s > 0 ? float(1.0 / std::sqrt(s)) : 0.f;
    }
  }
}

std::vector<float> Index::decode(int64_t i, bool concat) const {
  const uint32_t c = shared_.dim;
  std::vector<float> out(size_t(chunks_) * c * (concat ? 2 : 1), 0.f);
  const uint8_t* row = shared_codes() + i * shared_code_bytes();
  for (uint32_t j = 0; j < chunks_; ++j)
    std::memcpy(&out[size_t(j) * c], shared_.row(read_code(row, j, shared_bits_)), c * 4);
  if (concat) {
    const Codebook* s = specific_codebook(modality(i));
    if (s && has_specific()) {
      const uint8_t* sr = specific_codes() + i * specific_code_bytes();
      for (uint32_t j = 0; j < chunks_; ++j)
        std::memcpy(&out[size_t(chunks_ + j) * c], s->row(read_code(sr, j, specific_bits_)), c * 4);
    }
  }
  double n = 0;
  for (float v : out) n += double(v) * v;
  if (n > 0)
    for (float& v : out) v = float(v / std::sqrt(n));
  return out;
}

void Index::append(const ItemBatch& b) {
  CB_CHECK_INPUT(b.n >= 0 && b.ids.size() == size_t(b.n) && b.modalities.size() == size_t(b.n) &&
                     (b.sources.empty() || b.sources.size() == size_t(b.n)),
                 "index append: {} items but {} ids, {} modalities, {} sources", b.n, b.ids.size(),
                 b.modalities.size(), b.sources.size());
  CB_CHECK_INPUT(b.shared_codes != nullptr || b.n == 0, "index append: no shared codes");
  CB_CHECK_INPUT(float_dim_ == 0 || b.embeddings != nullptr || b.n == 0,
                 "index append: this index stores {}-wide float embeddings; none given", float_dim_);
  const int64_t from = size();
  const size_t sb = shared_code_bytes(), pb = specific_code_bytes();
  // Codes must lie inside their codebooks.
  for (int64_t i = 0; i < b.n; ++i)
    for (uint32_t j = 0; j < chunks_; ++j) {
      uint32_t v = read_code(b.shared_codes + i * sb, j, shared_bits_);
      CB_CHECK_INPUT(v < shared_.rows, "index append: item '{}' shared code {} = {} ≥ K = {}", b.ids[i], j, v,
                     shared_.rows);
      if (b.specific_codes && pb) {
        uint32_t s = read_code(b.specific_codes + i * pb, j, specific_bits_);
        CB_CHECK_INPUT(s < specific_.begin()->second.rows, "index append: item '{}' specific code {} = {} out of range",
                       b.ids[i], j, s);
      }
    }
  auto& sc = shared_codes_.owned();
  sc.insert(sc.end(), b.shared_codes, b.shared_codes + b.n * sb);
  if (pb) {
    auto& pc = specific_codes_.owned();
    if (b.specific_codes)
      pc.insert(pc.end(), b.specific_codes, b.specific_codes + b.n * pb);
    else
      pc.resize(pc.size() + b.n * pb, 0);
  }
  auto& md = mods_.owned();
  for (auto m : b.modalities) md.push_back(static_cast<uint8_t>(m));
  auto push_strings = [&](Column<uint64_t>& off, Column<char>& blob, const std::vector<std::string>& v) {
    auto& o = off.owned();
    auto& bl = blob.owned();
    for (int64_t i = 0; i < b.n; ++i) {
      if (!v.empty()) bl.insert(bl.end(), v[i].begin(), v[i].end());
      o.push_back(bl.size());
    }
  };
  push_strings(id_off_, id_blob_, b.ids);
  push_strings(src_off_, src_blob_, b.sources);
  if (float_dim_) {
    auto& f = floats_.owned();
    f.insert(f.end(), b.embeddings, b.embeddings + b.n * float_dim_);
  }
  compute_norms(from);
}

int64_t Index::remove(const std::vector<std::string>& ids) {
  std::unordered_set<std::string> kill(ids.begin(), ids.end());
  const int64_t n = size();
  std::vector<char> keep(n, 1);
  int64_t removed = 0;
  for (int64_t i = 0; i < n; ++i)
    if (kill.count(id(i))) keep[i] = 0, ++removed;
  if (removed == 0) return 0;
  const size_t sb = shared_code_bytes(), pb = specific_code_bytes();
  std::vector<uint8_t> sc, pc, md;
  std::vector<uint64_t> io{0}, so{0};
  std::vector<char> ib, sbl;
  std::vector<float> fl;
  for (int64_t i = 0; i < n; ++i) {
    if (!keep[i]) continue;
    sc.insert(sc.end(), shared_codes() + i * sb, shared_codes() + (i + 1) * sb);
    if (pb) pc.insert(pc.end(), specific_codes() + i * pb, specific_codes() + (i + 1) * pb);
    md.push_back(mods_.data()[i]);
    std::string s = id(i);
    ib.insert(ib.end(), s.begin(), s.end());
    io.push_back(ib.size());
    s = source(i);
    sbl.insert(sbl.end(), s.begin(), s.end());
    so.push_back(sbl.size());
    if (float_dim_) fl.insert(fl.end(), embeddings() + i * float_dim_, embeddings() + (i + 1) * float_dim_);
  }
  shared_codes_.owned() = std::move(sc);
  specific_codes_.owned() = std::move(pc);
  mods_.owned() = std::move(md);
  id_off_.owned() = std::move(io);
  src_off_.owned() = std::move(so);
  id_blob_.owned() = std::move(ib);
  src_blob_.owned() = std::move(sbl);
  floats_.owned() = std::move(fl);
  id_map_.clear();
  compute_norms(0);
  return removed;
}

void Index::check_same_codebooks(const Index& o, const std::string& what) const {
  CB_CHECK_INPUT(o.fingerprint_ == fingerprint_ && o.chunks_ == chunks_ && o.shared_.dim == shared_.dim,
                 "{}: codebook fingerprint {:016x} differs from this index's {:016x}{}", what, o.fingerprint_,
                 fingerprint_, path_.empty() ? "" : " (" + path_ + ")");
}

void Index::merge(const Index& o) {
  check_same_codebooks(o, o.path_.empty() ? std::string("index merge") : "index merge: " + o.path_);
  CB_CHECK_INPUT(o.float_dim_ == float_dim_, "index merge: {} stores {}-wide embeddings, this index {}",
                 o.path_.empty() ? "other index" : o.path_, o.float_dim_, float_dim_);
  ItemBatch b;
  b.n = o.size();
  b.shared_codes = o.shared_codes();
  b.specific_codes = o.has_specific() ? o.specific_codes() : nullptr;
  b.embeddings = o.embeddings();
  for (int64_t i = 0; i < b.n; ++i) {
    b.ids.push_back(o.id(i));
    b.modalities.push_back(o.modality(i));
    b.sources.push_back(o.source(i));
  }
  append(b);
}

}  // namespace cb::index
