// html.cpp — see html.h.
#include "report/html.h"

#include <fstream>
#include <sstream>

#include "io/mapped_file.h"

namespace cb::report {

namespace {

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// Click a header to sort by that column (numbers as numbers, "—" last); click again to reverse.
const char* kSortScript = R"JS(
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute('data-dir') !== 'asc';
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-dir'); });
    th.setAttribute('data-dir', asc ? 'asc' : 'desc');
    function key(r) {
      var t = r.cells[col].textContent.trim(), v = parseFloat(t.replace('+', ''));
      return isNaN(v) ? t : v;
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (typeof x === 'number' && typeof y === 'number') return asc ? x - y : y - x;
      if (typeof x === 'number') return -1;
      if (typeof y === 'number') return 1;
      return asc ? String(x).localeCompare(y) : String(y).localeCompare(x);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
)JS";

const char* kStyle = R"CSS(
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #eef; cursor: pointer; }
th[data-dir=asc]::after { content: ' \25B2'; } th[data-dir=desc]::after { content: ' \25BC'; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.pos { color: #060; } td.neg { color: #a00; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
code { background: #f4f4f4; padding: 1px 4px; }
)CSS";

void table_html(std::ostringstream& h, const Table& t) {
  if (!t.title.empty()) h << "<h3>" << escape(t.title) << "</h3>\n";
  h << "<table class=\"sortable\"><thead><tr>";
  for (const auto& c : t.header) h << "<th>" << escape(c) << "</th>";
  h << "</tr></thead><tbody>\n";
  for (const auto& r : t.rows) {
    h << "<tr>";
    for (size_t i = 0; i < r.size(); ++i) {
      std::string cls = i >= t.first_numeric ? "num" : "";
      // Differences (columns headed Δ) in green / red; values keep their sign uncoloured.
      const bool delta = i < t.header.size() && t.header[i].find("Δ") != std::string::npos;
      if (delta && r[i].size() > 1 && (r[i][0] == '+' || r[i][0] == '-')) cls += r[i][0] == '+' ? " pos" : " neg";
      h << (cls.empty() ? "<td>" : "<td class=\"" + cls + "\">") << escape(r[i]) << "</td>";
    }
    h << "</tr>\n";
  }
  h << "</tbody></table>\n";
  if (!t.note.empty()) h << "<p>" << escape(t.note) << "</p>\n";
}

}  // namespace

std::string base64(const std::string& bytes) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string o;
  o.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint8_t(bytes[i + 2]);
    o += a[v >> 18 & 63], o += a[v >> 12 & 63], o += a[v >> 6 & 63], o += a[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    o += a[v >> 18 & 63], o += a[v >> 12 & 63], o += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8;
    o += a[v >> 18 & 63], o += a[v >> 12 & 63], o += a[v >> 6 & 63], o += '=';
  }
  return o;
}

std::string render_html(const ReportInputs& in, const std::string& plot_dir) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << escape(in.title)
    << "</title>\n<style>" << kStyle << "</style></head>\n<body>\n<h1>" << escape(in.title) << "</h1>\n";
  if (!in.command.empty()) h << "<p>Command: <code>" << escape(in.command) << "</code></p>\n";
  bool summary = false;
  const std::vector<Table> tables = report_tables(in, &summary);
  if (summary) h << "<h2>Summary</h2>\n";
  for (size_t i = 0; i < tables.size(); ++i) {
    if (i + 1 == tables.size()) {
      if (!in.plots.empty()) {  // plots between the summary and the long table
        h << "<h2>Plots</h2>\n";
        for (const auto& p : in.plots) {
          std::ifstream f(plot_dir + "/" + p, std::ios::binary);
          std::string bytes((std::istreambuf_iterator<char>(f)), {});
          if (bytes.empty())
            h << "<p>(plot " << escape(p) << " missing)</p>\n";
          else
            h << "<figure><img alt=\"" << escape(p) << "\" src=\"data:image/png;base64," << base64(bytes)
              << "\"><figcaption>" << escape(p) << "</figcaption></figure>\n";
        }
      }
      h << "<h2>Full results</h2>\n";
    }
    table_html(h, tables[i]);
  }
  if (!in.notes.empty()) {
    h << "<h2>Notes</h2><ul>\n";
    for (const auto& n : in.notes) h << "<li>" << escape(n) << "</li>\n";
    h << "</ul>\n";
  }
  h << "<script>" << kSortScript << "</script>\n</body></html>\n";
  return h.str();
}

void write_html_report(const std::string& path, const ReportInputs& in, const std::string& plot_dir) {
  write_file_atomic(path, render_html(in, plot_dir));
}

}  // namespace cb::report
