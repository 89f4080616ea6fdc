// npy_parse.cpp — see npy_parse.h. No torch here (fuzzed on its own).
#include "io/npy_parse.h"

#include <cctype>
#include <cstring>

#include "core/error.h"

namespace cb {

namespace {
struct TypeInfo {
  NpyType t;
  const char* descr;
  size_t size;
};
constexpr TypeInfo kTypes[] = {{NpyType::F32, "<f4", 4}, {NpyType::F64, "<f8", 8}, {NpyType::I64, "<i8", 8},
                               {NpyType::I32, "<i4", 4}, {NpyType::I16, "<i2", 2}, {NpyType::U16, "<u2", 2},
                               {NpyType::U8, "|u1", 1}};
constexpr int64_t kMaxDim = int64_t(1) << 31;
constexpr uint64_t kMaxBytes = uint64_t(1) << 40;
constexpr size_t kMaxRank = 32;

// A tiny cursor over the header dict text.
struct Cursor {
  const std::string& s;
  size_t i = 0;
  const std::string& file;
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool eat(char c) {
    ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  void expect(char c, const char* what) {
    if (!eat(c)) fail_input("{}: malformed .npy header: expected '{}' {} at offset {}", file, c, what, i);
  }
  std::string str() {
    ws();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"'))
      fail_input("{}: malformed .npy header: expected a quoted string at offset {}", file, i);
    char q = s[i++];
    size_t b = i;
    while (i < s.size() && s[i] != q) ++i;
    if (i >= s.size()) fail_input("{}: malformed .npy header: unterminated string", file);
    return s.substr(b, i++ - b);
  }
  std::string word() {
    ws();
    size_t b = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(b, i - b);
  }
  int64_t integer() {
    ws();
    size_t b = i;
    int64_t v = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      v = v * 10 + (s[i] - '0');
      if (v >= kMaxDim) fail_input("{}: .npy shape dimension is absurd (>= 2^31)", file);
      ++i;
    }
    if (i == b) fail_input("{}: malformed .npy header: expected a non-negative integer at offset {}", file, b);
    if (i < s.size() && s[i] == 'L') ++i;  // Python 2 long suffix
    return v;
  }
};
}  // namespace

const char* npy_descr(NpyType t) {
  for (const auto& x : kTypes)
    if (x.t == t) return x.descr;
  return "?";
}

size_t npy_type_size(NpyType t) {
  for (const auto& x : kTypes)
    if (x.t == t) return x.size;
  return 0;
}

uint64_t NpyHeader::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

NpyHeader parse_npy(const uint8_t* data, size_t size, const std::string& file) {
  static const char kMagic[] = "\x93NUMPY";
  if (size < 10) fail_input("{}: truncated .npy file ({} bytes, need at least 10)", file, size);
  if (std::memcmp(data, kMagic, 6) != 0) fail_input("{}: not a .npy file (bad magic)", file);
  const int major = data[6];
  uint64_t hlen = 0, pre = 0;
  if (major == 1) {
    hlen = uint64_t(data[8]) | (uint64_t(data[9]) << 8);
    pre = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) fail_input("{}: truncated .npy file ({} bytes)", file, size);
    hlen = uint64_t(data[8]) | (uint64_t(data[9]) << 8) | (uint64_t(data[10]) << 16) | (uint64_t(data[11]) << 24);
    pre = 12;
  } else {
    fail_input("{}: unsupported .npy format version {}.{} (expected 1, 2 or 3)", file, major, int(data[7]));
  }
  if (hlen > (1u << 20)) fail_input("{}: .npy header length {} is absurd", file, hlen);
  if (pre + hlen > size)
    fail_input("{}: truncated .npy file: header of {} bytes runs past the end ({} bytes)", file, hlen, size);
  const std::string text(reinterpret_cast<const char*>(data + pre), hlen);

