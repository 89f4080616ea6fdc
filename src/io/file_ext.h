// file_ext.h — a path's extension, lower-cased with its dot (".png"), for choosing a reader.
#pragma once
#include <cctype>
#include <filesystem>
#include <string>

namespace cb {

inline std::string lower_ext(const std::string& path) {
  std::string e = std::filesystem::path(path).extension().string();
  for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

}  // namespace cb
