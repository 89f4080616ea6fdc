// index_file.cpp — Index::open (memory-mapped, validated by parse_index_file) and Index::save
// (atomic write). Layout: index/index_format.h.
#include <cstring>

#include "core/error.h"
#include "index/code_index.h"
#include "io/mapped_file.h"

namespace cb::index {

Index Index::open(const std::string& path) {
  auto file = MappedFile::open(path);
  IndexLayout L = parse_index_file(file->data(), file->size(), path);
  const IndexHeader& h = L.header;
  const uint8_t* d = file->data();
  auto floats_at = [&](uint64_t off, uint64_t n) {
    std::vector<float> v(n);
    if (n) std::memcpy(v.data(), d + off, n * 4);
    return v;
  };
  Codebook shared{h.shared_k, h.chunk_dim, floats_at(L.find(SectionKind::SharedCodebook)->offset,
                                                     uint64_t(h.shared_k) * h.chunk_dim)};
  std::map<Modality, Codebook> specific;
  for (const auto& r : L.specific)
    specific[static_cast<Modality>(r.modality)] = Codebook{r.rows, h.chunk_dim,
                                                           floats_at(r.offset, uint64_t(r.rows) * h.chunk_dim)};
  Index ix(std::move(shared), std::move(specific), h.chunks, h.float_dim);
  CB_CHECK_INPUT(ix.fingerprint_ == h.fingerprint, "{}: codebook fingerprint mismatch", path);
  CB_CHECK_INPUT(ix.specific_bits_ == h.specific_bits, "{}: specific code width mismatch", path);
  const uint64_t N = h.count;
  auto sec = [&](SectionKind k) { return L.find(k); };
  ix.shared_codes_.view(d + sec(SectionKind::SharedCodes)->offset, N * L.shared_code_bytes());
  if (const Section* s = sec(SectionKind::SpecificCodes))
    ix.specific_codes_.view(d + s->offset, s->size);
  else if (ix.has_specific())
    ix.specific_codes_.owned().assign(N * L.specific_code_bytes(), 0);
  ix.mods_.view(d + sec(SectionKind::Modality)->offset, N);
  // Offsets sections are 64-byte aligned, so u64 / f32 views are aligned.
  ix.id_off_.view(reinterpret_cast<const uint64_t*>(d + sec(SectionKind::IdOffsets)->offset), N + 1);
  ix.id_blob_.view(reinterpret_cast<const char*>(d + sec(SectionKind::IdBlob)->offset),
                   sec(SectionKind::IdBlob)->size);
  ix.src_off_.view(reinterpret_cast<const uint64_t*>(d + sec(SectionKind::SourceOffsets)->offset), N + 1);
  ix.src_blob_.view(reinterpret_cast<const char*>(d + sec(SectionKind::SourceBlob)->offset),
                    sec(SectionKind::SourceBlob)->size);
  if (const Section* s = sec(SectionKind::Embeddings))
    ix.floats_.view(reinterpret_cast<const float*>(d + s->offset), N * h.float_dim);
  ix.path_ = path;
  ix.file_ = file;
  ix.compute_norms(0);
  return ix;
}

void Index::save(const std::string& path) const {
  const uint64_t N = size();
  struct Part {
    SectionKind kind;
    const void* p;
    uint64_t n;
    std::string owned;
  };
  std::vector<Part> parts;
  auto add = [&](SectionKind k, const void* p, uint64_t n) { parts.push_back(Part{k, p, n, {}}); };
  add(SectionKind::SharedCodebook, shared_.w.data(), shared_.w.size() * 4);
  if (!specific_.empty()) {
    std::string s(4, '\0');
    uint32_t cnt = static_cast<uint32_t>(specific_.size());
    std::memcpy(s.data(), &cnt, 4);
    for (const auto& [m, c] : specific_) {
      uint32_t hdr[2] = {static_cast<uint32_t>(m), c.rows};
      s.append(reinterpret_cast<const char*>(hdr), 8);
      s.append(reinterpret_cast<const char*>(c.w.data()), c.w.size() * 4);
    }
    parts.push_back(Part{SectionKind::SpecificCodebooks, nullptr, 0, std::move(s)});
  }
  add(SectionKind::SharedCodes, shared_codes(), N * shared_code_bytes());
  if (has_specific()) add(SectionKind::SpecificCodes, specific_codes(), N * specific_code_bytes());
  add(SectionKind::Modality, mods_.data(), N);
  add(SectionKind::IdOffsets, id_off_.data(), (N + 1) * 8);
  add(SectionKind::IdBlob, id_blob_.data(), id_blob_.size());
  add(SectionKind::SourceOffsets, src_off_.data(), (N + 1) * 8);
  add(SectionKind::SourceBlob, src_blob_.data(), src_blob_.size());
  if (float_dim_) add(SectionKind::Embeddings, embeddings(), N * float_dim_ * 4);

  std::vector<Section> secs;
  for (auto& p : parts) {
    if (!p.owned.empty()) p.p = p.owned.data(), p.n = p.owned.size();
    Section s;
    s.kind = p.kind;
    s.size = p.n;
    s.crc = crc32(static_cast<const uint8_t*>(p.p), p.n);
    secs.push_back(s);
  }
  IndexHeader h;
  h.count = N;
  h.chunks = chunks_;
  h.chunk_dim = shared_.dim;
  h.shared_k = shared_.rows;
  h.shared_bits = shared_bits_;
  h.specific_k = specific_.empty() ? 0 : specific_.begin()->second.rows;
  h.specific_bits = specific_bits_;
  h.float_dim = float_dim_;
  h.fingerprint = fingerprint_;
  std::string out = build_index_prefix(h, secs);
  for (size_t i = 0; i < parts.size(); ++i) {
    out.resize(secs[i].offset, '\0');
    if (parts[i].n) out.append(static_cast<const char*>(parts[i].p), parts[i].n);
  }
  write_file_atomic(path, out);
}

}  // namespace cb::index