  Cursor c{text, 0, file};
  NpyHeader h;
  bool have_descr = false, have_order = false, have_shape = false;
  c.expect('{', "at the start of the header dict");
  while (!c.eat('}')) {
    const std::string key = c.str();
    c.expect(':', "after a key");
    if (key == "descr") {
      const std::string d = c.str();
      bool found = false;
      for (const auto& x : kTypes)
        if (d == x.descr || (x.t == NpyType::U8 && d == "<u1")) {
          h.type = x.t;
          found = true;
        }
      if (!found)
        fail_input("{}: unsupported .npy dtype '{}' (expected <f4 <f8 <i8 <i4 <i2 <u2 <u1 |u1)", file, d);
      have_descr = true;
    } else if (key == "fortran_order") {
      const std::string w = c.word();
      if (w == "True") fail_input("{}: .npy fortran_order True is not supported (save C-order)", file);
      if (w != "False") fail_input("{}: malformed .npy header: fortran_order must be True or False", file);
      have_order = true;
    } else if (key == "shape") {
      c.expect('(', "to open the shape tuple");
      while (!c.eat(')')) {
        if (h.shape.size() >= kMaxRank) fail_input("{}: .npy shape has more than {} dimensions", file, kMaxRank);
        h.shape.push_back(c.integer());
        if (!c.eat(',')) {
          c.expect(')', "to close the shape tuple");
          break;
        }
      }
      have_shape = true;
    } else {
      fail_input("{}: malformed .npy header: unexpected key '{}'", file, key);
    }
    if (!c.eat(',')) {
      c.expect('}', "to close the header dict");
      break;
    }
  }
  if (!have_descr || !have_order || !have_shape)
    fail_input("{}: malformed .npy header: missing {}", file,
               !have_descr ? "'descr'" : !have_order ? "'fortran_order'" : "'shape'");
  // Overflow-safe size check.
  uint64_t n = 1;
  for (int64_t d : h.shape) {
    if (d != 0 && n > kMaxBytes / static_cast<uint64_t>(d))
      fail_input("{}: .npy shape is absurd (more than 2^40 elements)", file);
    n *= static_cast<uint64_t>(d);
  }
  if (n > kMaxBytes / npy_type_size(h.type)) fail_input("{}: .npy shape is absurd (more than 2^40 bytes)", file);
  h.data_offset = pre + hlen;
  const uint64_t have = size - h.data_offset;
  if (have < h.nbytes())
    fail_input("{}: truncated .npy data: shape needs {} bytes, file has {}", file, h.nbytes(), have);
  if (have > h.nbytes())
    fail_input("{}: .npy size mismatch: shape needs {} bytes, file has {} (trailing data)", file, h.nbytes(), have);
  return h;
}

std::string build_npy_header(NpyType type, const std::vector<int64_t>& shape) {
  std::string dict = std::string("{'descr': '") + npy_descr(type) + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) dict += ", ";
  }
  if (shape.size() == 1) dict.pop_back();  // "(5,)"
  dict += "), }";
  const bool v2 = dict.size() + 11 > 65535;
  const size_t pre = v2 ? 12 : 10;
  size_t total = pre + dict.size() + 1;
  total = (total + 63) / 64 * 64;
  dict.append(total - pre - dict.size() - 1, ' ');
  dict += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(v2 ? 2 : 1);
  out += '\0';
  const uint64_t hl = dict.size();
  out += static_cast<char>(hl & 0xff);
  out += static_cast<char>((hl >> 8) & 0xff);
  if (v2) {
    out += static_cast<char>((hl >> 16) & 0xff);
    out += static_cast<char>((hl >> 24) & 0xff);
  }
  return out + dict;
}

std::string build_npy(NpyType type, const std::vector<int64_t>& shape, const void* data, size_t nbytes) {
  std::string out = build_npy_header(type, shape);
  out.append(static_cast<const char*>(data), nbytes);
  return out;
}

}  // namespace cb
