// table.h — a report table (title, header, rows of formatted cells, a note) and its Markdown
// form; the HTML report (html.h) renders the same tables, so both say the same thing.
#pragma once
#include <string>
#include <vector>

namespace cb::report {

struct Table {
  std::string title;                              // "" = no heading
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;     // formatted cells, one per header column
  std::string note;                               // one paragraph under the table ("" = none)
  size_t first_numeric = 1;                       // columns from here on are right-aligned numbers
};

// "### title\n\n| … |\n|---|…\n…\n\nnote\n" (the heading only with a title).
std::string table_markdown(const Table& t);

}  // namespace cb::report
