#pragma once
// EfficientNet-Lite0 forward pass on folded (batch-norm-free) weights: ReLU6, depthwise
// convolutions with TensorFlow's "same" padding (asymmetric for stride 2, as the checkpoint was
// trained), linear bottlenecks with residuals where stride 1 and in == out channels.
#include "nn/efficientnet_config.h"
#include "nn/vgg.h"

#include <memory>
#include <string>
#include <vector>

namespace impasto::nn {

struct EfficientNetConv {
    torch::Tensor weight; // [out, in/groups, k, k]
    torch::Tensor bias;   // [out]
    int stride = 1;
    int groups = 1;
};

struct EfficientNet {
    struct Block {
        efficientnet::Block shape;
        EfficientNetConv expand; // undefined weight when the block has no expansion
        EfficientNetConv dw;
        EfficientNetConv project;
    };
    EfficientNetConv stem;
    std::vector<Block> blocks;
    EfficientNetConv head;
    torch::Tensor fc_weight; // [1000, 1280]
    torch::Tensor fc_bias;
};

// Copies canonical tensors (see weights.h) onto `device`. Throws WeightsError for a missing tensor.
std::shared_ptr<const EfficientNet> load_efficientnet_lite0(const LoadedWeights& weights, const torch::Device& device);

// TensorFlow "same" convolution: output ceil(in / stride), padding split with the extra pixel at
// the bottom/right.
torch::Tensor same_conv(const torch::Tensor& x, const EfficientNetConv& conv);

// Features of `layers` (EfficientNet-Lite0 names) for an already normalised input; stops after the
// deepest one. With `logits`, also runs the head and the classifier and stores them there.
FeatureMap efficientnet_features(const EfficientNet& net, const torch::Tensor& input,
                                 const std::vector<std::string>& layers, torch::Tensor* logits = nullptr);

} // namespace impasto::nn
