#pragma once
// The study report: one self-contained HTML file (images inlined, SVG charts drawn by our code,
// no script or style fetched from anywhere), plus CSV and JSON holding every metric.
#include "impasto/study.h"

#include <filesystem>
#include <string>

namespace impasto {

struct ReportFiles {
    std::filesystem::path html; // <dir>/report.html
    std::filesystem::path csv;  // <dir>/runs.csv
    std::filesystem::path json; // <dir>/study.json
};

// Writes the three files atomically into `dir`. Throws OutputError.
ReportFiles write_study_report(const StudyResults& results, const std::filesystem::path& dir);

// The pieces, for tests and for the studio.
std::string study_report_html(const StudyResults& results);
std::string study_runs_csv(const StudyResults& results);
std::string study_results_json(const StudyResults& results);

} // namespace impasto
