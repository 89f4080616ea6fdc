// weights.cpp — see weights.h.
#include "io/weights.h"

#include <fstream>

#include "core/error.h"
#include "io/pth.h"
#include "io/safetensors.h"

namespace cb {

WeightFormat WeightFile::detect(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  CB_CHECK_INPUT(f.good(), "{}: cannot open weight file", path);
  unsigned char b[8] = {0};
  f.read(reinterpret_cast<char*>(b), 8);
  size_t got = size_t(f.gcount());
  if (got >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) return WeightFormat::Pth;
  if (got >= 2 && b[0] == 0x80 && b[1] == 0x02)
    fail_input("{}: legacy (non-zip) torch.save format is not supported; re-save it with torch >= 1.6", path);
  // safetensors: u64 header length, then '{'.
  if (got == 8) {
    char c = 0;
    if (f.get(c) && c == '{') return WeightFormat::Safetensors;
  }
  fail_input("{}: unknown weight format (neither safetensors nor a PyTorch zip checkpoint)", path);
}

WeightFile::WeightFile(const std::string& path) : path_(path), format_(detect(path)) {
  if (format_ == WeightFormat::Pth)
    pth_ = std::make_unique<PthFile>(path);
  else
    st_ = std::make_unique<SafetensorsFile>(path);
}

WeightFile::~WeightFile() = default;

std::vector<std::string> WeightFile::keys() const { return pth_ ? pth_->keys() : st_->keys(); }

bool WeightFile::has(const std::string& key) const { return pth_ ? pth_->has(key) : st_->has(key); }

at::Tensor WeightFile::get(const std::string& key) const { return pth_ ? pth_->get(key) : st_->get(key); }

at::Tensor WeightFile::get(const std::string& key, at::IntArrayRef expected_shape) const {
  at::Tensor t = get(key);
  CB_CHECK_INPUT(t.sizes() == expected_shape, "{}: tensor '{}' has shape [{}], expected [{}]", path_, key,
                 fmt::join(t.sizes(), ","), fmt::join(expected_shape, ","));
  return t;
}

const std::map<std::string, std::string>& WeightFile::metadata() const {
  static const std::map<std::string, std::string> empty;
  return pth_ ? empty : st_->metadata();
}

void WeightFile::verify_checksum() const {
  if (st_) st_->verify_checksum();
}

std::string WeightFile::meta(const std::string& key, const std::string& fallback) const {
  const auto& m = metadata();
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}

}  // namespace cb
