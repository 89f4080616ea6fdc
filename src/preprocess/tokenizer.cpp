// tokenizer.cpp — CLIP byte-level BPE (docs/imagebind.md §2.3): vocabulary layout, Unicode
// pre-tokenisation (ICU general categories), BPE merging and the (N, 77) id tensor.
#include "preprocess/tokenizer.h"

#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <zlib.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <queue>

#include "core/error.h"

namespace cb {
namespace {

constexpr int kNumMerges = 49152 - 256 - 2;  // lines 1..48894 of the merges file
constexpr size_t kMaxTextBytes = size_t(1) << 20;  // one string; captions are far shorter

std::string read_gzip(const std::string& path) {
  CB_CHECK_INPUT(std::filesystem::is_regular_file(path), "{}: BPE vocabulary file not found", path);
  gzFile f = gzopen(path.c_str(), "rb");
  CB_CHECK_INPUT(f != nullptr, "{}: cannot open BPE vocabulary file", path);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    int n = gzread(f, buf, sizeof(buf));
    if (n < 0) {
      int errnum = 0;
      std::string msg = gzerror(f, &errnum);
      gzclose(f);
      fail_input("{}: corrupt gzip BPE vocabulary ({})", path, msg);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    CB_CHECK_INPUT(out.size() < (size_t(64) << 20), "{}: BPE vocabulary larger than 64 MiB", path);
  }
  gzclose(f);
  return out;
}

std::string utf8_of(UChar32 c) {
  std::string s;
  icu::UnicodeString(c).toUTF8String(s);
  return s;
}

bool is_letter(UChar32 c) {
  int t = u_charType(c);
  return t == U_UPPERCASE_LETTER || t == U_LOWERCASE_LETTER || t == U_TITLECASE_LETTER ||
         t == U_MODIFIER_LETTER || t == U_OTHER_LETTER;
}
bool is_number(UChar32 c) {
  int t = u_charType(c);
  return t == U_DECIMAL_DIGIT_NUMBER || t == U_LETTER_NUMBER || t == U_OTHER_NUMBER;
}
bool is_space(UChar32 c) { return u_isUWhiteSpace(c) || (c >= 0x1C && c <= 0x1F); }

// Case-insensitive match of ASCII `lit` at code point position i.
bool match_ci(const std::vector<UChar32>& cps, size_t i, const char* lit) {
  for (size_t k = 0; lit[k]; ++k) {
    if (i + k >= cps.size()) return false;
    UChar32 a = u_foldCase(cps[i + k], U_FOLD_CASE_DEFAULT);
    UChar32 b = u_foldCase(static_cast<UChar32>(lit[k]), U_FOLD_CASE_DEFAULT);
    if (a != b) return false;
  }
  return true;
}

// CLIP's pre-tokenisation regex, alternatives in order:
// <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+
std::vector<std::string> pre_tokenize(const std::string& text) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(text);
  std::vector<UChar32> cps;
  for (int32_t i = 0; i < u.length();) {
    UChar32 c = u.char32At(i);
    cps.push_back(c);
    i += U16_LENGTH(c);
  }
  auto slice = [&](size_t a, size_t b) {
    icu::UnicodeString s;
    for (size_t k = a; k < b; ++k) s.append(cps[k]);
    std::string o;
    s.toUTF8String(o);
    return o;
  };
  static const char* kSpecial[] = {"<|startoftext|>", "<|endoftext|>"};
  static const char* kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
  std::vector<std::string> out;
  size_t i = 0, n = cps.size();
  while (i < n) {
    size_t len = 0;
    for (const char* sp : kSpecial)
      if (!len && match_ci(cps, i, sp)) len = std::strlen(sp);
    for (const char* c : kContractions)
      if (!len && match_ci(cps, i, c)) len = std::strlen(c);
    if (!len && is_letter(cps[i])) {
      size_t k = i;
      while (k < n && is_letter(cps[k])) ++k;
      len = k - i;
    }
    if (!len && is_number(cps[i])) len = 1;
    if (!len && !is_space(cps[i])) {
      size_t k = i;
      while (k < n && !is_space(cps[k]) && !is_letter(cps[k]) && !is_number(cps[k])) ++k;
      len = k - i;
    }
    if (!len) {  // whitespace: not part of any token
      ++i;
      continue;
    }
    out.push_back(slice(i, i + len));
    i += len;
  }
  return out;
}

// Splits a UTF-8 string into code points (each as its UTF-8 bytes).
std::vector<std::string> utf8_chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace

std::string default_vocab_path() {
  if (const char* e = std::getenv("CODEBIND_BPE_VOCAB"); e && *e) return e;
  // The repository copy: walk up from the executable, then from the working directory.
  std::error_code ec;
  std::vector<std::filesystem::path> starts;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) starts.push_back(exe.parent_path());
  starts.push_back(std::filesystem::current_path(ec));
  for (auto p : starts) {
    for (int k = 0; k < 8 && !p.empty(); ++k) {
      auto c = p / "assets" / "bpe_simple_vocab_16e6.txt.gz";
      if (std::filesystem::exists(c, ec)) return c.string();
      if (p == p.root_path()) break;
      p = p.parent_path();
    }
  }
#ifdef CODEBIND_INSTALLED_ASSETS
  // An installed codebind (cmake --install): the copy under <prefix>/share/codebind.
  const std::filesystem::path installed = std::filesystem::path(CODEBIND_INSTALLED_ASSETS) / "bpe_simple_vocab_16e6.txt.gz";
  if (std::filesystem::exists(installed, ec)) return installed.string();
#endif
  return "assets/bpe_simple_vocab_16e6.txt.gz";
}

