#include "train/perceptual_loss.h"

#include "core/tensor_image.h"
#include "impasto/error.h"
#include "impasto/layers.h"
#include "nn/losses.h"
#include "nn/vgg.h"

#include <algorithm>
#include <fmt/format.h>

namespace impasto::train {
namespace {

torch::Tensor at_least_fp32(const torch::Tensor& t) {
    return t.scalar_type() == torch::kDouble ? t : t.to(torch::kFloat);
}

// The loss network runs in the compute precision; everything after it (Grams, sums) in fp32,
// outside autocast, which would otherwise run the Gram products in bf16.
nn::FeatureMap features_of(const FeatureModel& vgg, const torch::Tensor& rgb, const std::vector<std::string>& layers,
                           c10::ScalarType compute) {
    const detail::AutocastGuard autocast(rgb.device().type(), compute);
    return nn::extract_features(vgg.impl(), rgb, layers, Pooling::Max);
}

} // namespace

torch::Tensor batched_gram(const torch::Tensor& features) {
    const torch::Tensor f = at_least_fp32(features);
    const std::int64_t n = f.size(0);
    const std::int64_t c = f.size(1);
    const std::int64_t positions = f.size(2) * f.size(3);
    // [N, positions, C]: a view for the channels-last features the VGG makes.
    const torch::Tensor flat = f.permute({0, 2, 3, 1}).reshape({n, positions, c});
    return torch::bmm(flat.transpose(1, 2), flat) / static_cast<double>(positions);
}

std::map<std::string, double> LossTerms::values() const {
    return {{"content", content.item<double>()},
            {"style", style.item<double>()},
            {"tv", tv.item<double>()},
            {"total", total.item<double>()}};
}

PerceptualLoss::PerceptualLoss(const FeatureModel& vgg, const PerceptualLossOptions& options,
                               const std::vector<Image>& styles)
    : vgg_(vgg), options_(options) {
    check_layer_names(options_.content_layers, "content layers", vgg.architecture());
    check_layer_names(options_.style_layers, "style layers", vgg.architecture());
    all_layers_ = options_.content_layers;
    for (const std::string& layer : options_.style_layers) {
        if (std::find(all_layers_.begin(), all_layers_.end(), layer) == all_layers_.end()) {
            all_layers_.push_back(layer);
        }
    }
    const auto count = options_.style_layers.size();
    layer_weights_ = options_.style_layer_weights.empty() ? std::vector<double>(count, 1.0 / static_cast<double>(count))
                                                          : options_.style_layer_weights;
    if (layer_weights_.size() != count) {
        throw ConfigError(
            fmt::format("style_layer_weights has {} values for {} style layers", layer_weights_.size(), count));
    }
    // Constants that later meet autograd tensors: NoGradGuard, not InferenceMode.
    const torch::NoGradGuard no_grad;
    const torch::Device device = nn::to_torch(vgg.device());
    for (const Image& style : styles) {
        const Image sized = resize_long_side(style, options_.style_size);
        const nn::FeatureMap features =
            features_of(vgg_, detail::image_to_tensor(sized, device), options_.style_layers, options_.compute);
        std::vector<torch::Tensor> grams;
        std::vector<torch::Tensor> squares;
        for (const std::string& layer : options_.style_layers) {
            grams.push_back(batched_gram(features.at(layer)));
            squares.push_back(grams.back().pow(2).sum() + 1e-8);
        }
        targets_.push_back(std::move(grams));
        target_sq_.push_back(std::move(squares));
    }
}

LossTerms PerceptualLoss::operator()(const torch::Tensor& output, const torch::Tensor& content, int style_index) const {
    if (style_index < 0 || style_index >= styles()) {
        throw ConfigError(fmt::format("style index {} is out of range; allowed: 0..{}", style_index, styles() - 1));
    }
    nn::FeatureMap content_features;
    {
        const torch::NoGradGuard no_grad;
        content_features = features_of(vgg_, content, options_.content_layers, options_.compute);
    }
    const nn::FeatureMap features = features_of(vgg_, output, all_layers_, options_.compute);
    const torch::TensorOptions fp32 = torch::TensorOptions().dtype(torch::kFloat).device(output.device());

    LossTerms terms;
    terms.content = torch::zeros({}, fp32);
    for (const std::string& layer : options_.content_layers) {
        terms.content = terms.content + nn::normalized_content_loss(features.at(layer), content_features.at(layer));
    }
    terms.content = terms.content * (options_.content_weight / static_cast<double>(options_.content_layers.size()));

    terms.style = torch::zeros({}, fp32);
    const auto batch = static_cast<double>(output.size(0));
    for (std::size_t l = 0; l < options_.style_layers.size(); ++l) {
        const torch::Tensor grams = batched_gram(features.at(options_.style_layers[l]));
        const torch::Tensor& target = targets_[static_cast<std::size_t>(style_index)][l];
        const torch::Tensor& target_sq = target_sq_[static_cast<std::size_t>(style_index)][l];
        terms.style = terms.style + (grams - target).pow(2).sum() / (target_sq * batch) * layer_weights_[l];
    }
    terms.style = terms.style * options_.style_weight;

    terms.tv = nn::total_variation_loss(output) * options_.tv_weight;
    terms.total = terms.content + terms.style + terms.tv;
    return terms;
}

} // namespace impasto::train
