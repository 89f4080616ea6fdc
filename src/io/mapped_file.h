// mapped_file.h — a read-only (copy-on-write) memory mapping of a whole file, shared by the
// weight readers so that tensors can point straight into the file (zero copy, lazy paging).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace cb {

class MappedFile {
 public:
  // Maps `path` MAP_PRIVATE with PROT_READ|PROT_WRITE (writes stay private, never reach the
  // file). Throws InputError naming the file when it cannot be opened or mapped.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// A file written atomically in pieces: the bytes go to a temporary file in the same folder
// (`path.tmpXXXXXXXX`); commit() fsyncs and renames it into place. Destroyed without commit()
// (an error part-way), the temporary is removed and `path` is untouched. Large files stream
// through it without ever being held in memory whole.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  void write(const void* data, size_t n);
  void commit();

 private:
  std::string path_, tmp_;
  int fd_ = -1;
};

// Writes `bytes` to `path` atomically (AtomicFileWriter).
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace cb