BpeTokenizer::BpeTokenizer(const std::string& path) {
  const std::string text = read_gzip(path);
  // bytes_to_unicode: printable bytes map to themselves, the other 68 to U+0100...
  std::vector<int> order;
  for (int b = 33; b <= 126; ++b) order.push_back(b);
  for (int b = 161; b <= 172; ++b) order.push_back(b);
  for (int b = 174; b <= 255; ++b) order.push_back(b);
  std::vector<bool> seen(256, false);
  std::string byte_char[256];  // byte → UTF-8 of its unicode stand-in
  for (int b : order) seen[b] = true, byte_char[b] = utf8_of(b);
  int extra = 0;
  for (int b = 0; b < 256; ++b)
    if (!seen[b]) order.push_back(b), byte_char[b] = utf8_of(256 + extra++);
  for (size_t i = 0; i < order.size(); ++i) byte_id_[order[i]] = int32_t(i);
  for (int b : order) id_to_token_.push_back(byte_char[b]);
  for (int b : order) id_to_token_.push_back(byte_char[b] + "</w>");
  std::vector<std::pair<std::string, std::string>> pairs;

  // Merges: lines 1..kNumMerges.
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size() && line_no <= kNumMerges) {
    size_t e = text.find('\n', pos);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(pos, e - pos);
    pos = e + 1;
    if (line_no++ == 0) continue;  // header
    size_t sp = line.find(' ');
    CB_CHECK_INPUT(sp != std::string::npos && sp > 0 && sp + 1 < line.size() &&
                       line.find(' ', sp + 1) == std::string::npos,
                   "{}: line {}: expected a merge 'A B', found '{}'", path, line_no, line.substr(0, 60));
    std::string a = line.substr(0, sp), b = line.substr(sp + 1);
    pairs.emplace_back(a, b);
    id_to_token_.push_back(a + b);
  }
  CB_CHECK_INPUT(line_no > kNumMerges, "{}: only {} merge lines, expected at least {}", path,
                 line_no - 1, kNumMerges);
  id_to_token_.push_back("<|startoftext|>");
  id_to_token_.push_back("<|endoftext|>");
  for (size_t i = 0; i < id_to_token_.size(); ++i) encoder_.emplace(id_to_token_[i], int64_t(i));
  CB_CHECK_INPUT(encoder_.size() == size_t(kClipVocabSize),
                 "{}: vocabulary has {} distinct tokens, expected {}", path, encoder_.size(), kClipVocabSize);
  for (size_t r = 0; r < pairs.size(); ++r) {
    auto ia = encoder_.find(pairs[r].first), ib = encoder_.find(pairs[r].second);
    CB_CHECK_INPUT(ia != encoder_.end() && ib != encoder_.end(),
                   "{}: line {}: merge '{} {}' uses a symbol not defined before it", path, r + 1,
                   pairs[r].first, pairs[r].second);
    merges_.emplace((uint64_t(ia->second) << 32) | uint64_t(ib->second), int32_t(r));
  }
}

