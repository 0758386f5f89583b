#include "server/job_request.h"

#include "impasto/error.h"
#include "impasto/style_model_file.h"
#include "server/job_params.h"
#include "server/stored_json.h"
#include "server/studio_error.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)

namespace impasto::studio {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

int size_param(const json& params, int max_side) {
    const int size = params.at("size").get<int>();
    if (size < 0 || size > max_side) {
        bad_param("size", fmt::format("{} is out of range; allowed: 0..{} on this server", size, max_side));
    }
    return size;
}

} // namespace

const char* to_string(JobMethod method) {
    switch (method) {
    case JobMethod::Fast:
        return "fast";
    case JobMethod::Arbitrary:
        return "arbitrary";
    case JobMethod::Optimisation:
        break;
    }
    return "optimisation";
}

StudioCatalog scan_catalog(const fs::path& models_dir, Precision precision, int max_output_side) {
    StudioCatalog catalog;
    catalog.precision = precision;
    catalog.max_output_side = max_output_side;
    catalog.decoders_dir = models_dir / "decoders";
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& item : fs::recursive_directory_iterator(models_dir, ec)) {
        if (item.is_regular_file() && item.path().extension() == kStyleModelExtension) {
            files.push_back(item.path());
        }
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
        try {
            const StyleModelFile model = read_style_model(file);
            // Both feed-forward kinds run through StyleNetwork, style weights included.
            if (model.kind == StyleModelKind::Transformer || model.kind == StyleModelKind::StyleBank) {
                FastModelInfo info;
                info.name = file.stem().string();
                info.file = file;
                for (const StyleImageRecord& style : model.card.style_images) {
                    info.styles.push_back(style.name);
                }
                catalog.models.push_back(info);
            } else if (file.parent_path() == catalog.decoders_dir) {
                // A model file is read like any file from outside: bounded before it is parsed.
                const json config = parse_stored_json(model.config);
                if (config.is_object() && config.contains("level") && config["level"].is_string()) {
                    catalog.decoder_levels.push_back(config["level"].get<std::string>());
                }
            }
        } catch (const std::exception&) {
            continue; // an unreadable model is not offered
        }
    }
    std::sort(catalog.decoder_levels.begin(), catalog.decoder_levels.end());
    catalog.examples = load_model_examples(models_dir / "examples");
    return catalog;
}

json defaults_json(const StudioCatalog& catalog) {
    json presets = json::object();
    for (const std::string& preset : preset_names()) {
        presets[preset] = method_defaults(JobMethod::Optimisation, catalog, preset);
    }
    // An example is offered only for what this server offers: a model it has, one of that model's
    // styles, a transform its decoders can run. A model without one gets an empty list.
    json models = json::array();
    for (const FastModelInfo& model : catalog.models) {
        json examples = json::array();
        for (const std::string& style : model.styles) {
            for (const ModelExample& example : catalog.examples.items) {
                if (example.method == "fast" && example.model == model.name && example.style == style) {
                    examples.push_back(example_json(example));
                    break;
                }
            }
        }
        models.push_back({{"name", model.name}, {"styles", model.styles}, {"examples", examples}});
    }
    auto method_examples = [&catalog](const char* method) {
        json examples = json::array();
        for (const ModelExample& example : catalog.examples.items) {
            if (example.method == method) {
                examples.push_back(example_json(example));
            }
        }
        return examples;
    };
    return {{"optimisation",
             {{"available", true},
              {"parameters", param_spec_list(JobMethod::Optimisation)},
              {"defaults", method_defaults(JobMethod::Optimisation, catalog)},
              {"presets", presets},
              {"examples", method_examples("optimisation")}}},
            {"fast",
             {{"available", !catalog.models.empty()},
              {"parameters", param_spec_list(JobMethod::Fast)},
              {"defaults", method_defaults(JobMethod::Fast, catalog)},
              {"models", models}}},
            {"arbitrary",
             {{"available", !catalog.decoder_levels.empty()},
              {"parameters", param_spec_list(JobMethod::Arbitrary)},
              {"defaults", method_defaults(JobMethod::Arbitrary, catalog)},
              {"levels", catalog.decoder_levels},
              {"examples", catalog.decoder_levels.empty() ? json::array() : method_examples("arbitrary")}}},
            {"max_output_side", catalog.max_output_side}};
}

