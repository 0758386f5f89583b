#include "impasto/evaluate.h"

#include "core/tensor_image.h"
#include "impasto/error.h"
#include "nn/losses.h"
#include "nn/vgg.h"

namespace impasto {

Evaluation evaluate(const FeatureModel& model, const Image& output, const Image& content, const Image& style,
                    const EvaluationOptions& options) {
    if (options.size < 16) {
        throw ConfigError("evaluation size = " + std::to_string(options.size) + " is out of range; allowed: >= 16");
    }
    if (output.empty() || content.empty() || style.empty()) {
        throw InputError("evaluation needs a non-empty output, content and style image");
    }
    const Image scaled_output = resize_long_side(output, options.size);
    const Image scaled_content = resize_image(content, scaled_output.width, scaled_output.height);
    const Image scaled_style = resize_long_side(style, options.size);

    const torch::Device device = nn::to_torch(model.device());
    const std::vector<std::string> content_layers{"relu4_2"};
    const std::vector<std::string> style_layers{"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
    torch::InferenceMode inference;
    const FeatureModel::Impl& impl = model.impl();
    std::vector<std::string> all_layers = style_layers;
    all_layers.push_back(content_layers.front());
    const auto out_features =
        nn::extract_features(impl, detail::image_to_tensor(scaled_output, device), all_layers, Pooling::Max);
    const auto content_features =
        nn::extract_features(impl, detail::image_to_tensor(scaled_content, device), content_layers, Pooling::Max);
    const auto style_features =
        nn::extract_features(impl, detail::image_to_tensor(scaled_style, device), style_layers, Pooling::Max);

    Evaluation evaluation;
    evaluation.width = scaled_output.width;
    evaluation.height = scaled_output.height;
    evaluation.content_loss =
        nn::content_loss(out_features.at("relu4_2"), content_features.at("relu4_2")).item<double>();
    for (const std::string& name : style_layers) {
        const torch::Tensor& f = out_features.at(name);
        const torch::Tensor target =
            nn::style_gram_target(style_features.at(name), static_cast<double>(f.size(2) * f.size(3)));
        evaluation.style_loss +=
            nn::style_layer_loss(nn::gram_matrix(f), target, f.size(1), f.size(2) * f.size(3)).item<double>() /
            static_cast<double>(style_layers.size());
    }
    return evaluation;
}

} // namespace impasto
