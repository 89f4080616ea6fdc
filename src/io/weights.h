// weights.h — one reader for model weights, whatever the container: a `.safetensors` file or
// a PyTorch `.pth` zip checkpoint (torch.save of a state_dict). The format is detected from
// the first bytes, not the extension. Tensors are zero-copy views into a private mapping of
// the file. This is what the encoder loaders use: loading a model is a name lookup here.
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cb {

class SafetensorsFile;
class PthFile;

enum class WeightFormat { Safetensors, Pth };

class WeightFile {
 public:
  // Opens and validates `path`; throws InputError naming the file on any problem
  // (unknown format, truncation, malformed header/pickle, ...).
  explicit WeightFile(const std::string& path);
  ~WeightFile();

  // Format of the file at `path` from its magic bytes; throws InputError when neither.
  static WeightFormat detect(const std::string& path);

  const std::string& path() const { return path_; }
  WeightFormat format() const { return format_; }

  std::vector<std::string> keys() const;  // file order (state_dict order for .pth)
  bool has(const std::string& key) const;
  // The tensor for `key` (zero copy); InputError naming file and key when absent.
  at::Tensor get(const std::string& key) const;
  // get(key) with a shape check; the error names the key, expected and found shapes.
  at::Tensor get(const std::string& key, at::IntArrayRef expected_shape) const;

  // safetensors `__metadata__` (e.g. "config"); empty for .pth.
  const std::map<std::string, std::string>& metadata() const;
  std::string meta(const std::string& key, const std::string& fallback = "") const;
  // Checks a safetensors file's recorded checksum (files codebind wrote); no-op for .pth.
  void verify_checksum() const;

 private:
  std::string path_;
  WeightFormat format_;
  std::unique_ptr<SafetensorsFile> st_;
  std::unique_ptr<PthFile> pth_;
};

}  // namespace cb
