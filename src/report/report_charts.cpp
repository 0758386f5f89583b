// Section 5: loss curves as inline SVG: one overlay per sweep axis (the runs of the sweep,
// coloured by value) and small multiples, one chart per run with total, content and style.
#include "report/report_sections.h"
#include "report/report_text.h"
#include "report/svg_chart.h"

#include <fmt/format.h>

namespace impasto::report {

namespace {

enum class Term { Total, Content, Style };

double term_value(const LossRecord& record, Term term) {
    switch (term) {
    case Term::Content:
        return record.losses.content;
    case Term::Style:
        return record.losses.style;
    case Term::Total:
        break;
    }
    return record.losses.total;
}

ChartSeries series_of(const StudyRunResult& run, Term term, const std::string& name, const std::string& color,
                      bool dashed = false) {
    ChartSeries series;
    series.name = name;
    series.color = color;
    series.dashed = dashed;
    const CumulativeHistory x = cumulative_history(run.history);
    series.points.reserve(run.history.size());
    for (std::size_t i = 0; i < run.history.size(); ++i) {
        series.points.emplace_back(x.x[i], term_value(run.history[i], term));
    }
    return series;
}

std::vector<ChartMarker> scale_markers(const StudyRunResult& run) {
    std::vector<ChartMarker> markers;
    const CumulativeHistory x = cumulative_history(run.history);
    for (std::size_t i = 0; i < x.scale_starts.size(); ++i) {
        markers.push_back({x.scale_starts[i], fmt::format("scale {}", i + 2)});
    }
    return markers;
}

// Total loss of every run along axis `axis` for the first content × style pair.
std::string sweep_overlay(ReportContext& context, int axis) {
    const StudyIndex& index = context.index;
    const GridAxis& grid_axis = index.axes()[static_cast<std::size_t>(axis)];
    std::vector<int> place = index.first_values();
    std::vector<ChartSeries> series;
    const StudyRunResult* first_run = nullptr;
    for (std::size_t v = 0; v < grid_axis.values.size(); ++v) {
        place[static_cast<std::size_t>(axis)] = static_cast<int>(v);
        const StudyRunResult* run = index.find(0, 0, place);
        if (run == nullptr || run->history.empty()) {
            continue;
        }
        first_run = first_run == nullptr ? run : first_run;
        series.push_back(
            series_of(*run, Term::Total, grid_axis.values[v].label(), sweep_color(v, grid_axis.values.size())));
    }
    if (series.size() < 2) {
        return "";
    }
    ChartOptions options;
    options.title = "Total loss over " + grid_axis.key;
    options.x_label = "iteration (across scales)";
    options.y_label = "loss";
    options.width = 520;
    options.height = 300;
    options.markers = scale_markers(*first_run);
    std::string caption = index.content_name(0) + " × " + index.style_name(0);
    const std::string others = index.describe(index.first_values(), axis);
    if (!others.empty()) {
        caption += "; " + others;
    }
    return "<figure class=\"chart\">" + svg_line_chart(series, options) + "<figcaption>" + html_escape(caption) +
           "</figcaption></figure>";
}

std::string run_chart(const StudyRunResult& run) {
    std::vector<ChartSeries> series{series_of(run, Term::Total, "total", kTotalColor),
                                    series_of(run, Term::Content, "content", kContentColor, true),
                                    series_of(run, Term::Style, "style", kStyleColor, true)};
    ChartOptions options;
    options.x_label = "iteration";
    options.width = 340;
    options.height = 210;
    options.markers = scale_markers(run);
    return "<figure class=\"chart small\">" + svg_line_chart(series, options) + "<figcaption>" +
           html_escape(fmt::format("#{} {}", run.run.index, run.run.label)) + "</figcaption></figure>";
}

} // namespace

std::string section_losses(ReportContext& context) {
    const StudyResults& results = context.results;
    bool any = false;
    for (const StudyRunResult& run : results.runs) {
        any = any || !run.history.empty();
    }
    if (!any) {
        return "";
    }
    std::string html = section_open(kLossSection);
    html += "<p class=\"note\">Weighted losses as the optimiser saw them (α·L<sub>content</sub>, β·L<sub>style</sub> "
            "and their total with TV), log scale; the x axis counts iterations across the coarse-to-fine scales, "
            "dashed lines mark where a finer scale starts.</p>";
    std::string overlays;
    for (std::size_t a = 0; a < context.index.axes().size(); ++a) {
        if (context.index.axes()[a].values.size() >= 2) {
            overlays += sweep_overlay(context, static_cast<int>(a));
        }
    }
    if (!overlays.empty()) {
        html += "<h3>Sweeps</h3><div class=\"charts\">" + overlays + "</div>";
    }
    html += "<h3>Every run</h3><div class=\"charts\">";
    for (const StudyRunResult& run : results.runs) {
        if (!run.history.empty()) {
            html += run_chart(run);
        }
    }
    return html + "</div></section>";
}

} // namespace impasto::report