JobRequest resolve_job_request(const json& body, const StudioCatalog& catalog) {
    if (!body.is_object()) {
        throw StudioError(400, "bad_request", "the body must be a JSON object");
    }
    for (const auto& [key, value] : body.items()) {
        if (key != "method" && key != "content" && key != "styles" && key != "params" && key != "parent") {
            throw StudioError(400, "bad_request",
                              "unknown field '" + key + "'; known: method, content, styles, params, parent");
        }
    }
    JobRequest request;
    const std::string method =
        body.contains("method") && body["method"].is_string() ? body["method"].get<std::string>() : "";
    if (method == "optimisation") {
        request.method = JobMethod::Optimisation;
    } else if (method == "fast") {
        request.method = JobMethod::Fast;
    } else if (method == "arbitrary") {
        request.method = JobMethod::Arbitrary;
    } else {
        throw StudioError(400, "bad_request", "method '" + method + "' is not one of: optimisation, fast, arbitrary");
    }
    if (!body.contains("content") || !body["content"].is_string()) {
        throw StudioError(400, "bad_request", "content: expected an image id");
    }
    request.content = body["content"].get<std::string>();
    if (body.contains("styles")) {
        if (!body["styles"].is_array() || body["styles"].size() > 8) {
            throw StudioError(400, "bad_request", "styles: expected a list of at most 8 image ids");
        }
        for (const json& style : body["styles"]) {
            if (!style.is_string()) {
                throw StudioError(400, "bad_request", "styles: expected a list of image ids");
            }
            request.styles.push_back(style.get<std::string>());
        }
    }
    if (request.method == JobMethod::Fast) {
        request.styles.clear(); // the network holds its styles
    } else if (request.styles.empty()) {
        throw StudioError(400, "bad_request",
                          std::string(to_string(request.method)) + " needs at least one style image");
    }
    if (body.contains("parent") && !body["parent"].is_null()) {
        if (!body["parent"].is_string()) {
            throw StudioError(400, "bad_request", "parent: expected a job id");
        }
        request.parent = body["parent"].get<std::string>();
    }
    const json given = body.value("params", json::object());
    if (!given.is_object()) {
        throw StudioError(400, "bad_request", "params: expected an object");
    }

    const std::vector<ParamSpec>& specs = param_specs(request.method);
    json params;
    switch (request.method) {
    case JobMethod::Optimisation: {
        const json preset = given.value("preset", json("default"));
        check_param(specs.front(), preset);
        params = method_defaults(JobMethod::Optimisation, catalog, preset.get<std::string>());
        break;
    }
    case JobMethod::Fast:
        params = method_defaults(JobMethod::Fast, catalog);
        break;
    case JobMethod::Arbitrary:
        params = method_defaults(JobMethod::Arbitrary, catalog);
        break;
    }
    for (const auto& item : given.items()) {
        const std::string& key = item.key();
        const json& value = item.value();
        const auto spec = std::find_if(specs.begin(), specs.end(), [&](const ParamSpec& s) { return key == s.name; });
        if (spec == specs.end()) {
            std::vector<std::string> known;
            known.reserve(specs.size());
            for (const ParamSpec& s : specs) {
                known.emplace_back(s.name);
            }
            bad_param(key, fmt::format("unknown for method {}; known: {}", to_string(request.method),
                                       fmt::join(known, ", ")));
        }
        check_param(*spec, value);
        params[key] = value;
    }
    request.params = params;

    // The library's own checks, with its messages.
    switch (request.method) {
    case JobMethod::Optimisation: {
        const StylizeOptions options = to_stylize_options(params);
        if (options.size < 16 || options.size > catalog.max_output_side) {
            bad_param("size", fmt::format("{} is out of range; allowed: 16..{} on this server", options.size,
                                          catalog.max_output_side));
        }
        options.validate();
        const std::size_t blends = params["style_blend"].size();
        if (blends != 0 && blends != request.styles.size()) {
            bad_param("style_blend", fmt::format("{} values for {} styles", blends, request.styles.size()));
        }
        break;
    }
    case JobMethod::Fast: {
        size_param(params, catalog.max_output_side);
        const std::string name = params["model"].get<std::string>();
        const auto model = std::find_if(catalog.models.begin(), catalog.models.end(),
                                        [&](const FastModelInfo& m) { return m.name == name; });
        if (model == catalog.models.end()) {
            bad_param("model", "'" + name + "' is not an installed model");
        }
        to_fast_options(params).validate(static_cast<int>(model->styles.size()));
        break;
    }
    case JobMethod::Arbitrary: {
        size_param(params, catalog.max_output_side);
        if (catalog.decoder_levels.empty()) {
            throw StudioError(400, "bad_request", "arbitrary style needs decoders; none are installed");
        }
        to_arbitrary_options(params).validate();
        for (const json& level : params["levels"]) {
            if (std::find(catalog.decoder_levels.begin(), catalog.decoder_levels.end(), level.get<std::string>()) ==
                catalog.decoder_levels.end()) {
                bad_param("levels", fmt::format("no decoder for {}; installed: {}", level.get<std::string>(),
                                                fmt::join(catalog.decoder_levels, ", ")));
            }
        }
        const std::size_t weights = params["style_weights"].size();
        if (weights != 0 && weights != request.styles.size()) {
            bad_param("style_weights", fmt::format("{} values for {} styles", weights, request.styles.size()));
        }
        break;
    }
    }
    return request;
}

json to_json(const JobRequest& request) {
    return {{"method", to_string(request.method)},
            {"content", request.content},
            {"styles", request.styles},
            {"params", request.params},
            {"parent", request.parent.empty() ? json(nullptr) : json(request.parent)}};
}

