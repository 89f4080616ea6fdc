// zip_parse.cpp — see zip_parse.h. Layout reference: PKWARE APPNOTE (central directory
// header 46 bytes + name + extra + comment; local header 30 bytes + name + extra; EOCD 22
// bytes; zip64 EOCD locator 20 bytes; zip64 EOCD record 56 bytes; zip64 extra field id 1).
#include "io/zip_parse.h"

#include "core/error.h"

namespace cb {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr size_t kEocdSize = 22, kCentralSize = 46, kLocalSize = 30;
constexpr size_t kZip64LocatorSize = 20, kZip64EocdSize = 56;

uint16_t rd16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t rd32(const uint8_t* p) { return uint32_t(rd16(p)) | (uint32_t(rd16(p + 2)) << 16); }
uint64_t rd64(const uint8_t* p) { return uint64_t(rd32(p)) | (uint64_t(rd32(p + 4)) << 32); }

// True when [off, off+len) lies inside [0, size), without overflow.
bool fits(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

}  // namespace

const ZipEntry* ZipIndex::find(const std::string& name) const {
  auto it = by_name.find(name);
  return it == by_name.end() ? nullptr : &entries[it->second];
}

ZipIndex parse_zip(const uint8_t* data, size_t size, const std::string& file) {
  CB_CHECK_INPUT(size >= kEocdSize, "{}: not a zip archive (only {} bytes; truncated?)", file, size);
  // The EOCD record sits at the end, followed by a comment of at most 65535 bytes.
  size_t eocd = SIZE_MAX;
  size_t lowest = size - kEocdSize > 65535 ? size - kEocdSize - 65535 : 0;
  for (size_t p = size - kEocdSize + 1; p-- > lowest;) {
    if (rd32(data + p) == kEocdSig && p + kEocdSize + rd16(data + p + 20) == size) {
      eocd = p;
      break;
    }
  }
  CB_CHECK_INPUT(eocd != SIZE_MAX, "{}: not a zip archive (no end-of-central-directory record; truncated?)", file);
  const uint8_t* e = data + eocd;
  uint64_t count = rd16(e + 10), cd_size = rd32(e + 12), cd_offset = rd32(e + 16);
  CB_CHECK_INPUT(rd16(e + 4) == 0 && rd16(e + 6) == 0, "{}: multi-disk zip archives are not supported", file);

  // zip64: a locator just before the EOCD points at the zip64 EOCD record.
  if (eocd >= kZip64LocatorSize && rd32(data + eocd - kZip64LocatorSize) == kZip64LocatorSig) {
    const uint8_t* loc = data + eocd - kZip64LocatorSize;
    uint64_t rec = rd64(loc + 8);
    CB_CHECK_INPUT(fits(rec, kZip64EocdSize, eocd - kZip64LocatorSize),
                   "{}: zip64 end-of-central-directory record offset {} is outside the file", file, rec);
    const uint8_t* z = data + rec;
    CB_CHECK_INPUT(rd32(z) == kZip64EocdSig, "{}: bad zip64 end-of-central-directory signature at offset {}", file, rec);
    count = rd64(z + 32);
    cd_size = rd64(z + 40);
    cd_offset = rd64(z + 48);
  } else {
    CB_CHECK_INPUT(count != 0xFFFF && cd_size != 0xFFFFFFFFu && cd_offset != 0xFFFFFFFFu,
                   "{}: zip64 archive without a zip64 end-of-central-directory locator", file);
  }
  CB_CHECK_INPUT(fits(cd_offset, cd_size, eocd), "{}: central directory (offset {}, {} bytes) lies outside the file",
                 file, cd_offset, cd_size);
  CB_CHECK_INPUT(count <= cd_size / kCentralSize, "{}: implausible zip entry count {} for a {}-byte central directory",
                 file, count, cd_size);

  ZipIndex index;
  index.entries.reserve(count);
  uint64_t p = cd_offset, end = cd_offset + cd_size;
  for (uint64_t i = 0; i < count; ++i) {
    CB_CHECK_INPUT(fits(p, kCentralSize, end), "{}: zip central directory truncated at entry {}", file, i);
    const uint8_t* c = data + p;
    CB_CHECK_INPUT(rd32(c) == kCentralSig, "{}: bad zip central directory signature at offset {}", file, p);
    uint16_t flags = rd16(c + 8), method = rd16(c + 10);
    uint64_t csize = rd32(c + 20), usize = rd32(c + 24);
    uint16_t name_len = rd16(c + 28), extra_len = rd16(c + 30), comment_len = rd16(c + 32);
    uint64_t local = rd32(c + 42);
    uint64_t var_len = uint64_t(name_len) + extra_len + comment_len;
    CB_CHECK_INPUT(fits(p + kCentralSize, var_len, end), "{}: zip central directory truncated at entry {}", file, i);
    ZipEntry ent;
    ent.name.assign(reinterpret_cast<const char*>(c + kCentralSize), name_len);
    CB_CHECK_INPUT(method == 0, "{}: zip entry '{}' is compressed (method {}); only stored entries are supported",
                   file, ent.name, method);
    CB_CHECK_INPUT((flags & 1) == 0, "{}: zip entry '{}' is encrypted", file, ent.name);
    // zip64 extended information: the 64-bit values of the fields saturated at 0xFFFFFFFF.
    const uint8_t* x = c + kCentralSize + name_len;
    const uint8_t* xend = x + extra_len;
    bool need64 = usize == 0xFFFFFFFFu || csize == 0xFFFFFFFFu || local == 0xFFFFFFFFu;
    bool got64 = false;
    while (xend - x >= 4) {
      uint16_t id = rd16(x), len = rd16(x + 2);
      CB_CHECK_INPUT(len <= xend - x - 4, "{}: zip entry '{}' has a truncated extra field", file, ent.name);
      if (id == 1) {
        const uint8_t* f = x + 4;
        const uint8_t* fend = f + len;
        auto take = [&](uint64_t& v) {
          if (v != 0xFFFFFFFFu) return;
          CB_CHECK_INPUT(fend - f >= 8, "{}: zip entry '{}' has a short zip64 extra field", file, ent.name);
          v = rd64(f);
          f += 8;
        };
        take(usize);
        take(csize);
        take(local);
        got64 = true;
      }
      x += 4 + len;
    }
    CB_CHECK_INPUT(!need64 || got64, "{}: zip entry '{}' lacks its zip64 extra field", file, ent.name);
    CB_CHECK_INPUT(csize == usize, "{}: zip entry '{}' is stored but its sizes differ ({} vs {})", file, ent.name,
                   csize, usize);
    // The local header repeats name and extra (its extra may differ in length).
    CB_CHECK_INPUT(fits(local, kLocalSize, size), "{}: zip entry '{}' local header offset {} is outside the file",
                   file, ent.name, local);
    const uint8_t* l = data + local;
    CB_CHECK_INPUT(rd32(l) == kLocalSig, "{}: bad zip local header signature for entry '{}' at offset {}", file,
                   ent.name, local);
    uint64_t data_off = local + kLocalSize + rd16(l + 26) + rd16(l + 28);
    CB_CHECK_INPUT(fits(data_off, usize, size), "{}: zip entry '{}' ({} bytes at offset {}) extends beyond the file",
                   file, ent.name, usize, data_off);
    ent.data_offset = data_off;
    ent.size = usize;
    CB_CHECK_INPUT(index.by_name.emplace(ent.name, index.entries.size()).second, "{}: duplicate zip entry '{}'", file,
                   ent.name);
    index.entries.push_back(std::move(ent));
    p += kCentralSize + var_len;
  }
  return index;
}

}  // namespace cb
