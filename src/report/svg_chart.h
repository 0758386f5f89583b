#pragma once
// Line charts as inline SVG, drawn by our own code: a log (or linear) y axis with tick labels,
// a linear x axis, optional vertical markers, a legend. No script, no external resources, and
// no xmlns URL (inline SVG in HTML needs none).
#include <string>
#include <utility>
#include <vector>

namespace impasto::report {

struct ChartSeries {
    std::string name;
    std::string color = "#1f77b4"; // any CSS colour
    bool dashed = false;
    std::vector<std::pair<double, double>> points; // (x, y); non-finite (and, on a log axis, y <= 0) skipped
};

struct ChartMarker {
    double x = 0;
    std::string label; // drawn at the top of the dashed line
};

struct ChartOptions {
    std::string title;
    std::string x_label;
    std::string y_label;
    int width = 360;
    int height = 220;
    bool log_y = true;
    std::size_t max_points = 400; // per series, evenly thinned beyond this (the last point kept)
    std::vector<ChartMarker> markers;
};

// The <svg> element. With no drawable point it is a frame saying "no data".
std::string svg_line_chart(const std::vector<ChartSeries>& series, const ChartOptions& options);

// A distinct colour for item `index` of `count` (a perceptually ordered palette for sweeps).
std::string sweep_color(std::size_t index, std::size_t count);
// Fixed colours for the loss terms.
inline constexpr const char* kTotalColor = "#222222";
inline constexpr const char* kContentColor = "#1f77b4";
inline constexpr const char* kStyleColor = "#d62728";

} // namespace impasto::report
