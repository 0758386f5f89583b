// The image sections of the report: the content × style grid, the sweep strips and the matrix.
#include "report/report_sections.h"
#include "report/report_text.h"

#include <algorithm>
#include <fmt/format.h>

namespace impasto::report {

namespace {

std::string input_header(ReportContext& context, const std::filesystem::path& file, const std::string& name) {
    return "<th class=\"input\">" + context.thumbs.tag(file, name) + "<div class=\"name\">" + html_escape(name) +
           "</div></th>";
}

std::string note(const std::string& text) {
    return "<p class=\"note\">" + html_escape(text) + "</p>";
}

} // namespace

std::string section_open(const SectionInfo& info, const std::string& heading_suffix) {
    return fmt::format("<section id=\"{}\"><h2>{}{}</h2>", info.id, info.heading, html_escape(heading_suffix));
}

std::string run_figure(ReportContext& context, const StudyRunResult* run, const std::string& title) {
    std::string html = "<figure class=\"cell\">";
    if (run == nullptr) {
        html += Thumbnails::placeholder("not run", "");
    } else {
        html += context.thumbs.tag(run->image, run->run.label);
    }
    html += "<figcaption>";
    if (!title.empty()) {
        html += "<b>" + html_escape(title) + "</b><br>";
    }
    if (run != nullptr && has_evaluation(*run)) {
        html += "style " + format_metric(run->evaluation.style_loss) + " · content " +
                format_metric(run->evaluation.content_loss);
    } else if (run != nullptr) {
        html += "not evaluated";
    }
    return html + "</figcaption></figure>";
}

std::string section_grid(ReportContext& context) {
    const StudyIndex& index = context.index;
    if (context.results.runs.empty() || index.content_count() == 0 || index.style_count() == 0) {
        return "";
    }
    const std::vector<int> first = index.first_values();
    std::string html = section_open(kGridSection);
    std::string text = "Rows: content images; columns: style images.";
    const std::string others = index.describe(first);
    if (!others.empty()) {
        text += " Other parameters at their first value: " + others + ".";
    }
    html += note(text);
    html += "<div class=\"scroll\"><table class=\"images\"><tr><th></th>";
    for (int s = 0; s < index.style_count(); ++s) {
        html += input_header(context, index.style_path(s), index.style_name(s));
    }
    html += "</tr>";
    for (int c = 0; c < index.content_count(); ++c) {
        html += "<tr>" + input_header(context, index.content_path(c), index.content_name(c));
        for (int s = 0; s < index.style_count(); ++s) {
            html += "<td>" + run_figure(context, index.find(c, s, first), "") + "</td>";
        }
        html += "</tr>";
    }
    return html + "</table></div></section>";
}

std::string axis_strip(ReportContext& context, int axis) {
    const StudyIndex& index = context.index;
    const GridAxis& grid_axis = index.axes().at(static_cast<std::size_t>(axis));
    std::vector<int> place = index.first_values();
    std::string html;
    const std::string others = index.describe(place, axis);
    if (!others.empty()) {
        html += note("Other parameters at their first value: " + others + ".");
    }
    html += "<div class=\"scroll\"><table class=\"images strip\"><tr><th></th>";
    for (const SpecValue& value : grid_axis.values) {
        html += "<th>" + html_escape(grid_axis.key + " = " + value.label()) + "</th>";
    }
    html += "</tr>";
    for (int c = 0; c < index.content_count(); ++c) {
        for (int s = 0; s < index.style_count(); ++s) {
            html += "<tr><th class=\"pair\">" + html_escape(index.content_name(c)) + "<br>× " +
                    html_escape(index.style_name(s)) + "</th>";
            for (std::size_t v = 0; v < grid_axis.values.size(); ++v) {
                place[static_cast<std::size_t>(axis)] = static_cast<int>(v);
                html += "<td>" + run_figure(context, index.find(c, s, place), grid_axis.values[v].label()) + "</td>";
            }
            html += "</tr>";
        }
    }
    return html + "</table></div>";
}

std::string section_sweeps(ReportContext& context) {
    const StudyIndex& index = context.index;
    if (context.results.runs.empty()) {
        return "";
    }
    std::string body;
    for (std::size_t a = 0; a < index.axes().size(); ++a) {
        const GridAxis& axis = index.axes()[a];
        if (axis.values.size() < 2 || axis.key == "model") {
            continue;
        }
        body += "<h3>" + html_escape(axis.key) + "</h3>" + axis_strip(context, static_cast<int>(a));
    }
    if (body.empty()) {
        return "";
    }
    return section_open(kSweepSection) + body + "</section>";
}

std::string section_matrix(ReportContext& context) {
    const StudyIndex& index = context.index;
    const auto& keys = context.results.spec.matrix;
    if (keys.size() != 2 || context.results.runs.empty()) {
        return "";
    }
    const int row_axis = index.axis_index(keys[0]);
    const int column_axis = index.axis_index(keys[1]);
    if (row_axis < 0 || column_axis < 0 || row_axis == column_axis) {
        return "";
    }
    const GridAxis& rows = index.axes()[static_cast<std::size_t>(row_axis)];
    const GridAxis& columns = index.axes()[static_cast<std::size_t>(column_axis)];
    std::vector<int> place = index.first_values();
    std::string html = section_open(kMatrixSection, ": " + rows.key + " × " + columns.key);
    std::string text = "Rows: " + rows.key + "; columns: " + columns.key + "; " + index.content_name(0) + " × " +
                       index.style_name(0) + ".";
    const std::string others = index.describe(place, row_axis, column_axis);
    if (!others.empty()) {
        text += " Other parameters at their first value: " + others + ".";
    }
    html += note(text);
    html += "<div class=\"scroll\"><table class=\"images matrix\"><tr><th></th>";
    for (const SpecValue& value : columns.values) {
        html += "<th>" + html_escape(columns.key + " = " + value.label()) + "</th>";
    }
    html += "</tr>";
    for (std::size_t r = 0; r < rows.values.size(); ++r) {
        place[static_cast<std::size_t>(row_axis)] = static_cast<int>(r);
        html += "<tr><th class=\"pair\">" + html_escape(rows.key + " = " + rows.values[r].label()) + "</th>";
        for (std::size_t c = 0; c < columns.values.size(); ++c) {
            place[static_cast<std::size_t>(column_axis)] = static_cast<int>(c);
            html += "<td>" + run_figure(context, index.find(0, 0, place), "") + "</td>";
        }
        html += "</tr>";
    }
    return html + "</table></div></section>";
}

} // namespace impasto::report
