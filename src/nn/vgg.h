#pragma once
// The feature extractor behind FeatureModel: frozen convolutions run layer by layer, stopping
// after the deepest layer a run needs. VGG lives here; EfficientNet-Lite0 in nn/efficientnet.h,
// and extract_features() dispatches on the architecture.
#include "core/torch_compat.h"
#include "impasto/model.h"
#include "impasto/stylize_options.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace impasto {

namespace nn {
struct EfficientNet;
} // namespace nn

struct FeatureModel::Impl {
    WeightSetInfo info;
    Device device;
    Architecture architecture = Architecture::Vgg19;
    std::vector<torch::Tensor> conv_weights; // VGG: in layer order, [out,in,3,3]
    std::vector<torch::Tensor> conv_biases;
    std::shared_ptr<const nn::EfficientNet> efficientnet; // EfficientNet-Lite0 only
    torch::Tensor input_scale;                            // [1,3,1,1]: network_input = rgb_reordered * scale + shift
    torch::Tensor input_shift;
    bool bgr = true;
};

namespace nn {

using FeatureMap = std::unordered_map<std::string, torch::Tensor>;

torch::Device to_torch(const Device& device);

// RGB in [0,1], [N,3,H,W] -> what the weights expect (differentiable).
torch::Tensor normalize_input(const FeatureModel::Impl& model, const torch::Tensor& rgb);

// Features of `layers` for an RGB [0,1] batch; runs only as deep as needed. `pooling` switches
// VGG's pooling layers; EfficientNet-Lite0 has none and ignores it.
FeatureMap extract_features(const FeatureModel::Impl& model, const torch::Tensor& rgb,
                            const std::vector<std::string>& layers, Pooling pooling);

} // namespace nn
} // namespace impasto
