// The parameter table of each method and the checks of submitted values.
#include "server/job_params.h"

#include "server/studio_error.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)
#include <limits>
#include <string_view>

namespace impasto::studio {

using nlohmann::json;

namespace {

const std::vector<ParamSpec>& optimisation_specs() {
    static const std::vector<ParamSpec> specs{
        {"preset", ParamKind::Text, preset_names(), "named preset the other defaults come from"},
        {"size", ParamKind::Integer, {}, "long side of the output, px"},
        {"iterations", ParamKind::Integer, {}, "optimiser iterations at the final scale"},
        {"schedule", ParamKind::Text, {}, "coarse-to-fine steps like 256:150,512:50; empty for one scale"},
        {"content_layers", ParamKind::Texts, {}, "layers of eq. 1"},
        {"style_layers", ParamKind::Texts, {}, "layers of eq. 3"},
        {"content_weight", ParamKind::Number, {}, "alpha of eq. 4"},
        {"style_weight", ParamKind::Number, {}, "beta of eq. 4"},
        {"tv_weight", ParamKind::Number, {}, "total-variation weight"},
        {"init", ParamKind::Text, {"noise", "content", "style"}, "starting image"},
        {"seed", ParamKind::Integer, {}, "seed of the starting noise"},
        {"optimizer", ParamKind::Text, {"lbfgs", "adam"}, "optimiser"},
        {"pooling", ParamKind::Text, {"max", "avg"}, "VGG pooling"},
        {"loss_scaling", ParamKind::Text, {"normalized", "paper"}, "paper: eq. 1-3 as written"},
        {"style_scale", ParamKind::Number, {}, "style image size relative to the content"},
        {"color", ParamKind::Text, {"none", "luminance", "histogram"}, "keep the content's colours"},
        {"precision", ParamKind::Text, {"fp32", "bf16"}, "arithmetic of the network"},
        {"style_blend", ParamKind::Numbers, {}, "several styles: one weight each (empty = equal)"},
    };
    return specs;
}

const std::vector<ParamSpec>& fast_specs() {
    static const std::vector<ParamSpec> specs{
        {"model", ParamKind::Text, {}, "trained network"},
        {"style_weights", ParamKind::Numbers, {}, "one weight per style of the network (empty = the first style)"},
        {"size", ParamKind::Integer, {}, "long side of the output, px; 0 = the content's own (capped)"},
        {"work_size", ParamKind::Integer, {}, "network runs at this long side, guided upsampling to size; 0 = at size"},
        {"color", ParamKind::Text, {"none", "luminance", "histogram"}, "keep the content's colours"},
        {"precision", ParamKind::Text, {"fp32", "bf16"}, "arithmetic of the network"},
    };
    return specs;
}

const std::vector<ParamSpec>& arbitrary_specs() {
    static const std::vector<ParamSpec> specs{
        {"transform", ParamKind::Text, {"adain", "wct"}, "feature transform"},
        {"alpha", ParamKind::Number, {}, "0 = the content, 1 = the full style"},
        {"levels", ParamKind::Texts, {}, "encoder levels, deep to shallow (empty = the transform's default)"},
        {"size", ParamKind::Integer, {}, "long side of the output, px; 0 = the content's own (capped)"},
        {"work_size", ParamKind::Integer, {}, "network runs at this long side, guided upsampling to size; 0 = at size"},
        {"style_size", ParamKind::Integer, {}, "long side the style images are resized to"},
        {"style_weights", ParamKind::Numbers, {}, "several styles: one weight each (empty = equal)"},
        {"color", ParamKind::Text, {"none", "luminance", "histogram"}, "keep the content's colours"},
        {"precision", ParamKind::Text, {"fp32", "bf16"}, "arithmetic of the encoder and decoders"},
    };
    return specs;
}

json optimisation_defaults(const std::string& preset, Precision precision) {
    const StylizeOptions o = preset_options(preset);
    return {{"preset", o.preset},
            {"size", o.size},
            {"iterations", o.iterations},
            {"schedule", format_schedule(o.scales)},
            {"content_layers", o.content_layers},
            {"style_layers", o.style_layers},
            {"content_weight", o.content_weight},
            {"style_weight", o.style_weight},
            {"tv_weight", o.tv_weight},
            {"init", to_string(o.init)},
            {"seed", o.seed},
            {"optimizer", to_string(o.optimizer)},
            {"pooling", to_string(o.pooling)},
            {"loss_scaling", to_string(o.loss_scaling)},
            {"style_scale", o.style_scale},
            {"color", to_string(o.color)},
            {"precision", to_string(precision)},
            {"style_blend", json::array()}};
}

json fast_defaults(const StudioCatalog& catalog) {
    const FastStylizeOptions o;
    return {{"model", catalog.models.empty() ? "" : catalog.models.front().name},
            {"style_weights", o.style_weights},
            {"size", o.size},
            {"work_size", o.work_size},
            {"color", to_string(o.color)},
            {"precision", to_string(catalog.precision)}};
}

json arbitrary_defaults(const StudioCatalog& catalog) {
    const ArbitraryOptions o;
    return {{"transform", to_string(o.method)},
            {"alpha", o.alpha},
            {"levels", o.levels},
            {"size", o.size},
            {"work_size", o.work_size},
            {"style_size", o.style_size},
            {"style_weights", json::array()},
            {"color", to_string(o.color)},
            {"precision", to_string(catalog.precision)}};
}

} // namespace

const std::vector<ParamSpec>& param_specs(JobMethod method) {
    switch (method) {
    case JobMethod::Fast:
        return fast_specs();
    case JobMethod::Arbitrary:
        return arbitrary_specs();
    case JobMethod::Optimisation:
        break;
    }
    return optimisation_specs();
}

json method_defaults(JobMethod method, const StudioCatalog& catalog, const std::string& preset) {
    switch (method) {
    case JobMethod::Fast:
        return fast_defaults(catalog);
    case JobMethod::Arbitrary:
        return arbitrary_defaults(catalog);
    case JobMethod::Optimisation:
        break;
    }
    return optimisation_defaults(preset, catalog.precision);
}

json param_spec_list(JobMethod method) {
    const std::vector<ParamSpec>& specs = param_specs(method);
    json out = json::array();
    for (const ParamSpec& spec : specs) {
        static const char* const kKindNames[] = {"integer", "number", "text", "numbers", "texts"};
        json item{{"name", spec.name}, {"type", kKindNames[static_cast<int>(spec.kind)]}, {"help", spec.help}};
        if (!spec.choices.empty()) {
            item["choices"] = spec.choices;
        }
        out.push_back(item);
    }
    return out;
}

namespace {

// A value quoted in a message: long lists are cut, so a reply never echoes a whole body.
std::string shown(const json& value) {
    constexpr std::size_t kMaxShown = 80;
    std::string text = value.dump();
    if (text.size() > kMaxShown) {
        text = text.substr(0, kMaxShown) + "...";
    }
    return text;
}

} // namespace

[[noreturn]] void bad_param(const std::string& name, const std::string& why) {
    throw StudioError(400, "bad_request", fmt::format("params.{}: {}", name, why));
}

void check_param(const ParamSpec& spec, const json& value) {
    switch (spec.kind) {
    case ParamKind::Integer: {
        // Within what the option holds (int; the seed is unsigned, up to 2^53, what a page's number keeps
        // exactly): get<int>() of anything else is undefined for a double, and wraps for an integer, which
        // then passes the range checks (a size of 4294967808 would run as 512).
        const bool seed = std::string_view(spec.name) == "seed";
        const double lowest = seed ? 0.0 : static_cast<double>(std::numeric_limits<int>::min());
        const double highest = seed ? 9007199254740992.0 : static_cast<double>(std::numeric_limits<int>::max());
        const double number = value.is_number() ? value.get<double>() : 0.0;
        if (!value.is_number() || std::floor(number) != number || number < lowest || number > highest) {
            bad_param(spec.name,
                      fmt::format("expected a whole number in {:.0f}..{:.0f}, got {}", lowest, highest, shown(value)));
        }
        return;
    }
    case ParamKind::Number:
        if (!value.is_number() || !std::isfinite(value.get<double>())) {
            bad_param(spec.name, "expected a number, got " + shown(value));
        }
        return;
    case ParamKind::Text:
        if (!value.is_string()) {
            bad_param(spec.name, "expected text, got " + shown(value));
        }
        if (!spec.choices.empty() &&
            std::find(spec.choices.begin(), spec.choices.end(), value.get<std::string>()) == spec.choices.end()) {
            bad_param(spec.name,
                      fmt::format("'{}' is not one of: {}", value.get<std::string>(), fmt::join(spec.choices, ", ")));
        }
        return;
    case ParamKind::Numbers:
    case ParamKind::Texts:
        if (!value.is_array() || value.size() > 64) {
            bad_param(spec.name, "expected a list (at most 64 items), got " + shown(value));
        }
        for (const json& item : value) {
            if (spec.kind == ParamKind::Numbers ? !item.is_number() : !item.is_string()) {
                bad_param(spec.name, "expected a list of " +
                                         std::string(spec.kind == ParamKind::Numbers ? "numbers" : "texts") + ", got " +
                                         shown(value));
            }
        }
        return;
    }
}

} // namespace impasto::studio
