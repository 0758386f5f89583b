// Writing the report's three files atomically into the study folder.
#include "impasto/atomic_file.h"
#include "impasto/error.h"
#include "impasto/study_report.h"

#include <fmt/format.h>

namespace impasto {

ReportFiles write_study_report(const StudyResults& results, const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir)) {
        throw OutputError(fmt::format("report folder '{}' cannot be created ({})", dir.string(),
                                      ec ? ec.message() : std::string("not a folder")));
    }
    ReportFiles files{dir / "report.html", dir / "runs.csv", dir / "study.json"};
    // Data first: the page is the slow part, and a reader who finds it finds its data beside it.
    const std::string csv = study_runs_csv(results);
    const std::string json = study_results_json(results);
    const std::string html = study_report_html(results);
    try {
        write_file_atomic(files.csv, csv);
        write_file_atomic(files.json, json);
        write_file_atomic(files.html, html);
    } catch (const OutputError& e) {
        rethrow_with_context(e, "writing the study report");
    }
    return files;
}

} // namespace impasto