JobRequest job_request_from_json(const json& stored) {
    JobRequest request;
    const std::string method = stored.at("method").get<std::string>();
    request.method = method == "fast"        ? JobMethod::Fast
                     : method == "arbitrary" ? JobMethod::Arbitrary
                                             : JobMethod::Optimisation;
    request.content = stored.at("content").get<std::string>();
    request.styles = stored.at("styles").get<std::vector<std::string>>();
    request.params = stored.at("params");
    request.parent = stored.at("parent").is_string() ? stored["parent"].get<std::string>() : "";
    return request;
}

StylizeOptions to_stylize_options(const json& params) {
    StylizeOptions o = preset_options(params.at("preset").get<std::string>());
    o.size = params.at("size").get<int>();
    o.iterations = params.at("iterations").get<int>();
    const std::string schedule = params.at("schedule").get<std::string>();
    o.scales = schedule.empty() || schedule == "none" ? std::vector<ScaleStep>{} : parse_schedule(schedule);
    o.content_layers = params.at("content_layers").get<std::vector<std::string>>();
    o.style_layers = params.at("style_layers").get<std::vector<std::string>>();
    if (o.style_layer_weights.size() != o.style_layers.size()) {
        o.style_layer_weights.clear(); // the preset's per-layer weights fit its own layers only
    }
    o.content_weight = params.at("content_weight").get<double>();
    o.style_weight = params.at("style_weight").get<double>();
    o.tv_weight = params.at("tv_weight").get<double>();
    o.init = parse_init(params.at("init").get<std::string>());
    o.seed = params.at("seed").get<std::uint64_t>();
    o.optimizer = parse_optimizer(params.at("optimizer").get<std::string>());
    o.pooling = parse_pooling(params.at("pooling").get<std::string>());
    o.loss_scaling = parse_loss_scaling(params.at("loss_scaling").get<std::string>());
    o.style_scale = params.at("style_scale").get<double>();
    o.color = parse_color(params.at("color").get<std::string>());
    o.precision = parse_precision(params.at("precision").get<std::string>());
    return o;
}

FastStylizeOptions to_fast_options(const json& params) {
    FastStylizeOptions o;
    o.style_weights = params.at("style_weights").get<std::vector<double>>();
    o.size = params.at("size").get<int>();
    o.work_size = params.value("work_size", 0); // stored before work_size existed: run at the output size, as then
    o.color = parse_color(params.at("color").get<std::string>());
    o.precision = parse_precision(params.at("precision").get<std::string>());
    return o;
}

ArbitraryOptions to_arbitrary_options(const json& params) {
    ArbitraryOptions o;
    o.method = parse_transform_method(params.at("transform").get<std::string>());
    o.alpha = params.at("alpha").get<double>();
    o.levels = params.at("levels").get<std::vector<std::string>>();
    o.size = params.at("size").get<int>();
    o.work_size = params.value("work_size", 0); // stored before work_size existed: run at the output size, as then
    o.style_size = params.at("style_size").get<int>();
    o.color = parse_color(params.at("color").get<std::string>());
    o.precision = parse_precision(params.at("precision").get<std::string>());
    return o;
}

std::string settings_key(const JobRequest& request) {
    json params = request.params;
    params.erase("seed");
    const std::string text =
        fmt::format("{}|{}|{}", to_string(request.method), fmt::join(request.styles, ","), params.dump());
    // FNV-1a: stable across builds and runs, unlike std::hash.
    std::uint64_t hash = 1469598103934665603ULL;
    for (const unsigned char c : text) {
        hash = (hash ^ c) * 1099511628211ULL;
    }
    return fmt::format("{}-{:016x}", to_string(request.method), hash);
}

std::string settings_label(const JobRequest& request, const StudioCatalog& catalog,
                           const std::vector<std::string>& style_names) {
    std::string label = to_string(request.method);
    json defaults;
    switch (request.method) {
    case JobMethod::Optimisation:
        defaults = method_defaults(JobMethod::Optimisation, catalog, request.params.at("preset").get<std::string>());
        label += " " + request.params.at("preset").get<std::string>();
        break;
    case JobMethod::Fast:
        defaults = method_defaults(JobMethod::Fast, catalog);
        label += " " + request.params.at("model").get<std::string>();
        break;
    case JobMethod::Arbitrary:
        defaults = method_defaults(JobMethod::Arbitrary, catalog);
        label += " " + request.params.at("transform").get<std::string>();
        break;
    }
    for (std::size_t i = 0; i < request.styles.size(); ++i) {
        label += " · " + (i < style_names.size() ? style_names[i] : request.styles[i]);
    }
    for (const auto& [key, value] : request.params.items()) {
        if (key == "seed" || key == "preset" || key == "model" || key == "transform") {
            continue;
        }
        if (!defaults.contains(key) || defaults[key] != value) {
            const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
            label += " · " + key + " " + (text.empty() ? "none" : text);
        }
    }
    return label;
}

} // namespace impasto::studio
