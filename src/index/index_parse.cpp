// index_parse.cpp — torch-free parsing and validation of a code index file (index_format.h).
#include <array>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/modality.h"
#include "index/index_format.h"

namespace cb::index {
namespace {

template <typename T>
T rd(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
void wr(std::string& s, size_t at, T v) {
  std::memcpy(s.data() + at, &v, sizeof(T));
}

const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> t = [] {
    std::array<uint32_t, 256> r{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      r[i] = c;
    }
    return r;
  }();
  return t;
}

// Header field offsets.
constexpr size_t kOffVersion = 8, kOffHeaderBytes = 12, kOffCount = 16, kOffChunks = 24, kOffChunkDim = 28,
                 kOffSharedK = 32, kOffSharedBits = 36, kOffSpecK = 40, kOffSpecBits = 44, kOffFloatDim = 48,
                 kOffNumSections = 52, kOffFingerprint = 56, kOffHeaderCrc = 64;

uint32_t header_crc(const uint8_t* p) {
  uint8_t tmp[kHeaderBytes];
  std::memcpy(tmp, p, kHeaderBytes);
  std::memset(tmp + kOffHeaderCrc, 0, 4);
  return crc32(tmp, kHeaderBytes);
}

}  // namespace

const char* section_name(SectionKind k) {
  switch (k) {
    case SectionKind::SharedCodebook: return "shared codebook";
    case SectionKind::SpecificCodebooks: return "specific codebooks";
    case SectionKind::SharedCodes: return "shared codes";
    case SectionKind::SpecificCodes: return "specific codes";
    case SectionKind::Modality: return "modality";
    case SectionKind::IdOffsets: return "id offsets";
    case SectionKind::IdBlob: return "ids";
    case SectionKind::SourceOffsets: return "source offsets";
    case SectionKind::SourceBlob: return "sources";
    case SectionKind::Embeddings: return "embeddings";
  }
  return "unknown";
}

uint32_t bits_for(uint64_t k) {
  uint32_t b = 1;
  while ((uint64_t(1) << b) < k) ++b;
  return b;
}

uint32_t crc32(const uint8_t* data, size_t n, uint32_t crc) {
  const auto& t = crc_table();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = t[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

const Section* IndexLayout::find(SectionKind k) const {
  for (const auto& s : sections)
    if (s.kind == k) return &s;
  return nullptr;
}
uint64_t IndexLayout::shared_code_bytes() const { return packed_bytes(header.chunks, header.shared_bits); }
uint64_t IndexLayout::specific_code_bytes() const {
  return header.specific_bits ? packed_bytes(header.chunks, header.specific_bits) : 0;
}

IndexLayout parse_index_file(const uint8_t* data, size_t size, const std::string& file) {
  CB_CHECK_INPUT(size >= kHeaderBytes, "{}: not a codebind index: {} bytes, shorter than the {}-byte header", file,
                 size, kHeaderBytes);
  CB_CHECK_INPUT(std::memcmp(data, kIndexMagic, 8) == 0, "{}: not a codebind index (bad magic)", file);
  IndexLayout L;
  IndexHeader& h = L.header;
  h.version = rd<uint32_t>(data + kOffVersion);
  CB_CHECK_INPUT(h.version == kIndexVersion, "{}: index format version {} is not supported (this build reads {})",
                 file, h.version, kIndexVersion);
  CB_CHECK_INPUT(rd<uint32_t>(data + kOffHeaderBytes) == kHeaderBytes, "{}: header size {} (expected {})", file,
                 rd<uint32_t>(data + kOffHeaderBytes), kHeaderBytes);
  CB_CHECK_INPUT(rd<uint32_t>(data + kOffHeaderCrc) == header_crc(data), "{}: header checksum mismatch (corrupt file)",
                 file);
  h.count = rd<uint64_t>(data + kOffCount);
  h.chunks = rd<uint32_t>(data + kOffChunks);
  h.chunk_dim = rd<uint32_t>(data + kOffChunkDim);
  h.shared_k = rd<uint32_t>(data + kOffSharedK);
  h.shared_bits = rd<uint32_t>(data + kOffSharedBits);
  h.specific_k = rd<uint32_t>(data + kOffSpecK);
  h.specific_bits = rd<uint32_t>(data + kOffSpecBits);
  h.float_dim = rd<uint32_t>(data + kOffFloatDim);
  h.num_sections = rd<uint32_t>(data + kOffNumSections);
  h.fingerprint = rd<uint64_t>(data + kOffFingerprint);
  CB_CHECK_INPUT(h.count <= kMaxItems, "{}: item count {} is implausible", file, h.count);
  CB_CHECK_INPUT(h.chunks >= 1 && h.chunks <= 4096 && h.chunk_dim >= 1 && h.chunk_dim <= 256,
                 "{}: chunks {} × chunk_dim {} out of range", file, h.chunks, h.chunk_dim);
  CB_CHECK_INPUT(h.shared_k >= 1 && h.shared_k <= 65536 && h.shared_bits == bits_for(h.shared_k),
                 "{}: shared codebook size {} with {}-bit codes (expected {} bits)", file, h.shared_k, h.shared_bits,
                 bits_for(h.shared_k));
  if (h.specific_k || h.specific_bits)
    CB_CHECK_INPUT(h.specific_k >= 1 && h.specific_k <= 65536 && h.specific_bits == bits_for(h.specific_k),
                   "{}: specific codebook size {} with {}-bit codes (expected {} bits)", file, h.specific_k,
                   h.specific_bits, bits_for(h.specific_k));
  CB_CHECK_INPUT(h.float_dim <= 65536, "{}: embedding width {} out of range", file, h.float_dim);
  CB_CHECK_INPUT(h.num_sections >= 1 && h.num_sections <= 16, "{}: {} sections (expected 1..16)", file,
                 h.num_sections);
  uint64_t table_end = kHeaderBytes + uint64_t(h.num_sections) * kSectionEntryBytes;
  CB_CHECK_INPUT(table_end <= size, "{}: truncated: section table ends at byte {}, file has {}", file, table_end,
                 size);

  const uint64_t N = h.count, c = h.chunk_dim;
  for (uint32_t i = 0; i < h.num_sections; ++i) {
    const uint8_t* e = data + kHeaderBytes + i * kSectionEntryBytes;
    Section s;
    uint32_t kind = rd<uint32_t>(e);
    CB_CHECK_INPUT(kind >= 1 && kind <= 10, "{}: section {} has unknown kind {}", file, i, kind);
    s.kind = static_cast<SectionKind>(kind);
    s.offset = rd<uint64_t>(e + 8);
    s.size = rd<uint64_t>(e + 16);
    s.crc = rd<uint32_t>(e + 24);
    const char* nm = section_name(s.kind);
    CB_CHECK_INPUT(L.find(s.kind) == nullptr, "{}: duplicate {} section", file, nm);
    CB_CHECK_INPUT(s.offset >= table_end && s.offset % 64 == 0, "{}: {} section at bad offset {}", file, nm,
                   s.offset);
    CB_CHECK_INPUT(s.offset <= size && s.size <= size - s.offset,
                   "{}: truncated: {} section [{}, +{}) runs past the end of the file ({} bytes)", file, nm, s.offset,
                   s.size, size);
    L.sections.push_back(s);
  }
  for (const auto& s : L.sections) {
    uint32_t got = crc32(data + s.offset, s.size);
    CB_CHECK_INPUT(got == s.crc, "{}: checksum mismatch in the {} section (stored {:08x}, computed {:08x})", file,
                   section_name(s.kind), s.crc, got);
  }
  auto need = [&](SectionKind k) -> const Section& {
    const Section* s = L.find(k);
    CB_CHECK_INPUT(s != nullptr, "{}: missing {} section", file, section_name(k));
    return *s;
  };
  auto expect_size = [&](const Section& s, uint64_t bytes) {
    CB_CHECK_INPUT(s.size == bytes, "{}: {} section has {} bytes, expected {}", file, section_name(s.kind), s.size,
                   bytes);
  };
  auto check_finite = [&](uint64_t off, uint64_t n, const char* what) {
    for (uint64_t i = 0; i < n; ++i) {
      float v = rd<float>(data + off + 4 * i);
      CB_CHECK_INPUT(std::isfinite(v), "{}: non-finite value in the {}", file, what);
    }
  };

  // Codebooks and fingerprint.
  const Section& cbk = need(SectionKind::SharedCodebook);
  expect_size(cbk, uint64_t(h.shared_k) * c * 4);
  check_finite(cbk.offset, uint64_t(h.shared_k) * c, "shared codebook");
  uint64_t fp = fnv1a64(data + cbk.offset, cbk.size);
  if (const Section* sp = L.find(SectionKind::SpecificCodebooks)) {
    CB_CHECK_INPUT(h.specific_k > 0, "{}: specific codebooks present but header says none", file);
    CB_CHECK_INPUT(sp->size >= 4, "{}: specific codebooks section too short", file);
    uint32_t n = rd<uint32_t>(data + sp->offset);
    CB_CHECK_INPUT(n >= 1 && n <= kModalityCount, "{}: {} specific codebooks (expected 1..{})", file, n, kModalityCount);
    uint64_t per = 8 + uint64_t(h.specific_k) * c * 4;
    expect_size(*sp, 4 + n * per);
    uint64_t at = sp->offset + 4;
    for (uint32_t i = 0; i < n; ++i, at += per) {
      SpecificCodebookRef r;
      uint32_t mod = rd<uint32_t>(data + at);
      r.rows = rd<uint32_t>(data + at + 4);
      CB_CHECK_INPUT(mod < kModalityCount, "{}: specific codebook {} has modality value {}", file, i, mod);
      CB_CHECK_INPUT(r.rows == h.specific_k, "{}: specific codebook {} has {} rows, header says {}", file, i, r.rows,
                     h.specific_k);
      for (const auto& o : L.specific)
        CB_CHECK_INPUT(o.modality != mod, "{}: two specific codebooks for modality value {}", file, mod);
      r.modality = static_cast<uint8_t>(mod);
      r.offset = at + 8;
      check_finite(r.offset, uint64_t(r.rows) * c, "specific codebook");
      L.specific.push_back(r);
    }
    fp = fnv1a64(data + sp->offset + 4, sp->size - 4, fp);
  } else {
    CB_CHECK_INPUT(h.specific_k == 0, "{}: header announces specific codes but there are no specific codebooks", file);
  }
  CB_CHECK_INPUT(fp == h.fingerprint, "{}: codebook fingerprint mismatch (header {:016x}, codebooks {:016x})", file,
                 h.fingerprint, fp);

  // Per-item sections.
  const Section& codes = need(SectionKind::SharedCodes);
  CB_CHECK_INPUT(N <= size, "{}: item count {} cannot fit in a {}-byte file", file, N, size);
  expect_size(codes, N * L.shared_code_bytes());
  if (const Section* s = L.find(SectionKind::SpecificCodes)) {
    CB_CHECK_INPUT(h.specific_k > 0, "{}: specific codes present but no specific codebooks", file);
    expect_size(*s, N * L.specific_code_bytes());
  }
  const Section& mods = need(SectionKind::Modality);
  expect_size(mods, N);
  for (uint64_t i = 0; i < N; ++i)
    CB_CHECK_INPUT(data[mods.offset + i] < kModalityCount, "{}: item {} has modality value {}", file, i, data[mods.offset + i]);
  auto check_strings = [&](SectionKind ko, SectionKind kb) {
    const Section& o = need(ko);
    const Section& b = need(kb);
    expect_size(o, (N + 1) * 8);
    uint64_t prev = 0;
    for (uint64_t i = 0; i <= N; ++i) {
      uint64_t v = rd<uint64_t>(data + o.offset + 8 * i);
      CB_CHECK_INPUT(i > 0 || v == 0, "{}: {} must start at 0", file, section_name(ko));
      CB_CHECK_INPUT(v >= prev && v <= b.size, "{}: {} entry {} = {} is not monotone within the {}-byte blob", file,
                     section_name(ko), i, v, b.size);
      prev = v;
    }
    CB_CHECK_INPUT(prev == b.size, "{}: {} end at {} but the blob has {} bytes", file, section_name(ko), prev, b.size);
  };
  check_strings(SectionKind::IdOffsets, SectionKind::IdBlob);
  check_strings(SectionKind::SourceOffsets, SectionKind::SourceBlob);
  if (const Section* s = L.find(SectionKind::Embeddings)) {
    CB_CHECK_INPUT(h.float_dim > 0, "{}: embeddings section present but header width is 0", file);
    expect_size(*s, N * h.float_dim * 4);
  } else {
    CB_CHECK_INPUT(h.float_dim == 0, "{}: header announces {}-wide embeddings but there is no section", file,
                   h.float_dim);
  }
  // Codes must index inside their codebooks (only possible to violate when K < 2^bits).
  auto check_codes = [&](const Section& s, uint32_t bits, uint32_t k, uint64_t row_bytes, const char* what) {
    if ((uint64_t(1) << bits) == k) return;
    for (uint64_t i = 0; i < N; ++i)
      for (uint32_t j = 0; j < h.chunks; ++j) {
        uint32_t v = read_code(data + s.offset + i * row_bytes, j, bits);
        CB_CHECK_INPUT(v < k, "{}: item {} {} code {} = {} ≥ codebook size {}", file, i, what, j, v, k);
      }
  };
  check_codes(codes, h.shared_bits, h.shared_k, L.shared_code_bytes(), "shared");
  if (const Section* s = L.find(SectionKind::SpecificCodes))
    check_codes(*s, h.specific_bits, h.specific_k, L.specific_code_bytes(), "specific");
  return L;
}

std::string build_index_prefix(IndexHeader h, std::vector<Section>& sections) {
  h.num_sections = static_cast<uint32_t>(sections.size());
  uint64_t at = kHeaderBytes + sections.size() * kSectionEntryBytes;
  for (auto& s : sections) {
    at = (at + 63) / 64 * 64;
    s.offset = at;
    at += s.size;
  }
  std::string out(kHeaderBytes + sections.size() * kSectionEntryBytes, '\0');
  std::memcpy(out.data(), kIndexMagic, 8);
  wr<uint32_t>(out, kOffVersion, h.version);
  wr<uint32_t>(out, kOffHeaderBytes, kHeaderBytes);
  wr<uint64_t>(out, kOffCount, h.count);
  wr<uint32_t>(out, kOffChunks, h.chunks);
  wr<uint32_t>(out, kOffChunkDim, h.chunk_dim);
  wr<uint32_t>(out, kOffSharedK, h.shared_k);
  wr<uint32_t>(out, kOffSharedBits, h.shared_bits);
  wr<uint32_t>(out, kOffSpecK, h.specific_k);
  wr<uint32_t>(out, kOffSpecBits, h.specific_bits);
  wr<uint32_t>(out, kOffFloatDim, h.float_dim);
  wr<uint32_t>(out, kOffNumSections, h.num_sections);
  wr<uint64_t>(out, kOffFingerprint, h.fingerprint);
  wr<uint32_t>(out, kOffHeaderCrc, header_crc(reinterpret_cast<const uint8_t*>(out.data())));
  for (size_t i = 0; i < sections.size(); ++i) {
    size_t e = kHeaderBytes + i * kSectionEntryBytes;
    wr<uint32_t>(out, e, static_cast<uint32_t>(sections[i].kind));
    wr<uint64_t>(out, e + 8, sections[i].offset);
    wr<uint64_t>(out, e + 16, sections[i].size);
    wr<uint32_t>(out, e + 24, sections[i].crc);
  }
  return out;
}

}  // namespace cb::index
