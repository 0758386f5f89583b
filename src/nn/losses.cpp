#include "nn/losses.h"

namespace impasto::nn {
namespace {

// Reduced-precision features are upcast so sums accumulate in fp32; double stays double.
torch::Tensor at_least_fp32(const torch::Tensor& t) {
    return t.scalar_type() == torch::kDouble ? t : t.to(torch::kFloat);
}

} // namespace

torch::Tensor gram_matrix(const torch::Tensor& features) {
    const std::int64_t channels = features.size(1);
    // Positions x channels: a view, not a copy, for the channels-last features the network makes.
    const torch::Tensor flat = at_least_fp32(features).permute({0, 2, 3, 1}).reshape({-1, channels});
    return torch::mm(flat.t(), flat);
}

torch::Tensor style_gram_target(const torch::Tensor& style_features, double output_positions) {
    const double style_positions = static_cast<double>(style_features.size(2) * style_features.size(3));
    return gram_matrix(style_features) * (output_positions / style_positions);
}

torch::Tensor content_loss(const torch::Tensor& features, const torch::Tensor& target) {
    return 0.5 * (at_least_fp32(features) - at_least_fp32(target)).pow(2).sum();
}

torch::Tensor style_layer_loss(const torch::Tensor& gram, const torch::Tensor& target_gram, std::int64_t channels,
                               std::int64_t positions) {
    const double n = static_cast<double>(channels);
    const double m = static_cast<double>(positions);
    return (gram - target_gram).pow(2).sum() / (4.0 * n * n * m * m);
}

torch::Tensor normalized_content_loss(const torch::Tensor& features, const torch::Tensor& target) {
    const torch::Tensor p = at_least_fp32(target);
    return (at_least_fp32(features) - p).pow(2).sum() / (p.pow(2).sum() + 1e-8);
}

torch::Tensor normalized_style_layer_loss(const torch::Tensor& gram, const torch::Tensor& target_gram) {
    return (gram - target_gram).pow(2).sum() / (target_gram.pow(2).sum() + 1e-8);
}

torch::Tensor total_variation_loss(const torch::Tensor& image) {
    const torch::Tensor x = at_least_fp32(image);
    const std::int64_t h = x.size(2);
    const std::int64_t w = x.size(3);
    const torch::Tensor dy = x.narrow(2, 1, h - 1) - x.narrow(2, 0, h - 1);
    const torch::Tensor dx = x.narrow(3, 1, w - 1) - x.narrow(3, 0, w - 1);
    return dy.pow(2).mean() + dx.pow(2).mean();
}

} // namespace impasto::nn
