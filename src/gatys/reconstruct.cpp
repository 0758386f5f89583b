// Content and style reconstructions (Gatys 2016, Fig. 1) on top of the stylize() engine.
#include "impasto/reconstruct.h"

#include "impasto/error.h"
#include "impasto/layers.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace impasto {
namespace {

void require(bool ok, const std::string& field, const std::string& value, const std::string& allowed) {
    if (!ok) {
        throw ConfigError(fmt::format("{} = {} is out of range; allowed: {}", field, value, allowed));
    }
}

// Everything both reconstructions share: white noise, one scale, L-BFGS, no TV, no colour control.
StylizeOptions base_options(const ReconstructOptions& options) {
    options.validate();
    StylizeOptions engine;
    engine.preset = "reconstruct";
    engine.content_weight = 0;
    engine.style_weight = 0;
    engine.tv_weight = 0;
    engine.loss_scaling = options.loss_scaling;
    engine.pooling = options.pooling;
    engine.optimizer = OptimizerKind::Lbfgs;
    engine.lbfgs_history = options.lbfgs_history;
    engine.lbfgs_line_search = options.line_search;
    engine.learning_rate = 1.0;
    engine.init = InitKind::Noise;
    engine.seed = options.seed;
    engine.noise_stddev = options.noise_stddev;
    engine.size = options.size;
    engine.iterations = options.iterations;
    engine.scales = {};
    engine.style_scale = 1.0;
    engine.color = ColorControl::None;
    engine.precision = options.precision;
    engine.preview_every = options.preview_every;
    engine.max_pixels = options.max_pixels;
    return engine;
}

void check_image(const Image& image, const char* role) {
    if (image.empty()) {
        throw InputError(fmt::format("{} image is empty", role));
    }
}

} // namespace

void ReconstructOptions::validate() const {
    require(size >= 16 && size <= kMaxImageSide, "size", std::to_string(size), fmt::format("16..{}", kMaxImageSide));
    require(iterations >= 1 && iterations <= kMaxIterations, "iterations", std::to_string(iterations),
            fmt::format("1..{}", kMaxIterations));
    require(std::isfinite(noise_stddev) && noise_stddev >= 0 && noise_stddev <= 10, "noise stddev",
            fmt::format("{}", noise_stddev), "0..10");
    require(lbfgs_history >= 1 && lbfgs_history <= kMaxLbfgsHistory, "lbfgs history", std::to_string(lbfgs_history),
            fmt::format("1..{}", kMaxLbfgsHistory));
    require(preview_every >= 0 && preview_every <= kMaxIterations, "preview every", std::to_string(preview_every),
            fmt::format("0..{}", kMaxIterations));
    require(max_pixels >= 256 && max_pixels <= (std::int64_t{1} << 40), "max pixels", std::to_string(max_pixels),
            "256..2^40");
}

const std::vector<std::string>& figure1_content_layers() {
    static const std::vector<std::string> layers{"relu1_2", "relu2_2", "relu3_2", "relu4_2", "relu5_2"};
    return layers;
}

const std::vector<std::vector<std::string>>& figure1_style_layer_sets() {
    static const std::vector<std::vector<std::string>> sets{{"relu1_1"},
                                                            {"relu1_1", "relu2_1"},
                                                            {"relu1_1", "relu2_1", "relu3_1"},
                                                            {"relu1_1", "relu2_1", "relu3_1", "relu4_1"},
                                                            {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"}};
    return sets;
}

std::string layer_set_label(const std::vector<std::string>& layers) {
    std::string label;
    for (const std::string& name : layers) {
        label += (label.empty() ? "" : "+") + name;
    }
    return label;
}

StylizeOptions content_reconstruction_options(const std::string& layer, const ReconstructOptions& options) {
    StylizeOptions engine = base_options(options);
    engine.content_layers = {layer};
    engine.content_weight = 1.0;
    // The style term is off (weight 0, no style image); StylizeOptions::validate() still wants a
    // style layer, and naming the same one keeps the memory estimate to this layer's depth.
    engine.style_layers = {layer};
    return engine;
}

StylizeOptions style_reconstruction_options(const std::vector<std::string>& layers, const ReconstructOptions& options) {
    StylizeOptions engine = base_options(options);
    engine.content_layers = {};
    engine.style_layers = layers;
    engine.style_layer_weights = {}; // w_l = 1/L
    engine.style_weight = 1.0;
    return engine;
}

StylizeResult reconstruct_content(const FeatureModel& model, const Image& content, const std::string& layer,
                                  const ReconstructOptions& options, const ProgressCallback& on_progress) {
    check_layer_names({layer}, "content reconstruction layer", model.architecture());
    check_image(content, "content");
    return stylize(model, content, {}, content_reconstruction_options(layer, options), on_progress);
}

StylizeResult reconstruct_style(const FeatureModel& model, const Image& style, const std::vector<std::string>& layers,
                                const ReconstructOptions& options, const ProgressCallback& on_progress) {
    if (layers.empty()) {
        throw ConfigError("style reconstruction layers = (none) is out of range; allowed: at least one layer");
    }
    check_layer_names(layers, "style reconstruction layers", model.architecture());
    check_image(style, "style");
    // The style image is also the engine's "content": it sets the output's size and aspect ratio;
    // with no content layers it contributes no term.
    return stylize(model, style, {{style, 1.0}}, style_reconstruction_options(layers, options), on_progress);
}

double final_loss(const StylizeResult& result, const ReconstructOptions& options) {
    if (result.history.empty()) {
        return 0.0;
    }
    if (!options.line_search) {
        return result.history.back().losses.total;
    }
    double best = result.history.front().losses.total;
    for (const LossRecord& entry : result.history) {
        best = std::min(best, entry.losses.total);
    }
    return best;
}

} // namespace impasto