// The reference loop — repeatedly take the adjacent pair with the lowest merge rank and merge
// all its non-overlapping occurrences left to right — in O(n log n): symbols live in a linked
// list, candidate pairs in a min-heap of (rank, position) with lazy invalidation, and all
// occurrences of one rank are merged together in position order, as one reference round.
std::vector<int64_t> BpeTokenizer::bpe_ids(const std::string& token) const {
  const int n = static_cast<int>(token.size());
  if (n == 0) return {};
  std::vector<int32_t> sym(n), next(n), prev(n);
  std::vector<char> alive(n, 1);
  for (int i = 0; i < n; ++i) {
    sym[i] = byte_id_[static_cast<unsigned char>(token[i])];
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  sym[n - 1] += 256;  // last symbol carries </w>
  auto pair_rank = [&](int i) -> int32_t {  // rank of the pair starting at node i
    if (i < 0 || !alive[i] || next[i] < 0) return INT32_MAX;
    auto it = merges_.find((uint64_t(uint32_t(sym[i])) << 32) | uint64_t(uint32_t(sym[next[i]])));
    return it == merges_.end() ? INT32_MAX : it->second;
  };
  using Entry = std::pair<int32_t, int>;  // (rank, node)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  for (int i = 0; i + 1 < n; ++i)
    if (int32_t r = pair_rank(i); r != INT32_MAX) heap.push({r, i});
  std::vector<int> round;
  while (!heap.empty()) {
    const int32_t r = heap.top().first;
    round.clear();
    while (!heap.empty() && heap.top().first == r) round.push_back(heap.top().second), heap.pop();
    std::sort(round.begin(), round.end());
    round.erase(std::unique(round.begin(), round.end()), round.end());
    for (int i : round) {
      if (pair_rank(i) != r) continue;  // stale, or consumed by the previous merge
      const int j = next[i];
      sym[i] = 512 + r;  // the merged symbol's id
      alive[j] = 0;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      if (int32_t rp = pair_rank(prev[i]); rp != INT32_MAX) heap.push({rp, prev[i]});
      if (int32_t rn = pair_rank(i); rn != INT32_MAX) heap.push({rn, i});
    }
  }
  std::vector<int64_t> out;
  for (int i = 0; i >= 0; i = next[i]) out.push_back(sym[i]);
  return out;
}

std::vector<int64_t> BpeTokenizer::encode(const std::string& text) const {
  CB_CHECK_INPUT(text.size() <= kMaxTextBytes, "text of {} bytes exceeds the tokenizer limit of {} bytes",
                 text.size(), kMaxTextBytes);
  std::vector<int64_t> ids;
  for (const std::string& tok : pre_tokenize(clip_clean_text(text))) {
    if (tok == "<|startoftext|>" || tok == "<|endoftext|>") {
      ids.push_back(encoder_.at(tok));
      continue;
    }
    std::vector<int64_t> piece = bpe_ids(tok);
    ids.insert(ids.end(), piece.begin(), piece.end());
  }
  return ids;
}

at::Tensor BpeTokenizer::tokenize(const std::vector<std::string>& texts, int64_t context) const {
  CB_CHECK_INPUT(context >= 2, "tokenize: context length {} < 2", context);
  at::Tensor out = at::zeros({static_cast<int64_t>(texts.size()), context}, at::kLong);  // (N, context)
  auto acc = out.accessor<int64_t, 2>();
  for (size_t r = 0; r < texts.size(); ++r) {
    std::vector<int64_t> ids = encode(texts[r]);
    acc[r][0] = kClipSotId;
    int64_t n = std::min<int64_t>(static_cast<int64_t>(ids.size()), context - 2);
    for (int64_t k = 0; k < n; ++k) acc[r][k + 1] = ids[k];
    acc[r][n + 1] = kClipEotId;
  }
  return out;
}

int64_t BpeTokenizer::eot_index(const at::Tensor& ids_row) {
  at::Tensor r = ids_row.to(at::kLong).contiguous().view(-1);
  const int64_t* p = r.data_ptr<int64_t>();
  int64_t best = 0;
  for (int64_t i = 1; i < r.numel(); ++i)
    if (p[i] > p[best]) best = i;  // first maximum
  return best;
}

}  // namespace cb
