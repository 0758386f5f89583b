// The study report page: sections in order, a table of contents, and the inline style sheet.
// Self-contained: images are data URIs, charts inline SVG, no script, font or link to fetch.
#include "impasto/study_report.h"
#include "impasto/version.h"
#include "report/report_sections.h"
#include "report/report_text.h"

#include <fmt/format.h>

namespace impasto {

namespace {

constexpr const char* kStyleSheet = R"css(
:root{--fg:#1d1d1f;--muted:#666;--line:#e3e3e6;--accent:#3b528b}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);
background:#f6f6f8}
main{max-width:1440px;margin:0 auto;padding:24px 32px 48px}
header h1{font-size:26px;margin:0 0 6px}
.description{white-space:pre-line;color:#333;max-width:920px;margin:4px 0 10px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:10px 0;font-size:13px}
dl.meta dt{color:var(--muted)}
dl.meta dd{margin:0}
.warning{background:#fff4e5;border:1px solid #f0b429;border-left:6px solid #f0b429;padding:10px 14px;margin:12px 0;
border-radius:4px}
nav{margin:14px 0 0;font-size:13px}
nav a{margin-right:16px;color:var(--accent);text-decoration:none}
nav a:hover{text-decoration:underline}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:18px 0}
h2{font-size:19px;margin:0 0 6px}
h3{font-size:15px;margin:18px 0 4px;color:#333}
.note{color:var(--muted);font-size:12.5px;margin:2px 0 10px;max-width:920px}
.scroll{overflow-x:auto}
table.images{border-collapse:separate;border-spacing:6px}
table.images th,table.images td{vertical-align:top;padding:0;font-weight:normal}
table.images th{font-size:12px;color:#333;text-align:center;overflow-wrap:break-word}
table.images th.pair{text-align:left;vertical-align:middle;padding-right:6px;min-width:110px;max-width:160px}
table.images th.row-heading{text-align:left;font-weight:600;padding-top:10px}
th.input img{display:block;max-width:200px;height:auto;border-radius:3px;outline:3px solid #d8d8de}
.name{font-size:12px;color:#333;margin-top:4px}
figure{margin:0}
figure.cell img{display:block;max-width:200px;height:auto;border-radius:3px}
figcaption{font-size:11.5px;color:#444;margin-top:3px;line-height:1.3;max-width:200px;overflow-wrap:anywhere}
.missing{width:150px;height:112px;display:flex;flex-direction:column;align-items:center;justify-content:center;
gap:2px;background:repeating-linear-gradient(45deg,#f4f4f4,#f4f4f4 8px,#ebebeb 8px,#ebebeb 16px);color:#888;
border:1px dashed #bbb;border-radius:3px;font-size:12px;text-align:center;overflow:hidden}
.missing small{font-size:10px;max-width:140px;overflow-wrap:anywhere}
.charts{display:flex;flex-wrap:wrap;gap:12px}
figure.chart{border:1px solid var(--line);border-radius:4px;padding:4px;background:#fff}
figure.chart svg{display:block}
figure.chart figcaption{max-width:520px;padding:0 4px 2px}
figure.chart.small figcaption{max-width:340px}
table.data{border-collapse:collapse;font-size:12.5px;font-variant-numeric:tabular-nums}
table.data th,table.data td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
table.data thead th{background:#f1f1f4;font-weight:600}
table.data tbody tr:nth-child(even){background:#fafafb}
table.data tfoot td{font-weight:600;border-bottom:none}
table.runs td:nth-child(2),table.runs th:nth-child(2){text-align:left;white-space:normal;min-width:260px}
table.models td:first-child,table.models th:first-child{text-align:left}
footer{color:var(--muted);font-size:12px;margin-top:24px}
)css";

} // namespace

std::string study_report_html(const StudyResults& results) {
    using namespace report;
    ReportContext context(results);
    const std::string header = section_header(context);
    const std::pair<SectionInfo, std::string> sections[] = {
        {kGridSection, section_grid(context)},       {kSweepSection, section_sweeps(context)},
        {kMatrixSection, section_matrix(context)},   {kLossSection, section_losses(context)},
        {kTableSection, section_run_table(context)}, {kReconstructionSection, section_reconstructions(context)},
        {kModelSection, section_models(context)},
    };
    const std::string title = results.spec.title.empty() ? "Style transfer study" : results.spec.title;
    std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                       "<meta name=\"generator\" content=\"impasto " IMPASTO_VERSION "\">";
    html += "<title>" + html_escape(title) + "</title><style>" + kStyleSheet + "</style></head>\n<body><main>";
    html += header;
    std::string nav;
    for (const auto& [info, body] : sections) {
        if (!body.empty()) {
            nav += fmt::format("<a href=\"#{}\">{}</a>", info.id, info.heading);
        }
    }
    if (!nav.empty()) {
        html += "<nav>" + nav + "</nav>";
    }
    for (const auto& [info, body] : sections) {
        if (!body.empty()) {
            html += "\n" + body;
        }
    }
    if (results.runs.empty() && results.reconstructions.empty()) {
        html += "<section><p class=\"note\">Nothing has run yet.</p></section>";
    }
    html += "\n<footer>Made by impasto " IMPASTO_VERSION ". Images are shrunk copies; the full-size outputs are "
            "in the study's runs/ folder, listed in runs.csv and study.json.</footer></main></body></html>\n";
    return html;
}

} // namespace impasto
