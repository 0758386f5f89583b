// Validation, names and schedules of StylizeOptions.
#include "impasto/error.h"
#include "impasto/layers.h"
#include "impasto/stylize_options.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>
#include <utility>

namespace impasto {
namespace {

template <class Enum, std::size_t N>
Enum parse_name(const std::string& text, const std::array<std::pair<const char*, Enum>, N>& table, const char* what) {
    std::string known;
    for (const auto& [name, value] : table) {
        if (text == name) {
            return value;
        }
        known += (known.empty() ? "" : ", ") + std::string(name);
    }
    throw ConfigError("unknown " + std::string(what) + " '" + text + "'; choose one of: " + known);
}

template <class Enum, std::size_t N>
const char* name_of(Enum value, const std::array<std::pair<const char*, Enum>, N>& table) {
    for (const auto& [name, candidate] : table) {
        if (candidate == value) {
            return name;
        }
    }
    return "?";
}

const std::array<std::pair<const char*, OptimizerKind>, 2> kOptimizers{
    {{"lbfgs", OptimizerKind::Lbfgs}, {"adam", OptimizerKind::Adam}}};
const std::array<std::pair<const char*, InitKind>, 4> kInits{
    {{"noise", InitKind::Noise}, {"content", InitKind::Content}, {"style", InitKind::Style}, {"file", InitKind::File}}};
const std::array<std::pair<const char*, Pooling>, 2> kPoolings{{{"max", Pooling::Max}, {"avg", Pooling::Average}}};
const std::array<std::pair<const char*, Precision>, 3> kPrecisions{
    {{"fp32", Precision::Fp32}, {"bf16", Precision::Bf16}, {"fp16", Precision::Fp16}}};
const std::array<std::pair<const char*, ColorControl>, 3> kColors{
    {{"none", ColorControl::None}, {"luminance", ColorControl::Luminance}, {"histogram", ColorControl::Histogram}}};
const std::array<std::pair<const char*, LossScaling>, 2> kScalings{
    {{"paper", LossScaling::Paper}, {"normalized", LossScaling::Normalized}}};

void require(bool ok, const std::string& field, const std::string& value, const std::string& allowed) {
    if (!ok) {
        throw ConfigError(field + " = " + value + " is out of range; allowed: " + allowed);
    }
}

std::string trimmed(const std::string& text) {
    const std::size_t first = text.find_first_not_of(" \t");
    const std::size_t last = text.find_last_not_of(" \t");
    return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

std::string str(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

} // namespace

OptimizerKind parse_optimizer(const std::string& text) {
    return parse_name(text, kOptimizers, "optimizer");
}
InitKind parse_init(const std::string& text) {
    return parse_name(text, kInits, "init");
}
Pooling parse_pooling(const std::string& text) {
    return parse_name(text, kPoolings, "pooling");
}
Precision parse_precision(const std::string& text) {
    return parse_name(text, kPrecisions, "precision");
}
ColorControl parse_color(const std::string& text) {
    return parse_name(text, kColors, "colour control");
}
LossScaling parse_loss_scaling(const std::string& text) {
    return parse_name(text, kScalings, "loss scaling");
}
const char* to_string(OptimizerKind value) {
    return name_of(value, kOptimizers);
}
const char* to_string(InitKind value) {
    return name_of(value, kInits);
}
const char* to_string(Pooling value) {
    return name_of(value, kPoolings);
}
const char* to_string(Precision value) {
    return name_of(value, kPrecisions);
}
const char* to_string(ColorControl value) {
    return name_of(value, kColors);
}
const char* to_string(LossScaling value) {
    return name_of(value, kScalings);
}

std::vector<ScaleStep> parse_schedule(const std::string& text) {
    std::vector<ScaleStep> steps;
    std::istringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        // Stop at the cap: a schedule of millions of steps is refused before it is built.
        if (steps.size() == static_cast<std::size_t>(kMaxScheduleSteps)) {
            throw ConfigError("schedule has more than " + std::to_string(kMaxScheduleSteps) + " steps; allowed: 1.." +
                              std::to_string(kMaxScheduleSteps));
        }
        const std::size_t colon = item.find(':');
        ScaleStep step;
        try {
            if (colon == std::string::npos) {
                throw std::invalid_argument("no colon");
            }
            const std::string side_text = trimmed(item.substr(0, colon));
            const std::string iterations_text = trimmed(item.substr(colon + 1));
            std::size_t side_used = 0;
            std::size_t iterations_used = 0;
            step.long_side = std::stoi(side_text, &side_used);
            step.iterations = std::stoi(iterations_text, &iterations_used);
            if (side_used != side_text.size() || iterations_used != iterations_text.size()) {
                throw std::invalid_argument("trailing characters");
            }
        } catch (const std::exception&) {
            throw ConfigError("schedule step '" + item + "' is not SIZE:ITERATIONS (e.g. 256:200,512:100)");
        }
        steps.push_back(step);
    }
    if (steps.empty()) {
        throw ConfigError("schedule '" + text + "' is empty; expected SIZE:ITERATIONS,... (e.g. 256:200,512:100)");
    }
    return steps;
}

std::string format_schedule(const std::vector<ScaleStep>& steps) {
    std::string text;
    for (const ScaleStep& step : steps) {
        text += (text.empty() ? "" : ",") + std::to_string(step.long_side) + ":" + std::to_string(step.iterations);
    }
    return text;
}

namespace {

// Sides are computed in double and kept far below INT_MAX, so that options not yet validated
// cannot overflow here; validate() refuses anything above kMaxImageSide.
int bounded_side(double side) {
    if (!(side < 1e9)) {
        return 1'000'000'000;
    }
    return std::max(16, static_cast<int>(std::lround(side)));
}

} // namespace

std::vector<ScaleStep> StylizeOptions::schedule() const {
    if (scales.empty()) {
        return {{size, iterations}};
    }
    std::vector<ScaleStep> steps;
    const double factor = static_cast<double>(size) / std::max(1, scales.back().long_side);
    for (std::size_t i = 0; i < scales.size(); ++i) {
        const bool last = i + 1 == scales.size();
        const int side = last ? size : bounded_side(scales[i].long_side * factor);
        steps.push_back({side, last ? iterations : scales[i].iterations});
    }
    return steps;
}

int StylizeOptions::style_long_side(int step_long_side) const {
    return bounded_side(step_long_side * style_scale);
}

void StylizeOptions::validate() const {
    require(content_layers.size() <= kMaxLayerEntries, "content layers",
            std::to_string(content_layers.size()) + " entries", "0.." + std::to_string(kMaxLayerEntries) + " entries");
    require(style_layers.size() <= kMaxLayerEntries, "style layers", std::to_string(style_layers.size()) + " entries",
            "0.." + std::to_string(kMaxLayerEntries) + " entries");
    // Names are checked against the model's own architecture in stylize(); here, against all.
    check_layer_names_any(content_layers, "content layers");
    check_layer_names_any(style_layers, "style layers");
    require(!style_layers.empty() || style_weight == 0, "style layers", "(none)",
            "at least one layer (or style weight 0)");
    require(style_layer_weights.empty() || style_layer_weights.size() == style_layers.size(), "style layer weights",
            std::to_string(style_layer_weights.size()) + " values",
            "one per style layer (" + std::to_string(style_layers.size()) + ") or none");
    for (double w : style_layer_weights) {
        require(std::isfinite(w) && w >= 0, "style layer weight", str(w), ">= 0");
    }
    require(std::isfinite(content_weight) && content_weight >= 0, "content weight", str(content_weight), ">= 0");
    require(std::isfinite(style_weight) && style_weight >= 0, "style weight", str(style_weight), ">= 0");
    require(std::isfinite(tv_weight) && tv_weight >= 0, "tv weight", str(tv_weight), ">= 0");
    require(lbfgs_history >= 1 && lbfgs_history <= kMaxLbfgsHistory, "lbfgs history", std::to_string(lbfgs_history),
            "1.." + std::to_string(kMaxLbfgsHistory));
    require(learning_rate > 0 && learning_rate <= 100, "learning rate", str(learning_rate), "(0, 100]");
    require(adam_learning_rate > 0 && adam_learning_rate <= 10, "adam learning rate", str(adam_learning_rate),
            "(0, 10]");
    require(noise_stddev >= 0 && noise_stddev <= 10, "noise stddev", str(noise_stddev), "0..10");
    const std::string side_range = "16.." + std::to_string(kMaxImageSide);
    const std::string iteration_range = "0.." + std::to_string(kMaxIterations);
    require(size >= 16 && size <= kMaxImageSide, "size", std::to_string(size), side_range);
    require(iterations >= 0 && iterations <= kMaxIterations, "iterations", std::to_string(iterations), iteration_range);
    require(scales.size() <= static_cast<std::size_t>(kMaxScheduleSteps), "schedule",
            std::to_string(scales.size()) + " steps", "1.." + std::to_string(kMaxScheduleSteps) + " steps (or none)");
    for (const ScaleStep& step : scales) {
        require(step.long_side >= 16 && step.long_side <= kMaxImageSide, "schedule size",
                std::to_string(step.long_side), side_range);
        require(step.iterations >= 0 && step.iterations <= kMaxIterations, "schedule iterations",
                std::to_string(step.iterations), iteration_range);
    }
    require(style_scale > 0.05 && style_scale <= 8, "style scale", str(style_scale), "(0.05, 8]");
    // The schedule is rescaled so that its last step is `size`: an early step can grow past the cap
    // (16384:10,16:10 at size 16384 asks for a 16.7 Mpx side), and so can the style images.
    long long total_iterations = 0;
    for (const ScaleStep& step : schedule()) {
        require(step.long_side <= kMaxImageSide, "schedule size",
                std::to_string(step.long_side) + " (the schedule scaled to size " + std::to_string(size) + ")",
                side_range);
        const int style_side = style_long_side(step.long_side);
        require(style_side <= kMaxImageSide, "style scale",
                str(style_scale) + " (style images " + std::to_string(style_side) + " px long at the " +
                    std::to_string(step.long_side) + " px step)",
                "a style long side of at most " + std::to_string(kMaxImageSide) + " px");
        total_iterations += step.iterations;
    }
    require(total_iterations <= kMaxIterations, "total iterations", std::to_string(total_iterations) + " (all steps)",
            iteration_range);
    require(init != InitKind::File || !init_file.empty(), "init", "file", "--init-image FILE together with init=file");
    require(preview_every >= 0 && preview_every <= kMaxIterations, "preview every", std::to_string(preview_every),
            iteration_range);
    require(max_pixels >= 256 && max_pixels <= (std::int64_t{1} << 40), "max pixels", std::to_string(max_pixels),
            "256..2^40");
}

} // namespace impasto
