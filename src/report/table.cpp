// table.cpp — see table.h.
#include "report/table.h"

#include <sstream>

namespace cb::report {

std::string table_markdown(const Table& t) {
  std::ostringstream md;
  if (!t.title.empty()) md << "### " << t.title << "\n\n";
  md << "|";
  for (const auto& h : t.header) md << " " << h << " |";
  md << "\n|";
  for (size_t i = 0; i < t.header.size(); ++i) md << (i >= t.first_numeric ? "---:|" : "---|");
  md << "\n";
  for (const auto& r : t.rows) {
    md << "|";
    for (const auto& c : r) md << " " << c << " |";
    md << "\n";
  }
  if (!t.note.empty()) md << "\n" << t.note << "\n";
  return md.str();
}

}  // namespace cb::report
