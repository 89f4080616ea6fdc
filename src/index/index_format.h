// index_format.h — the on-disk layout of a codebind code index (`.cbx`) and its torch-free
// parser/writer. The parser is what fuzz/fuzz_index.cpp exercises: any byte string must
// either parse into a layout whose every section lies inside the file and agrees with the
// header, or throw cb::InputError naming the file — never crash, never a huge allocation.
//
// Layout (all integers little-endian):
//   [0, 128)   header (IndexHeader below, fixed 128 bytes, its own CRC32)
//   [128, 128 + 32·S)  section table: S entries {u32 kind, u32 reserved, u64 offset,
//              u64 size, u32 crc32, u32 reserved}
//   sections, each 64-byte aligned, each covered by its CRC32:
//     SharedCodebook   (K, c) float32                        (the shared codebook C)
//     SpecificCodebooks u32 n, then n × {u32 modality, u32 Ks, (Ks, c) float32}
//     SharedCodes      (N, shared_code_bytes) packed `shared_bits`-bit indices
//     SpecificCodes    (N, specific_code_bytes) packed `specific_bits`-bit indices (optional)
//     Modality         (N) u8 (cb::Modality value)
//     IdOffsets        (N+1) u64, IdBlob bytes   — item ids
//     SourceOffsets    (N+1) u64, SourceBlob bytes — source file / item reference
//     Embeddings       (N, float_dim) float32 un-quantised embeddings (optional, re-ranking)
// Packed codes: code j of a row starts at bit j·bits of the row, LSB first (the layout of
// quant/code_pack.h). Codebook fingerprint = FNV-1a 64 over the shared codebook bytes, then
// each specific codebook's (modality, Ks, bytes) in file order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/hash.h"

namespace cb::index {

constexpr char kIndexMagic[8] = {'C', 'B', 'I', 'N', 'D', 'E', 'X', '\0'};
constexpr uint32_t kIndexVersion = 1;
constexpr size_t kHeaderBytes = 128;
constexpr size_t kSectionEntryBytes = 32;
constexpr uint64_t kMaxItems = uint64_t(1) << 40;

enum class SectionKind : uint32_t {
  SharedCodebook = 1,
  SpecificCodebooks = 2,
  SharedCodes = 3,
  SpecificCodes = 4,
  Modality = 5,
  IdOffsets = 6,
  IdBlob = 7,
  SourceOffsets = 8,
  SourceBlob = 9,
  Embeddings = 10,
};
const char* section_name(SectionKind k);

struct IndexHeader {
  uint32_t version = kIndexVersion;
  uint64_t count = 0;          // N items
  uint32_t chunks = 128;       // m, chunks per half
  uint32_t chunk_dim = 8;      // c
  uint32_t shared_k = 1024;    // K rows of the shared codebook
  uint32_t shared_bits = 10;   // ceil(log2 K)
  uint32_t specific_k = 0;     // Ks of every specific codebook (0: no specific codes)
  uint32_t specific_bits = 0;  // ceil(log2 Ks) (0: none)
  uint32_t float_dim = 0;      // columns of the stored embeddings (0: none)
  uint32_t num_sections = 0;
  uint64_t fingerprint = 0;    // codebook fingerprint (see above)
};

struct Section {
  SectionKind kind;
  uint64_t offset = 0, size = 0;
  uint32_t crc = 0;
};

// One specific codebook inside the SpecificCodebooks section.
struct SpecificCodebookRef {
  uint8_t modality = 0;
  uint32_t rows = 0;
  uint64_t offset = 0;  // absolute file offset of its (Ks, c) float32 rows
};

// A validated file: header plus absolute offsets of every section present.
struct IndexLayout {
  IndexHeader header;
  std::vector<Section> sections;
  std::vector<SpecificCodebookRef> specific;
  const Section* find(SectionKind k) const;
  uint64_t shared_code_bytes() const;    // ceil(m·bits/8)
  uint64_t specific_code_bytes() const;  // 0 when none
};

// bits needed for K codes: ceil(log2 K), at least 1.
uint32_t bits_for(uint64_t k);
// ceil(m·bits/8).
inline uint64_t packed_bytes(uint64_t m, uint64_t bits) { return (m * bits + 7) / 8; }
// Code j of a packed row (bit j·bits, LSB first). Reads only bytes inside the row.
inline uint32_t read_code(const uint8_t* row, uint32_t j, uint32_t bits) {
  uint64_t bit = uint64_t(j) * bits;
  uint64_t byte = bit >> 3;
  uint32_t shift = bit & 7;
  uint32_t need = (shift + bits + 7) / 8;
  uint32_t v = 0;
  for (uint32_t b = 0; b < need; ++b) v |= uint32_t(row[byte + b]) << (8 * b);
  return (v >> shift) & ((1u << bits) - 1);
}

uint32_t crc32(const uint8_t* data, size_t n, uint32_t crc = 0);

// Parses and validates the whole file held in memory: magic, version, header CRC, section
// table (known kinds, no duplicates, inside the file, 64-byte aligned, sizes that match the
// header counts), every section's CRC32, the codebook fingerprint, finite codebook values,
// id/source offsets (monotone, inside their blobs), modality values, and — when K is not a
// power of two — every code < K. Throws InputError naming `file` on the first problem.
IndexLayout parse_index_file(const uint8_t* data, size_t size, const std::string& file);

// Serialises header + section table for sections whose sizes and CRCs are already filled in;
// assigns 64-byte aligned offsets in the given order (updates `sections`).
std::string build_index_prefix(IndexHeader header, std::vector<Section>& sections);

}  // namespace cb::index
