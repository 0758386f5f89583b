// The report's header and its tables: every run's time and memory, and the weight-set comparison.
#include "report/report_sections.h"
#include "report/report_text.h"

#include <algorithm>
#include <fmt/format.h>
#include <limits>

namespace impasto::report {

namespace {

std::string row(std::initializer_list<std::string> cells, const char* tag = "td") {
    std::string html = "<tr>";
    for (const std::string& cell : cells) {
        html += fmt::format("<{0}>{1}</{0}>", tag, cell);
    }
    return html + "</tr>";
}

std::string meta(const std::string& name, const std::string& value) {
    return "<dt>" + html_escape(name) + "</dt><dd>" + html_escape(value) + "</dd>";
}

struct Mean {
    double sum = 0;
    int count = 0;
    void add(double v) {
        sum += v;
        ++count;
    }
    double value() const { return count > 0 ? sum / count : std::numeric_limits<double>::quiet_NaN(); }
};

} // namespace

std::string section_header(ReportContext& context) {
    const StudyResults& results = context.results;
    const StudySpec& spec = results.spec;
    const StudyIndex& index = context.index;
    std::string html = "<header><h1>" + html_escape(spec.title.empty() ? "Style transfer study" : spec.title) + "</h1>";
    if (!spec.description.empty()) {
        html += "<p class=\"description\">" + html_escape(spec.description) + "</p>";
    }
    const auto cached = std::count_if(results.runs.begin(), results.runs.end(), [](const auto& r) { return r.cached; });
    if (!results.complete) {
        html += fmt::format("<div class=\"warning\" role=\"alert\"><b>Incomplete study.</b> It was interrupted: {} of "
                            "{} runs are shown, the others appear as “not run”.</div>",
                            results.runs.size(), index.planned_runs());
    }
    html += "<dl class=\"meta\">";
    if (!spec.file.empty()) {
        html += meta("Spec", spec.file.filename().string());
    }
    html += meta("Runs", fmt::format("{} of {} planned ({} from the cache, {} run now)", results.runs.size(),
                                     index.planned_runs(), cached, results.runs_executed));
    html += meta("Inputs", fmt::format("{} content × {} style images", index.content_count(), index.style_count()));
    std::string grid;
    for (const GridAxis& axis : spec.grid) {
        grid += (grid.empty() ? "" : "; ") + axis.key + " (" + std::to_string(axis.values.size()) + " values)";
    }
    if (!grid.empty()) {
        html += meta("Grid", grid);
    }
    std::string base = "preset " + spec.preset + ", model " + spec.model;
    for (const SpecSetting& setting : spec.base) {
        base += ", " + setting.key + "=" + setting.value.label();
    }
    html += meta("Settings", base);
    if (!results.machine.empty()) {
        html += meta("Machine", results.machine);
    }
    if (!results.generated_at.empty()) {
        html += meta("Generated", results.generated_at);
    }
    html += meta("Time", format_seconds(results.total_seconds) + " s in this invocation");
    return html + "</dl></header>";
}

std::string section_run_table(ReportContext& context) {
    const StudyResults& results = context.results;
    if (results.runs.empty()) {
        return "";
    }
    std::string html = section_open(kTableSection);
    html += "<div class=\"scroll\"><table class=\"data runs\"><thead>";
    html += row({"#", "Run", "Size", "Iterations", "Wall (s)", "Peak memory (MiB)", "Content loss", "Style loss",
                 "Final total", "Cached"},
                "th");
    html += "</thead><tbody>";
    double wall = 0;
    std::int64_t peak = 0;
    for (const StudyRunResult& run : results.runs) {
        const bool evaluated = has_evaluation(run);
        html += row(
            {std::to_string(run.run.index), html_escape(run.run.label), fmt::format("{}×{}", run.width, run.height),
             std::to_string(run.iterations_done), format_seconds(run.wall_seconds), format_mib(run.peak_memory_bytes),
             evaluated ? format_metric(run.evaluation.content_loss) : "–",
             evaluated ? format_metric(run.evaluation.style_loss) : "–",
             run.history.empty() ? "–" : format_metric(run.history.back().losses.total), run.cached ? "yes" : "no"});
        wall += run.wall_seconds;
        peak = std::max(peak, run.peak_memory_bytes);
    }
    html += "</tbody><tfoot>";
    html += row({"", fmt::format("{} runs", results.runs.size()), "", "", format_seconds(wall),
                 "max " + format_mib(peak), "", "", "", ""});
    html += "</tfoot></table></div>";
    html += "<p class=\"note\">Content and style loss: the fixed evaluator (Gatys 2016 eq. 1 and 3 under fp32 VGG19, "
            "the same for every run). Wall time of cached runs is from when they ran.</p>";
    return html + "</section>";
}

std::string section_models(ReportContext& context) {
    const StudyIndex& index = context.index;
    const int axis = index.axis_index("model");
    if (axis < 0 || context.results.runs.empty()) {
        return "";
    }
    const GridAxis& models = index.axes()[static_cast<std::size_t>(axis)];
    std::string html = section_open(kModelSection);
    html += "<div class=\"scroll\"><table class=\"data models\"><thead>";
    html += row({"Weights", "Runs", "Mean content loss", "Mean style loss", "Mean wall (s)", "Mean peak memory (MiB)"},
                "th");
    html += "</thead><tbody>";
    for (std::size_t v = 0; v < models.values.size(); ++v) {
        Mean content;
        Mean style;
        Mean wall;
        Mean memory;
        for (const StudyRunResult& run : context.results.runs) {
            if (StudyIndex::value_of(run, static_cast<std::size_t>(axis)) != static_cast<int>(v)) {
                continue;
            }
            if (has_evaluation(run)) {
                content.add(run.evaluation.content_loss);
                style.add(run.evaluation.style_loss);
            }
            wall.add(run.wall_seconds);
            if (run.peak_memory_bytes > 0) {
                memory.add(static_cast<double>(run.peak_memory_bytes));
            }
        }
        html += row({html_escape(models.values[v].label()), std::to_string(wall.count), format_metric(content.value()),
                     format_metric(style.value()), wall.count > 0 ? format_seconds(wall.value()) : "–",
                     memory.count > 0 ? format_mib(static_cast<std::int64_t>(memory.value())) : "–"});
    }
    html += "</tbody></table></div>";
    html += "<p class=\"note\">Means over every content, style and other parameter; losses from the fixed evaluator, "
            "so they compare across weight sets.</p>";
    html += "<h3>model</h3>" + axis_strip(context, axis);
    return html + "</section>";
}

} // namespace impasto::report
