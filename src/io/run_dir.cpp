// run_dir.cpp — see run_dir.h.
#include "io/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <regex>

#include "core/error.h"

namespace cb {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLockName = ".codebind.lock";

// Files whose presence marks a directory as a codebind run (or bridge) that --force may clear.
bool is_run_file(const std::string& name) {
  for (const char* n : {"config.json", "model.safetensors", "checkpoint.safetensors", "bridge.safetensors",
                        "metrics.jsonl", "metrics.json", "pretrain_config.json", "report.md", "report.html"})
    if (name == n) return true;
  return false;
}

// Anything a run writes besides those: plots, embeddings, per-split metrics, temporaries, folders.
bool written_by_a_run(const fs::directory_entry& e) {
  const std::string name = e.path().filename().string(), ext = e.path().extension().string();
  return is_run_file(name) || e.is_directory() || name.find(".tmp") != std::string::npos || ext == ".png" ||
         ext == ".safetensors" || ext == ".json";
}

}  // namespace

void create_output_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    fail_input("{}: cannot create the output directory: {}", dir,
               ec ? ec.message() : std::string("a file is in the way"));
}

void check_output_file(const std::string& path, bool force) {
  std::error_code ec;
  CB_CHECK_INPUT(!fs::is_directory(path, ec), "{}: is a directory; --out names the file to write", path);
  CB_CHECK_INPUT(force || !fs::exists(path, ec), "{}: already exists; pass --force to replace it", path);
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) create_output_dir(parent.string());
}

std::vector<std::string> remove_stale_temporaries(const std::string& dir) {
  static const std::regex tmp_name(R"(.+\.tmp[0-9a-f]{8})");
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && std::regex_match(name, tmp_name) && fs::remove(e.path(), ec)) removed.push_back(name);
  }
  return removed;
}

RunDir::RunDir(const std::string& path, RunDirMode mode) : path_(path) {
  create_output_dir(path_);
  const std::string lock = path_ + "/" + kLockName;
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) fail_input("{}: cannot write in the output directory: {}", path_, std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    fail_input("{}: another codebind process is writing this directory (lock {}); wait for it or choose another --out",
               path_, lock);
  }
  try {
    check_and_clear(mode);
  } catch (...) {
    ::close(lock_fd_);  // a throwing constructor runs no destructor: release the lock here
    lock_fd_ = -1;
    throw;
  }
}

void RunDir::check_and_clear(RunDirMode mode) {
  std::vector<std::string> present, foreign;
  for (const auto& e : fs::directory_iterator(path_)) {
    const std::string name = e.path().filename().string();
    if (name == kLockName) continue;
    present.push_back(name);
    if (!written_by_a_run(e)) foreign.push_back(name);
  }
  if (mode == RunDirMode::Fresh && !present.empty())
    fail_input("{}: the output directory is not empty ({} entries, e.g. {}); pass --resume to continue a run there or "
               "--force to replace it",
               path_, present.size(), present.front());
  if (mode == RunDirMode::Replace && !present.empty()) {
    const bool looks_like_run = std::any_of(present.begin(), present.end(), is_run_file);
    if (!looks_like_run || !foreign.empty())
      fail_input("{}: --force replaces only a previous codebind run, and this directory holds other files (e.g. {}); "
                 "choose another --out",
                 path_, foreign.empty() ? present.front() : foreign.front());
    for (const std::string& name : present) fs::remove_all(fs::path(path_) / name);
  }
  removed_ = remove_stale_temporaries(path_);
}

RunDir::~RunDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the flock
}

}  // namespace cb
