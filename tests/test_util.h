// test_util.h — helpers shared by the tests: fixture paths, temporary folders, running the
// codebind executable.
#pragma once
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace cb::test {

// Runs f() holding an exclusive lock on the file `lock_path` (created if needed). ctest runs
// every test in its own process, two at a time: artefacts several tests share (the tiny
// fixture, a trained run) are made under a lock, so the second process waits and reuses them.
template <class F>
auto with_file_lock(const std::string& lock_path, F&& f) {
  std::filesystem::create_directories(std::filesystem::path(lock_path).parent_path());
  const int fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR, 0644);
  if (fd >= 0) ::flock(fd, LOCK_EX);
  struct Unlock {
    int fd;
    ~Unlock() {
      if (fd >= 0) ::flock(fd, LOCK_UN), ::close(fd);
    }
  } unlock{fd};
  return f();
}

// The golden fixtures (../shared/fixtures unless CODEBIND_FIXTURES is set).
inline std::string fixtures_dir() {
  if (const char* e = std::getenv("CODEBIND_FIXTURES")) return e;
  return CODEBIND_FIXTURES_DIR;
}
// A whole file's bytes ("" when it cannot be opened).
inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline bool have_fixtures() { return std::filesystem::is_directory(fixtures_dir()); }
#define CB_REQUIRE_FIXTURES() \
  if (!::cb::test::have_fixtures()) GTEST_SKIP() << "fixtures not found at " << ::cb::test::fixtures_dir()

// A fresh folder under the build tree, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::path(CODEBIND_BINARY_DIR) / "tmp" /
            ("t" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Path of the codebind executable (set by ctest; falls back to the build tree).
inline std::string codebind_exe() {
  if (const char* e = std::getenv("CODEBIND_EXE")) return e;
  return std::string(CODEBIND_BINARY_DIR) + "/codebind";
}

// Runs `codebind ARGS` through the shell, returns the exit status; output to `log` if given.
inline int run_codebind(const std::string& args, const std::string& log = "") {
  std::string cmd = codebind_exe() + " " + args + (log.empty() ? " >/dev/null 2>&1" : " >" + log + " 2>&1");
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace cb::test
