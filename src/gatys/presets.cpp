// The named presets. Each starts from StylizeOptions' defaults and changes what it documents.
#include "impasto/error.h"
#include "impasto/stylize_options.h"

namespace impasto {

const std::vector<std::string>& preset_names() {
    static const std::vector<std::string> names{"default", "paper"};
    return names;
}

StylizeOptions preset_options(const std::string& name) {
    StylizeOptions options;
    options.preset = name;
    if (name == "default") {
        return options; // the struct's defaults are the default preset
    }
    if (name == "paper") {
        // Gatys, Ecker & Bethge 2016: content conv4_2, style conv1_1..conv5_1 with w_l = 1/5,
        // alpha/beta = 1e-3, white-noise init, L-BFGS, average pooling (their Sec. 2), eq. 1-4 as written.
        options.content_layers = {"relu4_2"};
        options.style_layers = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
        options.style_layer_weights = {};
        options.content_weight = 1.0;
        options.style_weight = 1e3;
        options.tv_weight = 0.0;
        options.loss_scaling = LossScaling::Paper;
        options.pooling = Pooling::Average;
        options.optimizer = OptimizerKind::Lbfgs;
        options.lbfgs_line_search = true;
        options.lbfgs_history = 100;
        options.init = InitKind::Noise;
        options.scales = {};
        options.size = 512;
        options.iterations = 500;
        return options;
    }
    std::string known;
    for (const std::string& candidate : preset_names()) {
        known += (known.empty() ? "" : ", ") + candidate;
    }
    throw ConfigError("unknown preset '" + name + "'; choose one of: " + known);
}

} // namespace impasto
