// hershey.cpp — see hershey.h.
#include "suite/hershey.h"

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace cb::suite {

std::vector<HersheyGlyph> parse_hershey(const std::string& text, const std::string& file) {
  std::vector<HersheyGlyph> out;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(' ') == std::string::npos) continue;
    CB_CHECK_INPUT(line.size() >= 8, "{}:{}: Hershey glyph record too short", file, lineno);
    int count = 0;
    try {
      count = std::stoi(line.substr(5, 3));
    } catch (const std::exception&) {
      fail_input("{}:{}: bad Hershey vertex count '{}'", file, lineno, line.substr(5, 3));
    }
    CB_CHECK_INPUT(count >= 1 && count < 1000, "{}:{}: bad Hershey vertex count {}", file, lineno, count);
    std::string body = line.substr(8);
    const int start = lineno;
    while (static_cast<int>(body.size()) < 2 * count && std::getline(in, line)) {  // wrapped record
      ++lineno;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      body += line;
    }
    CB_CHECK_INPUT(static_cast<int>(body.size()) >= 2 * count, "{}:{}: truncated Hershey glyph ({} of {} pairs)",
                   file, start, body.size() / 2, count);
    HersheyGlyph g;
    g.left = body[0] - 'R';
    g.right = body[1] - 'R';
    HersheyStroke cur;
    for (int i = 1; i < count; ++i) {
      const char a = body[2 * i], b = body[2 * i + 1];
      if (a == ' ' && b == 'R') {
        if (!cur.empty()) g.strokes.push_back(std::move(cur));
        cur.clear();
        continue;
      }
      CB_CHECK_INPUT(a >= ' ' && a <= '~' && b >= ' ' && b <= '~', "{}:{}: bad Hershey coordinate", file, start);
      cur.push_back({a - 'R', b - 'R'});
    }
    if (!cur.empty()) g.strokes.push_back(std::move(cur));
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<HersheyGlyph> read_hershey(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  CB_CHECK_INPUT(f.good(), "{}: cannot open Hershey font", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_hershey(ss.str(), path);
}

}  // namespace cb::suite
