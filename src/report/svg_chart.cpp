// Inline SVG line charts for the loss curves (see svg_chart.h).
#include "report/svg_chart.h"

#include "report/report_text.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace impasto::report {

namespace {

constexpr double kLeft = 58;
constexpr double kRight = 12;

double nice_step(double range, int target) {
    const double raw = range / target;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / magnitude;
    const double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nice * magnitude;
}

std::string coord(double v) {
    return fmt::format("{:.1f}", v);
}

std::string linear_label(double v, double step) {
    if (std::abs(v) < step * 1e-6) {
        return "0";
    }
    if (step >= 1 && std::abs(v) < 1e6) {
        return fmt::format("{:.0f}", v);
    }
    return fmt::format("{:.3g}", v);
}

std::string decade_label(int exponent) {
    if (exponent >= -2 && exponent <= 3) {
        return fmt::format("{:g}", std::pow(10.0, exponent));
    }
    return fmt::format("1e{}", exponent);
}

struct Axis {
    double lo = 0;
    double hi = 1;
};

// The drawable points of a series in axis units (log10 y on a log axis), thinned.
std::vector<std::pair<double, double>> drawable(const ChartSeries& series, const ChartOptions& options) {
    std::vector<std::pair<double, double>> points;
    for (const auto& [x, y] : series.points) {
        if (!std::isfinite(x) || !std::isfinite(y) || (options.log_y && y <= 0)) {
            continue;
        }
        points.emplace_back(x, options.log_y ? std::log10(y) : y);
    }
    const std::size_t limit = std::max<std::size_t>(options.max_points, 2);
    if (points.size() > limit) {
        std::vector<std::pair<double, double>> thinned;
        thinned.reserve(limit);
        for (std::size_t i = 0; i < limit; ++i) {
            thinned.push_back(points[i * (points.size() - 1) / (limit - 1)]);
        }
        points = std::move(thinned);
    }
    return points;
}

std::string text(double x, double y, const std::string& content, const char* anchor, const char* extra = "") {
    return fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"{}\"{}>{}</text>", coord(x), coord(y), anchor, extra,
                       html_escape(content));
}

} // namespace

