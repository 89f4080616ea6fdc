// tokenizer.h — the CLIP byte-level BPE tokenizer used by ImageBind's text encoder
// (docs/imagebind.md §2.3): text cleaning, Unicode pre-tokenisation, BPE merges and
// the (N, 77) int64 id layout [SOT] + ids[:75] + [EOT] + zero padding.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace cb {

constexpr int64_t kClipSotId = 49406;      // <|startoftext|>
constexpr int64_t kClipEotId = 49407;      // <|endoftext|>
constexpr int64_t kClipVocabSize = 49408;
constexpr int64_t kClipContext = 77;

// Path of the BPE merges file: $CODEBIND_BPE_VOCAB if set, else the repository copy
// assets/bpe_simple_vocab_16e6.txt.gz.
std::string default_vocab_path();

// Text cleaning as the reference does it, with ftfy reduced to its deterministic sub-fixes and
// the Windows-1252 case of its mojibake repair (see tokenizer_clean.cpp), html unescape twice, strip,
// collapse Unicode whitespace runs, strip, Unicode lower-case. UTF-8 in, UTF-8 out.
std::string clip_clean_text(const std::string& text);

class BpeTokenizer {
 public:
  // Reads the gzip merges file; InputError naming the file when missing or malformed.
  explicit BpeTokenizer(const std::string& vocab_gz_path = default_vocab_path());

  // BPE ids of one string (no SOT/EOT, no truncation).
  std::vector<int64_t> encode(const std::string& text) const;

  // (N, context) int64: [SOT] + encode(t)[:context-2] + [EOT], zero padded.
  at::Tensor tokenize(const std::vector<std::string>& texts, int64_t context = kClipContext) const;

  // The text head pools position argmax(ids) (first maximum), normally the EOT.
  static int64_t eot_index(const at::Tensor& ids_row);

  int64_t vocab_size() const { return static_cast<int64_t>(id_to_token_.size()); }

 private:
  // BPE of one pre-token (its UTF-8 bytes) as vocabulary ids.
  std::vector<int64_t> bpe_ids(const std::string& token_bytes) const;

  std::unordered_map<std::string, int64_t> encoder_;     // token string → id
  std::vector<std::string> id_to_token_;
  // (left id << 32 | right id) → merge rank; the merged symbol's id is 512 + rank.
  std::unordered_map<uint64_t, int32_t> merges_;
  int32_t byte_id_[256] = {};                            // byte → id of its unicode char
};

}  // namespace cb
