#include "gatys/objective.h"

#include "impasto/error.h"
#include "nn/losses.h"

#include <algorithm>

namespace impasto::gatys {

c10::ScalarType autocast_dtype(Precision precision) {
    switch (precision) {
    case Precision::Bf16:
        return c10::kBFloat16;
    case Precision::Fp16:
        return c10::kHalf;
    default:
        return c10::kFloat;
    }
}

namespace {

std::int64_t positions(const torch::Tensor& features) {
    return features.size(2) * features.size(3);
}

} // namespace

bool uses_content(const StylizeOptions& options) {
    return options.content_weight > 0 && !options.content_layers.empty();
}

bool uses_style(const StylizeOptions& options, std::size_t style_count) {
    return options.style_weight > 0 && !options.style_layers.empty() && style_count > 0;
}

GatysObjective::GatysObjective(const FeatureModel::Impl& model, const StylizeOptions& options,
                               const torch::Tensor& content, const std::vector<torch::Tensor>& styles,
                               const std::vector<double>& blend)
    : model_(model), options_(options) {
    if (uses_content(options)) {
        content_layers_ = options.content_layers;
    }
    if (uses_style(options, styles.size())) {
        style_layers_ = options.style_layers;
        style_layer_weights_ = options.style_layer_weights;
        if (style_layer_weights_.empty()) {
            style_layer_weights_.assign(style_layers_.size(), 1.0 / static_cast<double>(style_layers_.size()));
        }
    }
    layers_ = content_layers_;
    for (const std::string& name : style_layers_) {
        if (std::find(layers_.begin(), layers_.end(), name) == layers_.end()) {
            layers_.push_back(name);
        }
    }

    // Targets are constants: NoGradGuard, not InferenceMode, since they meet autograd tensors later.
    torch::NoGradGuard no_grad;
    const detail::AutocastGuard autocast(content.device().type(), autocast_dtype(options.precision));
    if (!content_layers_.empty()) {
        const nn::FeatureMap content_features = nn::extract_features(model, content, content_layers_, options.pooling);
        for (const std::string& name : content_layers_) {
            content_targets_.push_back(content_features.at(name).to(torch::kFloat));
        }
    }
    if (style_layers_.empty()) {
        return;
    }
    double blend_total = 0;
    for (double w : blend) {
        blend_total += w;
    }
    style_targets_.resize(style_layers_.size());
    for (std::size_t s = 0; s < styles.size(); ++s) {
        const nn::FeatureMap style_features = nn::extract_features(model, styles[s], style_layers_, options.pooling);
        for (std::size_t l = 0; l < style_layers_.size(); ++l) {
            const std::string& name = style_layers_[l];
            const int stride = layer_stride(name, model.architecture);
            const double output_positions =
                static_cast<double>(content.size(2) / stride) * static_cast<double>(content.size(3) / stride);
            const torch::Tensor gram =
                nn::style_gram_target(style_features.at(name), output_positions) * (blend[s] / blend_total);
            style_targets_[l] = style_targets_[l].defined() ? style_targets_[l] + gram : gram;
        }
    }
}

torch::Tensor GatysObjective::evaluate(const torch::Tensor& x, LossValues& values) const {
    nn::FeatureMap features;
    if (!layers_.empty()) {
        const detail::AutocastGuard autocast(x.device().type(), autocast_dtype(options_.precision));
        features = nn::extract_features(model_, x, layers_, options_.pooling);
    }
    const bool paper = options_.loss_scaling == LossScaling::Paper;
    torch::Tensor content = torch::zeros({}, x.options().dtype(torch::kFloat));
    for (std::size_t i = 0; i < content_targets_.size(); ++i) {
        const torch::Tensor& f = features.at(content_layers_[i]);
        content = content + (paper ? nn::content_loss(f, content_targets_[i])
                                   : nn::normalized_content_loss(f, content_targets_[i]));
    }
    torch::Tensor style = torch::zeros({}, x.options().dtype(torch::kFloat));
    for (std::size_t l = 0; l < style_targets_.size(); ++l) {
        const torch::Tensor& f = features.at(style_layers_[l]);
        const torch::Tensor gram = nn::gram_matrix(f);
        const torch::Tensor layer_loss = paper ? nn::style_layer_loss(gram, style_targets_[l], f.size(1), positions(f))
                                               : nn::normalized_style_layer_loss(gram, style_targets_[l]);
        style = style + style_layer_weights_[l] * layer_loss;
    }
    const torch::Tensor weighted_content = options_.content_weight * content;
    const torch::Tensor weighted_style = options_.style_weight * style;
    torch::Tensor total = weighted_content + weighted_style;
    torch::Tensor tv;
    if (options_.tv_weight > 0) {
        tv = options_.tv_weight * nn::total_variation_loss(x);
        total = total + tv;
    }
    values.content = weighted_content.item<double>();
    values.style = weighted_style.item<double>();
    values.tv = tv.defined() ? tv.item<double>() : 0.0;
    values.total = total.item<double>();
    return total;
}

} // namespace impasto::gatys