std::string sweep_color(std::size_t index, std::size_t count) {
    // Viridis anchors, stopping short of the pale yellow end (poor contrast on white).
    static constexpr std::array<std::array<double, 3>, 5> kAnchors{{
        {68, 1, 84},
        {59, 82, 139},
        {33, 145, 140},
        {94, 201, 98},
        {253, 231, 37},
    }};
    const double t = count <= 1 ? 0.0 : 0.88 * static_cast<double>(index) / static_cast<double>(count - 1);
    const double scaled = t * (kAnchors.size() - 1);
    const auto i = std::min<std::size_t>(static_cast<std::size_t>(scaled), kAnchors.size() - 2);
    const double f = scaled - static_cast<double>(i);
    std::array<int, 3> rgb{};
    for (std::size_t c = 0; c < 3; ++c) {
        rgb[c] = static_cast<int>(std::lround(kAnchors[i][c] + f * (kAnchors[i + 1][c] - kAnchors[i][c])));
    }
    return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

std::string svg_line_chart(const std::vector<ChartSeries>& series, const ChartOptions& options) {
    const double width = std::max(options.width, 160);
    const double height = std::max(options.height, 120);
    const double top = options.title.empty() ? 10 : 26;
    const double bottom = options.x_label.empty() ? 24 : 38;
    const double x0 = kLeft;
    const double x1 = width - kRight;
    const double y0 = top;
    const double y1 = height - bottom;

    std::string svg = fmt::format("<svg class=\"chart\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
                                  "role=\"img\" font-size=\"10\" font-family=\"sans-serif\">",
                                  width, height);
    svg += "<title>" + html_escape(options.title) + "</title>";
    svg += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>", width, height);
    if (!options.title.empty()) {
        svg += text(x0, 16, options.title, "start", " font-size=\"12\" font-weight=\"bold\"");
    }

    std::vector<std::vector<std::pair<double, double>>> data;
    Axis xs{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    Axis ys = xs;
    for (const ChartSeries& s : series) {
        data.push_back(drawable(s, options));
        for (const auto& [x, y] : data.back()) {
            xs.lo = std::min(xs.lo, x);
            xs.hi = std::max(xs.hi, x);
            ys.lo = std::min(ys.lo, y);
            ys.hi = std::max(ys.hi, y);
        }
    }
    const auto frame = fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
                                   "stroke=\"#999999\"/>",
                                   coord(x0), coord(y0), coord(x1 - x0), coord(y1 - y0));
    if (!std::isfinite(xs.lo)) {
        svg += frame;
        svg += text((x0 + x1) / 2, (y0 + y1) / 2, "no data", "middle", " fill=\"#888888\"");
        return svg + "</svg>";
    }
    if (xs.hi - xs.lo < 1e-12) {
        xs.lo -= 1;
        xs.hi += 1;
    }
    // y: whole decades on a log axis, nice steps on a linear one.
    double y_step = 1;
    if (options.log_y) {
        ys.lo = std::floor(ys.lo);
        ys.hi = std::max(std::ceil(ys.hi), ys.lo + 1);
        y_step = std::max(1.0, std::ceil((ys.hi - ys.lo) / 6));
    } else {
        if (ys.hi - ys.lo < 1e-12) {
            ys.lo -= 1;
            ys.hi += 1;
        }
        y_step = nice_step(ys.hi - ys.lo, 5);
        ys.lo = std::floor(ys.lo / y_step) * y_step;
        ys.hi = std::ceil(ys.hi / y_step) * y_step;
    }
    const auto px = [&](double x) { return x0 + (x - xs.lo) / (xs.hi - xs.lo) * (x1 - x0); };
    const auto py = [&](double y) { return y1 - (y - ys.lo) / (ys.hi - ys.lo) * (y1 - y0); };
    const auto hline = [&](double y, const char* color) {
        return fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>", coord(x0), coord(py(y)),
                           coord(x1), coord(py(y)), color);
    };

    // Grid and y tick labels.
    if (options.log_y && ys.hi - ys.lo <= 3) {
        for (double e = ys.lo; e < ys.hi; e += 1) {
            for (int m = 2; m <= 9; ++m) {
                svg += hline(e + std::log10(m), "#f0f0f0");
            }
        }
    }
    for (double y = ys.lo; y <= ys.hi + y_step * 1e-9; y += y_step) {
        svg += hline(y, "#dddddd");
        const std::string label =
            options.log_y ? decade_label(static_cast<int>(std::lround(y))) : linear_label(y, y_step);
        svg += text(x0 - 4, py(y) + 3.5, label, "end");
    }
    // x tick labels.
    const double x_step = nice_step(xs.hi - xs.lo, std::max(2, static_cast<int>((x1 - x0) / 70)));
    for (double x = std::ceil(xs.lo / x_step) * x_step; x <= xs.hi + x_step * 1e-9; x += x_step) {
        svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#999999\"/>", coord(px(x)),
                           coord(y1), coord(y1 + 4));
        svg += text(px(x), y1 + 14, linear_label(x, x_step), "middle");
    }
    svg += frame;
    for (const ChartMarker& marker : options.markers) {
        if (marker.x < xs.lo || marker.x > xs.hi) {
            continue;
        }
        svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#aaaaaa\" "
                           "stroke-dasharray=\"3 3\"/>",
                           coord(px(marker.x)), coord(y0), coord(y1));
        svg += text(px(marker.x) + 2, y0 + 9, marker.label, "start", " fill=\"#888888\" font-size=\"9\"");
    }
    if (!options.x_label.empty()) {
        svg += text((x0 + x1) / 2, height - 6, options.x_label, "middle", " fill=\"#444444\"");
    }
    if (!options.y_label.empty()) {
        svg += fmt::format("<text x=\"12\" y=\"{0}\" text-anchor=\"middle\" fill=\"#444444\" "
                           "transform=\"rotate(-90 12 {0})\">{1}</text>",
                           coord((y0 + y1) / 2), html_escape(options.y_label));
    }

    // Series.
    for (std::size_t i = 0; i < series.size(); ++i) {
        const auto& points = data[i];
        const std::string color = html_escape(series[i].color);
        if (points.size() == 1) {
            svg += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\"/>", coord(px(points[0].first)),
                               coord(py(points[0].second)), color);
            continue;
        }
        if (points.empty()) {
            continue;
        }
        std::string list;
        for (const auto& [x, y] : points) {
            list += coord(px(x)) + "," + coord(py(y)) + " ";
        }
        list.pop_back();
        svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"{} points=\"{}\"/>", color,
                           series[i].dashed ? " stroke-dasharray=\"5 3\"" : "", list);
    }

    // Legend, top right inside the plot.
    std::size_t longest = 0;
    std::size_t named = 0;
    for (const ChartSeries& s : series) {
        longest = std::max(longest, s.name.size());
        named += s.name.empty() ? 0 : 1;
    }
    if (named > 0) {
        const double box_width = std::min(x1 - x0 - 8, 26 + 5.6 * static_cast<double>(longest));
        const double box_height = 6 + 13 * static_cast<double>(named);
        const double bx = x1 - box_width - 4;
        double by = y0 + 4;
        svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#ffffff\" "
                           "fill-opacity=\"0.85\" stroke=\"#dddddd\"/>",
                           coord(bx), coord(by), coord(box_width), coord(box_height));
        for (const ChartSeries& s : series) {
            if (s.name.empty()) {
                continue;
            }
            by += 13;
            svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"{}/>",
                               coord(bx + 4), coord(by - 3.5), coord(bx + 20), coord(by - 3.5), html_escape(s.color),
                               s.dashed ? " stroke-dasharray=\"4 2\"" : "");
            svg += text(bx + 24, by, s.name, "start");
        }
    }
    return svg + "</svg>";
}

} // namespace impasto::report
