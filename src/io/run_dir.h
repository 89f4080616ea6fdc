// run_dir.h — the one policy for commands that write a directory of results (train,
// pretrain): the directory is created (an InputError naming the path when that is impossible),
// an existing non-empty one is refused unless the user resumes it or asks to replace it, an
// exclusive lock keeps a second process out while this one writes, and temporaries left by
// a kill during an atomic write are removed. docs/reliability.md states the policy.
#pragma once
#include <string>
#include <vector>

namespace cb {

enum class RunDirMode {
  Fresh,    // the directory must be absent or empty
  Resume,   // continue what is there
  Replace,  // --force: delete a previous codebind run's files first
};

class RunDir {
 public:
  RunDir(const std::string& path, RunDirMode mode);
  ~RunDir();
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;

  const std::string& path() const { return path_; }
  // Stale `NAME.tmpXXXXXXXX` files (a kill mid-write) removed when the directory was opened.
  const std::vector<std::string>& removed_temporaries() const { return removed_; }

 private:
  void check_and_clear(RunDirMode mode);  // the emptiness policy, under the lock

  std::string path_;
  int lock_fd_ = -1;
  std::vector<std::string> removed_;
};

// Creates `dir` (and parents) or throws InputError naming it: a file in the way, no permission.
void create_output_dir(const std::string& dir);

// The policy for one output file (`index build --out`, …): an existing file is replaced only
// with force (--force); a directory is never replaced; the parent directory is created. Call it
// before any work, so a refusal writes nothing. InputError naming the path otherwise.
void check_output_file(const std::string& path, bool force);

// Removes `NAME.tmpXXXXXXXX` files (write_file_atomic's temporaries) in `dir`; returns their names.
std::vector<std::string> remove_stale_temporaries(const std::string& dir);

}  // namespace cb
