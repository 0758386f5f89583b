#pragma once
// The VGG feature extractor behind FeatureModel: frozen convolutions run layer by layer,
// stopping after the deepest layer a run needs.
#include "core/torch_compat.h"
#include "impasto/model.h"
#include "impasto/stylize_options.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace impasto {

struct FeatureModel::Impl {
    WeightSetInfo info;
    Device device;
    VggArchitecture architecture = VggArchitecture::Vgg19;
    std::vector<torch::Tensor> conv_weights; // in layer order, [out,in,3,3]
    std::vector<torch::Tensor> conv_biases;
    torch::Tensor input_scale; // [1,3,1,1]: network_input = rgb_reordered * scale + shift
    torch::Tensor input_shift;
    bool bgr = true;
};

namespace nn {

using FeatureMap = std::unordered_map<std::string, torch::Tensor>;

torch::Device to_torch(const Device& device);

// RGB in [0,1], [N,3,H,W] -> what the weights expect (differentiable).
torch::Tensor normalize_input(const FeatureModel::Impl& model, const torch::Tensor& rgb);

// Features of `layers` for an RGB [0,1] batch; runs only as deep as needed.
FeatureMap extract_features(const FeatureModel::Impl& model, const torch::Tensor& rgb,
                            const std::vector<std::string>& layers, Pooling pooling);

} // namespace nn
} // namespace impasto
