// pth.h — zero-copy reader of PyTorch zip checkpoints (`torch.save(state_dict)`, the format of
// the published ImageBind `.pth`). The file is memory-mapped; the zip directory and the
// `<archive>/data.pkl` pickle are parsed by the torch-free zip_parse / pickle_parse; each
// tensor is a strided view straight into the mapping of `<archive>/data/<key>` (it keeps the
// mapping alive). libtorch's pickle_load is not used: it cannot read an OrderedDict.
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/mapped_file.h"
#include "io/pickle_parse.h"
#include "io/zip_parse.h"

namespace cb {

class PthFile {
 public:
  // Maps and validates `path` (zip, pickle, every tensor view against its storage bytes);
  // throws InputError naming the file on any problem.
  explicit PthFile(const std::string& path);

  const std::string& path() const { return file_->path(); }
  std::vector<std::string> keys() const;  // state_dict order
  bool has(const std::string& key) const { return index_.count(key) > 0; }
  const PickleTensorRef& ref(const std::string& key) const;
  // The tensor for `key`: a zero-copy view (copy-on-write private mapping) when the storage
  // is aligned for its dtype, else a copy. InputError naming file and key when absent.
  at::Tensor get(const std::string& key) const;

 private:
  std::shared_ptr<MappedFile> file_;
  StateDictPickle pickle_;
  std::map<std::string, size_t> index_;               // key → index into pickle_.tensors
  std::map<std::string, uint64_t> storage_offset_;    // storage key → absolute file offset
};

// True when the first bytes are the legacy (pre-1.6, non-zip) torch.save format.
bool is_legacy_torch_save(const uint8_t* data, size_t size);

}  // namespace cb
