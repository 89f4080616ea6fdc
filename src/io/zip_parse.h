// zip_parse.h — torch-free reader of a zip archive's central directory, as written by
// torch.save: every entry stored (method 0, uncompressed), zip64 records for archives or
// entries beyond 4 GiB. Returns where each entry's bytes lie in the file so that callers can
// point tensors straight into a memory mapping. Every malformed input ends in cb::InputError
// naming the file (this is what fuzz/fuzz_zip.cpp exercises).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cb {

struct ZipEntry {
  std::string name;
  uint64_t data_offset = 0;  // absolute offset of the entry's bytes in the file
  uint64_t size = 0;         // bytes (stored: compressed size == uncompressed size)
};

struct ZipIndex {
  std::vector<ZipEntry> entries;         // central-directory order
  std::map<std::string, size_t> by_name;  // name → index into entries
  const ZipEntry* find(const std::string& name) const;
};

// Parses the archive held in memory (`data`, `size`); `file` names it in error messages.
// Checks: end-of-central-directory record (and zip64 locator/record) present and consistent,
// entry count plausible for the directory size, every header signature, stored entries only,
// no encryption, local headers and data inside the file, no duplicate names.
ZipIndex parse_zip(const uint8_t* data, size_t size, const std::string& file);

}  // namespace cb
