// tokenizer_clean.cpp — CLIP text cleaning (docs/imagebind.md §2.3):
//   1. the deterministic parts of ftfy.fix_text (terminal escapes, auto html unescape,
//      Latin ligatures, full/half-width forms, quote uncurling, line breaks, control
//      characters, NFC) and the common case of its mojibake repair: UTF-8 that was decoded as
//      Windows-1252 / Latin-1 ("cafÃ©" → "café"), undone when re-encoding gives valid UTF-8.
//   2. html.unescape twice (HTML5 named references, numeric references, Python's rules);
//   3. strip, collapse runs of Unicode whitespace to one space, strip;
//   4. full Unicode lower-casing (ICU root locale = Python str.lower).
// Works on UTF-32 internally; UTF-8 in and out.
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/error.h"
#include "preprocess/tokenizer.h"

namespace cb {
namespace {

#include "preprocess/html_entities.inc"

using U32 = std::u32string;

U32 to_u32(const std::string& s) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
  U32 out;
  for (int32_t i = 0; i < u.length();) {
    UChar32 c = u.char32At(i);
    out.push_back(static_cast<char32_t>(c));
    i += U16_LENGTH(c);
  }
  return out;
}

std::string to_utf8(const U32& s) {
  icu::UnicodeString u;
  for (char32_t c : s) u.append(static_cast<UChar32>(c));
  std::string out;
  u.toUTF8String(out);
  return out;
}

const std::unordered_map<std::string, std::string>& entity_map() {
  static const auto* m = [] {
    auto* mp = new std::unordered_map<std::string, std::string>();
    for (const auto& [k, v] : kHtml5Entities) mp->emplace(k, v);
    return mp;
  }();
  return *m;
}

bool is_ascii_alnum(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Replacement for a numeric reference, Python html rules.
U32 numeric_ref(const U32& digits, bool hex) {
  // Python parses arbitrarily large ints; anything beyond 0x10FFFF becomes U+FFFD.
  uint64_t num = 0;
  bool big = false;
  for (char32_t c : digits) {
    int d = (c <= '9') ? int(c - '0') : (c >= 'a' ? int(c - 'a' + 10) : int(c - 'A' + 10));
    num = num * (hex ? 16 : 10) + d;
    if (num > 0x10FFFFull) big = true, num = 0x110000;
  }
  if (!big)
    for (const auto& [k, v] : kHtmlInvalidCharrefs)
      if (k == num) return to_u32(v);
  if (big || (num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) return U32(1, 0xFFFD);
  for (uint32_t c : kHtmlInvalidCodepoints)
    if (c == num) return U32();
  return U32(1, static_cast<char32_t>(num));
}

// Python html.unescape: &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)
U32 html_unescape(const U32& s) {
  U32 out;
  const auto& ents = entity_map();
  size_t i = 0, n = s.size();
  while (i < n) {
    if (s[i] != '&') { out.push_back(s[i++]); continue; }
    size_t j = i + 1;
    if (j < n && s[j] == '#') {
      bool hex = j + 1 < n && (s[j + 1] == 'x' || s[j + 1] == 'X');
      size_t k = j + 1 + (hex ? 1 : 0);
      size_t start = k;
      while (k < n && (hex ? is_hex(s[k]) : (s[k] >= '0' && s[k] <= '9'))) ++k;
      if (k == start) { out.push_back(s[i++]); continue; }
      U32 digits = s.substr(start, k - start);
      if (k < n && s[k] == ';') ++k;
      U32 r = numeric_ref(digits, hex);
      out += r;
      i = k;
      continue;
    }
    size_t k = j;
    auto stop = [](char32_t c) { return c == '\t' || c == '\n' || c == '\f' || c == ' ' || c == '<' || c == '&' || c == '#' || c == ';'; };
    while (k < n && k - j < 32 && !stop(s[k])) ++k;
    if (k == j) { out.push_back(s[i++]); continue; }
    bool semi = k < n && s[k] == ';';
    U32 name = s.substr(j, k - j);
    std::string name8 = to_utf8(name) + (semi ? ";" : "");
    size_t end = k + (semi ? 1 : 0);
    auto it = ents.find(name8);
    if (it != ents.end()) { out += to_u32(it->second); i = end; continue; }
    // Longest prefix (at least 2 characters) that is a known name.
    U32 full = name;
    if (semi) full.push_back(';');
    bool found = false;
    for (size_t x = full.size() - 1; x > 1; --x) {
      auto p = ents.find(to_utf8(full.substr(0, x)));
      if (p != ents.end()) {
        out += to_u32(p->second);
        out += full.substr(x);
        found = true;
        break;
      }
    }
    if (!found) { out.push_back('&'); out += full; }
    i = end;
  }
  return out;
}

// ftfy: remove ANSI terminal escapes \x1b[ ... letter.
U32 remove_terminal_escapes(const U32& s) {
  U32 out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 0x1b && i + 1 < s.size() && s[i + 1] == '[') {
      size_t k = i + 2;
      while (k < s.size() && ((s[k] >= '0' && s[k] <= '9') || s[k] == ';')) ++k;
      if (k < s.size() && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z'))) {
        i = k;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// ftfy's auto html unescaping (only when the text has no '<'): entities ending in ';'.
U32 ftfy_unescape_html(const U32& s) {
  for (char32_t c : s)
    if (c == '<') return s;
  U32 out;
  const auto& ents = entity_map();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      size_t k = i + 1;
      if (k < s.size() && s[k] == '#') ++k;
      size_t st = k;
      while (k < s.size() && k - st < 24 && is_ascii_alnum(s[k])) ++k;
      if (k > st && k < s.size() && s[k] == ';') {
        U32 ent = s.substr(i, k - i + 1);
        if (s[i + 1] == '#') {
          U32 r = html_unescape(ent);
          out += r;
          i = k;
          continue;
        }
        auto it = ents.find(to_utf8(s.substr(i + 1, k - i)));
        if (it != ents.end()) {
          out += to_u32(it->second);
          i = k;
          continue;
        }
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// ftfy fix_encoding, the common case: text whose UTF-8 bytes were decoded as (sloppy)
// Windows-1252. Each whitespace-separated run is re-encoded to cp1252 bytes (Latin-1 for
// U+0000–U+00FF, C1 controls included, as ftfy's "sloppy" codec does); when that succeeds and
// the bytes are valid UTF-8 holding a multi-byte character, the decoded run replaces it.
// (Multi-byte sequences cannot span whitespace, so this also repairs whole texts.) Legitimate
// Latin-1 text almost never passes: an accented letter followed by ASCII is not valid UTF-8.
int cp1252_byte(char32_t c) {
  if (c <= 0xFF) return static_cast<int>(c);
  static const std::unordered_map<char32_t, int> specials = {
      {0x20AC, 0x80}, {0x201A, 0x82}, {0x0192, 0x83}, {0x201E, 0x84}, {0x2026, 0x85}, {0x2020, 0x86},
      {0x2021, 0x87}, {0x02C6, 0x88}, {0x2030, 0x89}, {0x0160, 0x8A}, {0x2039, 0x8B}, {0x0152, 0x8C},
      {0x017D, 0x8E}, {0x2018, 0x91}, {0x2019, 0x92}, {0x201C, 0x93}, {0x201D, 0x94}, {0x2022, 0x95},
      {0x2013, 0x96}, {0x2014, 0x97}, {0x02DC, 0x98}, {0x2122, 0x99}, {0x0161, 0x9A}, {0x203A, 0x9B},
      {0x0153, 0x9C}, {0x017E, 0x9E}, {0x0178, 0x9F}};
  auto it = specials.find(c);
  return it == specials.end() ? -1 : it->second;
}

// The run with its mojibake undone, or the run itself.
U32 undo_cp1252_mojibake(const U32& run) {
  std::string bytes;
  bool high = false;  // valid UTF-8 with a byte >= 0x80 holds a multi-byte character
  for (char32_t c : run) {
    const int b = cp1252_byte(c);
    if (b < 0) return run;
    high |= b >= 0x80;
    bytes.push_back(static_cast<char>(b));
  }
  if (!high) return run;
  UErrorCode err = U_ZERO_ERROR;
  int32_t len = 0;
  u_strFromUTF8(nullptr, 0, &len, bytes.data(), static_cast<int32_t>(bytes.size()), &err);  // strict validation
  return err == U_INVALID_CHAR_FOUND ? run : to_u32(bytes);
}

U32 fix_mojibake(const U32& s) {
  U32 out, run;
  for (char32_t c : s) {
    if (c == ' ' || c == '\t' || c == '\n') {
      out += undo_cp1252_mojibake(run);
      run.clear();
      out.push_back(c);
    } else {
      run.push_back(c);
    }
  }
  return out + undo_cp1252_mojibake(run);
}

U32 ftfy_subset(U32 s) {
  s = remove_terminal_escapes(s);
  s = ftfy_unescape_html(s);
  s = fix_mojibake(s);
  U32 out;
  for (size_t i = 0; i < s.size(); ++i) {
    char32_t c = s[i];
    // Latin ligatures (ftfy fix_latin_ligatures).
    switch (c) {
      case 0x0132: out += U"IJ"; continue;
      case 0x0133: out += U"ij"; continue;
      case 0x0149: out += U"\u02bcn"; continue;
      case 0x01C4: out += U"D\u017d"; continue;
      case 0x01C5: out += U"D\u017e"; continue;
      case 0x01C6: out += U"d\u017e"; continue;
      case 0x01C7: out += U"LJ"; continue;
      case 0x01C8: out += U"Lj"; continue;
      case 0x01C9: out += U"lj"; continue;
      case 0x01CA: out += U"NJ"; continue;
      case 0x01CB: out += U"Nj"; continue;
      case 0x01CC: out += U"nj"; continue;
      case 0x01F1: out += U"DZ"; continue;
      case 0x01F2: out += U"Dz"; continue;
      case 0x01F3: out += U"dz"; continue;
      case 0xFB00: out += U"ff"; continue;
      case 0xFB01: out += U"fi"; continue;
      case 0xFB02: out += U"fl"; continue;
      case 0xFB03: out += U"ffi"; continue;
      case 0xFB04: out += U"ffl"; continue;
      case 0xFB05: out += U"\u017ft"; continue;
      case 0xFB06: out += U"st"; continue;
      default: break;
    }
    // Full-width ASCII and the ideographic space (ftfy fix_character_width).
    if (c >= 0xFF01 && c <= 0xFF5E) { out.push_back(c - 0xFF01 + 0x21); continue; }
    if (c == 0x3000) { out.push_back(' '); continue; }
    // Curly quotes (ftfy uncurl_quotes).
    if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B)) { out.push_back('\''); continue; }
    if (c >= 0x201C && c <= 0x201F) { out.push_back('"'); continue; }
    // Line breaks (ftfy fix_line_breaks).
    if (c == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
      continue;
    }
    if (c == 0x2028 || c == 0x2029 || c == 0x85) { out.push_back('\n'); continue; }
    // Control characters (ftfy remove_control_chars).
    if ((c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
        (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC) ||
        (c >= 0x1D173 && c <= 0x1D17A) || (c >= 0xE0000 && c <= 0xE007F))
      continue;
    out.push_back(c);
  }
  // NFC.
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(err);
  if (U_FAILURE(err)) return out;
  icu::UnicodeString u;
  for (char32_t c : out) u.append(static_cast<UChar32>(c));
  icu::UnicodeString n = nfc->normalize(u, err);
  if (U_FAILURE(err)) return out;
  std::string s8;
  n.toUTF8String(s8);
  return to_u32(s8);
}

// Python str.isspace (used by strip): White_Space plus the information separators.
bool py_isspace(char32_t c) {
  return (c >= 0x1C && c <= 0x1F) || u_isUWhiteSpace(static_cast<UChar32>(c));
}

U32 strip(const U32& s) {
  size_t a = 0, b = s.size();
  while (a < b && py_isspace(s[a])) ++a;
  while (b > a && py_isspace(s[b - 1])) --b;
  return s.substr(a, b - a);
}

}  // namespace

std::string clip_clean_text(const std::string& text) {
  U32 s = ftfy_subset(to_u32(text));
  s = html_unescape(html_unescape(s));
  s = strip(s);
  U32 collapsed;
  bool in_ws = false;
  for (char32_t c : s) {
    if (py_isspace(c)) {
      if (!in_ws) collapsed.push_back(' ');
      in_ws = true;
    } else {
      collapsed.push_back(c);
      in_ws = false;
    }
  }
  collapsed = strip(collapsed);
  icu::UnicodeString u;
  for (char32_t c : collapsed) u.append(static_cast<UChar32>(c));
  u.toLower(icu::Locale::getRoot());
  std::string out;
  u.toUTF8String(out);
  return out;
}

}  // namespace cb
