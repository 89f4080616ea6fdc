// error.h — codebind's error types and checking macros (torch-free; used by the parsers).
//
// Convention (docs/reliability.md): bad input → InputError (exit code 2) with one line naming the
// file / item / tensor key, what was expected and what was found; a broken invariant of our
// own → InternalError (exit code 1).
#pragma once
#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace cb {

class Error : public std::runtime_error {
 public:
  Error(const std::string& msg, int exit_code) : std::runtime_error(msg), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Bad input from the user or a file: exit code 2.
class InputError : public Error {
 public:
  explicit InputError(const std::string& msg) : Error(msg, 2) {}
};

// A bug or a broken invariant inside codebind: exit code 1.
class InternalError : public Error {
 public:
  explicit InternalError(const std::string& msg) : Error(msg, 1) {}
};

template <typename... Args>
[[noreturn]] void fail_input(fmt::format_string<Args...> f, Args&&... args) {
  throw InputError(fmt::format(f, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] void fail_internal(fmt::format_string<Args...> f, Args&&... args) {
  throw InternalError(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace cb

// CB_CHECK_INPUT(cond, "fmt", args...): throw InputError when cond is false.
#define CB_CHECK_INPUT(cond, ...)                  \
  do {                                             \
    if (!(cond)) ::cb::fail_input(__VA_ARGS__);    \
  } while (0)

// CB_CHECK(cond, "fmt", args...): throw InternalError when cond is false.
#define CB_CHECK(cond, ...)                        \
  do {                                             \
    if (!(cond)) ::cb::fail_internal(__VA_ARGS__); \
  } while (0)
