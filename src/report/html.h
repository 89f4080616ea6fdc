// html.h — the self-contained HTML report (report.html): the same tables as report.md (summary
// first, then every metric), sortable by clicking a column header, with the PNG plots embedded
// as data URIs, so the one file opens anywhere without the run directory.
#pragma once
#include <string>

#include "report/report.h"

namespace cb::report {

// `plot_dir`: where in.plots (relative paths) are read from; a plot that cannot be read is
// listed as missing rather than failing the report.
std::string render_html(const ReportInputs& in, const std::string& plot_dir);
void write_html_report(const std::string& path, const ReportInputs& in, const std::string& plot_dir);  // atomic

// RFC 4648 base64 of `bytes` (for the data URIs).
std::string base64(const std::string& bytes);

}  // namespace cb::report
